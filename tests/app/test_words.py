"""Every message true (issue 16): what Slack says of scheduled requests that need no approval, of cancelled requests,
of bulk deactivates, of refusals, and the times people paste. Signed requests into the real app."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.domain.lifecycle import RequestState
from bot.simulators.harness import App, text_of
from tests.app.test_released import _add_users

PNGUYEN = "u-1004"


def _sweep(app: App, after: timedelta = timedelta()) -> None:
    app.clock.advance(after)
    app.container.sweeper.sweep()
    app.settle()


def test_a_scheduled_request_without_approval_says_when_it_runs_not_now(app):
    app.command("alice", "deactivate pnguyen --at in 1h")
    preview = app.last_ephemeral("alice")
    assert "runs it now" not in preview
    assert "confirming schedules it" in preview and "UTC" in preview
    app.press("alice", "Confirm")
    answer = app.last_ephemeral("alice")
    assert "running now" not in answer and "It will run at" in answer, answer
    assert "can be cancelled until then" in answer
    assert app.console.operations(user_id=PNGUYEN) == []
    _sweep(app, timedelta(hours=1))
    assert [op.name for op in app.console.operations(user_id=PNGUYEN)] == ["set_status"]
    assert app.container.store.get(app.request_id()).state is RequestState.DONE


def test_the_status_of_a_cancelled_request_says_its_users_were_not_started(app):
    app.command("alice", "delete jdoe pnguyen --reason left")
    request_id = app.request_id()
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.command("alice", f"cancel {request_id}")
    assert app.container.store.get(request_id).state is RequestState.CANCELLED
    app.command("alice", f"status {request_id}")
    status = app.last_ephemeral("alice")
    assert "Cancelled" in status
    assert "`jdoe`: not started" in status and "`pnguyen`: not started" in status
    assert "pending" not in status


def test_a_bulk_deactivate_without_approval_does_not_pretend_someone_approved_it(app):
    app.command("alice", "deactivate jdoe pnguyen kwilliams --reason office closed")
    app.press("alice", "Confirm")
    assert app.container.store.get(app.request_id()).state is RequestState.DONE
    [shown] = app.channel_texts("C0APPROVALS")
    assert "approved by" not in shown.lower(), shown
    assert "confirmed by <@U0ALICE>" in shown and "needs no approval" in shown
    assert "to follow its progress" in shown


def test_how_many_approvals_are_needed_reads_as_a_sentence(app):
    app.command("alice", "delete jdoe --reason left")
    assert "Needs the approval of another admin before anything happens." in app.last_ephemeral("alice")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    approval = app.channel_texts("C0APPROVALS")[-1]
    assert "approval(s)" not in approval
    assert "Waiting for the approval of an admin* other than the requester." in approval

    names = _add_users(app, 11)  # a delete of more than 10 users needs two approvers (demo policy)
    app.command("alice", f"delete {' '.join(names)} --reason left")
    preview = app.last_ephemeral("alice")
    assert "Needs the approval of 2 other admins before anything happens." in preview, preview
    app.press("alice", "Request approval", offboard_checklist="box-1")
    top = [message for message in app.slack.messages("C0APPROVALS") if not message.thread_ts]  # plans: in a file
    assert "Waiting for the approval of 2 admins* other than the requester." in text_of(top[-1])


def test_an_unknown_verb_suggests_the_nearest_one(app):
    app.command("alice", "delet jdoe")
    refused = app.last_ephemeral("alice")
    assert "Did you mean `delete`?" in refused and re.search(r"ref `[0-9a-f]{10}`", refused)
    app.command("alice", "deactivte jdoe")
    assert "Did you mean `deactivate`?" in app.last_ephemeral("alice")
    app.command("alice", "frobnicate jdoe")
    assert "Did you mean" not in app.last_ephemeral("alice")  # nothing near: no guess
    app.command("alice", "delete jdoe --reson left")
    assert "Did you mean `--reason`?" in app.last_ephemeral("alice")
    assert app.container.store.list(limit=10) == []  # nothing was drafted


def test_the_helps_example_date_is_always_ahead(app):
    app.clock.advance(timedelta(days=400))
    app.command("alice", "help")
    shown = app.last_ephemeral("alice")
    [example] = re.findall(r"`(\d{4}-\d{2}-\d{2} \d{2}:\d{2})`", shown)
    assert datetime.strptime(example, "%Y-%m-%d %H:%M").replace(tzinfo=UTC) > app.clock.now()


def test_a_new_username_with_a_space_is_explained_as_invalid(app):
    app.command("alice", 'rename jdoe "j doe!"')
    refused = app.last_ephemeral("alice")
    assert "name the user and the new username" not in refused
    assert "`j doe!` cannot be a username" in refused and "no spaces" in refused, refused
    assert app.container.store.list(limit=10) == []


def _scheduled(app: App, when: str) -> datetime:
    """Alice asks to deactivate pnguyen at `when` and confirms; the time the request will run at."""
    app.command("alice", f"deactivate pnguyen --at {when}")
    assert ":no_entry:" not in app.last_ephemeral("alice"), app.last_ephemeral("alice")
    request_id = app.request_id()
    app.press("alice", "Confirm")
    app.command("alice", f"cancel {request_id}")  # the user is free for the next one
    return app.container.store.get(request_id).run_at


def test_at_takes_iso_8601_as_other_tools_write_it(app):
    assert _scheduled(app, "2026-12-04T18:20:17Z") == datetime(2026, 12, 4, 18, 20, 17, tzinfo=UTC)
    assert _scheduled(app, "2026-12-04T18:20:17+01:00") == datetime(2026, 12, 4, 17, 20, 17, tzinfo=UTC)
    assert _scheduled(app, "2026-12-04T18:20:17.250-0500") == datetime(2026, 12, 4, 23, 20, 17, 250000, tzinfo=UTC)
    assert _scheduled(app, "2026-12-04 18:20:17 UTC") == datetime(2026, 12, 4, 18, 20, 17, tzinfo=UTC)
    assert _scheduled(app, "2026-12-04 18:20") == datetime(2026, 12, 4, 18, 20, tzinfo=UTC)  # today's form stays


def test_at_takes_a_weekday_and_a_time_in_the_requesters_zone(app):
    app.slack.update_member("U0ALICE", tz="Europe/Paris")  # the clock says Monday 2026-11-02 09:00 UTC
    assert _scheduled(app, "friday 17:00") == datetime(2026, 11, 6, 16, 0, tzinfo=UTC)  # 17:00 in Paris
    # It is 10:00 in Paris, Monday.
    assert _scheduled(app, "Mon 10:30") == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)  # later today
    assert _scheduled(app, "mon 09:30") == datetime(2026, 11, 9, 8, 30, tzinfo=UTC)  # passed today: next week
    assert _scheduled(app, "tomorrow 08:15") == datetime(2026, 11, 3, 7, 15, tzinfo=UTC)
    app.command("alice", "deactivate pnguyen --at today 08:00")  # 07:00 UTC: gone already
    assert "is not in the future" in app.last_ephemeral("alice")
    app.command("alice", "deactivate pnguyen --at next friday 17:00")  # which friday? not guessed
    assert "can't read the time" in app.last_ephemeral("alice")
