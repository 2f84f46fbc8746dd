"""The wire to a SCIM 2.0 provider (RFC 7644), over the console HTTP policy (bot.console.http).

How the policy is set for SCIM (`policy`): `retries` + 1 tries with a linear backoff; reads repeated on any 5xx
but 501 (not implemented is an answer, never repeated); a 429 counts as a failed try and waits Retry-After, but a
provider asking for more than `max_wait` seconds is given up on at once. A change answered with any 5xx but 501
may have been applied (OutcomeUnknown).

The token is sent in the Authorization header only; it appears in no message, repr or log line: the dialect
scrubs it from any text a provider or a transport error echoes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterator
from typing import Any

import httpx
from pydantic import ValidationError
from scim2_models import Error

from bot.console.http import SERVER_ERRORS, Call, ConsoleHttp, Failure, Linear, Policy, RetryAfter
from bot.console.scim.mapping import text
from bot.errors import (
    AccessDenied,
    ConfigurationError,
    ConsoleError,
    ConsoleUnavailable,
    ConsoleUnsupported,
    OutcomeUnknown,
)
from bot.ports import ConsoleCall

log = logging.getLogger(__name__)

SCIM_JSON = "application/scim+json"
# Headers in which SCIM providers commonly return their own id for an answer (SCIM defines none).
REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-correlation-id", "x-response-id", "x-ms-request-id")
FAILED = SERVER_ERRORS - {501}  # 501 Not Implemented is an answer: never repeated, never in doubt


def policy(*, retries: int, backoff: float, max_wait: float) -> Policy:
    """The console HTTP policy as SCIM providers need it."""
    return Policy(tries=max(0, retries) + 1, pause=Linear(backoff), retried=FAILED, doubtful=FAILED,
                  throttled=None, retry_after=RetryAfter(), longest_wait=max_wait, cite_failures=True)


class ScimClient:
    """One connection pool to one SCIM provider: `base_url` (the SCIM root) with a bearer token."""

    def __init__(self, base_url: str, token: str, *, transport: httpx.BaseTransport | None = None,
                 timeout: float = 10.0, retries: int = 2, backoff: float = 0.5, max_wait: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep,
                 on_call: Callable[[ConsoleCall], None] | None = None) -> None:
        if not base_url:
            raise ConfigurationError("SCIM_BASE_URL must be set to use the SCIM console")
        if not token:
            raise ConfigurationError("SCIM_TOKEN must be set to use the SCIM console")
        if not token.isprintable() or any(char.isspace() for char in token):
            raise ConfigurationError("SCIM_TOKEN contains spaces or control characters; copy it again")
        url = httpx.URL(base_url.rstrip("/") + "/")
        if url.scheme not in ("http", "https") or not url.host:
            raise ConfigurationError("SCIM_BASE_URL must be an http(s) URL, such as https://host/scim/v2")
        url = url.copy_with(username=None, password=None, query=None, fragment=None)
        self.base_url = str(url).rstrip("/")
        http = httpx.Client(base_url=url, transport=transport, timeout=timeout, follow_redirects=False, headers={
            "Authorization": f"Bearer {token}",
            "Accept": f"{SCIM_JSON}, application/json;q=0.9",
            "User-Agent": "offboard-bot",
        })
        self.dialect = ScimDialect(self.base_url, token)
        self._wire = ConsoleHttp(http, policy=policy(retries=retries, backoff=backoff, max_wait=max_wait),
                                 dialect=self.dialect, sleep=sleep, on_call=on_call)

    def __repr__(self) -> str:
        return f"ScimClient({self.base_url!r})"

    def close(self) -> None:
        self._wire.close()

    def send(self, call: Call) -> httpx.Response:
        """Send under the policy; return the answer the policy does not repeat, whatever its status."""
        return self._wire.send(call)

    def error(self, response: httpx.Response, call: Call) -> ConsoleError:
        """The exception for an answer the caller did not want, as the policy maps it."""
        return self._wire.error(response, call)

    def read(self, path: str, *, params: dict[str, Any] | None = None,
             expect: Collection[int] = ()) -> httpx.Response:
        """GET path; return the answer when it succeeded or its status is in `expect`, else raise. A filtered
        listing whose filter the provider refuses raises FilterRefused."""
        call = Call("GET", path, f"read /{path}", params=params)
        response = self._wire.send(call)
        status = response.status_code
        if params and "filter" in params and (status == 501 or scim_type(response) == "invalidFilter"):
            raise FilterRefused(for_good=status == 501)
        if response.is_success or status in expect:
            return response
        if status == 404:
            raise ConsoleError(f"the SCIM provider has no /{path} endpoint (HTTP 404); check SCIM_BASE_URL (it "
                               "should be the SCIM root, such as https://host/scim/v2)",
                               status=status, response_id=response_id(response))
        raise self._wire.error(response, call)

    def pages(self, params: dict[str, Any], *, page_size: int, limit: int) -> Iterator[dict[str, Any]]:
        """Yield the users of a listing, page after page (startIndex/count), at most `limit` of them. Past the
        limit a filtered listing stops; an unfiltered one (a provider that cannot filter) raises
        ConsoleUnsupported rather than read a whole directory."""
        start, listed = 1, 0
        while True:
            body = self.json(self.read("Users", params={**params, "startIndex": start, "count": page_size}))
            resources = [raw for raw in body.get("Resources") or [] if isinstance(raw, dict)]
            yield from resources
            listed += len(resources)
            total = body.get("totalResults")
            if not resources or (isinstance(total, int) and listed >= total):
                return
            if listed >= limit:
                if "filter" in params:
                    log.warning("SCIM: stopped reading a filtered listing after %d users", listed)
                    return
                raise ConsoleUnsupported(
                    f"the SCIM provider cannot filter users and holds more than {limit}: the bot stopped "
                    "looking; find the user's id in the admin console"
                )
            start += len(resources)

    def json(self, response: httpx.Response) -> dict[str, Any]:
        """The answer's JSON object; ConsoleError when it is not one (usually a wrong SCIM_BASE_URL)."""
        body = json_or_none(response)
        if not isinstance(body, dict):
            content_type = response.headers.get("Content-Type", "no content type")
            raise ConsoleError(
                f"the SCIM provider answered with something that is not SCIM JSON (HTTP {response.status_code}, "
                f"{content_type}); check SCIM_BASE_URL (it should end with the SCIM root, such as /scim/v2)",
                status=response.status_code, response_id=response_id(response),
            )
        return body


