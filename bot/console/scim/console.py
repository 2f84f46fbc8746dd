"""The Console port over SCIM 2.0 (RFC 7643/7644), for any admin console that provisions users with SCIM."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

import bot.console.scim.mapping as mapping
from bot.console.http import Call
from bot.console.lookup import find_each, get_each
from bot.console.rules import username_refusal
from bot.console.scim.capabilities import Discovery
from bot.console.scim.client import FilterRefused, ScimClient, change, json_or_none, scim_type
from bot.console.scim.versions import Versions
from bot.domain.directory import ConsoleUser, Released, UserStatus
from bot.errors import (
    ConcurrentChange,
    ConsoleError,
    ConsoleRejected,
    ConsoleUnsupported,
    DeactivatedOnly,
    OutcomeUnknown,
    UserGone,
    UsernameTaken,
)
from bot.ports import ConsoleCall

log = logging.getLogger(__name__)


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

    Failures (bot.console.scim.client sets the HTTP policy): reads are retried on 429 (honouring Retry-After),
    5xx and transport errors, then raise ConsoleUnavailable. A mutation is never repeated once it may have
    reached the provider: a lost answer (timeout, dropped connection) or a 5xx raises OutcomeUnknown; only a
    connect failure or a 429, where the provider did nothing, is retried. A delete is confirmed by reading the
    user back: some providers (8x8's SCIM included) only deactivate on DELETE, which raises DeactivatedOnly.

    The token is sent in the Authorization header only; it appears in no message, repr or log line.
    """

    name = "SCIM"
    services_visible = False  # SCIM has no licenses, numbers or Contact Center
    page_size = 100
    scan_limit = 5000  # most users listed when the provider cannot filter

    def __init__(self, base_url: str, token: str, *, transport: httpx.BaseTransport | None = None,
                 timeout: float = 10.0, retries: int = 2, backoff: float = 0.5, max_wait: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep,
                 on_call: Callable[[ConsoleCall], None] | None = None) -> None:
        self._client = ScimClient(base_url, token, transport=transport, timeout=timeout, retries=retries,
                                  backoff=backoff, max_wait=max_wait, sleep=sleep, on_call=on_call)
        self.base_url = self._client.base_url
        self._caps = Discovery(self._client)
        self._versions = Versions()

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
            return mapping.text(raw.get("userName")).casefold() == wanted

        def mailed(raw: dict[str, Any]) -> bool:
            return wanted in (address.casefold() for address in mapping.emails(raw))

        if self._caps().filter:
            found = self._select(f"userName eq {mapping.quoted(reference)}", named, want=1)
            if not found:
                found = self._select(f"emails.value eq {mapping.quoted(reference)}", mailed, want=2)
        else:
            found = self._scan(lambda raw: named(raw) or mailed(raw))
            found = [raw for raw in found if named(raw)] or found
        if len(found) > 1 and not named(found[0]):
            raise ConsoleRejected(f"several users have the email {reference}; use their username instead")
        if not found:
            return None
        if self._caps().etag and mapping.version(found[0]) is None:
            # This listing carries no versions: read the record itself so a later change is guarded.
            return self.get_user(user_id=mapping.text(found[0].get("id")))
        return self._versions.remember(found[0])

    def find_users(self, *, references: Iterable[str]) -> dict[str, ConsoleUser | None]:
        """Return each reference with the user it names (one lookup each)."""
        return find_each(self, references)

    def get_users(self, *, names: Mapping[str, tuple[str, ...]]) -> dict[str, ConsoleUser | None]:
        """Return each user id with its user (one read each)."""
        return get_each(self, names)

    def get_user(self, *, user_id: str) -> ConsoleUser | None:
        """Return the user with this console id, or None when it does not exist."""
        raw = self._read_user(user_id)
        return None if raw is None else mapping.user_from_scim(raw)

    def search_users(self, *, text: str, limit: int = 20) -> list[ConsoleUser]:
        """Return users whose username, email or name contains text, sorted by username."""
        text = text.strip()
        if limit <= 0 or not text:
            return []
        wanted = text.casefold()

        def keep(raw: dict[str, Any]) -> bool:
            return any(wanted in field.casefold() for field in mapping.searchable(raw))

        caps = self._caps()
        if caps.filter:
            # Servers cannot match "John Doe" against givenName + familyName: ask for the longest word, check here.
            word = max(text.split(), key=len)
            attributes = ("userName", "emails.value", "name.formatted", "name.givenName", "name.familyName")
            expression = " or ".join(f"{attribute} co {mapping.quoted(word)}" for attribute in attributes)
            found = self._select(expression, keep, want=limit if caps.sort else None, sort=caps.sort)
        else:
            found = self._scan(keep)
        found.sort(key=lambda raw: (mapping.text(raw.get("userName")).casefold(), mapping.text(raw.get("id"))))
        return [self._versions.remember(raw) for raw in found[:limit]]

    def username_taken(self, *, username: str) -> bool:
        """Return True when some user already has this username (case-insensitive)."""
        username = username.strip()
        wanted = username.casefold()

        def named(raw: dict[str, Any]) -> bool:
            return mapping.text(raw.get("userName")).casefold() == wanted

        if self._caps().filter:
            return bool(self._select(f"userName eq {mapping.quoted(username)}", named, want=1))
        return bool(self._scan(named))

    # -- mutations ---------------------------------------------------------------------------

    def release_licenses(self, *, user_id: str) -> Released:
        """Always raises ConsoleUnsupported: SCIM has no licenses, so an admin releases them by hand."""
        raise ConsoleUnsupported(
            f"SCIM has no licenses or phone numbers: release those of user {self._versions.label(user_id)} "
            "in the admin console by hand"
        )

    def set_status(self, *, user_id: str, status: UserStatus) -> Released:
        """Deactivate or reactivate the user (PATCH replace active, or PUT when PATCH is unsupported). SCIM shows
        no numbers, licenses or phones: nothing it releases is known."""
        active = UserStatus(status) is UserStatus.ACTIVE
        verb = "reactivate" if active else "deactivate"
        self._change(user_id, "active", active, action=_Action(self._versions, verb, user_id))
        return Released()

    def rename(self, *, user_id: str, new_username: str) -> Released:
        """Change the user's username; raises UsernameTaken when another user has it."""
        problem = username_refusal(new_username)
        if problem:
            raise ConsoleRejected(f"cannot rename user {self._versions.label(user_id)} to {new_username!r}: {problem}")
        action = _Action(self._versions, "rename", user_id, f" to {new_username}")
        self._change(user_id, "userName", new_username, action=action, new_username=new_username)
        return Released()

    def delete(self, *, user_id: str) -> Released:
        """Delete the user, then read it back; raises DeactivatedOnly when the provider only deactivated it. What
        it held is not known to SCIM (licenses and numbers are released by hand before): nothing is reported."""
        action = _Action(self._versions, "delete", user_id)
        call = change("DELETE", mapping.user_path(user_id), doing=action, headers=self._if_match(user_id))
        response = self._client.send(call)
        self._check_mutation(response, call, user_id=user_id)
        self._versions.forget(user_id)
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
            return Released()
        reference = self._client.dialect.response_id(response)
        if mapping.is_false(after.get("active")):
            raise DeactivatedOnly(user_id, status=response.status_code, response_id=reference)
        raise ConsoleRejected(
            f"the SCIM provider answered the request to {action}, but the user still exists and is active: "
            "the delete did not happen",
            status=response.status_code, response_id=reference,
        )

    # -- check -------------------------------------------------------------------------------

    def check(self) -> list[str]:
        """Reach the provider, prove the token works; return a line per finding (raises ConsoleError)."""
        caps = self._caps.again()
        lines = [
            f"SCIM provider reachable at {self.base_url}"
            + ("" if caps.announced else " (it publishes no ServiceProviderConfig: assuming PATCH and filters)")
        ]
        body = self._client.json(self._client.read("Users", params={"startIndex": 1, "count": 1}))
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

    # -- reading users -----------------------------------------------------------------------

    def _read_user(self, user_id: str) -> dict[str, Any] | None:
        """GET one user; remember its version; None on 404."""
        response = self._client.read(mapping.user_path(user_id), expect=(404,))
        if response.status_code == 404:
            self._versions.forget(user_id)
            return None
        raw = self._client.json(response)
        if response.headers.get("ETag") and mapping.version(raw) is None:
            raw.setdefault("meta", {})["version"] = response.headers["ETag"]
        self._versions.remember(raw)
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
            for raw in self._client.pages(params, page_size=self.page_size, limit=self.scan_limit):
                if keep(raw):
                    found.append(raw)
                    if want is not None and len(found) >= want:
                        break
        except FilterRefused as refused:
            if refused.for_good:
                self._caps.lower(filter=False)
            return self._scan(keep)
        return found

    def _scan(self, keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """List every user (bounded by scan_limit) and return those keep() accepts."""
        return [raw for raw in self._client.pages({}, page_size=self.page_size, limit=self.scan_limit) if keep(raw)]

    # -- changing users ----------------------------------------------------------------------

    def _change(self, user_id: str, attribute: str, value: Any, *, action: _Action,
                new_username: str | None = None) -> None:
        if self._caps().patch:
            try:
                self._patch(user_id, attribute, value, action=action, new_username=new_username)
                return
            except _PatchRefused:
                log.warning("SCIM provider %s refused PATCH; replacing whole users (PUT) from now on", self.base_url)
                self._caps.lower(patch=False)
        self._put(user_id, attribute, value, action=action, new_username=new_username)

    def _patch(self, user_id: str, attribute: str, value: Any, *, action: _Action, new_username: str | None) -> None:
        call = change("PATCH", mapping.user_path(user_id), doing=action, body=mapping.patch_body(attribute, value),
                      headers=self._if_match(user_id))
        response = self._client.send(call)
        if response.status_code in (405, 501):
            raise _PatchRefused
        self._check_mutation(response, call, user_id=user_id, new_username=new_username)
        self._after_write(user_id, response, username=new_username)

    def _put(self, user_id: str, attribute: str, value: Any, *, action: _Action, new_username: str | None) -> None:
        remembered = self._versions.version(user_id)
        current = self._read_user(user_id)
        if current is None:
            raise UserGone(user_id)
        headers: dict[str, str] = {}
        if self._caps().etag:
            version = mapping.version(current)
            if remembered and version and remembered != version:
                self._versions.forget(user_id)
                raise ConcurrentChange(_changed_message(action))
            if remembered or version:
                headers["If-Match"] = remembered or version or ""
        call = change("PUT", mapping.user_path(user_id), doing=action,
                      body=mapping.replacement(current, attribute, value), headers=headers)
        response = self._client.send(call)
        self._check_mutation(response, call, user_id=user_id, new_username=new_username)
        self._after_write(user_id, response, username=new_username)

    def _if_match(self, user_id: str) -> dict[str, str]:
        """The If-Match header for a mutation, reading the user first when its version is unknown."""
        if not self._caps().etag:
            return {}
        version = self._versions.version(user_id)
        if version is None:
            if self._read_user(user_id) is None:
                raise UserGone(user_id)
            version = self._versions.version(user_id)
        return {"If-Match": version} if version else {}

    def _after_write(self, user_id: str, response: httpx.Response, *, username: str | None = None) -> None:
        """Remember the version the write produced, or forget the old one so the next write reads first."""
        body = json_or_none(response) if response.content else None
        raw: dict[str, Any] = body if isinstance(body, dict) else {}
        self._versions.written(user_id, version=mapping.version(raw) or response.headers.get("ETag"),
                               username=mapping.text(raw.get("userName")) or username)

    def _check_mutation(self, response: httpx.Response, call: Call, *, user_id: str,
                        new_username: str | None = None) -> None:
        """Raise for a change the provider did not make: the answers about the user here, the rest as the
        HTTP policy maps them."""
        if response.is_success:
            return
        status, reference = response.status_code, self._client.dialect.response_id(response)
        if status == 404:
            self._versions.forget(user_id)
            raise UserGone(user_id, status=status, response_id=reference)
        if status == 412:
            self._versions.forget(user_id)
            raise ConcurrentChange(_changed_message(call.doing), status=status, response_id=reference)
        if status == 409 and new_username is not None and scim_type(response) in ("uniqueness", None):
            raise UsernameTaken(new_username, status=status, response_id=reference)
        raise self._client.error(response, call)


class _Action:
    """What a mutation does, in words; the user's name is filled in when a message is written, after any read."""

    def __init__(self, versions: Versions, verb: str, user_id: str, rest: str = "") -> None:
        self.versions, self.verb, self.user_id, self.rest = versions, verb, user_id, rest

    def __str__(self) -> str:
        return f"{self.verb} user {self.versions.label(self.user_id)}{self.rest}"


def _changed_message(action: object) -> str:
    return (f"the bot did not {action}: the user changed in the console since the bot last read it; "
            "review the user and try again")
