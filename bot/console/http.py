"""The one HTTP policy every console client speaks through.

What holds for every console:

- a request that never left (connection refused, connect or pool timeout) is tried again, read or change;
- a read whose answer was lost, or that the console answered with a status the policy repeats, is tried again;
- a change whose answer was lost, or that the console failed in a way that may come after taking it, raises
  OutcomeUnknown at once and is never sent again: the caller reconciles by reading the user back;
- a 429 waits for Retry-After before the request goes again;
- right before a change goes on the wire, after any wait, the job's lease is checked (bot.ambient);
- every request sent, each retry included, is told to `on_call` as a ConsoleCall;
- transport errors and failed answers become the project's exceptions here and nowhere else:
  `map_transport_errors` (in the manner of httpx's own `map_httpcore_exceptions`) and `answer_error`.

Where consoles differ, each backend configures a `Policy` (how often, how long, which statuses) and a
`Dialect` (its words, where it puts its reference, how it says "not supported"). The policy decides which
exception; the dialect only words it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from bot.ambient import ensure_lease_held, is_glance
from bot.errors import (
    AccessDenied,
    ConsoleBusy,
    ConsoleError,
    ConsoleRejected,
    ConsoleUnavailable,
    ConsoleUnsupported,
    OutcomeUnknown,
)
from bot.ports import ConsoleCall

log = logging.getLogger(__name__)

# Transport failures that happen before any byte of the request reached the console: always safe to repeat.
NOTHING_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
SERVER_ERRORS = frozenset(range(500, 600))


# -- what a request is, and how a console is spoken to ------------------------------------------------

@dataclass(frozen=True)
class Call:
    """One request, as the policy needs to know it."""

    method: str
    path: str  # relative to the base URL; its first segment names the call in metrics ("DELETE users")
    doing: object  # what the call is for, in words ("delete user jdoe"); str() is taken when a message is written
    change: bool = False  # a change: the lease is checked before it goes; never repeated once it may have arrived
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] | None = None
    body: Any = None  # sent as JSON when not None

    @property
    def operation(self) -> str:
        """The method and the resource, never an id: "GET users"."""
        return f"{self.method} {self.path.split('/')[0]}"


@dataclass(frozen=True)
class RetryAfter:
    """How long a 429 waits: the console's Retry-After, or these when it gives none, kept within bounds."""

    missing: float | None = None  # seconds when there is no Retry-After (None: the policy's pause)
    unreadable: float | None = None  # seconds when it cannot be read (None: as when missing)
    shortest: float = 0.0
    longest: float = float("inf")


@dataclass(frozen=True)
class Policy:
    """Where consoles differ in how failures are repeated. Each backend builds one:

                    8x8 (eightbyeight.client.policy)         SCIM (scim.client.policy)
    tries           4                                        retries + 1 (3)
    pause           exponential with full jitter             linear, 0.5 s times n
    retried         408 500 502 503 504 (reads)              any 5xx but 501 (reads)
    doubtful        408 500 502 504 (429 and 503: not taken) any 5xx but 501
    429             6 on their own budget, shared Throttle   a failed try like any other
    Retry-After     1 s to 2 min; none: 1 s, unreadable: 5 s as given (none: the pause); over 30 s gives up
    cite_failures   no (the status is in the words)          yes
    """

    tries: int  # sends of one request before giving up on failures (a 429 is one, unless `throttled` is set)
    pause: Callable[[int], float]  # seconds to wait after the n-th failure (n from 1)
    retried: frozenset[int]  # answers a read is tried again on
    doubtful: frozenset[int]  # answers after which a change may have been made: OutcomeUnknown, never resent
    throttled: int | None = None  # 429s tolerated on a budget of their own (None: each 429 is a failed try)
    retry_after: RetryAfter = RetryAfter()
    longest_wait: float | None = None  # an answer that asks for a longer wait gives up at once
    cite_failures: bool = True  # giving up names the last answer's status and response id


@dataclass(frozen=True)
class Failure:
    """A try the policy may repeat: no answer came (`reason`, in the dialect's words), or the console answered
    with a status the policy repeats (`response`)."""

    reason: str | None = None
    response: httpx.Response | None = None


