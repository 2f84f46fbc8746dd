"""Execution leases: a request is run by the one process holding its lease, renewed while it runs.

The lease lives in the request's row (owner, expiry). A process that dies stops renewing, the lease
lapses, and any replica's sweeper may then take the request over and finish it from the step journal.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from bot.ports import Clock, RequestRepository

log = logging.getLogger(__name__)


def new_owner_id() -> str:
    """Name this process for the leases it takes: host, pid and a random part (pids repeat across hosts)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class Lease:
    """Keeps one claim of a request's lease alive from a background thread while its job runs.

    `held` turns False as soon as a renewal is refused (someone claimed the request again), and also when
    renewals could not be made for most of the lease (the database is away): by then another replica may
    take over, so the job must stop before its next console call."""

    def __init__(self, store: RequestRepository, clock: Clock, *, request_id: str, token: str,
                 ttl: timedelta, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._clock = clock
        self.request_id = request_id
        self.token = token
        self._ttl = ttl
        self._monotonic = monotonic
        self._renewed_at = monotonic()
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(target=self._renew_until_stopped, daemon=True,
                                        name=f"offboard-lease-{request_id}")

    @property
    def held(self) -> bool:
        safe_for = self._ttl.total_seconds() * 2 / 3  # leave a third of the lease as margin
        return not self._lost.is_set() and self._monotonic() - self._renewed_at < safe_for

    def __enter__(self) -> Lease:
        if not self._renew():
            self._lost.set()
        self._thread.start()
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        self._stop.set()
        self._thread.join(10)
        if exc_type is None:
            self._store.release_lease(self.request_id, token=self.token)
        # After an unexpected error the lease is left to lapse: a sweeper retries the request one lease later,
        # not in a tight loop.

    def _renew(self) -> bool:
        started = self._monotonic()
        renewed = self._store.renew_lease(self.request_id, token=self.token, until=self._clock.now() + self._ttl)
        if renewed:
            self._renewed_at = started
        return renewed

    def _renew_until_stopped(self) -> None:
        every = max(self._ttl.total_seconds() / 3, 0.05)
        while not self._stop.wait(every):
            try:
                renewed = self._renew()
            except Exception:  # the database is briefly away: try again at the next beat, the lease still runs
                log.warning("could not renew the lease of %s", self.request_id, exc_info=True)
                continue
            if not renewed:
                log.error("lost the lease of %s: another process took it over; stopping before the next step",
                          self.request_id)
                self._lost.set()
                return
