"""Deciding: approve, reject, cancel, stop waiting, re-check. Each returns the event of what the click did; a
click that came too late raises AlreadyDecided with the request as it now stands."""

from __future__ import annotations

from bot.domain import moves
from bot.domain.emails import normal_email
from bot.domain.events import (
    ApprovalCounted,
    Approved,
    CalledOff,
    Cancelled,
    Rechecking,
    Rejected,
    Stopped,
    later,
)
from bot.domain.lifecycle import RequestState
from bot.domain.records import Actor, AlreadyDecided, AuditEntry, OffboardRequest
from bot.errors import Refusal
from bot.policy import Role
from bot.service.access import Admin
from bot.service.core import Core
from bot.service.gate import Gate
from bot.service.runs import Runs


class Decisions:
    def __init__(self, core: Core, gate: Gate, runs: Runs) -> None:
        self._core = core
        self._gate = gate
        self._runs = runs

    def approve(self, *, actor: Actor, request_id: str) -> ApprovalCounted | Approved:
        """Count the actor's approval; run the request when it was the last one needed. One person approves once
        (emails compared normalised): a second account of the requester's is refused, one of an approver's is told
        they approved already."""
        core = self._core
        admin = core.access.admin(actor, request_id=request_id)
        request = self._open(core.get(request_id), RequestState.AWAITING_APPROVAL)
        self._may_decide(actor, admin, request)
        if any(normal_email(approval.approver_email) == admin.email or approval.approver_id == actor.user_id
               for approval in request.approvals):
            raise AlreadyDecided(request, you_approved=True)
        requester = normal_email(request.requester_email)
        now = core.now()
        result = core.store.record_approval(
            request_id, approver_id=actor.user_id, approver_email=admin.email, now=now,
            entry=AuditEntry(actor.user_id, "request.approval", request_id,
                             {"approver": admin.email, "role": admin.role.value}),
            approved_entry=AuditEntry(actor.user_id, "request.approved", request_id),
            counted=[email for email in core.policy.admin_emails
                     if email != requester and not request.offboards(actor.user_id, email)])
        if not result.recorded:
            current = core.get(request_id)
            if current.state is RequestState.AWAITING_APPROVAL and current.expired(now):
                current = self._open(current, RequestState.AWAITING_APPROVAL)
            raise AlreadyDecided(current, you_approved=current.state is RequestState.AWAITING_APPROVAL)
        approved = result.request
        core.refresh(approved)  # buttons off, Home tabs updated, even when it runs only later
        if not result.became_approved:
            return ApprovalCounted(approved, by=actor.user_id, missing=result.missing)
        core.metrics.request_approved(action=approved.action, waited=now - approved.created_at)
        core.changed(approved)  # a workflow's step is answered now when the request runs after the step's time
        self._runs.start(approved)
        return Approved(approved, by=actor.user_id, runs_at=later(approved.run_at, now))

    def check_can_reject(self, *, actor: Actor, request_id: str) -> OffboardRequest:
        """Return the request when the actor may reject it now; raise Refusal otherwise."""
        admin = self._core.access.admin(actor, request_id=request_id)
        request = self._open(self._core.get(request_id), RequestState.AWAITING_APPROVAL)
        self._may_decide(actor, admin, request)
        return request

    def reject(self, *, actor: Actor, request_id: str, reason: str) -> Rejected:
        """Reject the request with a reason; raise AlreadyDecided when someone else decided first."""
        reason = reason.strip()
        if not reason:
            raise Refusal("no_reason")
        request = self.check_can_reject(actor=actor, request_id=request_id)
        rejected = self._core.move(request, moves.reject(request, by=actor.user_id, reason=reason),
                                   event=lambda moved: Rejected(moved, by=actor.user_id, reason=reason))
        return Rejected(rejected, by=actor.user_id, reason=reason)

    def cancel(self, *, actor: Actor, request_id: str) -> Cancelled | Stopped:
        """Cancel a request that is not running right now; the requester or a primary admin may.

        A request waiting for a manual step is stopped; a staged one keeps the stages already done."""
        admin = self._core.access.admin(actor, request_id=request_id)
        request = self._core.get(request_id)
        if request.state is RequestState.WAITING:
            return self.stop_waiting(actor=actor, request_id=request_id)
        self._requester_or_primary(admin, request, doing="cancel")
        cancelled = self._core.move(request, moves.cancel(request, by=actor.user_id),
                                    event=lambda moved: Cancelled(moved, by=actor.user_id))
        return Cancelled(cancelled, by=actor.user_id)

    def stop_waiting(self, *, actor: Actor, request_id: str) -> Stopped:
        """Give up on the manual steps: the request ends as failed and its users are released."""
        admin = self._core.access.admin(actor, request_id=request_id)
        request = self._core.get(request_id)
        self._requester_or_primary(admin, request, doing="stop")
        stopped = self._core.move(request, moves.stop(request, by=actor.user_id),
                                  event=lambda moved: Stopped(moved, by=actor.user_id))
        return Stopped(stopped, by=actor.user_id)

    def recheck(self, *, actor: Actor, request_id: str) -> Rechecking | CalledOff:
        """An admin did the manual steps by hand: through the execution gate, read the users back and carry on."""
        self._core.access.admin(actor, request_id=request_id)
        request = self._core.get(request_id)
        if request.state is not RequestState.WAITING:
            raise AlreadyDecided(request)
        entered = self._gate.enter(request, by=actor.user_id)
        if isinstance(entered, CalledOff):
            return entered
        self._runs.start(entered, rechecked_by=actor.user_id)
        return Rechecking(entered, by=actor.user_id)

    def _open(self, request: OffboardRequest, state: RequestState) -> OffboardRequest:
        """The request, when it is still in `state` (and not expired meanwhile); AlreadyDecided otherwise."""
        if request.state is not state:
            raise AlreadyDecided(request)
        current = self._core.expire_if_due(request)
        if current.state is not state:
            raise AlreadyDecided(current)
        return current

    @staticmethod
    def _may_decide(actor: Actor, admin: Admin, request: OffboardRequest) -> None:
        """Neither the requester nor anyone the request offboards decides on it."""
        if actor.user_id == request.requester_id or admin.email == normal_email(request.requester_email):
            raise Refusal("self_approval", request_id=request.id)
        if request.offboards(actor.user_id, admin.email):
            raise Refusal("own_offboarding", request_id=request.id)

    @staticmethod
    def _requester_or_primary(admin: Admin, request: OffboardRequest, *, doing: str) -> None:
        if admin.user_id != request.requester_id and admin.role is not Role.PRIMARY:
            raise Refusal("not_requester", request_id=request.id, doing=doing)
