"""Time, under a controllable clock: scheduled runs, staged deletes, expiry and reminders. Nothing sleeps:
the test moves the clock and wakes the sweeper, as APScheduler does in `serve`."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.directory import UserStatus
from bot.domain.lifecycle import RequestState
from bot.simulators.harness import App

JDOE = "u-1001"
S = RequestState


def _sweep(app: App, after: timedelta = timedelta()) -> None:
    app.clock.advance(after)
    app.container.sweeper.sweep()
    app.settle()


def _state(app: App) -> RequestState:
    return app.container.store.get(app.request_id()).state


def _ops(app: App) -> list[str]:
    return [op.name for op in app.console.operations(user_id=JDOE)]


def test_a_scheduled_run_waits_for_its_time(app):
    app.command("alice", "deactivate jdoe --at in 2h --reason last day tomorrow")
    preview = app.last_ephemeral("alice")
    assert "runs <!date^" in preview and "UTC)" in preview
    app.press("alice", "Confirm")
    assert _state(app) is S.APPROVED and _ops(app) == []
    _sweep(app, timedelta(hours=1, minutes=59))
    assert _state(app) is S.APPROVED and _ops(app) == []
    _sweep(app, timedelta(minutes=1))
    assert _state(app) is S.DONE and _ops(app) == ["set_status"]
    _sweep(app, timedelta(hours=1))
    assert _ops(app) == ["set_status"]  # once


def test_the_approval_must_come_before_the_run_time(app):
    app.command("alice", "delete jdoe --at in 1h")
    app.press("alice", "Request approval")
    request = app.container.store.get(app.request_id())
    assert request.expires_at == request.run_at
    _sweep(app, timedelta(hours=1))
    assert _state(app) is S.EXPIRED
    assert "expired before it was approved" in app.dm_texts("alice")[-1]
    assert "Approve" not in app.workspace.visible_buttons("U0BOB", channel_id="C0APPROVALS")
    assert _ops(app) == []


def test_an_approved_scheduled_run_can_be_cancelled_until_it_starts(app):
    app.command("alice", "delete jdoe --at in 3h")
    app.press("alice", "Request approval")
    app.press("bob", "Approve")
    assert "It will run at" in app.last_ephemeral("bob")
    assert _state(app) is S.APPROVED
    app.command("alice", f"cancel {app.request_id()}")
    assert "nothing was changed" in app.last_ephemeral("alice")
    _sweep(app, timedelta(hours=4))
    assert _state(app) is S.CANCELLED and _ops(app) == []


def test_a_staged_delete_runs_each_stage_at_its_time(app):
    app.command("alice", "delete jdoe --grace 7d --retain 30d")
    preview = app.last_ephemeral("alice")
    assert "At the start: deactivate" in preview and "7 days after the start: release" in preview
    assert "30 days after the start: delete" in preview
    app.press("alice", "Request approval")
    app.press("bob", "Approve")
    assert _ops(app) == ["set_status"] and _state(app) is S.APPROVED
    assert "next stage <!date^" in app.channel_texts("C0APPROVALS")[-1]
    _sweep(app, timedelta(days=6, hours=23))
    assert _ops(app) == ["set_status"]
    _sweep(app, timedelta(hours=1))
    assert _ops(app) == ["set_status", "release_licenses"] and _state(app) is S.APPROVED
    _sweep(app, timedelta(days=23))
    assert _state(app) is S.DONE
    assert _ops(app) == ["set_status", "release_licenses", "delete"]
    assert "`jdoe`: deleted successfully" in app.channel_texts("C0RESULTS")[-1]


def test_a_stage_is_rechecked_before_it_runs(app):
    app.command("alice", "delete jdoe --grace 7d --retain 30d")
    app.press("alice", "Request approval")
    app.press("bob", "Approve")
    app.console.set_status(user_id=JDOE, status=UserStatus.ACTIVE)  # someone brought jdoe back meanwhile
    _sweep(app, timedelta(days=7))
    assert _state(app) is S.FAILED
    assert "no longer shows what earlier stages did (deactivate)" in app.channel_texts("C0RESULTS")[-1]
    assert _ops(app) == ["set_status", "set_status"]  # ours, then the one made by hand; no release, no delete


def test_a_staged_delete_can_be_cancelled_between_stages(app):
    app.command("alice", "delete jdoe --grace 7d --retain 30d")
    app.press("alice", "Request approval")
    app.press("bob", "Approve")
    app.command("alice", f"cancel {app.request_id()}")
    assert "the stages already done stay done" in app.last_ephemeral("alice")
    _sweep(app, timedelta(days=31))
    assert _state(app) is S.CANCELLED and _ops(app) == ["set_status"]
    app.command("alice", "reactivate jdoe")  # the user is free again
    assert "Plan: Reactivate jdoe" in app.last_ephemeral("alice")


def test_reminders_go_to_the_thread_then_the_request_expires(app):
    app.command("alice", "delete jdoe")
    app.press("alice", "Request approval")
    approval = app.slack.messages("C0APPROVALS")[-1]
    _sweep(app, timedelta(hours=3, minutes=59))
    replies = [m for m in app.slack.messages("C0APPROVALS") if m.thread_ts == approval.ts]
    assert replies == []
    _sweep(app, timedelta(minutes=1))
    _sweep(app)  # a second sweep at the same time sends nothing more
    replies = [m for m in app.slack.messages("C0APPROVALS") if m.thread_ts == approval.ts]
    assert len(replies) == 1 and "still needs 1 approval" in str(replies[0].blocks)
    _sweep(app, timedelta(hours=4))
    assert len([m for m in app.slack.messages("C0APPROVALS") if m.thread_ts == approval.ts]) == 2
    _sweep(app, timedelta(hours=16))
    assert _state(app) is S.EXPIRED
    assert "Approve" not in app.workspace.visible_buttons("U0BOB", channel_id="C0APPROVALS")
    assert "expired before it was approved" in app.dm_texts("alice")[-1]


def test_the_form_takes_a_run_time_from_the_date_picker(app):
    app.command("alice", "")
    moment = app.clock.now() + timedelta(days=2)
    app.press("alice", "Show plan", action="deactivate", users="jdoe", run_at=str(int(moment.timestamp())))
    app.press("alice", "Confirm")
    request = app.container.store.get(app.request_id())
    assert request.state is S.APPROVED and abs((request.run_at - moment).total_seconds()) < 1
    _sweep(app, timedelta(days=2))
    assert _ops(app) == ["set_status"]


def test_an_unreadable_or_past_run_time_is_refused_clearly(app):
    app.command("alice", "deactivate jdoe --at yesterday")
    assert "YYYY-MM-DD HH:MM" in app.last_ephemeral("alice")
    app.command("alice", "deactivate jdoe --at 2001-01-01 09:00")
    assert "future" in app.last_ephemeral("alice") or "passed" in app.last_ephemeral("alice")
    assert app.container.store.list(limit=5) == []


def test_a_staged_delete_of_an_inactive_user_still_waits_for_each_stage(app):
    app.console.set_status(user_id=JDOE, status=UserStatus.INACTIVE)
    app.command("alice", "delete jdoe --grace 7d --retain 30d")
    app.press("alice", "Request approval")
    app.press("bob", "Approve")
    assert _ops(app) == ["set_status"]  # only the setup above: nothing runs before its stage
    _sweep(app, timedelta(days=7))
    assert _ops(app) == ["set_status", "release_licenses"]
    _sweep(app, timedelta(days=23))
    assert _ops(app)[-1] == "delete" and _state(app) is S.DONE


def test_a_user_deleted_by_hand_between_stages_counts_as_done(app):
    app.command("alice", "delete jdoe --grace 7d --retain 30d")
    app.press("alice", "Request approval")
    app.press("bob", "Approve")
    app.console.delete(user_id=JDOE)  # someone deleted the profile by hand meanwhile
    _sweep(app, timedelta(days=7))
    assert _state(app) is S.DONE
    assert "already deleted in the console by someone else" in app.channel_texts("C0RESULTS")[-1]


def test_a_profile_reused_during_retention_is_not_deleted(app):
    app.command("alice", "delete jdoe --grace 7d --retain 30d")
    app.press("alice", "Request approval")
    app.press("bob", "Approve")
    _sweep(app, timedelta(days=7))
    app.console.rename(user_id=JDOE, new_username="new.hire")  # handed to someone else before the end
    _sweep(app, timedelta(days=23))
    assert _state(app) is S.FAILED and "delete" not in _ops(app)
    assert "username or email changed since the approval" in app.channel_texts("C0RESULTS")[-1]


def test_a_last_stage_interrupted_after_the_delete_landed_is_finished_as_ours(app):
    app.command("alice", "delete jdoe --grace 7d --retain 30d")
    app.press("alice", "Request approval")
    app.press("bob", "Approve")
    _sweep(app, timedelta(days=7))

    def bug():
        raise RuntimeError("a bug, or the database went away, right after the delete landed")

    app.faults.after("delete", bug)
    _sweep(app, timedelta(days=23))
    assert _state(app) is S.EXECUTING
    _sweep(app, timedelta(seconds=61))  # the lease lapsed: a sweeper resumes it from the journal
    request = app.container.store.get(app.request_id())
    assert request.state is S.DONE
    assert {step.kind.value: step.status.value for step in request.targets[0].steps}["delete"] == "done"
    results = app.channel_texts("C0RESULTS")[-1]
    assert "`jdoe`: deleted successfully" in results and "someone else" not in results
    assert _ops(app) == ["set_status", "release_licenses", "delete"]
