"""The small core every part of the service shares: the ports, and the tail of every change (`move`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain import moves
from bot.domain.events import Event, Expired
from bot.domain.lifecycle import RequestState
from bot.domain.moves import Move
from bot.domain.records import AlreadyDecided, OffboardRequest
from bot.errors import NotFound, StorageUnavailable
from bot.policy import Policy
from bot.ports import Clock, Console, Jobs, MemberDirectory, Metrics, NotificationFailed, Notifier, RequestRepository
from bot.service.access import Gatekeeper
from bot.service.homes import Homes

log = logging.getLogger(__name__)
REDRAWS = 3  # a message redrawn while the request changed is redrawn again, this many times at most


@dataclass
class Core:
    store: RequestRepository
    console: Console
    members: MemberDirectory
    policy: Policy
    notifier: Notifier
    jobs: Jobs
    clock: Clock
    metrics: Metrics
    access: Gatekeeper
    homes: Homes
    owner: str  # this process, as named in the leases it takes
    lease_ttl: timedelta
    on_change: Callable[[OffboardRequest], None] | None = None  # told of every change (workflow steps)

    def now(self) -> datetime:
        return self.clock.now()

    def get(self, request_id: str) -> OffboardRequest:
        """Return the request; raise NotFound when there is none."""
        request = self.store.get(request_id)
        if request is None:
            raise NotFound(request_id)
        return request

    def move(self, request: OffboardRequest, move: Move, *,
             event: Callable[[OffboardRequest], Event] | None = None) -> OffboardRequest:
        """Apply the move to the request in hand, then run the tail of every change once: count a request
        that ended, publish what happened (before the redraw, which reads the database again), redraw its
        message and the App Homes. Raise AlreadyDecided, with the request as it now stands, when another
        writer moved it first."""
        moved = self.store.apply(move, now=self.now())
        if moved is None:
            raise AlreadyDecided(self.get(request.id))
        if moved.state.is_terminal:
            self.metrics.request_finished(action=moved.action, outcome=moved.state)
        if event is not None:
            self.publish(event(moved))
        self.refresh(moved)
        self.changed(moved)
        return moved

    def changed(self, request: OffboardRequest) -> None:
        """Tell `on_change` (the workflow steps) of a committed change; the database failing here is logged."""
        if self.on_change is None:
            return
        try:
            self.on_change(request)
        except StorageUnavailable:  # the sweep tells the step when its time is up (Workflows.answer_overdue)
            log.warning("could not tell the workflow step of %s how it stands: the database did not answer",
                        request.id, exc_info=True)

    def publish(self, event: Event) -> None:
        self.safely(self.notifier.publish, event)

    def refresh(self, request: OffboardRequest) -> None:
        """Redraw the request's message, and again if it changed meanwhile, so a slow update can never leave an
        older state (or old buttons) on screen; then the App Homes. Called after a change was committed: the
        database failing here must not turn that change into an error, so it is logged."""
        try:
            for _ in range(REDRAWS):
                if not request.message_ts:
                    break
                self.safely(self.notifier.refresh, request)
                if self.store.version_of(request.id) == request.version:
                    break
                request = self.get(request.id)
            self.homes.changed(request.requester_id)
        except StorageUnavailable:
            log.warning("could not redraw %s after its change: the database did not answer", request.id,
                        exc_info=True)

    def expire_if_due(self, request: OffboardRequest) -> OffboardRequest:
        """Expire an undecided request whose time is up (and tell its requester); return it as it now stands."""
        if not request.state.is_undecided or not request.expired(self.now()):
            return request
        was_awaiting = request.state is RequestState.AWAITING_APPROVAL
        try:
            return self.move(request, moves.expire(request),
                             event=lambda expired: Expired(expired, was_awaiting=was_awaiting))
        except AlreadyDecided as decided:
            return decided.request

    def expiry(self, now: datetime, run_at: datetime | None) -> datetime:
        """When an undecided request expires: after the policy's window, and never after its run time."""
        expires_at = now + self.policy.approvals.expire_after
        return min(expires_at, run_at) if run_at else expires_at

    @staticmethod
    def safely(send: Callable[..., object], *args: object) -> None:
        """Slack being unavailable must not undo or repeat what the console already did; the request's state
        and the audit log stay the source of truth."""
        try:
            send(*args)
        except NotificationFailed as failure:
            log.warning("could not notify Slack: %s", failure)
