"""An HTTP client for the 8x8 Administration API, speaking it exactly as user-api-v1.yaml and
operation-api-v1.yaml describe it, over the console HTTP policy (bot.console.http).

- `x-api-key` on every call; the versioned media types (`application/vnd.users.v1+json` for users,
  `application/vnd.operations.v1+json` for operations) in Accept and Content-Type.
- Every PUT and DELETE answers 202 with an operation; the client polls `/operations/{id}` with a
  bounded backoff until COMPLETED or FAILED. A 202 is never taken as success.
- Limits are kept by a shared `Throttle`; a 429 makes every caller wait `Retry-After`.
- How the policy is set for 8x8 (`policy`): four tries with exponential full-jitter backoff; reads repeated on
  408, 500, 502, 503 and 504; up to six 429s tolerated on a budget of their own. A change answered 408, 500,
  502 or 504 may have been taken (OutcomeUnknown, reconciled by reading); one answered 429 or 503 was not
  (ConsoleUnavailable: the console adapter may send it again after a read).
"""

from __future__ import annotations

import random
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from bot.console.eightbyeight.limits import Throttle
from bot.console.http import Call, ConsoleHttp, Failure, Policy, RetryAfter
from bot.errors import (
    AccessDenied,
    ConsoleError,
    ConsoleRejected,
    ConsoleUnavailable,
    ConsoleUnsupported,
    OutcomeUnknown,
    UserGone,
)
from bot.ports import ConsoleCall

USERS_MEDIA_TYPE = "application/vnd.users.v1+json"
OPERATIONS_MEDIA_TYPE = "application/vnd.operations.v1+json"
RETRYABLE_STATUSES = frozenset({408, 500, 502, 503, 504})  # repeated for reads only
NOT_TAKEN_STATUSES = frozenset({429, 503})  # a change answered so was not taken: it may be sent again
UNSUPPORTED_STATUSES = frozenset({405, 501})
UNSUPPORTED_WORDS = ("not supported", "not implemented", "unsupported", "handler configuration error")


@dataclass(frozen=True)
class Backoff:
    """How long to wait between attempts: exponential with full jitter, capped."""

    first: float = 0.5
    cap: float = 8.0
    attempts: int = 4  # tries of one request before giving up (429 waits do not count)
    max_throttled: int = 6  # 429 answers tolerated for one request

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap, self.first * 2 ** attempt))


def policy(backoff: Backoff) -> Policy:
    """The console HTTP policy as the 8x8 API needs it."""
    return Policy(tries=backoff.attempts, pause=backoff.delay, retried=RETRYABLE_STATUSES,
                  doubtful=RETRYABLE_STATUSES - NOT_TAKEN_STATUSES, throttled=backoff.max_throttled,
                  retry_after=RetryAfter(missing=1.0, unreadable=5.0, shortest=1.0, longest=120.0),
                  cite_failures=False)


@dataclass(frozen=True)
class Polling:
    """How operations are polled: first after `first` seconds, then doubling up to `cap`, for `timeout`."""

    first: float = 0.25
    cap: float = 5.0
    timeout: float = 180.0