class Dialect(Protocol):
    """How one console speaks. Its methods only word what the policy decided."""

    backend: str  # names the console in metrics: "8x8", "scim"

    def response_id(self, response: httpx.Response) -> str | None:
        """The console's own reference for an answer, which its support desk asks for."""
        ...

    def says_unsupported(self, response: httpx.Response, call: Call) -> bool:
        """Whether this answer means the console does not offer the operation (a person must do it)."""
        ...

    def no_answer(self, error: httpx.TransportError, *, sent: bool) -> str:
        """Why no answer came; `sent` is False when the request never left."""
        ...

    def lost_change(self, reason: str, call: Call) -> str:
        """A change went out and its answer was lost (`reason` from no_answer)."""
        ...

    def gave_up(self, failure: Failure, tries: int) -> str:
        """The last of `tries` failed tries in a row."""
        ...

    def answer(self, kind: type[ConsoleError], response: httpx.Response, call: Call) -> str:
        """The words of an unwanted answer that answer_error turns into `kind`."""
        ...


class Pacer(Protocol):
    """Decides when a request may go: a shared throttle (8x8's limits), or nothing at all."""

    def acquire(self) -> Any:
        """Wait for a slot; return a ticket for `answered`."""
        ...

    def answered(self, ticket: Any) -> None: ...

    def pause(self, seconds: float) -> None:
        """Hold the next request back `seconds` (every caller's, for a shared throttle)."""
        ...


class Unpaced:
    """No limits of our own: a pause is a sleep of the caller's."""

    def __init__(self, sleep: Callable[[float], None]) -> None:
        self._sleep = sleep

    def acquire(self) -> None:
        return None

    def answered(self, ticket: Any) -> None:
        pass

    def pause(self, seconds: float) -> None:
        self._sleep(seconds)


@dataclass(frozen=True)
class Linear:
    """step seconds times n after the n-th failure."""

    step: float

    def __call__(self, failures: int) -> float:
        return self.step * failures


# -- error mapping, in one place ----------------------------------------------------------------------

@contextmanager
def map_transport_errors(call: Call, dialect: Dialect) -> Iterator[None]:
    """Turn an httpx transport error into the project's exceptions: ConsoleUnavailable when the request never
    left or a read's answer was lost (the policy may try again), OutcomeUnknown when a change's answer was lost."""
    try:
        yield
    except httpx.TransportError as error:
        sent = not isinstance(error, NOTHING_SENT)
        reason = dialect.no_answer(error, sent=sent)
        if sent and call.change:
            raise OutcomeUnknown(dialect.lost_change(reason, call)) from None
        raise ConsoleUnavailable(reason) from None


def answer_error(response: httpx.Response, call: Call, *, policy: Policy, dialect: Dialect) -> ConsoleError:
    """Return the exception for an answer the caller did not want. Answers that say something about the user
    (404 gone, 409 taken, 412 changed since read) are the caller's to read first."""
    status = response.status_code
    kind: type[ConsoleError]
    if status in (401, 403):
        kind = AccessDenied
    elif dialect.says_unsupported(response, call):
        kind = ConsoleUnsupported
    elif call.change and status in policy.doubtful:
        kind = OutcomeUnknown
    elif status == 429 or status in policy.retried:
        kind = ConsoleUnavailable
    else:
        kind = ConsoleRejected
    return kind(dialect.answer(kind, response, call), status=status, response_id=dialect.response_id(response))


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or an HTTP date), or None when there is none or
    it cannot be read."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# -- the sending ----------------------------------------------------------------------------------------

