"""`wait` in the shell: let time pass so that scheduled runs and stages happen, and say what was waited for.

`wait SECONDS` lets that many seconds pass. `wait until-idle` (or `wait` alone) waits while work is in flight
(a command, a click, a run) or a run is due soon: an approved request whose time (`--at`, or the next stage of a
staged delete) comes within SOON of the moment the wait began. It never waits longer than CAP. Reminders and
expiries are not waited for: they come again, or days later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.container import Container
from bot.domain.lifecycle import RequestState

SOON = timedelta(minutes=2)
CAP_SECONDS = 180.0  # SOON, and a minute for the last run due to finish
MAX_SECONDS = 600.0  # the longest `wait SECONDS`
POLL_SECONDS = 0.2
_SCHEDULED = (RequestState.APPROVED, RequestState.EXECUTING)


@dataclass
class Waited:
    """What `until_idle` waited for."""

    seconds: float
    idle: bool  # False: it gave up at the cap
    requests: list[str] = field(default_factory=list)  # the runs it waited for, first seen first
    busy: list[str] = field(default_factory=list)  # when it gave up: what was still running or due
    next_run: tuple[str, datetime] | None = None  # the first run due after SOON, if any


def until_idle(container: Container, *, soon: timedelta = SOON, cap: float = CAP_SECONDS,
               sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
               now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Waited:
    """Wait until nothing is in flight and no run is due within `soon` of now (at most `cap` seconds)."""
    started = clock()
    horizon = now() + soon
    waited = Waited(seconds=0.0, idle=False)
    while True:
        busy = _busy(container, horizon)
        for request_id in busy:
            if request_id != "work in flight" and request_id not in waited.requests:
                waited.requests.append(request_id)
        waited.seconds = clock() - started
        if not busy:
            waited.idle = True
            break
        if waited.seconds >= cap:
            waited.busy = busy
            break
        sleep(POLL_SECONDS)
    later = [(r.run_at, r.id) for r in container.store.list(states=[RequestState.APPROVED], limit=500)
             if r.run_at is not None and r.run_at > horizon]
    if later:
        run_at, request_id = min(later)
        waited.next_run = (request_id, run_at)
    return waited


def _busy(container: Container, horizon: datetime) -> list[str]:
    """What is in flight or due by `horizon`: request ids, and "work in flight" while a pool has some."""
    due = [r.id for r in container.store.list(states=_SCHEDULED, limit=500)
           if r.state is RequestState.EXECUTING or r.run_at is None or r.run_at <= horizon]
    return due + (["work in flight"] if any(pool.pending for pool in container.pools) else [])


def describe(waited: Waited) -> str:
    """One line for the shell: how long, for what, and what comes next."""
    runs = f"the run of {', '.join(waited.requests)}" if waited.requests else "nothing"
    if waited.idle:
        text = (f"(waited {waited.seconds:.0f} s for {runs}; now nothing is running and no run is due in the next "
                f"{SOON.seconds // 60} minutes")
    else:
        text = f"(stopped waiting after {waited.seconds:.0f} s; still running or due: {', '.join(waited.busy)}"
    if waited.next_run:
        request_id, run_at = waited.next_run
        text += f"; next: {request_id} at {run_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return text + ")"
