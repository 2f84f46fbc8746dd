"""A run against the local console when things go wrong: the console refusing or losing an answer, the user
changed or deleted behind the bot's back, a step nobody can confirm, and errors on our side, resumed from the
journal and given up after 3. Every request ends in a definite state with each user's note, and no console
operation is repeated or lost. (The transport faults are in tests/app/test_fault_matrix.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.domain.events import Approved, Finished, Interrupted
from bot.domain.lifecycle import RequestState
from bot.domain.notes import Note, Why
from bot.domain.plan import StepKind
from bot.domain.records import OffboardRequest, StepStatus, TargetOutcome
from bot.errors import ConsoleRejected, ConsoleUnavailable
from bot.slack import blocks
from bot.slack.messages.events import answer, direct_messages, outcome_line
from bot.slack.messages.notes import target_text
from bot.sweeper import Sweeper
from storage import audit
from storage.db import session
from storage.models import AuditRow
from tests.service.conftest import Desk

JDOE = "u-1001"
S = RequestState


def _ops(desk: Desk) -> list[str]:
    return [op.name for op in desk.console.inner.operations(user_id=JDOE)]


def _asked(desk: Desk) -> OffboardRequest:
    """A delete of jdoe, sent for approval by alice."""
    return desk.send("alice", desk.ask("alice", "delete", "jdoe"))


def _run(desk: Desk, request: OffboardRequest) -> OffboardRequest:
    """Bob approves; the run it queues goes as far as it can."""
    desk.approve("bob", request)
    desk.jobs.drain()
    return desk.get(request)


def _said(request: OffboardRequest) -> str:
    return target_text(request.action, request.targets[0])


def _audit_events(desk: Desk, request: OffboardRequest) -> list[str]:
    with session(desk.engine) as db:
        rows = db.exec(select(AuditRow).where(AuditRow.request_id == request.id).order_by(AuditRow.seq)).all()
    return [row.event for row in rows]


def test_delete_refused_by_the_console(desk):
    request = _asked(desk)
    desk.console.fail_next("delete", ConsoleRejected("the user is on an active call"))
    ended = _run(desk, request)
    assert ended.state is S.FAILED
    assert ended.targets[0].outcome is TargetOutcome.FAILED
    assert ended.targets[0].note == Note(Why.STEP_FAILED, step=StepKind.DELETE, cause=Why.REFUSED,
                                         said="the user is on an active call")
    assert _ops(desk) == ["release_licenses"]
    user = desk.console.inner.get_user(user_id=JDOE)
    assert user is not None and not user.licenses
    assert "delete failed: the user is on an active call" in _said(ended) and "start a new request" in _said(ended)
    assert "❌ `jdoe`: delete failed: the user is on an active call" in str(blocks.outcome_message(ended))
    drawn = desk.notifier.messages[request.id].request  # the approval message, as last drawn
    assert drawn.state is S.FAILED and "Finished with failures" in str(blocks.approval_message(drawn))
    [finished] = desk.notifier.of(Finished)
    assert finished.request.state is S.FAILED and "finished with problems" in outcome_line(finished.request)
    assert audit.verify(desk.engine).ok


def test_lost_answer_to_a_delete_is_reconciled_by_reading_not_repeated(desk):
    request = _asked(desk)
    desk.console.fail_next("delete", ConsoleUnavailable("connection dropped"), after_applying=True)
    ended = _run(desk, request)
    assert ended.state is S.DONE
    assert _ops(desk) == ["release_licenses", "delete"]
    assert ended.targets[0].note == Note(Why.COMPLETED) and _said(ended) == "deleted successfully"


def test_console_down_before_the_first_step_changes_nothing(desk):
    request = _asked(desk)
    desk.console.fail_next("release_licenses", ConsoleUnavailable("console unreachable"))
    ended = _run(desk, request)
    assert ended.state is S.FAILED
    assert _ops(desk) == []
    assert ended.targets[0].note == Note(Why.STEP_FAILED, step=StepKind.RELEASE_LICENSES, cause=Why.REFUSED,
                                         said="console unreachable")
    assert "release licenses failed: console unreachable" in _said(ended)


def test_record_changed_since_approval_stops_that_user(desk):
    request = _asked(desk)
    desk.console.inner.release_licenses(user_id=JDOE)  # someone else edits the user in the console meanwhile
    ended = _run(desk, request)
    assert ended.targets[0].outcome is TargetOutcome.ABORTED
    assert ended.state is S.FAILED
    assert ended.targets[0].note == Note(Why.CHANGED)
    assert desk.console.inner.get_user(user_id=JDOE) is not None
    assert _ops(desk) == ["release_licenses"]  # only the outside edit
    assert "changed since the plan was approved" in _said(ended)


def test_user_deleted_elsewhere_meanwhile(desk):
    request = _asked(desk)
    desk.console.inner.delete(user_id=JDOE)
    ended = _run(desk, request)
    assert ended.targets[0].outcome is TargetOutcome.ABORTED
    assert ended.targets[0].note == Note(Why.GONE)
    assert "no longer exists" in _said(ended)


def test_unconfirmable_step_is_reported_as_unknown_not_as_failed(desk):
    request = _asked(desk)
    desk.service.steps.sleep = lambda _seconds: None  # no real pauses between the read-backs
    desk.console.fail_next("delete", ConsoleUnavailable("connection dropped"), after_applying=True)
    desk.console.after("delete", lambda: [  # then every attempt to read the user back times out
        desk.console.fail_next("get_user", ConsoleUnavailable("timeout")) for _ in range(3)])
    ended = _run(desk, request)
    target = ended.targets[0]
    assert target.step(StepKind.DELETE).status is StepStatus.STARTED  # nobody knows whether it happened
    assert target.note == Note(Why.STEP_UNCONFIRMED, step=StepKind.DELETE, cause=Why.READ_BACK_FAILED,
                               said="timeout")
    assert "delete was sent to the console but could not read the user back" in _said(ended)
    assert "Check the user in the Admin Console before doing anything else" in _said(ended)
    assert _ops(desk) == ["release_licenses", "delete"]


def test_unexpected_error_is_resumed_on_the_next_start_without_repeating(desk):
    request = _asked(desk)

    def bug():
        raise RuntimeError("a bug, or the database went away")

    desk.console.before("delete", bug)
    approved = desk.service.decisions.approve(actor=desk.actor("bob"), request_id=request.id)
    assert isinstance(approved, Approved)  # bob is answered before the run starts
    assert answer(approved, results="C0RESULTS").startswith("Approved")
    with pytest.raises(RuntimeError, match="database went away"):
        desk.jobs.drain()
    assert desk.get(request).state is S.EXECUTING
    assert _audit_events(desk, request).count("request.interrupted") == 1
    [interrupted] = desk.notifier.of(Interrupted)
    assert (interrupted.error, interrupted.storage_down, interrupted.retry_in, interrupted.tries) == (
        "RuntimeError", False, timedelta(seconds=60), 3)
    [(to, told)] = direct_messages(interrupted, approvals="C0APPROVALS")
    assert to == "U0ALICE"
    assert f"{request.id} was interrupted: an error on my side (`RuntimeError`)" in told
    assert "tried again by itself in about 1 minute" in told and "stops after 3 tries" in told

    sweeper = Sweeper(desk.service.timers)  # what every replica's sweeper does on its tick
    assert sweeper.sweep().started == []  # the lease is left to lapse: no retry in a tight loop
    desk.later(timedelta(seconds=61))
    assert sweeper.sweep().started == [request.id]
    desk.jobs.drain()
    ended = desk.get(request)
    assert ended.state is S.DONE
    assert _ops(desk) == ["release_licenses", "delete"]
    assert ended.targets[0].note == Note(Why.COMPLETED) and _said(ended) == "deleted successfully"
    assert audit.verify(desk.engine).ok


def test_a_run_that_keeps_hitting_an_unexpected_error_stops_and_says_so(desk):
    request = _asked(desk)

    def bug():
        raise RuntimeError("a bug that does not go away")

    desk.console.before("delete", bug)
    desk.approve("bob", request)
    with pytest.raises(RuntimeError):
        desk.jobs.drain()
    for _ in range(2):  # each retry comes one lease later, never in a tight loop
        desk.console.before("delete", bug)
        desk.later(timedelta(seconds=61))
        with pytest.raises(RuntimeError):
            desk.sweep()
    ended = desk.get(request)
    assert ended.state is S.FAILED
    assert len(desk.notifier.of(Interrupted)) == 2  # the third error ends it instead
    [finished] = desk.notifier.of(Finished)
    assert finished.request.targets[0].note == Note(Why.GAVE_UP, count=3)
    assert "stopped after 3 unexpected errors" in _said(ended)
    assert _ops(desk) == ["release_licenses"]  # the step before the bug ran once; the delete never
    assert audit.verify(desk.engine).ok