class EightByEightClient:
    """One connection pool and one throttle for everything the process sends to the 8x8 API."""

    def __init__(self, base_url: str, api_key: str, *, throttle: Throttle | None = None,
                 transport: httpx.BaseTransport | None = None, timeout: float = 20.0,
                 backoff: Backoff | None = None, polling: Polling | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 on_call: Callable[[ConsoleCall], None] | None = None) -> None:
        self.throttle = throttle or Throttle()
        self._wire = ConsoleHttp(
            httpx.Client(base_url=base_url.rstrip("/") + "/", headers={"x-api-key": api_key}, transport=transport,
                         timeout=timeout),
            policy=policy(backoff or Backoff()), dialect=EightByEightDialect(), pacer=self.throttle, sleep=sleep,
            on_call=on_call)
        self._polling = polling or Polling()
        self._sleep = sleep

    @property
    def base_url(self) -> str:
        return self._wire.base_url

    @property
    def calls(self) -> int:
        """HTTP requests sent, retries and polls included (for check and benchmarks)."""
        return self._wire.calls

    def __repr__(self) -> str:  # never show the key
        return f"EightByEightClient({self.base_url})"

    def close(self) -> None:
        self._wire.close()

    # -- reads ---------------------------------------------------------------------------------------

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        """Return the user object, or None when there is no such user."""
        call = _read(f"users/{_segment(user_id)}", f"read user {user_id}")
        response = self._wire.send(call)
        if response.status_code == 404:
            return None
        return self._json(response, call)

    def list_users(self, *, filter: str | None = None, sort: str | None = None, page_size: int = 100,
                   max_pages: int | None = None) -> Iterator[dict[str, Any]]:
        """Yield the users matching an RSQL filter, following scrollId while there are more pages."""
        params: dict[str, Any] = {"pageSize": page_size}
        if filter:
            params["filter"] = filter
        if sort:
            params["sort"] = sort
        pages = 0
        while True:
            call = _read("users", "list users", params=params)
            page = self._json(self._wire.send(call), call)
            yield from page.get("data") or ()
            pages += 1
            pagination = page.get("pagination") or {}
            scroll = pagination.get("nextScrollId")
            if not pagination.get("hasMore") or not scroll or (max_pages is not None and pages >= max_pages):
                return
            params = {"scrollId": scroll}  # the first page's filter and sort travel with the scroll id

    # -- changes -------------------------------------------------------------------------------------

    def put_user(self, user_id: str, body: dict[str, Any], *, doing: str) -> dict[str, Any]:
        """Replace the whole user and wait for the operation to finish; return the finished operation."""
        call = Call("PUT", f"users/{_segment(user_id)}", doing, change=True, body=body,
                    headers={"Accept": USERS_MEDIA_TYPE, "Content-Type": USERS_MEDIA_TYPE})
        with self.throttle.operation():
            return self._finish(self._wire.send(call), call, user_id=user_id)

    def delete_user(self, user_id: str, *, doing: str) -> dict[str, Any]:
        """Delete the user and wait for the operation to finish; return the finished operation."""
        call = Call("DELETE", f"users/{_segment(user_id)}", doing, change=True, headers={"Accept": USERS_MEDIA_TYPE})
        with self.throttle.operation():
            return self._finish(self._wire.send(call), call, user_id=user_id)

    def _finish(self, response: httpx.Response, call: Call, *, user_id: str) -> dict[str, Any]:
        """Follow the operation a change answered with. The policy raised already for an answer that leaves the
        change in doubt; any other answer but 202 means the change was not made."""
        if response.status_code == 404:
            raise UserGone(user_id, response_id=_response_id(response))
        if response.status_code != 202:
            raise self._wire.error(response, call)
        operation = self._json(response, call)
        return self._await(operation, doing=str(call.doing), response_id=_response_id(response))

    def _await(self, operation: dict[str, Any], *, doing: str, response_id: str | None) -> dict[str, Any]:
        """Poll an operation until it is COMPLETED (return it) or FAILED (raise); a 202 is not success."""
        operation_id = operation.get("operationId")
        if not operation_id:
            raise OutcomeUnknown(f"the console accepted the request to {doing} without an operation to follow",
                                 response_id=response_id)
        deadline = time.monotonic() + self._polling.timeout
        pause = self._polling.first
        while True:
            status = operation.get("status")
            if status == "COMPLETED":
                return operation
            if status == "FAILED":
                raise _operation_error(operation, doing=doing, response_id=response_id)
            if time.monotonic() + pause > deadline:
                raise OutcomeUnknown(f"the console's operation to {doing} was still {status or 'pending'} after "
                                     f"{self._polling.timeout:.0f} s (operation {operation_id})",
                                     response_id=response_id)
            self._sleep(pause)
            pause = min(self._polling.cap, pause * 2)
            call = Call("GET", f"operations/{_segment(operation_id)}", f"follow operation {operation_id}",
                        headers={"Accept": OPERATIONS_MEDIA_TYPE})
            try:
                operation = self._json(self._wire.send(call), call)
            except ConsoleError as error:
                raise OutcomeUnknown(f"lost track of the console's operation to {doing} ({error.message})",
                                     response_id=error.response_id or response_id) from None

    def _json(self, response: httpx.Response, call: Call) -> dict[str, Any]:
        """The answer's JSON object; a failed answer raises as the policy maps it, an unreadable one
        ConsoleUnavailable."""
        if not response.is_success:
            raise self._wire.error(response, call)
        try:
            data = response.json()
        except ValueError:
            raise ConsoleUnavailable(f"the 8x8 API answered with something other than JSON to {call.doing}",
                                     status=response.status_code, response_id=_response_id(response)) from None
        if not isinstance(data, dict):
            raise ConsoleUnavailable(f"the 8x8 API answered {call.doing} with an unexpected shape",
                                     status=response.status_code, response_id=_response_id(response))
        return data


