"""Time on the wire, under a controllable clock: what only Slack shows. Nothing sleeps: the test moves the clock
and wakes the app's sweeper, as APScheduler does in `serve`. The rules of scheduled runs, staged deletes, reminders
and expiry are tested against the service: tests/service/test_timers.py and tests/service/test_stages.py."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.lifecycle import RequestState
from bot.simulators.harness import App

JDOE = "u-1001"


def _sweep(app: App, after: timedelta = timedelta()) -> None:
    app.clock.advance(after)
    app.container.sweeper.sweep()
    app.settle()


def test_a_reminder_is_posted_in_the_approval_messages_thread(app):
    app.command("alice", "delete jdoe")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    approval = app.slack.messages("C0APPROVALS")[-1]
    _sweep(app, timedelta(hours=4))
    replies = [m for m in app.slack.messages("C0APPROVALS") if m.thread_ts == approval.ts]
    assert len(replies) == 1 and "still needs 1 approval" in str(replies[0].blocks)


def test_the_form_takes_a_run_time_from_the_date_picker(app):
    app.command("alice", "")
    moment = app.clock.now() + timedelta(days=2)
    app.press("alice", "Show plan", action="deactivate", users="jdoe", run_at=str(int(moment.timestamp())))
    app.press("alice", "Confirm")
    request = app.container.store.get(app.request_id())
    assert request.state is RequestState.APPROVED and abs((request.run_at - moment).total_seconds()) < 1
    _sweep(app, timedelta(days=2))
    assert [op.name for op in app.console.operations(user_id=JDOE)] == ["set_status"]


def test_a_scheduled_delete_whose_only_approver_left_is_called_off_when_due(app):
    """The sibling of finding 1 (issue 15), on the wire: the rule is tested against the service
    (tests/service/test_access.py, tests/service/test_gate.py)."""
    app.command("alice", "delete jdoe --at in 2h")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    request_id = app.request_id()
    app.press("bob", "Approve")
    assert app.container.store.get(request_id).state is RequestState.APPROVED
    app.slack.update_member("U0BOB", deleted=True)  # bob's Slack account is deactivated before the run
    _sweep(app, timedelta(hours=2))
    assert app.container.store.get(request_id).state is RequestState.CANCELLED
    assert app.console.operations(user_id=JDOE) == [] and app.console.get_user(user_id=JDOE) is not None
    why = "the approval of bob@example.com no longer counts (no longer an admin), so it has 0 of the 1 approvals"
    assert f"*Cancelled*: {why}" in app.channel_texts("C0APPROVALS")[-1]
    assert f"Your request {request_id} was called off before it ran: {why}" in app.dm_texts("alice")[-1]
