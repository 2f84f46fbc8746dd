"""The execution gate: the one way into running a request. Deleting is final, so every path that leads to the
console changing a user passes here, at the moment it would go ahead:

- an approved request starting (at once, at its run time, or at its next stage) and a waiting request carried
  on after a Re-check move into executing only through `Gate.enter`, which makes the Admission that the
  domain's `begin` verb demands;
- a request already executing (the job a Re-check started, or a run taken over from a dead replica) passes
  `Gate.enter` again before its steps resume.

`enter` checks, at that moment, that the requester and every counted approver are still admins of the
workspace and still distinct people (none of them a user the request offboards), that the approvals still
suffice, and that the request was not cancelled (the move is a guarded update). Otherwise it calls the request
off, saying why. The console half of the gate is per user, where the user is read anyway: before a user's first
step the record must still match the fingerprint the approvers saw (`fits_before_start`), and before a later
stage it must still be the approved person, showing what the earlier stages did (`fits_before_stage`)."""

from __future__ import annotations

from bot.domain import moves
from bot.domain.directory import ConsoleUser
from bot.domain.emails import normal_email
from bot.domain.events import CalledOff, Lapse
from bot.domain.lifecycle import INTO_EXECUTION, Action, RequestState
from bot.domain.moves import Admission
from bot.domain.notes import Note, Why
from bot.domain.plan import PlanStep, StepKind, TargetPlan
from bot.domain.records import Actor, AlreadyDecided, Approval, OffboardRequest
from bot.errors import Refusal
from bot.service.core import Core
from bot.service.effects import EFFECTS


class Gate:
    def __init__(self, core: Core) -> None:
        self._core = core

    def enter(self, request: OffboardRequest, *, by: str | None = None) -> OffboardRequest | CalledOff:
        """Let the request run now: return it executing, or the CalledOff event when it may no longer run (it
        is then cancelled, its requester told why, nothing more changed). Raise AlreadyDecided when it is no
        longer where a run starts (cancelled meanwhile, say). `by`: who asked it to carry on (a Re-check)."""
        if request.state is not RequestState.EXECUTING and request.state not in INTO_EXECUTION:
            raise AlreadyDecided(request)
        lapse = self.lapse(request)
        if lapse is not None:
            running = request.state is not RequestState.APPROVED
            called_off = self._core.move(request, moves.call_off(request, lapse),
                                         event=lambda moved: CalledOff(moved, lapse=lapse, running=running))
            return CalledOff(called_off, lapse=lapse, running=running)
        if request.state is RequestState.EXECUTING:
            return request  # carrying on after a Re-check, or taking over a run whose holder died
        admission = Admission(request_id=request.id, version=request.version)
        return self._core.move(request, moves.begin(request, admission, now=self._core.now(), by=by))

    def lapse(self, request: OffboardRequest) -> Lapse | None:
        """Why the request may no longer run, or None: is the requester still an admin, and do enough approvals
        come from admins who still are, each a different person from the requester, from each other and from
        everyone the request offboards?"""
        if not self._still_admin(request.requester_id, request.requester_email):
            return Lapse(requester=request.requester_email)
        approvers = request.approvers(
            still_admin=lambda approval: self._still_admin(approval.approver_id, approval.approver_email))
        if len(approvers.counted) < request.approvals_required:
            return Lapse(gone=_emails(approvers.gone), counted=len(approvers.counted),
                         required=request.approvals_required, repeated=_emails(approvers.repeated),
                         offboarded=_emails(approvers.offboarded))
        return None

    def _still_admin(self, user_id: str, email: str) -> bool:
        actor = Actor(user_id=user_id, team_id=self._core.members.home_team_id())
        try:
            admin = self._core.access.admin(actor)
        except Refusal:
            return False
        return admin.email == normal_email(email)


def _emails(approvals: tuple[Approval, ...]) -> tuple[str, ...]:
    return tuple(approval.approver_email for approval in approvals)


def fits_before_start(user: ConsoleUser | None, plan: TargetPlan) -> Note | None:
    """The user as read before its first step: why the plan no longer fits it (nothing is changed then), or
    None to go on."""
    if user is None:
        return Note(Why.GONE)
    if user.fingerprint() != plan.fingerprint:
        return Note(Why.CHANGED)
    return None


def fits_before_stage(earlier: list[PlanStep], plan: TargetPlan, user: ConsoleUser | None,
                      step: PlanStep) -> Note | None:
    """Before a later stage: is it still the approved person, and do the earlier stages still hold (nobody
    reactivated the user meanwhile)? Return how the user ends when not (a delete someone else already did
    counts as done), or None to go on."""
    if user is None and plan.action is Action.DELETE:
        return Note(Why.ALREADY_DELETED)
    if user is not None and not_the_approved_person(user, plan, step):
        return Note(Why.NOT_THE_SAME_PERSON)
    checked = [done for done in earlier if not done.manual and done.kind in EFFECTS]
    undone = tuple(done.kind for done in checked if not EFFECTS[done.kind].done(user, plan))
    return Note(Why.UNDONE, steps=undone) if undone else None


def not_the_approved_person(user: ConsoleUser, plan: TargetPlan, step: PlanStep) -> bool:
    """After a manual step or between stages (perhaps weeks later): is this still the profile approved?"""
    same_name = step.kind is StepKind.RENAME or user.username.lower() == plan.username.lower()
    return normal_email(user.email) != normal_email(plan.email) or not same_name
