"""The step journal: a run that died halfway is taken over without repeating a finished step."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.lifecycle import RequestState
from bot.domain.records import TargetOutcome
from storage import audit

JDOE = "u-1001"


class Crash(BaseException):
    """The process dying: nothing in the bot catches it."""


def _crash_during(console, operation, *, after_applying):
    def die():
        if after_applying:
            getattr(console.inner, operation)(user_id=JDOE)
        raise Crash

    console.before(operation, die)


@pytest.mark.parametrize("after_applying", [False, True], ids=["before-delete-landed", "after-delete-landed"])
def test_takeover_after_a_crash_finishes_without_repeating(any_desk, after_applying):
    desk = any_desk
    request = desk.send("alice", desk.ask("alice", "delete", "jdoe"))
    desk.approve("bob", request)
    _crash_during(desk.console, "delete", after_applying=after_applying)
    with pytest.raises(Crash):
        desk.jobs.drain()
    half = desk.get(request)
    assert half.state is RequestState.EXECUTING
    assert [(s.kind.value, s.status.value) for s in half.targets[0].steps] == [
        ("release_licenses", "done"), ("delete", "started")]

    desk.later(timedelta(seconds=61))  # the dead process's lease lapses; any replica's sweeper takes over
    desk.sweep()
    finished = desk.get(request)
    assert finished.state is RequestState.DONE
    assert finished.targets[0].outcome is TargetOutcome.DONE
    assert desk.console.inner.get_user(user_id=JDOE) is None
    assert [op.name for op in desk.console.inner.operations(user_id=JDOE)] == ["release_licenses", "delete"]
    assert audit.verify(desk.engine).ok
