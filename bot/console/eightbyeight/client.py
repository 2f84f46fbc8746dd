"""An HTTP client for the 8x8 Administration API, speaking it exactly as user-api-v1.yaml and
operation-api-v1.yaml describe it.

- `x-api-key` on every call; the versioned media types (`application/vnd.users.v1+json` for users,
  `application/vnd.operations.v1+json` for operations) in Accept and Content-Type.
- Every PUT and DELETE answers 202 with an operation; the client polls `/operations/{id}` with a
  bounded backoff until COMPLETED or FAILED. A 202 is never taken as success.
- Limits are kept by a shared `Throttle`; a 429 makes every caller wait `Retry-After`.
- Only requests that are safe to repeat are repeated: reads on 5xx, 408 and lost answers; any request
  when nothing was sent (connection refused) or on 429. A mutation whose answer was lost raises
  `OutcomeUnknown` for the caller to reconcile by reading, never a blind repeat.
"""

from __future__ import annotations

import json
import logging
import random
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from bot.ambient import ensure_lease_held
from bot.console.eightbyeight.limits import Throttle
from bot.console.retry_after import retry_after_seconds
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

log = logging.getLogger(__name__)

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
        self._http = httpx.Client(base_url=base_url.rstrip("/") + "/", headers={"x-api-key": api_key},
                                  transport=transport, timeout=timeout)
        self.throttle = throttle or Throttle()
        self._backoff = backoff or Backoff()
        self._polling = polling or Polling()
        self._sleep = sleep
        self.calls = 0  # HTTP requests sent, retries and polls included (for check and benchmarks)
        self._on_call = on_call  # told of every HTTP request (metrics)

    @property
    def base_url(self) -> str:
        return str(self._http.base_url).rstrip("/")

    def __repr__(self) -> str:  # never show the key
        return f"EightByEightClient({self.base_url})"

    def close(self) -> None:
        self._http.close()

    # -- reads ---------------------------------------------------------------------------------------

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        """Return the user object, or None when there is no such user."""
        response = self._send("GET", f"users/{_segment(user_id)}", accept=USERS_MEDIA_TYPE, safe=True)
        if response.status_code == 404:
            return None
        return self._json(response, doing=f"read user {user_id}")

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
            response = self._send("GET", "users", accept=USERS_MEDIA_TYPE, params=params, safe=True)
            page = self._json(response, doing="list users")
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
        with self.throttle.operation():
            response = self._send("PUT", f"users/{_segment(user_id)}", accept=USERS_MEDIA_TYPE,
                                  content_type=USERS_MEDIA_TYPE, body=body, safe=False)
            return self._finish(response, doing=doing, user_id=user_id)

    def delete_user(self, user_id: str, *, doing: str) -> dict[str, Any]:
        """Delete the user and wait for the operation to finish; return the finished operation."""
        with self.throttle.operation():
            response = self._send("DELETE", f"users/{_segment(user_id)}", accept=USERS_MEDIA_TYPE, safe=False)
            return self._finish(response, doing=doing, user_id=user_id)

    def _finish(self, response: httpx.Response, *, doing: str, user_id: str) -> dict[str, Any]:
        if response.status_code == 404:
            raise UserGone(user_id, response_id=_response_id(response))
        if response.status_code != 202:
            error = _error(response, doing=doing)
            if isinstance(error, ConsoleUnavailable) and response.status_code not in NOT_TAKEN_STATUSES:
                # 408, 500, 502, 504: the console may have taken the change before it failed to answer
                raise OutcomeUnknown(f"{error.message}; the change may or may not have been made",
                                     status=error.status, response_id=error.response_id)
            raise error
        operation = self._json(response, doing=doing)
        return self._await(operation, doing=doing, response_id=_response_id(response))

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
            try:
                response = self._send("GET", f"operations/{_segment(operation_id)}", accept=OPERATIONS_MEDIA_TYPE,
                                      safe=True)
                operation = self._json(response, doing=f"follow operation {operation_id}")
            except ConsoleError as error:
                raise OutcomeUnknown(f"lost track of the console's operation to {doing} ({error.message})",
                                     response_id=error.response_id or response_id) from None

    # -- the wire ------------------------------------------------------------------------------------

    def _send(self, method: str, path: str, *, accept: str, content_type: str | None = None,
              body: dict[str, Any] | None = None, params: dict[str, Any] | None = None,
              safe: bool) -> httpx.Response:
        """Send one request within the limits, repeating it only where that is safe."""
        headers = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        content = None if body is None else json.dumps(body).encode()
        failures = throttled = 0
        while True:
            ticket = self.throttle.acquire()
            if not safe:
                ensure_lease_held(f"{method} {path}")  # after the wait for a slot: the lease may be gone
            self.calls += 1
            started = time.monotonic()
            try:
                response = self._http.request(method, path, headers=headers, params=params, content=content)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
                self._observe(method, path, started, None, error)
                self.throttle.answered(ticket)
                reason = f"could not connect to the 8x8 API ({type(error).__name__})"  # nothing was sent
            except httpx.TransportError as error:
                self._observe(method, path, started, None, error)
                self.throttle.answered(ticket)
                if not safe:
                    raise OutcomeUnknown(f"the 8x8 API's answer was lost ({type(error).__name__}); "
                                         "the change may or may not have been made") from None
                reason = f"the 8x8 API's answer was lost ({type(error).__name__})"
            else:
                self._observe(method, path, started, response.status_code, None)
                self.throttle.answered(ticket)
                if response.status_code == 429 and throttled < self._backoff.max_throttled:
                    throttled += 1
                    wait = _retry_after(response)
                    log.warning("8x8 API answered 429; every caller waits %.1f s", wait)
                    self.throttle.pause(wait)
                    continue
                if response.status_code not in RETRYABLE_STATUSES or not safe:
                    return response
                reason = f"the 8x8 API answered {response.status_code}"  # a read, or nothing was processed
            failures += 1
            if failures >= self._backoff.attempts:
                raise ConsoleUnavailable(f"{reason}, {failures} times in a row. Nothing was changed; try again later")
            delay = self._backoff.delay(failures)
            log.info("%s %s: %s; trying again in %.1f s", method, path.split("/")[0], reason, delay)
            self._sleep(delay)

    def _observe(self, method: str, path: str, started: float, status: int | None,
                 error: Exception | None) -> None:
        if self._on_call is not None:
            self._on_call(ConsoleCall(backend="8x8", operation=f"{method} {path.split('/')[0]}", status=status,
                                      seconds=time.monotonic() - started,
                                      error=type(error).__name__ if error else None))

    @staticmethod
    def _json(response: httpx.Response, *, doing: str) -> dict[str, Any]:
        if not response.is_success:
            raise _error(response, doing=doing)
        try:
            data = response.json()
        except ValueError:
            raise ConsoleUnavailable(f"the 8x8 API answered with something other than JSON to {doing}",
                                     status=response.status_code, response_id=_response_id(response)) from None
        if not isinstance(data, dict):
            raise ConsoleUnavailable(f"the 8x8 API answered {doing} with an unexpected shape",
                                     status=response.status_code, response_id=_response_id(response))
        return data


