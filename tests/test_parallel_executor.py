"""A bulk request's users run side by side: each user's steps still in order, one failure never stops the
others, progress is reported at a calm pace, and a lost lease stops the run without losing or repeating."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import timedelta

import pytest

from bot.ambient import LeaseLost
from bot.console.local import LocalConsole
from bot.domain.directory import ConsoleUser, Extension, ExtensionType
from bot.domain.lifecycle import Action, RequestState
from bot.domain.plan import build_plan
from bot.domain.records import AuditEntry, TargetOutcome
from bot.errors import ConsoleRejected
from bot.executor import Executor
from bot.ports import NewRequest
from bot.simulators.faulty_console import FaultyConsole
from storage import audit
from storage.request_store import RequestStore

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
def console(tmp_path) -> SlowConsole:
    local = LocalConsole(tmp_path / "console.db")
    for number in range(USERS):
        local.add_user(ConsoleUser(
            id=f"u-{number:03}", username=f"user{number:03}", email=f"user{number:03}@example.com",
            licenses=("X Series X4",),
            extensions=(Extension(number=f"1{number:03}", type=ExtensionType.UC,
                                  phone_numbers=(f"+1415555{number:04}",)),)))
    return SlowConsole(local)


def _executing(store: RequestStore, console, clock) -> object:
    plans = tuple(build_plan(Action.DELETE, console.get_user(user_id=f"u-{n:03}")) for n in range(USERS))
    store.create(NewRequest(id="OB-BULK0001", action=Action.DELETE, requester_id="U0ALICE",
                            requester_email="alice@example.com", reason="", approvals_required=2,
                            expires_at=clock.now() + timedelta(hours=1), origin_channel=None, plans=plans),
                 now=clock.now(), entry=AuditEntry(actor="t", event="t"))
    entry = AuditEntry(actor="t", event="t")
    for to, start in ((RequestState.AWAITING_APPROVAL, RequestState.DRAFT),
                      (RequestState.APPROVED, RequestState.AWAITING_APPROVAL),
                      (RequestState.EXECUTING, RequestState.APPROVED)):
        request = store.transition("OB-BULK0001", to=to, allowed_from=[start], now=clock.now(), entry=entry)
    return request


def _operations(console: SlowConsole) -> dict[str, list[str]]:
    done: dict[str, list[str]] = {}
    for operation in console.inner.operations():
        done.setdefault(operation.user_id, []).append(operation.name)
    return done


def test_users_run_side_by_side_each_in_its_order(any_engine, console, clock):
    store = RequestStore(any_engine)
    finished = Executor(store=store, console=console, clock=clock, workers=4).run(_executing(store, console, clock))
    assert finished.state is RequestState.DONE
    assert all(target.outcome is TargetOutcome.DONE for target in finished.targets)
    assert 2 <= console.most_in_flight <= 4
    assert _operations(console) == {f"u-{n:03}": ["release_licenses", "delete"] for n in range(USERS)}
    assert audit.verify(any_engine).ok


def test_one_user_failing_does_not_stop_the_others(sqlite_engine, console, clock):
    store = RequestStore(sqlite_engine)
    console.fail_next("delete", ConsoleRejected("the console refused to delete this user"))
    finished = Executor(store=store, console=console, clock=clock, workers=4).run(_executing(store, console, clock))
    assert finished.state is RequestState.FAILED
    outcomes = [target.outcome for target in finished.targets]
    assert outcomes.count(TargetOutcome.FAILED) == 1 and outcomes.count(TargetOutcome.DONE) == USERS - 1
    [failed] = [target for target in finished.targets if target.outcome is TargetOutcome.FAILED]
    assert "refused to delete" in failed.detail


def test_progress_is_reported_at_most_once_per_interval(sqlite_engine, console, clock):
    store = RequestStore(sqlite_engine)
    reports: list[float] = []
    executor = Executor(store=store, console=console, clock=clock, workers=2, progress_every=0.05)
    executor.run(_executing(store, console, clock), on_progress=lambda: reports.append(time.monotonic()))
    assert reports, "a run of several tenths of a second reports its progress"
    assert all(later - earlier >= 0.05 for earlier, later in itertools.pairwise(reports))


def test_a_lost_lease_stops_new_users_and_a_takeover_finishes_without_repeating(any_engine, console, clock):
    store = RequestStore(any_engine)
    request = _executing(store, console, clock)
    asked = 0
    lock = threading.Lock()

    def keep_going() -> bool:
        nonlocal asked
        with lock:
            asked += 1
            return asked <= 10  # the lease is lost a few steps in

    with pytest.raises(LeaseLost):
        Executor(store=store, console=console, clock=clock, workers=3).run(request, keep_going=keep_going)
    half = store.get(request.id)
    assert half.state is RequestState.EXECUTING
    untouched = [target for target in half.targets if not target.steps]
    assert untouched, "users not started when the lease went stay for whoever takes over"

    finished = Executor(store=store, console=console, clock=clock, workers=3).run(half)
    assert finished.state is RequestState.DONE
    assert _operations(console) == {f"u-{n:03}": ["release_licenses", "delete"] for n in range(USERS)}
    assert audit.verify(any_engine).ok


def test_an_error_of_our_own_stops_new_users_and_is_raised(sqlite_engine, console, clock):
    store = RequestStore(sqlite_engine)
    request = _executing(store, console, clock)

    def database_gone():
        raise RuntimeError("the database went away")

    console.before("delete", database_gone)
    with pytest.raises(RuntimeError, match="database went away"):
        Executor(store=store, console=console, clock=clock, workers=3).run(request)
    half = store.get(request.id)
    assert half.state is RequestState.EXECUTING  # the sweeper resumes it after the lease lapses
    assert any(not target.steps for target in half.targets)

