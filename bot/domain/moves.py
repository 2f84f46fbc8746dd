"""The verbs of a request's life. Each takes the request as it stands, decides whether and where it may move,
and returns the Move; storage applies a Move as one guarded update (it changes nothing when another writer
moved the request first). A verb raises AlreadyDecided when the request is no longer where the verb starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.events import Lapse
from bot.domain.lifecycle import CANCELLABLE, UNDECIDED, RequestState, check_move
from bot.domain.notes import Note, Why
from bot.domain.records import AlreadyDecided, AuditEntry, OffboardRequest, TargetOutcome

S = RequestState
SYSTEM = "system"  # the actor of what the bot does by itself


@dataclass(frozen=True)
class Changes:
    """The request's fields a move sets besides its state; None leaves a field as it is."""

    attested_by: str | None = None
    decided_by: str | None = None
    decision_note: str | None = None
    expires_at: datetime | None = None
    remind_at: datetime | None = None
    run_at: datetime | None = None
    started_at: datetime | None = None


@dataclass(frozen=True)
class Move:
    request_id: str
    to: RequestState
    allowed_from: frozenset[RequestState]
    entry: AuditEntry  # written in the same transaction
    changes: Changes = field(default_factory=Changes)
    fail_pending: Note | None = None  # the note given to every user not finished yet, marked failed

    def __post_init__(self) -> None:
        for start in self.allowed_from:
            check_move(start, self.to)


@dataclass(frozen=True)
class Admission:
    """The execution gate's word that this request, as read at `version`, may run now. Only the gate
    (bot/service/gate.py) makes one; `begin` will not move a request into executing without it."""

    request_id: str
    version: int


def _from(request: OffboardRequest, *states: RequestState) -> frozenset[RequestState]:
    if request.state not in states:
        raise AlreadyDecided(request)
    return frozenset(states)


def submit(request: OffboardRequest, *, by: str, expires_at: datetime, remind_at: datetime | None) -> Move:
    """Send a draft for approval, or approve it at once when the policy needs no second admin. The requester
    ticked every box (request.boxes): the checklist and the manual steps, recorded as confirmed by them."""
    direct = request.approvals_required == 0
    return Move(request.id, S.APPROVED if direct else S.AWAITING_APPROVAL, _from(request, S.DRAFT),
                AuditEntry(by, "request.confirmed" if direct else "request.submitted", request.id,
                           {"checklist": list(request.checklist),
                            "attested_manual_steps": request.needs_attestation}),
                Changes(attested_by=by if request.boxes else None, expires_at=expires_at,
                        remind_at=None if direct else remind_at, decided_by=by if direct else None))


def reject(request: OffboardRequest, *, by: str, reason: str) -> Move:
    return Move(request.id, S.REJECTED, _from(request, S.AWAITING_APPROVAL),
                AuditEntry(by, "request.rejected", request.id, {"reason": reason}),
                Changes(decided_by=by, decision_note=reason))


def cancel(request: OffboardRequest, *, by: str) -> Move:
    """Call off a request that is not running: nothing more happens (stages already done stay done)."""
    starts = CANCELLABLE - {S.WAITING}
    return Move(request.id, S.CANCELLED, _from(request, *starts),
                AuditEntry(by, "request.cancelled", request.id, {"previous_state": request.state.value}),
                Changes(decided_by=by))


def stop(request: OffboardRequest, *, by: str) -> Move:
    """Give up on the steps waiting to be done by hand: the request fails, earlier steps stay done."""
    return Move(request.id, S.FAILED, _from(request, S.WAITING), AuditEntry(by, "request.stopped", request.id),
                Changes(decided_by=by), fail_pending=Note(Why.STOPPED))


def expire(request: OffboardRequest) -> Move:
    return Move(request.id, S.EXPIRED, _from(request, *UNDECIDED), AuditEntry(SYSTEM, "request.expired", request.id))


def unannounced(request: OffboardRequest, *, failure: str) -> Move:
    """The approval message could not be posted, so nobody could approve: the request is called off."""
    return Move(request.id, S.CANCELLED, _from(request, S.AWAITING_APPROVAL),
                AuditEntry(SYSTEM, "request.cancelled", request.id,
                           {"why": "approval_message_not_posted", "failure": failure}))


def call_off(request: OffboardRequest, lapse: Lapse) -> Move:
    """Cancel a request that may no longer run, before anything more is done."""
    return Move(request.id, S.CANCELLED, _from(request, S.APPROVED, S.WAITING, S.EXECUTING),
                AuditEntry(SYSTEM, "request.cancelled", request.id, {"why": "authority_lapsed", "requester":
                           lapse.requester, "gone": list(lapse.gone), "counted": lapse.counted}),
                Changes(decision_note=lapse.to_json()))


def begin(request: OffboardRequest, admission: Admission, *, now: datetime, by: str | None = None) -> Move:
    """Start (or carry on after a manual step) the run the gate admitted."""
    if admission.request_id != request.id or admission.version != request.version:
        raise ValueError(f"no admission for {request.id} as it stands now")
    if request.state is S.WAITING:
        return Move(request.id, S.EXECUTING, _from(request, S.WAITING),
                    AuditEntry(by or SYSTEM, "request.recheck", request.id))
    return Move(request.id, S.EXECUTING, _from(request, S.APPROVED),
                AuditEntry(SYSTEM, "request.executing", request.id),
                Changes(started_at=now if request.started_at is None else None))


def wait_for_hands(request: OffboardRequest) -> Move:
    """Pause a run at the steps an admin must do by hand; a Re-check carries on."""
    waiting = [target.plan.username for target in request.targets if target.manual_step]
    return Move(request.id, S.WAITING, _from(request, S.EXECUTING),
                AuditEntry(SYSTEM, "request.waiting", request.id, {"manual_steps_for": waiting}))


def next_stage(request: OffboardRequest, *, due: datetime) -> Move:
    """Pause a staged run until its next stage is due."""
    return Move(request.id, S.APPROVED, _from(request, S.EXECUTING),
                AuditEntry(SYSTEM, "request.next_stage", request.id, {"due": due.isoformat()}), Changes(run_at=due))


def finish(request: OffboardRequest) -> Move:
    """Close a run every user of which has its result: done when all succeeded, failed otherwise."""
    done = all(target.outcome is TargetOutcome.DONE for target in request.targets)
    final = S.DONE if done else S.FAILED
    return Move(request.id, final, _from(request, S.EXECUTING),
                AuditEntry(SYSTEM, f"request.{final.value}", request.id,
                           {target.plan.username: target.outcome.value for target in request.targets}))


def give_up(request: OffboardRequest, *, count: int) -> Move:
    """Stop a run for good after `count` unexpected errors; users not finished fail."""
    return Move(request.id, S.FAILED, _from(request, S.EXECUTING),
                AuditEntry(SYSTEM, "request.failed", request.id, {"why": "unexpected_errors", "count": count}),
                fail_pending=Note(Why.GAVE_UP, count=count))
