"""A bulk request's users run side by side: each user's steps still in order, one failure never stops the
others, progress is reported at a calm pace, and a lost lease stops the run without losing or repeating."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import timedelta

import pytest

from bot.console.local import LocalConsole
from bot.domain.directory import ConsoleUser, Extension, ExtensionType
from bot.domain.lifecycle import RequestState
from bot.domain.notes import Note, Why
from bot.domain.plan import StepKind
from bot.domain.records import TargetOutcome
from bot.errors import ConsoleRejected, ConsoleUnavailable
from bot.service.batch import Batch
from bot.service.steps import TargetRun
from bot.simulators.faulty_console import FaultyConsole
from storage import audit
from tests.service.conftest import Desk, make_desk

USERS = 12


class SlowConsole(FaultyConsole):
    """Every change takes a while and is watched: how many run at once, at most."""

    def __init__(self, console: LocalConsole, *, pause: float = 0.03) -> None:
        super().__init__(console)
        self.pause = pause
        self.in_flight = 0
        self.most_in_flight = 0
        self._watch = threading.Lock()

    def _call(self, operation, run):
        if operation not in ("release_licenses", "delete"):
            return super()._call(operation, run)
        with self._watch:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.pause)
            return super()._call(operation, run)
        finally:
            with self._watch:
                self.in_flight -= 1


@pytest.fixture
def slow(tmp_path) -> SlowConsole:
    local = LocalConsole(tmp_path / "console.db")
    local.seed_if_empty()
    for number in range(USERS):
        local.add_user(ConsoleUser(
            id=f"u-{number:03}", username=f"user{number:03}", email=f"user{number:03}@example.com",
            licenses=("X Series X4",),
            extensions=(Extension(number=f"1{number:03}", type=ExtensionType.UC,
                                  phone_numbers=(f"+1415555{number:04}",)),)))
    return SlowConsole(local)


def _desk(engine, slow, policy, clock, *, workers: int, wave: int = 4) -> Desk:
    return make_desk(engine, slow, policy, clock, workers=workers, wave=wave)


def _approved(desk: Desk):
    """A delete of every user, approved by the two admins a bulk delete needs (not run yet)."""
    request = desk.send("alice", desk.ask("alice", "delete", *(f"user{n:03}" for n in range(USERS))))
    desk.approve("bob", request)
    return desk.approve("dana", request)


def _events(desk: Desk, request) -> list[str]:
    from sqlmodel import select

    from storage.db import session
    from storage.models import AuditRow

    with session(desk.engine) as db:
        return [row.event for row in db.exec(select(AuditRow).where(AuditRow.request_id == request.id))]


def _operations(console: SlowConsole) -> dict[str, list[str]]:
    done: dict[str, list[str]] = {}
    for operation in console.inner.operations():
        done.setdefault(operation.user_id, []).append(operation.name)
    return done


def test_users_run_side_by_side_each_in_its_order(any_engine, slow, policy, clock):
    desk = _desk(any_engine, slow, policy, clock, workers=4)
    request = _approved(desk)
    desk.jobs.drain()
    finished = desk.get(request)
    assert finished.state is RequestState.DONE
    assert all(target.outcome is TargetOutcome.DONE for target in finished.targets)
    assert 2 <= slow.most_in_flight <= 4
    assert _operations(slow) == {f"u-{n:03}": ["release_licenses", "delete"] for n in range(USERS)}
    assert audit.verify(any_engine).ok


def test_one_user_failing_does_not_stop_the_others(sqlite_engine, slow, policy, clock):
    desk = _desk(sqlite_engine, slow, policy, clock, workers=4)
    request = _approved(desk)
    slow.fail_next("delete", ConsoleRejected("the console refused to delete this user"))
    desk.jobs.drain()
    finished = desk.get(request)
    assert finished.state is RequestState.FAILED
    outcomes = [target.outcome for target in finished.targets]
    assert outcomes.count(TargetOutcome.FAILED) == 1 and outcomes.count(TargetOutcome.DONE) == USERS - 1
    [failed] = [target for target in finished.targets if target.outcome is TargetOutcome.FAILED]
    assert failed.note == Note(Why.STEP_FAILED, step=StepKind.DELETE, cause=Why.REFUSED,
                               said="the console refused to delete this user")


def test_progress_is_reported_at_most_once_per_interval(sqlite_engine, slow, policy, clock):
    desk = _desk(sqlite_engine, slow, policy, clock, workers=2)
    request = desk.get(_approved(desk))
    reports: list[float] = []
    batch = Batch(TargetRun(store=desk.store, console=slow, clock=clock), workers=2, progress_every=0.05)
    batch.run(request, on_progress=lambda: reports.append(time.monotonic()))
    assert reports, "a run of several tenths of a second reports its progress"
    assert all(later - earlier >= 0.05 for earlier, later in itertools.pairwise(reports))


def test_a_lost_lease_stops_new_users_and_a_takeover_finishes_without_repeating(any_engine, slow, policy, clock):
    desk = _desk(any_engine, slow, policy, clock, workers=3)
    request = _approved(desk)
    asked = 0
    lock = threading.Lock()

    def keep_going() -> bool:
        nonlocal asked
        with lock:
            asked += 1
            return asked <= 10  # the lease is lost a few steps in

    half = desk.service.runs.run(request.id, keep_going=keep_going)  # the run stops once every user in flight did
    assert "request.lease_lost" in _events(desk, request)
    assert half.state is RequestState.EXECUTING
    untouched = [target for target in half.targets if not target.steps]
    assert untouched, "users not started when the lease went stay for whoever takes over"

    desk.later(timedelta(seconds=61))
    desk.sweep()  # the queued run and the takeover find the lease theirs in turn; nothing is done twice
    assert desk.get(request).state is RequestState.DONE
    assert _operations(slow) == {f"u-{n:03}": ["release_licenses", "delete"] for n in range(USERS)}
    assert audit.verify(any_engine).ok


def test_an_error_of_our_own_stops_new_users_and_is_raised(sqlite_engine, slow, policy, clock):
    desk = _desk(sqlite_engine, slow, policy, clock, workers=3)
    request = _approved(desk)

    def database_gone():
        raise RuntimeError("the database went away")

    slow.before("delete", database_gone)
    with pytest.raises(RuntimeError, match="database went away"):
        desk.service.runs.run(request.id)
    half = desk.get(request)
    assert half.state is RequestState.EXECUTING  # the sweeper resumes it after the lease lapses
    assert any(not target.steps for target in half.targets)


def test_a_wave_of_users_is_read_once_before_its_changes_and_once_after(sqlite_engine, slow, policy, clock):
    desk = _desk(sqlite_engine, slow, policy, clock, workers=4, wave=USERS)
    request = _approved(desk)
    slow.calls.clear()
    desk.jobs.drain()
    assert desk.get(request).state is RequestState.DONE
    # One read of the wave before the first change (is each still the approved person?), one after the
    # licenses went (did they really?); the deletes' finished operations are their proof.
    assert slow.calls["get_users"] == 2 and slow.calls["get_user"] == 0
    assert _operations(slow) == {f"u-{n:03}": ["release_licenses", "delete"] for n in range(USERS)}


def test_a_batch_read_that_fails_reads_each_user_on_its_own(sqlite_engine, slow, policy, clock):
    desk = _desk(sqlite_engine, slow, policy, clock, workers=4, wave=USERS)
    request = _approved(desk)
    slow.fail_next("get_users", ConsoleUnavailable("the console did not answer"))
    slow.fail_next("get_user", ConsoleUnavailable("the console did not answer"))  # one user's own read fails too
    slow.calls.clear()
    desk.jobs.drain()
    finished = desk.get(request)
    assert slow.calls["get_user"] == USERS  # the first wave's read, user by user
    outcomes = [target.outcome for target in finished.targets]
    assert outcomes.count(TargetOutcome.ABORTED) == 1 and outcomes.count(TargetOutcome.DONE) == USERS - 1
    [unread] = [target for target in finished.targets if target.outcome is TargetOutcome.ABORTED]
    assert unread.note.why is Why.UNREADABLE and not unread.steps  # never assumed unchanged: nothing done to it


def test_a_user_changed_since_the_approval_is_left_alone_while_its_wave_goes_on(sqlite_engine, slow, policy, clock):
    desk = _desk(sqlite_engine, slow, policy, clock, workers=4, wave=USERS)
    request = _approved(desk)
    slow.inner.rename(user_id="u-005", new_username="someone.else")  # the profile was given to someone else
    desk.jobs.drain()
    finished = desk.get(request)
    changed = next(target for target in finished.targets if target.plan.user_id == "u-005")
    assert changed.outcome is TargetOutcome.ABORTED and changed.note.why is Why.CHANGED
    assert slow.inner.get_user(user_id="u-005").licenses == ("X Series X4",)  # untouched
    assert sum(target.outcome is TargetOutcome.DONE for target in finished.targets) == USERS - 1
