"""The one gate into execution. Every path that moves a request into executing is walked here, once with every
person still an admin (it runs) and once with the only approver's Slack account deactivated, or made a guest,
meanwhile (it is called off, nothing is changed in the console). A test checks that the paths cover every move
into executing the transition table allows, so a new way in cannot be added without a path here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from bot.domain.events import CalledOff, Lapse
from bot.domain.lifecycle import INTO_EXECUTION, RequestState
from bot.domain.records import Approval, OffboardRequest
from bot.errors import ConsoleUnavailable, ConsoleUnsupported
from tests.service.conftest import Desk

JDOE = "u-1001"
S = RequestState


def _ops(desk: Desk) -> list[str]:
    return [op.name for op in desk.console.inner.operations(user_id=JDOE)]


def _approved(desk: Desk, **options) -> OffboardRequest:
    request = desk.send("alice", desk.ask("alice", "delete", "jdoe", **options))
    return desk.approve("bob", request)


def approved_run(desk: Desk) -> Callable[[], OffboardRequest]:
    request = _approved(desk)  # the run is queued: it starts once the job pool gets to it
    return lambda: (desk.jobs.drain(), desk.get(request))[1]


def scheduled_run(desk: Desk) -> Callable[[], OffboardRequest]:
    request = _approved(desk, at_text="in 2h")
    desk.jobs.drain()
    assert desk.get(request).state is S.APPROVED and _ops(desk) == []

    def when_due() -> OffboardRequest:
        desk.later(timedelta(hours=2))
        desk.sweep()
        return desk.get(request)

    return when_due


def next_stage(desk: Desk) -> Callable[[], OffboardRequest]:
    request = _approved(desk, retain=timedelta(days=1))
    desk.jobs.drain()
    assert desk.get(request).state is S.APPROVED and _ops(desk) == ["set_status"]  # the first stage ran

    def when_due() -> OffboardRequest:
        desk.later(timedelta(days=1))
        desk.sweep()
        return desk.get(request)

    return when_due


def recheck_after_a_manual_step(desk: Desk) -> Callable[[], OffboardRequest]:
    desk.console.fail_next("release_licenses", ConsoleUnsupported("this tenant has no PUT"))
    request = _approved(desk)
    desk.jobs.drain()
    assert desk.get(request).state is S.WAITING
    desk.console.inner.release_licenses(user_id=JDOE)  # an admin does the step by hand in the console

    def recheck() -> OffboardRequest:
        desk.service.decisions.recheck(actor=desk.actor("alice"), request_id=request.id)
        desk.jobs.drain()
        return desk.get(request)

    return recheck


def retry_of_failed_users(desk: Desk) -> Callable[[], OffboardRequest]:
    desk.console.fail_next("get_user", ConsoleUnavailable("the console is away"))  # the first run cannot start
    failed = _approved(desk)
    desk.jobs.drain()
    assert desk.get(failed).state is S.FAILED
    retry = desk.service.intake.retry_failed(actor=desk.actor("dana"), request_id=failed.id).request
    desk.send("dana", retry)
    desk.approve("bob", retry)
    return lambda: (desk.jobs.drain(), desk.get(retry))[1]


def takeover_from_a_dead_replica(desk: Desk) -> Callable[[], OffboardRequest]:
    class Crash(BaseException):
        pass

    def die() -> None:
        raise Crash

    desk.console.before("delete", die)
    request = _approved(desk)
    with pytest.raises(Crash):
        desk.jobs.drain()
    assert desk.get(request).state is S.EXECUTING and _ops(desk) == ["release_licenses"]

    def take_over() -> OffboardRequest:
        desk.later(timedelta(seconds=61))  # the dead process's lease lapses
        desk.sweep()
        return desk.get(request)

    return take_over


@dataclass(frozen=True)
class Path:
    name: str
    before: RequestState  # where the request stands when it would move into (or carry on) executing
    setup: Callable[[Desk], Callable[[], OffboardRequest]]  # returns what takes the path


PATHS = (
    Path("approved run", S.APPROVED, approved_run),
    Path("scheduled run", S.APPROVED, scheduled_run),
    Path("next stage", S.APPROVED, next_stage),
    Path("re-check after a manual step", S.WAITING, recheck_after_a_manual_step),
    Path("retry of failed users", S.APPROVED, retry_of_failed_users),
    Path("takeover from a dead replica", S.EXECUTING, takeover_from_a_dead_replica),
)


def test_the_paths_cover_every_move_into_executing_and_a_takeover():
    assert {path.before for path in PATHS} == INTO_EXECUTION | {S.EXECUTING}


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.name)
def test_every_path_into_execution_runs_when_its_people_are_still_admins(desk, path):
    take = path.setup(desk)
    assert take().state is S.DONE
    assert desk.console.inner.get_user(user_id=JDOE) is None


LAPSES = {"deactivated": {"deleted": True}, "made a guest": {"is_guest": True}}


@pytest.mark.parametrize("lapse", LAPSES.values(), ids=LAPSES.keys())
@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.name)
def test_every_path_into_execution_is_called_off_when_the_only_approval_lapsed(desk, path, lapse):
    take = path.setup(desk)
    done_before = _ops(desk)
    desk.members.update("U0BOB", **lapse)  # bob's Slack account was deactivated, or made a guest, meanwhile
    ended = take()
    assert ended.state is S.CANCELLED
    assert _ops(desk) == done_before, "nothing more was changed in the console"
    assert desk.console.inner.get_user(user_id=JDOE) is not None
    [called_off] = desk.notifier.of(CalledOff)
    assert called_off.lapse == Lapse(gone=("bob@example.com",), counted=0, required=1)


def test_a_requester_no_longer_an_admin_cannot_have_it_run(desk):
    take = approved_run(desk)
    desk.members.update("U0ALICE", email="alice@elsewhere.example")
    assert take().state is S.CANCELLED
    assert desk.notifier.of(CalledOff)[0].lapse == Lapse(requester="alice@example.com")


def test_approvals_count_once_per_person(desk):
    """An approval from the requester's own account, or a second one from the same approver, never counts."""
    request = desk.send("alice", desk.ask("alice", "delete", "jdoe"))
    gate = desk.service.gate
    now = desk.clock.now()
    twice = (Approval("U0BOB", "bob@example.com", now), Approval("U0BOB2", "bob@example.com", now))
    assert gate.lapse(replace(request, approvals=twice, approvals_required=2)) == Lapse(
        repeated=("bob@example.com",), counted=1, required=2)
    own = (Approval("U0ALICE", "alice@example.com", now),)
    assert gate.lapse(replace(request, approvals=own)) == Lapse(repeated=("alice@example.com",), counted=0,
                                                                required=1)
    assert gate.lapse(replace(request, approvals=twice[:1])) is None