class ConsoleHttp:
    """One console's HTTP: an httpx.Client (base URL, auth, timeout and the transport, the seam for tests)
    sent through under a Policy, worded by a Dialect, paced by a Pacer."""

    def __init__(self, client: httpx.Client, *, policy: Policy, dialect: Dialect, pacer: Pacer | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 on_call: Callable[[ConsoleCall], None] | None = None) -> None:
        self._http = client
        self.policy = policy
        self.dialect = dialect
        self._pacer = pacer or Unpaced(sleep)
        self._sleep = sleep
        self._on_call = on_call
        self.calls = 0  # requests sent, retries and polls included (for check and benchmarks)

    @property
    def base_url(self) -> str:
        return str(self._http.base_url).rstrip("/")

    def close(self) -> None:
        self._http.close()

    def error(self, response: httpx.Response, call: Call) -> ConsoleError:
        """The exception for an answer the caller did not want (see answer_error)."""
        return answer_error(response, call, policy=self.policy, dialect=self.dialect)

    def send(self, call: Call) -> httpx.Response:
        """Send `call` under the policy; return the answer the policy does not repeat, whatever its status.

        Raises LeaseLost before a change when the job's lease is gone, OutcomeUnknown when a change may have
        been made with no answer to say so, ConsoleUnavailable when the tries run out."""
        policy = self.policy
        failures = throttled = 0
        while True:
            try:
                response = self._once(call)
            except ConsoleUnavailable as unanswered:  # nothing was sent, or a read's answer was lost
                failures += 1
                wait = policy.pause(failures)
                self._give_up_or_go_on(call, Failure(reason=unanswered.message), failures, wait)
                self._sleep(wait)
                continue
            status = response.status_code
            if status == 429 and policy.throttled is not None and throttled < policy.throttled:
                throttled += 1
                wait = self._retry_after(response, failures)
                log.warning("%s answered 429 to %s; every caller waits %.1f s", self.dialect.backend,
                            call.operation, wait)
                self._pacer.pause(wait)
                _not_for_a_glance(call)
                continue
            if (status == 429 and policy.throttled is None) or (status in policy.retried and not call.change):
                failures += 1
                wait = self._retry_after(response, failures) if status == 429 else policy.pause(failures)
                self._give_up_or_go_on(call, Failure(response=response), failures, wait)
                (self._pacer.pause if status == 429 else self._sleep)(wait)
                continue
            if call.change and status in policy.doubtful:
                raise self.error(response, call)
            return response

    def _once(self, call: Call) -> httpx.Response:
        """One try: a slot from the pacer, the lease check before a change, the request and its observation. The
        slot is given back (counted from now) however the try ends: a slot held for ever would shrink the
        pacer's windows for good."""
        ticket = self._pacer.acquire()
        try:
            if call.change:
                ensure_lease_held(f"{call.method} {call.path}")  # after the wait for a slot: the lease may be gone
            self.calls += 1
            headers = dict(call.headers)
            content = None if call.body is None else json.dumps(call.body).encode()
            started = time.monotonic()
            with map_transport_errors(call, self.dialect):
                try:
                    response = self._http.request(call.method, call.path, headers=headers, params=call.params,
                                                  content=content)
                except httpx.TransportError as error:
                    self._observe(call, started, None, error)
                    raise
        finally:
            self._pacer.answered(ticket)
        self._observe(call, started, response.status_code, None)
        return response

    def _give_up_or_go_on(self, call: Call, failure: Failure, failures: int, wait: float) -> None:
        """Raise ConsoleUnavailable when this failure is the last the policy allows; else log the next try."""
        _not_for_a_glance(call)
        policy = self.policy
        too_long = failure.response is not None and policy.longest_wait is not None and wait > policy.longest_wait
        if failures >= policy.tries or too_long:
            cite: dict[str, Any] = {}
            if failure.response is not None and policy.cite_failures:
                cite = {"status": failure.response.status_code,
                        "response_id": self.dialect.response_id(failure.response)}
            raise ConsoleUnavailable(self.dialect.gave_up(failure, failures), **cite) from None
        why = failure.reason if failure.response is None else f"answered {failure.response.status_code}"
        log.info("%s %s: %s; trying again in %.1f s", self.dialect.backend, call.operation, why, wait)

    def _retry_after(self, response: httpx.Response, failures: int) -> float:
        """Seconds a 429 waits: its Retry-After, else the rule's fallbacks, else the pause; within the bounds."""
        rule = self.policy.retry_after
        header = response.headers.get("retry-after")
        seconds = retry_after_seconds(header)
        if seconds is None and header is not None:
            seconds = rule.unreadable
        if seconds is None:
            seconds = rule.missing
        if seconds is None:
            seconds = self.policy.pause(failures)
        return min(rule.longest, max(rule.shortest, seconds))

    def _observe(self, call: Call, started: float, status: int | None, error: Exception | None) -> None:
        if self._on_call is not None:
            self._on_call(ConsoleCall(backend=self.dialect.backend, operation=call.operation, status=status,
                                      seconds=time.monotonic() - started,
                                      error=type(error).__name__ if error else None))


def _not_for_a_glance(call: Call) -> None:
    """A glance never waits for a retry: it gives up at the first failure (bot.ambient.at_a_glance)."""
    if is_glance():
        raise ConsoleBusy(f"{call.operation} failed once, and a glance does not try again")
