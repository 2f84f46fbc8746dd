"""On the local console: what changes in the console behind the bot's back, refusals, and bugs on our side.
Every request still ends in a definite, explained state, and no console operation is repeated or lost.
The transport faults (429, 5xx, timeouts, dropped connections, Slack, the database) are in
tests/app/test_fault_matrix.py."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.lifecycle import RequestState
from bot.domain.records import TargetOutcome
from bot.errors import ConsoleRejected, ConsoleUnavailable
from storage import audit

JDOE = "u-1001"


def _ops(app):
    return [op.name for op in app.console.operations(user_id=JDOE)]


def _approved_delete(app):
    app.command("alice", "delete jdoe")
    request_id = app.request_id()
    app.press("alice", "Request approval")
    return request_id


def test_delete_refused_by_the_console(app):
    request_id = _approved_delete(app)
    app.faults.fail_next("delete", ConsoleRejected("the user is on an active call"))
    app.press("bob", "Approve")
    request = app.container.store.get(request_id)
    assert request.state is RequestState.FAILED
    assert request.targets[0].outcome is TargetOutcome.FAILED
    assert _ops(app) == ["release_licenses"]
    user = app.console.get_user(user_id=JDOE)
    assert user is not None and not user.licenses
    results = app.channel_texts("C0RESULTS")[-1]
    assert "❌ `jdoe`: delete failed: the user is on an active call" in results
    assert "start a new request" in results
    assert "Finished with failures" in app.channel_texts("C0APPROVALS")[-1]
    assert any("finished with problems" in text for text in app.dm_texts("alice"))
    assert audit.verify(app.container.engine).ok


def test_lost_answer_to_a_delete_is_reconciled_by_reading_not_repeated(app):
    request_id = _approved_delete(app)
    app.faults.fail_next("delete", ConsoleUnavailable("connection dropped"), after_applying=True)
    app.press("bob", "Approve")
    assert app.container.store.get(request_id).state is RequestState.DONE
    assert _ops(app) == ["release_licenses", "delete"]
    assert "`jdoe`: deleted successfully" in app.channel_texts("C0RESULTS")[-1]


def test_console_down_before_the_first_step_changes_nothing(app):
    request_id = _approved_delete(app)
    app.faults.fail_next("release_licenses", ConsoleUnavailable("console unreachable"))
    app.press("bob", "Approve")
    assert app.container.store.get(request_id).state is RequestState.FAILED
    assert _ops(app) == []
    assert "release licenses failed: console unreachable" in app.channel_texts("C0RESULTS")[-1]


def test_record_changed_since_approval_stops_that_user(app):
    request_id = _approved_delete(app)
    app.console.release_licenses(user_id=JDOE)  # someone else edits the user in the console meanwhile
    app.press("bob", "Approve")
    request = app.container.store.get(request_id)
    assert request.targets[0].outcome is TargetOutcome.ABORTED
    assert request.state is RequestState.FAILED
    assert app.console.get_user(user_id=JDOE) is not None
    assert _ops(app) == ["release_licenses"]  # only the outside edit
    assert "changed since the plan was approved" in app.channel_texts("C0RESULTS")[-1]


def test_user_deleted_elsewhere_meanwhile(app):
    request_id = _approved_delete(app)
    app.console.delete(user_id=JDOE)
    app.press("bob", "Approve")
    assert app.container.store.get(request_id).targets[0].outcome is TargetOutcome.ABORTED
    assert "no longer exists" in app.channel_texts("C0RESULTS")[-1]


def test_approvals_channel_the_bot_is_not_in(app):
    app.slack.set_bot_membership("C0APPROVALS", False)
    app.command("alice", "delete jdoe")
    request_id = app.request_id()
    app.press("alice", "Request approval")
    shown = app.last_ephemeral("alice")
    assert "could not post the request to <#C0APPROVALS>" in shown and "not_in_channel" in shown
    assert app.container.store.get(request_id).state is RequestState.CANCELLED
    assert app.container.store.holders([JDOE]) == {}  # free to ask again once the bot is invited
    app.slack.set_bot_membership("C0APPROVALS", True)
    app.command("alice", "delete jdoe")
    app.press("alice", "Request approval")
    assert app.slack.messages("C0APPROVALS")


def test_unconfirmable_step_is_reported_as_unknown_not_as_failed(app):
    request_id = _approved_delete(app)
    app.container.service.steps.sleep = lambda _seconds: None
    app.faults.fail_next("delete", ConsoleUnavailable("connection dropped"), after_applying=True)
    app.faults.after("delete", lambda: [  # then every attempt to read the user back times out
        app.faults.fail_next("get_user", ConsoleUnavailable("timeout")) for _ in range(3)])
    app.press("bob", "Approve")
    request = app.container.store.get(request_id)
    step = request.targets[0].step(request.targets[0].plan.steps[-1].kind)
    assert step.status.value == "started"  # nobody knows whether it happened, so it is not marked failed
    results = app.channel_texts("C0RESULTS")[-1]
    assert "delete was sent to the console but could not read the user back" in results
    assert "Check the user in the Admin Console before doing anything else" in results
    assert _ops(app) == ["release_licenses", "delete"]


def test_unexpected_error_is_resumed_on_the_next_start_without_repeating(app):
    request_id = _approved_delete(app)

    def bug():
        raise RuntimeError("a bug, or the database went away")

    app.faults.before("delete", bug)
    app.press("bob", "Approve")
    assert app.container.store.get(request_id).state is RequestState.EXECUTING
    with_audit = [row for row in audit_rows(app) if row.event == "request.interrupted"]
    assert len(with_audit) == 1
    assert "Approved" in app.last_ephemeral("bob")
    told = app.dm_texts("alice")[-1]
    assert f"{request_id} was interrupted: an error on my side (`RuntimeError`)" in told
    assert "tried again by itself in about 1 minute" in told and "stops after 3 tries" in told

    assert app.container.sweeper.sweep().started == []  # the lease is left to lapse: no retry in a tight loop
    app.clock.advance(timedelta(seconds=61))
    assert app.container.sweeper.sweep().started == [request_id]  # what every replica's sweeper does
    app.settle()
    assert app.container.store.get(request_id).state is RequestState.DONE
    assert _ops(app) == ["release_licenses", "delete"]
    assert "`jdoe`: deleted successfully" in app.channel_texts("C0RESULTS")[-1]
    assert audit.verify(app.container.engine).ok


def audit_rows(app):
    from sqlmodel import select

    from storage.db import session
    from storage.models import AuditRow

    with session(app.container.engine) as db:
        return db.exec(select(AuditRow).order_by(AuditRow.seq)).all()


def test_a_run_that_keeps_hitting_an_unexpected_error_stops_and_says_so(app):
    request_id = _approved_delete(app)

    def bug():
        raise RuntimeError("a bug that does not go away")

    app.faults.before("delete", bug)
    app.press("bob", "Approve")
    for _ in range(2):  # each retry comes one lease later, never in a tight loop
        app.faults.before("delete", bug)
        app.clock.advance(timedelta(seconds=61))
        app.container.sweeper.sweep()
        app.settle()
    request = app.container.store.get(request_id)
    assert request.state is RequestState.FAILED
    assert "stopped after 3 unexpected errors" in app.channel_texts("C0RESULTS")[-1]
    assert _ops(app) == ["release_licenses"]  # the step before the bug ran once; the delete never
    assert audit.verify(app.container.engine).ok