class ScimDialect:
    """How SCIM providers say things: RFC 7644 error bodies and scimType, a request id in one of several
    headers, and the words of every failure, with the token scrubbed from whatever they echo."""

    backend = "scim"

    def __init__(self, base_url: str, token: str) -> None:
        self._base_url = base_url
        self._token = token  # kept only to scrub it from any text that echoes it

    def __repr__(self) -> str:
        return f"ScimDialect({self._base_url!r})"

    def response_id(self, response: httpx.Response) -> str | None:
        return response_id(response)

    def says_unsupported(self, response: httpx.Response, call: Call) -> bool:
        """A change answered 405 or 501, or refused as immutable (scimType mutability)."""
        status = response.status_code
        return call.change and (status in (405, 501) or (status < 500 and scim_type(response) == "mutability"))

    def no_answer(self, error: httpx.TransportError, *, sent: bool) -> str:
        words = self.scrub(str(error))
        return f"{type(error).__name__}: {words}" if words else type(error).__name__

    def lost_change(self, reason: str, call: Call) -> str:
        return (f"the SCIM provider did not answer the request to {call.doing} ({reason}); it may or may not "
                "have been applied: check the user in the admin console before trying again")

    def gave_up(self, failure: Failure, tries: int) -> str:
        if failure.response is None:
            return f"the SCIM provider at {self._base_url} is unreachable ({failure.reason}) after {tries} attempts"
        status = failure.response.status_code
        what = "is rate limiting the bot" if status == 429 else "keeps failing"
        return f"the SCIM provider at {self._base_url} {what} (HTTP {status}) after {tries} attempts; try again later"

    def answer(self, kind: type[ConsoleError], response: httpx.Response, call: Call) -> str:
        said = f"(HTTP {response.status_code}){self.detail(response)}"
        if kind is AccessDenied:
            return f"the SCIM token was refused {said}; check SCIM_TOKEN and the rights it has in the provider"
        if kind is ConsoleUnsupported:
            return f"the SCIM provider does not let the bot {call.doing} {said}; do it in the admin console"
        if kind is OutcomeUnknown:
            return (f"the SCIM provider failed while asked to {call.doing} {said}; it may or may not have been "
                    "applied: check the user in the admin console before trying again")
        if kind is ConsoleUnavailable:
            return f"the SCIM provider could not {call.doing} right now {said}; try again later"
        return f"the SCIM provider refused to {call.doing} {said}"

    def detail(self, response: httpx.Response) -> str:
        """': <detail>' from a SCIM error body, or '' when there is none."""
        body = json_or_none(response)
        if not isinstance(body, dict):
            return ""
        try:
            detail = Error.model_validate(body).detail
        except ValidationError:
            detail = body.get("detail")
        detail = self.scrub(text(detail))
        return f": {detail[:300]}" if detail else ""

    def scrub(self, words: str) -> str:
        return words.replace(self._token, "[token]") if self._token else words


def change(method: str, path: str, *, doing: object, body: Any = None,
           headers: dict[str, str] | None = None) -> Call:
    """A change to send: the lease is checked before it goes, and it is never repeated once it may have arrived."""
    headers = dict(headers or {})
    if body is not None:
        headers["Content-Type"] = SCIM_JSON
    return Call(method, path, doing, change=True, body=body, headers=headers)


class FilterRefused(Exception):
    """The provider refused a filter (501: filtering unsupported; 400 invalidFilter: not this one)."""

    def __init__(self, *, for_good: bool) -> None:
        super().__init__("filter refused")
        self.for_good = for_good


def json_or_none(response: httpx.Response) -> Any:
    """The answer's JSON, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def scim_type(response: httpx.Response) -> str | None:
    """The scimType of a SCIM error answer (uniqueness, mutability, invalidFilter ...), or None."""
    body = json_or_none(response)
    found = body.get("scimType") if isinstance(body, dict) else None
    return found if isinstance(found, str) else None


def response_id(response: httpx.Response) -> str | None:
    return next((response.headers[name] for name in REQUEST_ID_HEADERS if response.headers.get(name)), None)
