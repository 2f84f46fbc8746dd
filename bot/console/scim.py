"""A Console over SCIM 2.0 (RFC 7643/7644), for any admin console that provisions users with SCIM."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError
from scim2_models import Context, Error, PatchOp, PatchOperation, ServiceProviderConfig, User

from bot.ambient import ensure_lease_held
from bot.console.lookup import find_each
from bot.console.retry_after import retry_after_seconds
from bot.console.rules import username_refusal
from bot.domain.directory import ConsoleUser, UserStatus
from bot.errors import (
    AccessDenied,
    ConcurrentChange,
    ConfigurationError,
    ConsoleError,
    ConsoleRejected,
    ConsoleUnavailable,
    ConsoleUnsupported,
    DeactivatedOnly,
    OutcomeUnknown,
    UserGone,
    UsernameTaken,
)
from bot.ports import ConsoleCall

log = logging.getLogger(__name__)

SCIM_JSON = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
SERVICE_PROVIDER_CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
# Headers in which SCIM providers commonly return their own id for an answer (SCIM defines none).
REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-correlation-id", "x-response-id", "x-ms-request-id")
# Transport failures that happen before any byte of the request reached the provider: always safe to retry.
NOTHING_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class Capabilities:
    """What the provider's ServiceProviderConfig announces (RFC 7643 §5)."""

    patch: bool
    etag: bool
    filter: bool
    sort: bool
    announced: bool  # False when the provider publishes no readable ServiceProviderConfig


# Without a ServiceProviderConfig: try PATCH and filters (a 501 switches to PUT or to listing), never ETags.
UNANNOUNCED = Capabilities(patch=True, etag=False, filter=True, sort=False, announced=False)


@dataclass(frozen=True)
class _Seen:
    """What this console last read of one user: its version (ETag) and username, for messages."""

    version: str | None
    username: str


class _PatchRefused(Exception):
    """The provider answered a PATCH with 501 or 405: nothing was changed, PUT is the way."""