class EightByEightDialect:
    """How the 8x8 API says things: RFC 7807-like error bodies, X-Response-Id, and the words of every failure."""

    backend = "8x8"

    def response_id(self, response: httpx.Response) -> str | None:
        return _response_id(response)

    def says_unsupported(self, response: httpx.Response, call: Call) -> bool:
        """405 or 501; some tenants answer a missing PUT with another status whose words say so."""
        problem = _problem(response)
        title, detail = _problem_text(problem)
        return response.status_code in UNSUPPORTED_STATUSES or _says_unsupported(
            f"{title} {detail} {_messages(problem)}")

    def no_answer(self, error: httpx.TransportError, *, sent: bool) -> str:
        if sent:
            return f"the 8x8 API's answer was lost ({type(error).__name__})"
        return f"could not connect to the 8x8 API ({type(error).__name__})"

    def lost_change(self, reason: str, call: Call) -> str:
        return f"{reason}; the change may or may not have been made"

    def gave_up(self, failure: Failure, tries: int) -> str:
        reason = failure.reason
        if failure.response is not None:  # a read, or nothing was processed
            reason = f"the 8x8 API answered {failure.response.status_code}"
        return f"{reason}, {tries} times in a row. Nothing was changed; try again later"

    def answer(self, kind: type[ConsoleError], response: httpx.Response, call: Call) -> str:
        title, detail = _problem_text(_problem(response))
        said = f"{response.status_code}: " + (": ".join(part for part in (title, detail) if part)
                                               or response.reason_phrase)
        if kind is AccessDenied:
            return f"the 8x8 API refused the API key when asked to {call.doing} ({said})"
        if kind is ConsoleUnsupported:
            return f"the 8x8 API does not support this on your account ({said})"
        if kind is OutcomeUnknown:
            return f"the 8x8 API could not {call.doing} right now ({said}); the change may or may not have been made"
        if kind is ConsoleUnavailable:
            return f"the 8x8 API could not {call.doing} right now ({said})"
        return f"the 8x8 API refused to {call.doing} ({said})"


def _read(path: str, doing: str, *, params: dict[str, Any] | None = None) -> Call:
    return Call("GET", path, doing, headers={"Accept": USERS_MEDIA_TYPE}, params=params)


def _segment(value: str) -> str:
    """Quote an id as one path segment (ids come from the console, but a path is never trusted)."""
    return urllib.parse.quote(value, safe="") or "-"


def _response_id(response: httpx.Response) -> str | None:
    return response.headers.get("x-response-id")


def _problem(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _messages(problem: Any) -> str:
    """The `errors[].message` texts of an error body, joined."""
    items = problem.get("errors") if isinstance(problem, dict) else None
    return "; ".join(str(item["message"]) for item in items or () if isinstance(item, dict) and item.get("message"))


def _problem_text(problem: Any) -> tuple[str, str]:
    """Return (title, explanation) from an RFC 7807-like error body."""
    problem = problem if isinstance(problem, dict) else {}
    title = str(problem.get("title") or "").strip()
    detail = str(problem.get("detail") or "").strip() or _messages(problem)
    return title, detail


def _says_unsupported(words: str) -> bool:
    """Some tenants answer a missing PUT with a 500 or a failed operation whose words say so."""
    return any(word in words.lower() for word in UNSUPPORTED_WORDS)


def _operation_error(operation: dict[str, Any], *, doing: str, response_id: str | None) -> ConsoleError:
    """A FAILED operation (not an HTTP answer: the 202 was fine) as the project's exception."""
    problem = operation.get("error") or {}
    title, detail = _problem_text(problem)
    said = ": ".join(part for part in (title, detail) if part) or "no reason given"
    words = f"{title} {detail} {_messages(problem)}"
    status = problem.get("status") if isinstance(problem.get("status"), int) else None
    kwargs = {"status": status, "response_id": response_id}
    if status in UNSUPPORTED_STATUSES or _says_unsupported(words):
        return ConsoleUnsupported(f"the 8x8 API does not support this on your account ({said})", **kwargs)
    return ConsoleRejected(f"the console's operation to {doing} failed ({said})", **kwargs)
