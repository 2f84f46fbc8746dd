"""Running requests: a run is leased, admitted by the execution gate, its users worked through by the batch,
and closed: done or failed, paused until its next stage, or waiting for steps done by hand."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bot.ambient import LeaseLost, holding_lease
from bot.domain import moves
from bot.domain.events import CalledOff, Finished, Interrupted, Progressed, StageDone, WaitingForManual
from bot.domain.lifecycle import RequestState
from bot.domain.records import AlreadyDecided, AuditEntry, OffboardRequest
from bot.errors import StorageUnavailable
from bot.leases import Lease
from bot.ports import NotificationFailed
from bot.service.batch import Batch
from bot.service.core import Core
from bot.service.gate import Gate

log = logging.getLogger(__name__)
MAX_INTERRUPTIONS = 3  # unexpected errors in one run before it stops for good


class Runs:
    def __init__(self, core: Core, gate: Gate, batch: Batch) -> None:
        self._core = core
        self._gate = gate
        self._batch = batch

    def start(self, request: OffboardRequest, *, rechecked_by: str | None = None) -> None:
        """Run the request soon, off the caller's thread, if it is due and nobody else holds it (else a
        sweeper starts it when it is due)."""
        core = self._core

        def job() -> None:
            now = core.now()
            claimed = core.store.claim_due(owner=core.owner, now=now, until=now + core.lease_ttl, limit=1,
                                           request_id=request.id, on_takeover=self._taken_over)
            if request.id in claimed:
                self.run_leased(request.id, claimed[request.id], rechecked_by=rechecked_by)

        core.jobs.submit(job, name=f"run {request.id}")

    def start_due(self, *, limit: int = 20) -> list[str]:
        """Lease the requests that are due to run (or whose runner died) and start them; return their ids."""
        core = self._core
        now = core.now()
        claimed = core.store.claim_due(owner=core.owner, now=now, until=now + core.lease_ttl, limit=limit,
                                       on_takeover=self._taken_over)
        for request_id, token in claimed.items():
            core.jobs.submit(lambda request_id=request_id, token=token: self.run_leased(request_id, token),
                             name=f"run {request_id}")
        return list(claimed)

    def run_leased(self, request_id: str, token: str, *, rechecked_by: str | None = None) -> None:
        """Run the request while holding the lease claim_due gave it, then let the lease go."""
        core = self._core
        with (Lease(core.store, core.clock, request_id=request_id, token=token, ttl=core.lease_ttl) as lease,
              holding_lease(lambda: lease.held)):
            if lease.held:
                self.run(request_id, rechecked_by=rechecked_by, keep_going=lambda: lease.held)

    def run(self, request_id: str, *, rechecked_by: str | None = None,
            keep_going: Callable[[], bool] = lambda: True) -> OffboardRequest:
        """Execute a due approved request, or carry on with one left executing; tell everyone.

        The caller holds the request's lease (run_leased); `keep_going` turns False if it is lost."""
        core = self._core
        request = core.get(request_id)
        if request.state is RequestState.APPROVED and request.run_at and request.run_at > core.now():
            return request  # not yet: the sweeper starts it when it is due
        if request.state not in (RequestState.APPROVED, RequestState.EXECUTING):
            return request  # decided otherwise meanwhile; a waiting request carries on only after a Re-check
        starting = request.state is RequestState.APPROVED
        try:
            entered = self._gate.enter(request)
        except AlreadyDecided as decided:
            return decided.request  # cancelled meanwhile
        if isinstance(entered, CalledOff):
            return entered.request
        if starting:
            entered = self._show(entered)
        return self._work(entered, rechecked_by=rechecked_by, keep_going=keep_going)

    def _show(self, request: OffboardRequest) -> OffboardRequest:
        """A request for several users that needed no approval has no message yet: post one as it starts, in the
        approvals channel where requests are followed, to show its progress on."""
        if not request.message_ts and len(request.targets) > 1:
            request = self._post(request, channels=(self._core.policy.channels.approvals,)) or request
        return request

    def _work(self, request: OffboardRequest, *, rechecked_by: str | None,
              keep_going: Callable[[], bool]) -> OffboardRequest:
        core = self._core
        try:
            dues = self._batch.run(request, keep_going=keep_going, on_progress=lambda: self._progress(request))
            return self._close(core.get(request.id), next_stage=min(dues) if dues else None,
                               rechecked_by=rechecked_by)
        except LeaseLost:
            core.store.append_audit(AuditEntry("system", "request.lease_lost", request.id, {"owner": core.owner}),
                                    now=core.now())
            return core.get(request.id)
        except Exception as error:
            # Unknown trouble (a bug, the database going away): the step journal keeps what was done, and the
            # request stays executing; once the lease lapses a sweeper resumes it without repeating a step.
            # After a few such errors it stops for good and says so, rather than retrying forever.
            self._interrupted(request, error)
            raise

    def _close(self, request: OffboardRequest, *, next_stage: datetime | None,
               rechecked_by: str | None) -> OffboardRequest:
        """After the users ran as far as they could: wait for hands, pause until the next stage, or finish."""
        core = self._core
        try:
            if any(target.manual_step for target in request.targets):
                waiting = core.move(request, moves.wait_for_hands(request))
                self._ask_for_hands(waiting, rechecked_by=rechecked_by)
                return waiting
            if next_stage is not None:
                return core.move(request, moves.next_stage(request, due=next_stage), event=StageDone)
            return core.move(request, moves.finish(request), event=Finished)
        except AlreadyDecided as decided:
            return decided.request

    def _progress(self, request: OffboardRequest) -> None:
        """Redraw the running request's message with how far it got (the batch calls this at most about once a
        second, however many users finish). The database counts the users by outcome: what a redraw costs does
        not grow with the request. A request changed otherwise since its run began is loaded whole."""
        tally = self._core.store.tally(request.id)
        if tally is None:
            return
        if tally.version != request.version:
            request = self._core.get(request.id)
        self._core.publish(Progressed(request, counts=tally.counts))

    def _interrupted(self, request: OffboardRequest, error: Exception) -> None:
        """Count an unexpected error in a run and tell the requester what happens next. The database may be
        the trouble: then the count is lost with it, and the requester is told all the same (through Slack)."""
        core = self._core
        try:
            count = core.store.count_interruption(
                request.id, now=core.now(),
                entry=AuditEntry("system", "request.interrupted", request.id, {"error": type(error).__name__}))
        except Exception:
            log.warning("could not record the interruption of %s", request.id, exc_info=True)
            count = 0
        if count >= MAX_INTERRUPTIONS:
            self._give_up(request.id, count)
            return
        core.publish(Interrupted(request, error=type(error).__name__,
                                 storage_down=isinstance(error, StorageUnavailable), retry_in=core.lease_ttl,
                                 tries=MAX_INTERRUPTIONS))

    def _give_up(self, request_id: str, count: int) -> None:
        request = self._core.get(request_id)
        with contextlib.suppress(AlreadyDecided):  # finished or cancelled meanwhile
            self._core.move(request, moves.give_up(request, count=count), event=Finished)

    def _ask_for_hands(self, request: OffboardRequest, *, rechecked_by: str | None) -> None:
        """Show the manual steps with the Re-check button: on the request's message, or on a new one in the
        approvals channel, or (when that fails too) in a direct message to the requester; then say so."""
        if not request.message_ts:
            request = self._post(request, channels=(self._core.policy.channels.approvals,
                                                    request.requester_id)) or request
        self._core.publish(WaitingForManual(request, console=self._core.console.name, rechecked_by=rechecked_by))

    def _post(self, request: OffboardRequest, *, channels: tuple[str, ...]) -> OffboardRequest | None:
        """Post the request's message in the first of the channels that takes it; the request with it, or None."""
        for channel in channels:
            try:
                posted, ts = self._core.notifier.announce(request, channel=channel)
            except NotificationFailed as failure:
                log.warning("could not post the message of %s to %s: %s", request.id, channel, failure)
                continue
            self._core.store.set_message(request.id, channel=posted, ts=ts)
            return replace(request, message_channel=posted, message_ts=ts)
        return None

    def _taken_over(self, request_id: str, previous_holder: str) -> None:
        log.warning("took over %s: the lease held by %s had lapsed", request_id, previous_holder)
        self._core.metrics.lease_taken_over()
