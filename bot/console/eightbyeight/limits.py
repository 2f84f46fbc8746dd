"""The 8x8 API's published limits, enforced on our side so the bot never causes a 429.

One `Throttle` is shared by everything in the process that talks to the API: every HTTP request
takes a slot in both sliding windows (100 per minute, 20 per 10 s), and every asynchronous
operation (a PUT or DELETE until its operation finishes) takes one of 10 operation slots.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bot.ambient import is_background, is_glance
from bot.errors import ConsoleBusy


@dataclass(frozen=True)
class ApiLimits:
    requests: int = 100  # per `period` seconds, per API key
    period: float = 60.0
    burst: int = 20  # per `burst_period` seconds
    burst_period: float = 10.0
    operations: int = 10  # operations in flight at once, per organisation


YIELD_PAUSE = 0.005  # seconds background work waits while an interactive caller takes the free slot
GLANCE_SHARE = 0.5  # a glance takes a slot only while every window is less than this full


class Ticket:
    """One request's place in the windows. It counts from when the request was sent until `span` after its
    answer arrived: the server counted it somewhere in between (when it reached the server, which a slow network
    or a process starved of CPU can put well after our send), so a ticket in flight is never let go."""

    __slots__ = ("at", "in_flight")

    def __init__(self, at: float) -> None:
        self.at = at
        self.in_flight = True


IN_FLIGHT_POLL = 0.01  # seconds to look again when a window is full of requests not answered yet


class _Window:
    """At most `size` requests in any `span` seconds (a log of tickets; answers arrive in any order)."""

    def __init__(self, size: int, span: float) -> None:
        self.size = size
        self.span = span
        self.tickets: deque[Ticket] = deque()

    def in_use(self, now: float) -> int:
        """Tickets that still count at `now` (at most `size`: a short scan)."""
        self.tickets = deque(ticket for ticket in self.tickets if ticket.in_flight or ticket.at > now - self.span)
        return len(self.tickets)

    def wait_needed(self, now: float) -> float:
        if len(self.tickets) < self.size or self.in_use(now) < self.size:
            return 0.0
        answered = [ticket.at for ticket in self.tickets if not ticket.in_flight]
        if not answered:
            return IN_FLIGHT_POLL
        return max(min(answered) + self.span - now, 0.001)


class Throttle:
    """Blocks callers until the API's limits allow one more request (or operation).

    `pause(seconds)` makes everyone wait, used when the console answers 429 with Retry-After
    (which only happens when someone else shares the key).

    Interactive callers (an admin's command or click) go before background work (a running request):
    while one of them waits for a slot, background callers do not take the slot that frees up, so a
    500-user run keeps the API busy without making other admins wait behind it. Interactive callers who
    wait take the slots in turn, first come first served: an admin's one look-up waits for the one call
    another admin's long list has in hand, not for the whole list.

    A glance (the form's user picker, answered on a listener thread while Slack waits) never waits: it takes
    a slot only while every window is less than half full and nobody waits, else it raises ConsoleBusy. So a
    member typing fast never holds a thread, and never takes more than half of the budget from the others."""

    def __init__(self, limits: ApiLimits | None = None, *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.limits = limits or ApiLimits()
        self._windows = (_Window(self.limits.requests, self.limits.period),
                         _Window(self.limits.burst, self.limits.burst_period))
        self._operations = threading.BoundedSemaphore(self.limits.operations)
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._monotonic = monotonic
        self._sleep = sleep
        self.waited = 0.0  # seconds callers spent waiting for a slot, summed (for benchmarks)
        self._waiting: deque[object] = deque()  # interactive callers waiting for a slot, in turn

    def acquire(self) -> Ticket:
        """Take a request slot, waiting as long as the windows (or a pause) require; call `answered` after.
        Interactive callers that must wait queue in turn, so two admins' look-ups share the slots evenly."""
        if is_glance():
            return self._glance()
        background = is_background()
        place: object | None = None  # an interactive caller's place in the queue, once it has to wait
        try:
            while True:
                with self._lock:
                    now = self._monotonic()
                    wait = max([self._paused_until - now, *(window.wait_needed(now) for window in self._windows)])
                    if wait <= 0 and self._waiting and (background or self._waiting[0] is not place):
                        wait = YIELD_PAUSE  # an admin waited first for this slot: let them have it
                    if wait <= 0:
                        if place is not None:
                            self._waiting.popleft()
                            place = None
                        return self._take(now)
                    if not background and place is None:
                        place = object()
                        self._waiting.append(place)
                    self.waited += wait
                self._sleep(wait)
        finally:
            if place is not None:  # gave up waiting (an exception): leave the queue
                with self._lock:
                    self._waiting.remove(place)

    @property
    def queued(self) -> int:
        """Interactive callers waiting for a slot right now."""
        with self._lock:
            return len(self._waiting)

    def _take(self, now: float) -> Ticket:
        ticket = Ticket(now)
        for window in self._windows:
            window.tickets.append(ticket)
        return ticket

    def _glance(self) -> Ticket:
        """A slot now, while every window is less than GLANCE_SHARE full and nobody waits; else ConsoleBusy."""
        with self._lock:
            now = self._monotonic()
            if (self._paused_until > now or self._waiting
                    or any(window.in_use(now) >= window.size * GLANCE_SHARE for window in self._windows)):
                raise ConsoleBusy("the console's rate limit is busy with other work")
            return self._take(now)

    def answered(self, ticket: Ticket) -> None:
        """The request's answer arrived (or it failed): count it from now."""
        with self._lock:
            ticket.at = self._monotonic()
            ticket.in_flight = False

    def pause(self, seconds: float) -> None:
        """Hold every caller back for `seconds` from now."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._monotonic() + seconds)

    @contextmanager
    def operation(self) -> Iterator[None]:
        """Hold one of the organisation's operation slots while an asynchronous change runs."""
        self._operations.acquire()
        try:
            yield
        finally:
            self._operations.release()