def _segment(value: str) -> str:
    """Quote an id as one path segment (ids come from the console, but a path is never trusted)."""
    return urllib.parse.quote(value, safe="") or "-"


def _response_id(response: httpx.Response) -> str | None:
    return response.headers.get("x-response-id")


def _retry_after(response: httpx.Response) -> float:
    """Seconds to wait, from Retry-After in seconds or as an HTTP date; between 1 s and 2 min."""
    seconds = retry_after_seconds(response.headers.get("retry-after"))
    if seconds is None:  # unreadable: wait a little longer; missing: a second
        seconds = 5.0 if "retry-after" in response.headers else 1.0
    return min(120.0, max(1.0, seconds))


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


def _error(response: httpx.Response, *, doing: str) -> ConsoleError:
    """Map a refused or failed answer to the error hierarchy, keeping the console's words and response id."""
    try:
        problem = response.json()
    except ValueError:
        problem = None
    title, detail = _problem_text(problem)
    said = ": ".join(part for part in (title, detail) if part) or response.reason_phrase
    status = response.status_code
    kwargs = {"status": status, "response_id": _response_id(response)}
    if status in (401, 403):
        return AccessDenied(f"the 8x8 API refused the API key when asked to {doing} ({status}: {said})", **kwargs)
    if status in UNSUPPORTED_STATUSES or _says_unsupported(f"{title} {detail} {_messages(problem)}"):
        return ConsoleUnsupported(f"the 8x8 API does not support this on your account ({status}: {said})", **kwargs)
    if status == 429 or status in RETRYABLE_STATUSES:
        return ConsoleUnavailable(f"the 8x8 API could not {doing} right now ({status}: {said})", **kwargs)
    return ConsoleRejected(f"the 8x8 API refused to {doing} ({status}: {said})", **kwargs)


def _says_unsupported(words: str) -> bool:
    """Some tenants answer a missing PUT with a 500 or a failed operation whose words say so."""
    return any(word in words.lower() for word in UNSUPPORTED_WORDS)


def _operation_error(operation: dict[str, Any], *, doing: str, response_id: str | None) -> ConsoleError:
    problem = operation.get("error") or {}
    title, detail = _problem_text(problem)
    said = ": ".join(part for part in (title, detail) if part) or "no reason given"
    words = f"{title} {detail} {_messages(problem)}"
    status = problem.get("status") if isinstance(problem.get("status"), int) else None
    kwargs = {"status": status, "response_id": response_id}
    if status in UNSUPPORTED_STATUSES or _says_unsupported(words):
        return ConsoleUnsupported(f"the 8x8 API does not support this on your account ({said})", **kwargs)
    return ConsoleRejected(f"the console's operation to {doing} failed ({said})", **kwargs)
