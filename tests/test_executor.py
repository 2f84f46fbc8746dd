"""The step journal: a run that died halfway is taken over without repeating a finished step."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.console.local import LocalConsole
from bot.domain.lifecycle import Action, RequestState
from bot.domain.plan import build_plan
from bot.domain.records import AuditEntry, TargetOutcome
from bot.executor import Executor
from bot.ports import NewRequest
from bot.simulators.faulty_console import FaultyConsole
from storage import audit
from storage.request_store import RequestStore

JDOE = "u-1001"


class Crash(BaseException):
    """The process dying: nothing in the bot catches it."""


@pytest.fixture
def console(tmp_path):
    local = LocalConsole(tmp_path / "console.db")
    local.seed_if_empty()
    return FaultyConsole(local)


def _executing(store, console, clock):
    plan = build_plan(Action.DELETE, console.get_user(user_id=JDOE))
    store.create(NewRequest(id="OB-CRASH001", action=Action.DELETE, requester_id="U0ALICE",
                            requester_email="alice@example.com", reason="", approvals_required=1,
                            expires_at=clock.now() + timedelta(hours=1), origin_channel=None, plans=(plan,)),
                 now=clock.now(), entry=AuditEntry(actor="t", event="t"))
    entry = AuditEntry(actor="t", event="t")
    for to, start in ((RequestState.AWAITING_APPROVAL, RequestState.DRAFT),
                      (RequestState.APPROVED, RequestState.AWAITING_APPROVAL),
                      (RequestState.EXECUTING, RequestState.APPROVED)):
        request = store.transition("OB-CRASH001", to=to, allowed_from=[start], now=clock.now(), entry=entry)
    return request


def _crash_during(console, operation, *, after_applying):
    def die():
        if after_applying:
            getattr(console.inner, operation)(user_id=JDOE)
        raise Crash

    console.before(operation, die)


@pytest.mark.parametrize("after_applying", [False, True], ids=["before-delete-landed", "after-delete-landed"])
def test_takeover_after_a_crash_finishes_without_repeating(any_engine, console, clock, after_applying):
    store = RequestStore(any_engine)
    request = _executing(store, console, clock)
    _crash_during(console, "delete", after_applying=after_applying)
    with pytest.raises(Crash):
        Executor(store=store, console=console, clock=clock).run(request)
    half = store.get(request.id)
    assert [(s.kind.value, s.status.value) for s in half.targets[0].steps] == [
        ("release_licenses", "done"), ("delete", "started")]

    finished = Executor(store=store, console=console, clock=clock).run(half)
    assert finished.state is RequestState.DONE
    assert finished.targets[0].outcome is TargetOutcome.DONE
    assert console.inner.get_user(user_id=JDOE) is None
    assert [op.name for op in console.inner.operations(user_id=JDOE)] == ["release_licenses", "delete"]
    assert audit.verify(any_engine).ok