def test_an_approval_by_someone_the_request_offboards_never_counts(desk):
    """Approvals recorded before approve refused them (or by a second account of the target's): not counted."""
    request = desk.send("alice", desk.ask("alice", "delete", "bob"))
    gate = desk.service.gate
    now = desk.clock.now()
    for own in (Approval("U0BOB", "bob@example.com", now), Approval("U0BOB2", " Bob@Example.com ", now)):
        assert gate.lapse(replace(request, approvals=(own,))) == Lapse(offboarded=(own.approver_email,), counted=0,
                                                                       required=1)
        assert replace(request, approvals=(own,)).approvals_missing == 1
    assert gate.lapse(replace(request, approvals=(Approval("U0DANA", "dana@example.com", now),))) is None


def test_a_lapse_says_why_each_approval_stopped_counting(desk):
    """A second account of the requester, a target, and an approver who left: each named with its own reason."""
    request = desk.send("alice", desk.ask("alice", "delete", "bob"))
    now = desk.clock.now()
    desk.members.update("U0DANA", deleted=True)  # dana left
    approvals = (Approval("U0ALICE2", " Alice@Example.com ", now), Approval("U0BOB", "bob@example.com", now),
                 Approval("U0DANA", "dana@example.com", now))
    lapse = desk.service.gate.lapse(replace(request, approvals=approvals))
    assert lapse == Lapse(gone=("dana@example.com",), repeated=(" Alice@Example.com ",),
                          offboarded=("bob@example.com",), counted=0, required=1)
    assert Lapse.from_json(lapse.to_json()) == lapse
