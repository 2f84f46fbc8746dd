"""The 8x8 admin console behind the Console port.

Each change is GET, modify, PUT of the whole user (or DELETE), followed to the end of its
operation. The GET is saved when the user was read lately (the step runner reads every user before
changing it, many at once with one filtered list call: `get_users`): a read younger than `FRESH_FOR`
seconds stands in for it, once. When an answer
is lost, the change is reconciled by reading the user back, never by sending it again blindly; when
the console answered with a server error, the change is sent again only after a fresh read shows it
has not happened.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from bot.console.eightbyeight import mapping
from bot.console.eightbyeight.client import EightByEightClient
from bot.console.rules import username_refusal
from bot.domain.directory import ConsoleUser, Released, UserStatus, released
from bot.errors import ConsoleRejected, ConsoleUnavailable, OutcomeUnknown, UserGone, UsernameTaken

FIND_PAGES = 3  # an exact lookup never needs more than a few pages of wildcard matches
RECONCILE_PAUSES = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)  # reading back after a lost answer, about a minute
RESEND_PAUSES = (1.0, 4.0)  # a change answered 503 (not taken) is sent again after these pauses, each after a read
# Seconds a read of a user may stand in for the GET before its next change. A batch reads a wave of users, then
# changes them one after the other at the rate limit: at 8x8's 100 requests a minute a wave of 25 users' PUTs
# and polls takes about 30 s. A PUT replaces the whole user, so whatever someone changed in the console within
# this window would be put back; past it the change reads the user again (one more call, never a stale PUT).
FRESH_FOR = 60.0
LOOKUP_BATCH = 25  # references looked up in one filtered list call (two clauses each, well inside URL limits)
READ_FILTER = 4000  # characters (URL-encoded) of the filter of one list call that reads many users: URLs stay < 8 KB


class EightByEightConsole:
    """Console port over the 8x8 Administration API."""

    name = "8x8"
    services_visible = True

    def __init__(self, client: EightByEightClient, *, sleep: Callable[[float], None] = time.sleep,
                 reconcile_pauses: tuple[float, ...] = RECONCILE_PAUSES,
                 resend_pauses: tuple[float, ...] = RESEND_PAUSES,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self._sleep = sleep
        self._reconcile_pauses = reconcile_pauses
        self._resend_pauses = resend_pauses
        self._monotonic = monotonic
        self._fresh: dict[str, tuple[float, dict[str, Any]]] = {}  # user id -> (when read, the user as read)
        self._fresh_lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def check(self) -> list[str]:
        """Read one page of users to prove the API and the key work; return what was found."""
        next(iter(self.client.list_users(page_size=1, max_pages=1)), None)
        return [f"8x8 API reachable at {self.client.base_url}, and the API key may read users",
                "write access shows only with the first change: the API has no way to ask for it"]

    # -- reads ---------------------------------------------------------------------------------------

    def find_user(self, *, reference: str) -> ConsoleUser | None:
        reference = reference.strip()
        if not reference or "*" in reference:  # `*` is RSQL's wildcard and never part of a name or address
            return None
        for field in ("basicInfo.userName", "basicInfo.primaryEmail"):
            matches = self._exact(field, reference)
            if len(matches) == 1:
                return matches[0]
        return None

    def find_users(self, *, references: Iterable[str]) -> dict[str, ConsoleUser | None]:
        """Look many references up at once: one filtered list call per LOOKUP_BATCH references, matching
        each exactly as find_user does (a unique username first, else a unique email)."""
        wanted = list(dict.fromkeys(ref.strip() for ref in references))
        found: dict[str, ConsoleUser | None] = {ref: None for ref in wanted}
        usable = [ref for ref in wanted if ref and "*" not in ref]
        for start in range(0, len(usable), LOOKUP_BATCH):
            batch = usable[start:start + LOOKUP_BATCH]
            query = ",".join(mapping.rsql_equals(field, ref) for ref in batch
                             for field in ("basicInfo.userName", "basicInfo.primaryEmail"))
            users = [mapping.user_from_api(raw) for raw in self.client.list_users(filter=query, page_size=100)]
            for ref in batch:
                found[ref] = _exact_match(users, ref)
        return found

    def get_user(self, *, user_id: str) -> ConsoleUser | None:
        raw = self.client.get_user(user_id)
        self._remember({user_id: raw})
        return None if raw is None else mapping.user_from_api(raw)

    def get_users(self, *, names: Mapping[str, tuple[str, ...]]) -> dict[str, ConsoleUser | None]:
        """Read many users with one filtered list call on their usernames (the list answers whole User
        records; a longer list of names takes a call per READ_FILTER characters), keeping those whose id is
        asked for; a user the answers do not hold (renamed meanwhile, or gone) is read on its own with a GET,
        never assumed."""
        if len(names) == 1:
            user_id = next(iter(names))
            return {user_id: self.get_user(user_id=user_id)}
        raws: dict[str, dict[str, Any] | None] = {}
        clauses = dict.fromkeys(mapping.rsql_equals("basicInfo.userName", name)
                                for known in names.values() for name in known if name and "*" not in name)
        for query in _filters(list(clauses), limit=READ_FILTER):
            for raw in self.client.list_users(filter=query, page_size=100):
                user_id = str((raw.get("basicInfo") or {}).get("userId") or "")
                if user_id in names:
                    raws[user_id] = raw
        for user_id in names:
            if user_id not in raws:
                raws[user_id] = self.client.get_user(user_id)
        self._remember(raws)
        return {user_id: None if raws[user_id] is None else mapping.user_from_api(raws[user_id]) for user_id in names}

    def _remember(self, raws: Mapping[str, dict[str, Any] | None]) -> None:
        """Keep users just read to stand in for the GET of their next change; forget the old reads."""
        now = self._monotonic()
        with self._fresh_lock:
            for stale in [key for key, (read_at, _) in self._fresh.items() if now - read_at > FRESH_FOR]:
                del self._fresh[stale]  # reads nobody changed the user after: they would only pile up
            for user_id, raw in raws.items():
                if raw is None:
                    self._fresh.pop(user_id, None)
                else:
                    self._fresh[user_id] = (now, raw)

    def _take_fresh(self, user_id: str) -> dict[str, Any] | None:
        """The user as read moments ago, once; None when it was not read lately."""
        with self._fresh_lock:
            read_at, raw = self._fresh.pop(user_id, (0.0, None))
        return raw if raw is not None and self._monotonic() - read_at <= FRESH_FOR else None

    def search_users(self, *, text: str, limit: int = 20) -> list[ConsoleUser]:
        text = text.strip().replace("*", "")
        if not text:
            return []
        fields = ("basicInfo.userName", "basicInfo.primaryEmail", "basicInfo.firstName", "basicInfo.lastName")
        query = ",".join(mapping.rsql_equals(field, f"*{text}*") for field in fields)
        found = [mapping.user_from_api(raw) for raw in self.client.list_users(
            filter=query, sort="basicInfo.userName", page_size=limit, max_pages=1)]
        return sorted(found, key=lambda user: user.username.lower())[:limit]

    def username_taken(self, *, username: str) -> bool:
        return bool(self._exact("basicInfo.userName", username.strip()))

    def _exact(self, field: str, value: str) -> list[ConsoleUser]:
        """The users whose field equals value exactly (ignoring case): the API matches wildcards too."""
        key = field.split(".")[1]
        raws = self.client.list_users(filter=mapping.rsql_equals(field, value), page_size=20, max_pages=FIND_PAGES)
        return [mapping.user_from_api(raw) for raw in raws
                if str((raw.get("basicInfo") or {}).get(key) or "").lower() == value.lower()]

    # -- changes -------------------------------------------------------------------------------------

    def release_licenses(self, *, user_id: str) -> Released:
        return self._change(user_id, mapping.without_licenses, done=lambda user: not user.holds_numbers,
                     doing=f"release the licenses of user {user_id}")

    def set_status(self, *, user_id: str, status: UserStatus) -> Released:
        return self._change(user_id, lambda raw: mapping.with_status(raw, status),
                     done=lambda user: user.status is status,
                     doing=f"{'deactivate' if status is UserStatus.INACTIVE else 'reactivate'} user {user_id}")

    def rename(self, *, user_id: str, new_username: str) -> Released:
        problem = username_refusal(new_username)
        if problem:
            raise ConsoleRejected(f"{new_username} cannot be used: {problem}")
        holder = self._exact("basicInfo.userName", new_username)
        if any(user.id != user_id for user in holder):
            raise UsernameTaken(new_username)
        try:
            return self._change(user_id, lambda raw: mapping.with_username(raw, new_username),
                         done=lambda user: user.username == new_username,
                         doing=f"rename user {user_id} to {new_username}")
        except ConsoleRejected as error:
            if "already in use" in error.message.lower():
                raise UsernameTaken(new_username, status=error.status, response_id=error.response_id) from None
            raise

    def delete(self, *, user_id: str) -> Released:
        """Delete the user; what it held (as read moments ago, else read now) is what the delete released."""
        doing = f"delete user {user_id}"
        gone = self._held(user_id)
        for attempt in range(len(self._resend_pauses) + 1):
            if attempt:
                self._sleep(self._resend_pauses[attempt - 1])
                if self.client.get_user(user_id) is None:
                    return gone  # the earlier attempt took effect after all
            try:
                self.client.delete_user(user_id, doing=doing)
                return gone
            except UserGone:
                return Released()  # gone already: what we wanted
            except OutcomeUnknown as doubt:
                self._reconcile(user_id, lambda user: user is None, doubt=doubt)
                return gone
            except ConsoleUnavailable:
                if attempt == len(self._resend_pauses):
                    raise

    def _held(self, user_id: str) -> Released:
        """What deleting the user releases: all it holds, as read moments ago (taken: a read from before the delete
        must never stand in for the user later). Without such a read, no GET is spent on it: the step runner
        knows the user as it last read it."""
        raw = self._take_fresh(user_id)
        return released(mapping.user_from_api(raw), None) if raw is not None else Released()

    def _change(self, user_id: str, modify: Callable[[dict[str, Any]], dict[str, Any]],
                done: Callable[[ConsoleUser], bool], *, doing: str) -> Released:
        """GET, modify and PUT the whole user, then follow the operation; reconcile any doubt by reading. Return
        what the change took from the user as first read."""
        before: ConsoleUser | None = None
        for attempt in range(len(self._resend_pauses) + 1):
            if attempt:
                self._sleep(self._resend_pauses[attempt - 1])
            raw = (None if attempt else self._take_fresh(user_id)) or self.client.get_user(user_id)
            if raw is None:
                raise UserGone(user_id)
            before = before or mapping.user_from_api(raw)
            if attempt and done(mapping.user_from_api(raw)):
                return released(before, mapping.user_from_api(raw))  # the earlier attempt took effect after all
            changed = modify(raw)
            try:
                self.client.put_user(user_id, changed, doing=doing)
                return released(before, mapping.user_from_api(changed))
            except OutcomeUnknown as doubt:
                self._reconcile(user_id, lambda user: user is not None and done(user), doubt=doubt)
                return released(before, mapping.user_from_api(changed))
            except ConsoleUnavailable:
                if attempt == len(self._resend_pauses):
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _reconcile(self, user_id: str, done: Callable[[ConsoleUser | None], bool], *, doubt: OutcomeUnknown) -> None:
        """After an answer that leaves the outcome in doubt, read the user until the change shows; raise
        OutcomeUnknown if it never does."""
        for pause in self._reconcile_pauses:
            self._sleep(pause)
            try:
                if done(self.get_user(user_id=user_id)):
                    return
            except ConsoleUnavailable:
                continue
        raise OutcomeUnknown(f"{doubt.message}. Reading the user back for a minute does not show the change; it may "
                             "still happen", status=doubt.status, response_id=doubt.response_id)


def _filters(clauses: list[str], *, limit: int) -> Iterator[str]:
    """Join RSQL clauses with `,` (or) into filters of at most `limit` characters once URL-encoded (a clause
    longer than that on its own still goes, alone)."""
    query, size = [], 0
    for clause in clauses:
        length = len(quote(clause, safe="")) + 3  # the comma between clauses, encoded
        if query and size + length > limit:
            yield ",".join(query)
            query, size = [], 0
        query.append(clause)
        size += length
    if query:
        yield ",".join(query)


def _exact_match(users: list[ConsoleUser], reference: str) -> ConsoleUser | None:
    """The one user whose username equals reference (ignoring case), else the one whose email does."""
    wanted = reference.lower()
    for key in (lambda user: user.username, lambda user: user.email):
        matches = {user.id: user for user in users if key(user).lower() == wanted}
        if len(matches) == 1:
            return next(iter(matches.values()))
    return None
