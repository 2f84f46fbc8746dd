"""A staged delete (--grace 7d --retain 30d): deactivate when it runs, release the licenses 7 days later, delete
30 days after deactivating. Each later stage waits for its time, re-checks the user first, and may be cancelled
until it starts. The test moves the manual clock and sweeps, as the sweeper does on each tick."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.directory import UserStatus
from bot.domain.events import Cancelled, Finished, Interrupted, StageDone
from bot.domain.lifecycle import RequestState
from bot.domain.notes import Note, Why
from bot.domain.plan import StepKind
from bot.domain.records import OffboardRequest, StepStatus, TargetOutcome
from bot.slack import blocks
from bot.slack.messages.events import answer
from bot.slack.messages.notes import target_text
from bot.slack.messages.plans import step_texts
from tests.service.conftest import Desk

JDOE = "u-1001"
S = RequestState
GRACE, RETAIN = timedelta(days=7), timedelta(days=30)


def _ops(desk: Desk) -> list[str]:
    return [op.name for op in desk.console.inner.operations(user_id=JDOE)]


def _sweep(desk: Desk, after: timedelta = timedelta()) -> None:
    desk.later(after)
    desk.sweep()


def _staged(desk: Desk) -> OffboardRequest:
    """A staged delete of jdoe, asked by alice and approved by bob; its first stage has run."""
    request = desk.send("alice", desk.ask("alice", "delete", "jdoe", grace=GRACE, retain=RETAIN))
    desk.approve("bob", request)
    desk.jobs.drain()
    return desk.get(request)


def _said(desk: Desk, request: OffboardRequest) -> str:
    """How jdoe ended, in the words of the results."""
    ended = desk.get(request)
    return target_text(ended.action, ended.targets[0])


def test_a_staged_delete_runs_each_stage_at_its_time(desk):
    draft = desk.ask("alice", "delete", "jdoe", grace=GRACE, retain=RETAIN)
    planned = "\n".join(step_texts(draft.targets[0].plan))
    assert "At the start (when approved" in planned and "7 days after the start: release" in planned
    assert "30 days after the start: delete" in planned
    started = desk.clock.now()
    request = _staged(desk)
    assert _ops(desk) == ["set_status"] and request.state is S.APPROVED
    assert request.started_at == started and request.run_at == started + GRACE
    [stage] = desk.notifier.of(StageDone)
    assert stage.request.run_at == started + GRACE
    drawn = desk.notifier.messages[request.id].request
    assert drawn.run_at == started + GRACE and "next stage <!date^" in str(blocks.approval_message(drawn))

    _sweep(desk, timedelta(days=6, hours=23))
    assert _ops(desk) == ["set_status"]
    _sweep(desk, timedelta(hours=1))
    assert _ops(desk) == ["set_status", "release_licenses"] and desk.get(request).state is S.APPROVED
    assert desk.get(request).run_at == started + RETAIN and len(desk.notifier.of(StageDone)) == 2
    _sweep(desk, timedelta(days=23))
    assert desk.get(request).state is S.DONE
    assert _ops(desk) == ["set_status", "release_licenses", "delete"]
    [finished] = desk.notifier.of(Finished)
    assert finished.request.targets[0].note == Note(Why.COMPLETED)
    assert _said(desk, request) == "deleted successfully"


def test_a_stage_is_rechecked_before_it_runs(desk):
    request = _staged(desk)
    desk.console.inner.set_status(user_id=JDOE, status=UserStatus.ACTIVE)  # someone brought jdoe back meanwhile
    _sweep(desk, timedelta(days=7))
    ended = desk.get(request)
    assert ended.state is S.FAILED
    assert ended.targets[0].outcome is TargetOutcome.ABORTED
    assert ended.targets[0].note == Note(Why.UNDONE, steps=(StepKind.DEACTIVATE,))
    assert "no longer shows what earlier stages did (deactivate)" in _said(desk, request)
    assert _ops(desk) == ["set_status", "set_status"]  # ours, then the one made by hand; no release, no delete


def test_a_staged_delete_can_be_cancelled_between_stages(desk):
    request = _staged(desk)
    cancelled = desk.service.decisions.cancel(actor=desk.actor("alice"), request_id=request.id)
    assert isinstance(cancelled, Cancelled)
    assert "the stages already done stay done" in answer(cancelled, results="C0RESULTS")
    _sweep(desk, timedelta(days=31))
    assert desk.get(request).state is S.CANCELLED and _ops(desk) == ["set_status"]
    assert desk.store.holders([JDOE]) == {}  # the user is free again
    assert [target.plan.user_id for target in desk.ask("alice", "reactivate", "jdoe").targets] == [JDOE]


def test_a_staged_delete_of_an_inactive_user_still_waits_for_each_stage(desk):
    desk.console.inner.set_status(user_id=JDOE, status=UserStatus.INACTIVE)
    request = _staged(desk)
    assert _ops(desk) == ["set_status"]  # only the setup above: nothing runs before its stage
    assert request.state is S.APPROVED
    _sweep(desk, timedelta(days=7))
    assert _ops(desk) == ["set_status", "release_licenses"]
    _sweep(desk, timedelta(days=23))
    assert _ops(desk)[-1] == "delete" and desk.get(request).state is S.DONE


def test_a_user_deleted_by_hand_between_stages_counts_as_done(desk):
    request = _staged(desk)
    desk.console.inner.delete(user_id=JDOE)  # someone deleted the profile by hand meanwhile
    _sweep(desk, timedelta(days=7))
    ended = desk.get(request)
    assert ended.state is S.DONE
    assert ended.targets[0].outcome is TargetOutcome.DONE
    assert ended.targets[0].note == Note(Why.ALREADY_DELETED)
    assert "already deleted in the console by someone else" in _said(desk, request)


def test_a_profile_reused_during_retention_is_not_deleted(desk):
    request = _staged(desk)
    _sweep(desk, timedelta(days=7))
    desk.console.inner.rename(user_id=JDOE, new_username="new.hire")  # handed to someone else before the end
    _sweep(desk, timedelta(days=23))
    ended = desk.get(request)
    assert ended.state is S.FAILED and "delete" not in _ops(desk)
    assert ended.targets[0].outcome is TargetOutcome.ABORTED
    assert ended.targets[0].note == Note(Why.NOT_THE_SAME_PERSON)
    assert "username or email changed since the approval" in _said(desk, request)


def test_a_last_stage_interrupted_after_the_delete_landed_is_finished_as_ours(desk):
    request = _staged(desk)
    _sweep(desk, timedelta(days=7))

    def bug():
        raise RuntimeError("a bug, or the database went away, right after the delete landed")

    desk.console.after("delete", bug)
    with pytest.raises(RuntimeError, match="right after the delete landed"):
        _sweep(desk, timedelta(days=23))
    assert desk.get(request).state is S.EXECUTING
    assert len(desk.notifier.of(Interrupted)) == 1
    _sweep(desk, timedelta(seconds=61))  # the lease lapsed: a sweeper resumes it from the journal
    ended = desk.get(request)
    assert ended.state is S.DONE
    assert ended.targets[0].step(StepKind.DELETE).status is StepStatus.DONE
    assert ended.targets[0].note == Note(Why.COMPLETED)  # ours, not "deleted by someone else"
    assert _said(desk, request) == "deleted successfully"
    assert _ops(desk) == ["set_status", "release_licenses", "delete"]