class ScimConsole:
    """A Console talking SCIM 2.0 to `base_url` (the SCIM root, e.g. `https://host/scim/v2`) with a bearer token.

    Capabilities come from `/ServiceProviderConfig`, read once on first use: PATCH when supported (else
    GET + PUT of the whole resource, keeping every attribute the bot does not know), filters when supported
    (else bounded listing with startIndex/count and matching here), ETags when supported.

    Concurrency, with ETags: every read (get_user, find_user, search_users) remembers the version of
    each user it returned. Every mutation sends `If-Match` with the version of the record this console
    last read for that user id (when it has read none, it reads the user first). If the user changed in
    between, the provider answers 412 and ConcurrentChange is raised: nothing was overwritten, and the
    remembered version is dropped so that a deliberate retry works on a fresh read. Without ETag support
    a change made by someone else between the read and the write cannot be detected.

    Failures: reads are retried on 429 (honouring Retry-After), 5xx and transport errors, then raise
    ConsoleUnavailable. A mutation is never repeated once it may have reached the provider: a lost answer
    (timeout, dropped connection) or a 5xx raises OutcomeUnknown; only a connect failure or a 429, where
    the provider did nothing, is retried. A delete is confirmed by reading the user back: some providers
    (8x8's SCIM included) only deactivate on DELETE, which raises DeactivatedOnly.

    The token is sent in the Authorization header only; it appears in no message, repr or log line.
    """

    name = "SCIM"
    services_visible = False  # SCIM has no licenses, numbers or Contact Center
    page_size = 100
    scan_limit = 5000  # most users listed when the provider cannot filter

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.5,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        on_call: Callable[[ConsoleCall], None] | None = None,
    ) -> None:
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
        self._token = token  # kept only to scrub it from any text that echoes it
        self._retries = max(0, retries)
        self._backoff = backoff
        self._max_wait = max_wait
        self._sleep = sleep
        self._on_call = on_call  # told of every HTTP request (metrics)
        self._client = httpx.Client(
            base_url=url,
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": f"{SCIM_JSON}, application/json;q=0.9",
                "User-Agent": "offboard-bot",
            },
        )
        self._lock = threading.Lock()
        self._capabilities: Capabilities | None = None
        self._seen: dict[str, _Seen] = {}

    def __repr__(self) -> str:
        return f"ScimConsole({self.base_url!r})"

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> ScimConsole:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- reads -------------------------------------------------------------------------------

    def find_user(self, *, reference: str) -> ConsoleUser | None:
        """Return the user whose username or email equals reference (case-insensitive), or None."""
        reference = reference.strip()
        if not reference:
            return None
        wanted = reference.casefold()

        def named(raw: dict[str, Any]) -> bool:
            return _text(raw.get("userName")).casefold() == wanted

        def mailed(raw: dict[str, Any]) -> bool:
            return wanted in (address.casefold() for address in _emails(raw))

        if self._caps().filter:
            found = self._select(f"userName eq {_quoted(reference)}", named, want=1)
            if not found:
                found = self._select(f"emails.value eq {_quoted(reference)}", mailed, want=2)
        else:
            found = self._scan(lambda raw: named(raw) or mailed(raw))
            found = [raw for raw in found if named(raw)] or found
        if len(found) > 1 and not named(found[0]):
            raise ConsoleRejected(f"several users have the email {reference}; use their username instead")
        if not found:
            return None
        if self._caps().etag and _version(found[0]) is None:
            # This listing carries no versions: read the record itself so a later change is guarded.
            return self.get_user(user_id=_text(found[0].get("id")))
        return self._remember(found[0])

    def find_users(self, *, references: Iterable[str]) -> dict[str, ConsoleUser | None]:
        """Return each reference with the user it names (one lookup each)."""
        return find_each(self, references)

    def get_user(self, *, user_id: str) -> ConsoleUser | None:
        """Return the user with this console id, or None when it does not exist."""
        raw = self._read_user(user_id)
        return None if raw is None else self._user(raw)

    def search_users(self, *, text: str, limit: int = 20) -> list[ConsoleUser]:
        """Return users whose username, email or name contains text, sorted by username."""
        text = text.strip()
        if limit <= 0 or not text:
            return []
        wanted = text.casefold()

        def keep(raw: dict[str, Any]) -> bool:
            return any(wanted in field.casefold() for field in _searchable(raw))

        caps = self._caps()
        if caps.filter:
            # Servers cannot match "John Doe" against givenName + familyName: ask for the longest word, check here.
            word = max(text.split(), key=len)
            attributes = ("userName", "emails.value", "name.formatted", "name.givenName", "name.familyName")
            expression = " or ".join(f"{attribute} co {_quoted(word)}" for attribute in attributes)
            found = self._select(expression, keep, want=limit if caps.sort else None, sort=caps.sort)
        else:
            found = self._scan(keep)
        found.sort(key=lambda raw: (_text(raw.get("userName")).casefold(), _text(raw.get("id"))))
        return [self._remember(raw) for raw in found[:limit]]

    def username_taken(self, *, username: str) -> bool:
        """Return True when some user already has this username (case-insensitive)."""
        username = username.strip()
        wanted = username.casefold()

        def named(raw: dict[str, Any]) -> bool:
            return _text(raw.get("userName")).casefold() == wanted

        if self._caps().filter:
            return bool(self._select(f"userName eq {_quoted(username)}", named, want=1))
        return bool(self._scan(named))

    # -- mutations ---------------------------------------------------------------------------

    def release_licenses(self, *, user_id: str) -> None:
        """Always raises ConsoleUnsupported: SCIM has no licenses, so an admin releases them by hand."""
        raise ConsoleUnsupported(
            f"SCIM has no licenses or phone numbers: release those of user {self._label(user_id)} "
            "in the admin console by hand"
        )

    def set_status(self, *, user_id: str, status: UserStatus) -> None:
        """Deactivate or reactivate the user (PATCH replace active, or PUT when PATCH is unsupported)."""
        active = UserStatus(status) is UserStatus.ACTIVE
        verb = "reactivate" if active else "deactivate"
        self._change(user_id, "active", active, action=_Action(self, verb, user_id))

    def rename(self, *, user_id: str, new_username: str) -> None:
        """Change the user's username; raises UsernameTaken when another user has it."""
        problem = username_refusal(new_username)
        if problem:
            raise ConsoleRejected(f"cannot rename user {self._label(user_id)} to {new_username!r}: {problem}")
        action = _Action(self, "rename", user_id, f" to {new_username}")
        self._change(user_id, "userName", new_username, action=action, new_username=new_username)

    def delete(self, *, user_id: str) -> None:
        """Delete the user, then read it back; raises DeactivatedOnly when the provider only deactivated it."""
        action = _Action(self, "delete", user_id)
        headers = self._if_match(user_id)
        response = self._request("DELETE", _user_path(user_id), headers=headers, mutation=action)
        self._check_mutation(response, user_id=user_id, action=action)
        self._forget(user_id)
        try:
            after = self._read_user(user_id)
        except ConsoleError as error:
            raise OutcomeUnknown(
                f"the SCIM provider accepted the request to {action}, but reading the user back to confirm "
                f"failed ({error.message}); check the user in the admin console",
                status=error.status, response_id=error.response_id,
            ) from error
        if after is None:
            log.info("SCIM: deleted user %s", user_id)
            return
        reference = _response_id(response)
        if _is_false(after.get("active")):
            raise DeactivatedOnly(user_id, status=response.status_code, response_id=reference)
        raise ConsoleRejected(
            f"the SCIM provider answered the request to {action}, but the user still exists and is active: "
            "the delete did not happen",
            status=response.status_code, response_id=reference,
        )

    # -- check -------------------------------------------------------------------------------

    def check(self) -> list[str]:
        """Reach the provider, prove the token works; return a line per finding (raises ConsoleError)."""
        with self._lock:
            self._capabilities = None
        caps = self._caps()
        lines = [
            f"SCIM provider reachable at {self.base_url}"
            + ("" if caps.announced else " (it publishes no ServiceProviderConfig: assuming PATCH and filters)")
        ]
        body = self._json(self._read("Users", params={"startIndex": 1, "count": 1}))
        total = body.get("totalResults")
        lines.append("SCIM token accepted" + (f" ({total} users visible)" if isinstance(total, int) else ""))
        lines.append(
            "SCIM PATCH supported" if caps.patch
            else "SCIM PATCH not supported: changes replace the whole user (GET then PUT)"
        )
        lines.append(
            "SCIM ETags supported: every change is conditional on the version the bot last read" if caps.etag
            else "SCIM ETags not supported: a change made by someone else between read and write cannot be detected"
        )
        lines.append(
            "SCIM filters supported" if caps.filter
            else f"SCIM filters not supported: look-ups list users, at most {self.scan_limit}"
        )
        lines.append("SCIM has no licenses: the plan asks an admin to release them in the admin console")
        return lines

    # -- discovery ---------------------------------------------------------------------------

    def _caps(self) -> Capabilities:
        with self._lock:
            if self._capabilities is not None:
                return self._capabilities
        caps = self._discover()
        with self._lock:
            self._capabilities = caps
        log.info("SCIM provider %s: patch=%s etag=%s filter=%s sort=%s announced=%s",
                 self.base_url, caps.patch, caps.etag, caps.filter, caps.sort, caps.announced)
        return caps

    def _discover(self) -> Capabilities:
        response = self._request("GET", "ServiceProviderConfig")
        if response.status_code in (404, 501):
            return UNANNOUNCED
        self._check_read(response, "ServiceProviderConfig")
        try:
            body = response.json()
            config = ServiceProviderConfig.model_validate(
                {"schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA]}
                | {key: body[key] for key in ("patch", "etag", "filter", "sort") if isinstance(body.get(key), dict)}
            )
        except (ValueError, TypeError, ValidationError, AttributeError):
            log.warning("SCIM provider %s: unreadable ServiceProviderConfig, assuming defaults", self.base_url)
            return UNANNOUNCED
        return Capabilities(
            patch=bool(config.patch and config.patch.supported),
            etag=bool(config.etag and config.etag.supported),
            filter=bool(config.filter and config.filter.supported),
            sort=bool(config.sort and config.sort.supported),
            announced=True,
        )

    def _downgrade(self, **changes: bool) -> None:
        """Remember that the provider refused a capability it announced."""
        with self._lock:
            current = self._capabilities or UNANNOUNCED
            self._capabilities = replace(current, **changes)

    # -- reading users -----------------------------------------------------------------------

    def _read_user(self, user_id: str) -> dict[str, Any] | None:
        """GET one user; remember its version; None on 404."""
        response = self._read(_user_path(user_id), missing_ok=True)
        if response.status_code == 404:
            self._forget(user_id)
            return None
        raw = self._json(response)
        if response.headers.get("ETag") and _version(raw) is None:
            raw.setdefault("meta", {})["version"] = response.headers["ETag"]
        self._remember(raw)
        return raw

    def _select(
        self, expression: str, keep: Callable[[dict[str, Any]], bool], *, want: int | None, sort: bool = False
    ) -> list[dict[str, Any]]:
        """Return the users the filter finds that keep() accepts, reading pages until `want` of them are found."""
        params: dict[str, Any] = {"filter": expression}
        if sort:
            params["sortBy"] = "userName"
        found: list[dict[str, Any]] = []
        try:
            for raw in self._pages(params):
                if keep(raw):
                    found.append(raw)
                    if want is not None and len(found) >= want:
                        break
        except _FilterRefused as refused:
            if refused.for_good:
                self._downgrade(filter=False)
            return self._scan(keep)
        return found

    def _scan(self, keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """List every user (bounded by scan_limit) and return those keep() accepts."""
        return [raw for raw in self._pages({}) if keep(raw)]

    def _pages(self, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Yield the users of a listing, page after page (startIndex/count), at most scan_limit of them."""
        start, listed = 1, 0
        while True:
            response = self._read("Users", params={**params, "startIndex": start, "count": self.page_size},
                                  filtering="filter" in params)
            body = self._json(response)
            resources = [raw for raw in body.get("Resources") or [] if isinstance(raw, dict)]
            yield from resources
            listed += len(resources)
            total = body.get("totalResults")
            if not resources or (isinstance(total, int) and listed >= total):
                return
            if listed >= self.scan_limit:
                if "filter" in params:
                    log.warning("SCIM: stopped reading a filtered listing after %d users", listed)
                    return
                raise ConsoleUnsupported(
                    f"the SCIM provider cannot filter users and holds more than {self.scan_limit}: the bot stopped "
                    "looking; find the user's id in the admin console"
                )
            start += len(resources)

    def _read(self, path: str, *, params: dict[str, Any] | None = None, missing_ok: bool = False,
              filtering: bool = False) -> httpx.Response:
        response = self._request("GET", path, params=params)
        if filtering and (response.status_code == 501 or _scim_type(response) == "invalidFilter"):
            raise _FilterRefused(for_good=response.status_code == 501)
        if missing_ok and response.status_code == 404:
            return response
        self._check_read(response, path)
        return response

    def _check_read(self, response: httpx.Response, path: str) -> None:
        if response.is_success:
            return
        status, reference = response.status_code, _response_id(response)
        if status in (401, 403):
            raise self._denied(response)
        if status == 404:
            raise ConsoleError(f"the SCIM provider has no /{path} endpoint (HTTP 404); check SCIM_BASE_URL (it should "
                               "be the SCIM root, such as https://host/scim/v2)", status=status, response_id=reference)
        detail = self._detail(response)
        raise ConsoleRejected(f"the SCIM provider refused to read /{path} (HTTP {status}){detail}",
                              status=status, response_id=reference)

    # -- changing users ----------------------------------------------------------------------

    def _change(self, user_id: str, attribute: str, value: Any, *, action: _Action,
                new_username: str | None = None) -> None:
        if self._caps().patch:
            try:
                self._patch(user_id, attribute, value, action=action, new_username=new_username)
                return
            except _PatchRefused:
                log.warning("SCIM provider %s refused PATCH; replacing whole users (PUT) from now on", self.base_url)
                self._downgrade(patch=False)
        self._put(user_id, attribute, value, action=action, new_username=new_username)

    def _patch(self, user_id: str, attribute: str, value: Any, *, action: _Action, new_username: str | None) -> None:
        headers = self._if_match(user_id)
        operation = PatchOperation[User](op=PatchOperation.Op.replace_, path=attribute, value=value)
        body = PatchOp[User](operations=[operation]).model_dump(scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        response = self._request("PATCH", _user_path(user_id), body=body, headers=headers, mutation=action)
        if response.status_code in (405, 501):
            raise _PatchRefused
        self._check_mutation(response, user_id=user_id, action=action, new_username=new_username)
        self._after_write(user_id, response, username=new_username)

    def _put(self, user_id: str, attribute: str, value: Any, *, action: _Action, new_username: str | None) -> None:
        remembered = self._remembered_version(user_id)
        current = self._read_user(user_id)
        if current is None:
            raise UserGone(user_id)
        headers: dict[str, str] = {}
        if self._caps().etag:
            version = _version(current)
            if remembered and version and remembered != version:
                self._forget(user_id)
                raise ConcurrentChange(self._changed_message(action))
            if remembered or version:
                headers["If-Match"] = remembered or version or ""
        # Send back everything the provider gave, so attributes the bot does not know are kept.
        replacement = {key: item for key, item in current.items() if key != "meta"}
        replacement[attribute] = value
        response = self._request("PUT", _user_path(user_id), body=replacement, headers=headers, mutation=action)
        self._check_mutation(response, user_id=user_id, action=action, new_username=new_username)
        self._after_write(user_id, response, username=new_username)

    def _if_match(self, user_id: str) -> dict[str, str]:
        """The If-Match header for a mutation, reading the user first when its version is unknown."""
        if not self._caps().etag:
            return {}
        version = self._remembered_version(user_id)
        if version is None:
            if self._read_user(user_id) is None:
                raise UserGone(user_id)
            version = self._remembered_version(user_id)
        return {"If-Match": version} if version else {}

    def _after_write(self, user_id: str, response: httpx.Response, *, username: str | None = None) -> None:
        """Remember the version the write produced, or forget the old one so the next write reads first."""
        raw: dict[str, Any] = {}
        if response.content:
            try:
                body = response.json()
                raw = body if isinstance(body, dict) else {}
            except ValueError:
                raw = {}
        version = _version(raw) or response.headers.get("ETag")
        with self._lock:
            seen = self._seen.get(user_id)
            username = _text(raw.get("userName")) or username or (seen.username if seen else "")
            self._seen[user_id] = _Seen(version=version, username=username)

    def _check_mutation(self, response: httpx.Response, *, user_id: str, action: _Action,
                        new_username: str | None = None) -> None:
        if response.is_success:
            return
        status, scim_type, reference = response.status_code, _scim_type(response), _response_id(response)
        if status in (401, 403):
            raise self._denied(response)
        if status == 404:
            self._forget(user_id)
            raise UserGone(user_id, status=status, response_id=reference)
        if status == 412:
            self._forget(user_id)
            raise ConcurrentChange(self._changed_message(action), status=status, response_id=reference)
        if status == 409 and new_username is not None and scim_type in ("uniqueness", None):
            raise UsernameTaken(new_username, status=status, response_id=reference)
        detail = self._detail(response)
        if status in (405, 501) or scim_type == "mutability":
            raise ConsoleUnsupported(
                f"the SCIM provider does not let the bot {action} (HTTP {status}){detail}; do it in the admin console",
                status=status, response_id=reference,
            )
        raise ConsoleRejected(f"the SCIM provider refused to {action} (HTTP {status}){detail}",
                              status=status, response_id=reference)

    @staticmethod
    def _changed_message(action: _Action) -> str:
        return (f"the bot did not {action}: the user changed in the console since the bot last read it; "
                "review the user and try again")

    # -- HTTP --------------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None,
                 headers: dict[str, str] | None = None, mutation: _Action | None = None) -> httpx.Response:
        """Send one request, retrying only what is safe; a mutation is never repeated once it may have arrived."""
        content = None
        if body is not None:
            content = json.dumps(body).encode()
            headers = {**(headers or {}), "Content-Type": SCIM_JSON}
        attempt = 0
        while True:
            attempt += 1
            if mutation is not None:
                ensure_lease_held(f"{method} {path}")  # a retry may come after a wait: the lease may be gone
            started = time.monotonic()
            try:
                response = self._client.request(method, path, params=params, content=content, headers=headers)
            except httpx.TransportError as error:
                self._observe(method, path, started, None, error)
                reason = self._reason(error)
                if mutation is not None and not isinstance(error, NOTHING_SENT):
                    raise OutcomeUnknown(
                        f"the SCIM provider did not answer the request to {mutation} ({reason}); it may or may not "
                        "have been applied: check the user in the admin console before trying again"
                    ) from None
                if attempt > self._retries:
                    raise ConsoleUnavailable(
                        f"the SCIM provider at {self.base_url} is unreachable ({reason}) after {attempt} attempts"
                    ) from None
                log.warning("SCIM %s %s failed (%s); retrying", method, path, reason)
                self._sleep(self._backoff * attempt)
                continue
            status = response.status_code
            self._observe(method, path, started, status, None)
            log.debug("SCIM %s %s -> %s", method, path, status)
            if status == 429 or (status >= 500 and status != 501 and mutation is None):
                wait = _retry_after(response) if status == 429 else None
                wait = self._backoff * attempt if wait is None else wait
                if attempt > self._retries or wait > self._max_wait:
                    what = "is rate limiting the bot" if status == 429 else "keeps failing"
                    raise ConsoleUnavailable(
                        f"the SCIM provider at {self.base_url} {what} (HTTP {status}) after {attempt} attempts; "
                        "try again later",
                        status=status, response_id=_response_id(response),
                    )
                log.warning("SCIM %s %s answered %s; retrying in %.1fs", method, path, status, wait)
                self._sleep(wait)
                continue
            if mutation is not None and status >= 500 and status != 501:
                raise OutcomeUnknown(
                    f"the SCIM provider failed while asked to {mutation} (HTTP {status}){self._detail(response)}; "
                    "it may or may not have been applied: check the user in the admin console before trying again",
                    status=status, response_id=_response_id(response),
                )
            return response

    def _observe(self, method: str, path: str, started: float, status: int | None,
                 error: Exception | None) -> None:
        if self._on_call is not None:
            self._on_call(ConsoleCall(backend="scim", operation=f"{method} {path.split('/')[0]}", status=status,
                                      seconds=time.monotonic() - started,
                                      error=type(error).__name__ if error else None))

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            content_type = response.headers.get("Content-Type", "no content type")
            raise ConsoleError(
                f"the SCIM provider answered with something that is not SCIM JSON (HTTP {response.status_code}, "
                f"{content_type}); check SCIM_BASE_URL (it should end with the SCIM root, such as /scim/v2)",
                status=response.status_code, response_id=_response_id(response),
            )
        return body

    def _denied(self, response: httpx.Response) -> AccessDenied:
        return AccessDenied(
            f"the SCIM token was refused (HTTP {response.status_code}){self._detail(response)}; "
            "check SCIM_TOKEN and the rights it has in the provider",
            status=response.status_code, response_id=_response_id(response),
        )

    def _detail(self, response: httpx.Response) -> str:
        """': <detail>' from a SCIM error body, or '' when there is none."""
        try:
            body = response.json()
        except ValueError:
            return ""
        if not isinstance(body, dict):
            return ""
        try:
            detail = Error.model_validate(body).detail
        except ValidationError:
            detail = body.get("detail")
        detail = self._scrub(_text(detail))
        return f": {detail[:300]}" if detail else ""

    def _reason(self, error: httpx.TransportError) -> str:
        text = self._scrub(str(error))
        return f"{type(error).__name__}: {text}" if text else type(error).__name__

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "[token]") if self._token else text

    # -- what this console has seen ----------------------------------------------------------

    def _remember(self, raw: dict[str, Any]) -> ConsoleUser:
        user = self._user(raw)
        with self._lock:
            self._seen[user.id] = _Seen(version=_version(raw), username=user.username)
        return user

    def _remembered_version(self, user_id: str) -> str | None:
        with self._lock:
            seen = self._seen.get(user_id)
        return seen.version if seen else None

    def _forget(self, user_id: str) -> None:
        with self._lock:
            seen = self._seen.get(user_id)
            if seen is not None:
                self._seen[user_id] = _Seen(version=None, username=seen.username)

    def _label(self, user_id: str) -> str:
        with self._lock:
            seen = self._seen.get(user_id)
        return f"{seen.username} (id {user_id})" if seen and seen.username else f"id {user_id}"

    def _user(self, raw: dict[str, Any]) -> ConsoleUser:
        """Map a SCIM User to a ConsoleUser, tolerating attributes and extensions the bot does not use."""
        user_id, username = _text(raw.get("id")), _text(raw.get("userName"))
        if not user_id or not username:
            raise ConsoleError("the SCIM provider returned a user without an id or a userName")
        name = raw.get("name") if isinstance(raw.get("name"), dict) else {}
        first, last = _text(name.get("givenName")), _text(name.get("familyName"))
        if not first and not last:
            first = _text(name.get("formatted")) or _text(raw.get("displayName"))
        emails = _emails(raw)
        extra = {"externalId": _text(raw.get("externalId"))} if raw.get("externalId") else {}
        return ConsoleUser(
            id=user_id,
            username=username,
            email=emails[0] if emails else "",
            first_name=first,
            last_name=last,
            status=UserStatus.INACTIVE if _is_false(raw.get("active")) else UserStatus.ACTIVE,
            extra=extra,
        )


class _Action:
    """What a mutation does, in words; the user's name is filled in when a message is written, after any read."""

    def __init__(self, console: ScimConsole, verb: str, user_id: str, rest: str = "") -> None:
        self.console, self.verb, self.user_id, self.rest = console, verb, user_id, rest

    def __str__(self) -> str:
        return f"{self.verb} user {self.console._label(self.user_id)}{self.rest}"


class _FilterRefused(Exception):
    """The provider refused a filter (501: filtering unsupported; 400 invalidFilter: not this one)."""

    def __init__(self, *, for_good: bool) -> None:
        super().__init__("filter refused")
        self.for_good = for_good


def _user_path(user_id: str) -> str:
    if not user_id:
        raise ConsoleRejected("no user id given")
    return f"Users/{quote(user_id, safe='')}"


def _quoted(value: str) -> str:
    """A SCIM filter string literal (a JSON string: `"` and `\\` escaped)."""
    return json.dumps(value, ensure_ascii=False)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def _emails(raw: dict[str, Any]) -> list[str]:
    """The user's email addresses, the primary one first."""
    entries = [entry for entry in raw.get("emails") or [] if isinstance(entry, dict) and _text(entry.get("value"))]
    entries.sort(key=lambda entry: not (entry.get("primary") is True or entry.get("primary") == "true"))
    return [_text(entry["value"]) for entry in entries]


def _searchable(raw: dict[str, Any]) -> list[str]:
    name = raw.get("name") if isinstance(raw.get("name"), dict) else {}
    full = f"{_text(name.get('givenName'))} {_text(name.get('familyName'))}".strip()
    return [_text(raw.get("userName")), *_emails(raw), full, _text(name.get("formatted")),
            _text(raw.get("displayName"))]


def _version(raw: dict[str, Any]) -> str | None:
    meta = raw.get("meta")
    return (_text(meta.get("version")) or None) if isinstance(meta, dict) else None


def _scim_type(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    scim_type = body.get("scimType") if isinstance(body, dict) else None
    return scim_type if isinstance(scim_type, str) else None


def _response_id(response: httpx.Response) -> str | None:
    return next((response.headers[name] for name in REQUEST_ID_HEADERS if response.headers.get(name)), None)


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a Retry-After header, or None."""
    return retry_after_seconds(response.headers.get("Retry-After"))
