"""The form's user picker. Slack asks for options at every keystroke and waits on a listener thread for the
answer, so a search must never wait for the console's rate limit, and one member typing fast must not use up
the budget the others' commands and running requests need.

Each search is a glance (bot.ambient.at_a_glance): it goes to the console only while the rate limit has room
to spare, one at a time per member; otherwise the picker answers from the users it has already seen, matched
here the way the console matches them. What it offers is only a choice: the command or form that follows
reads the user from the console afresh."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.ambient import at_a_glance
from bot.domain.directory import ConsoleUser
from bot.domain.records import Actor
from bot.errors import ConsoleBusy
from bot.service.core import Core

KNOWN_AT_MOST = 5000  # users remembered from earlier answers, the least recently seen forgotten first
ADMIN_FOR = timedelta(seconds=60)  # a member found to be an admin is not asked about again at every keystroke


class Picker:
    def __init__(self, core: Core) -> None:
        self._core = core
        self._lock = threading.Lock()
        self._known: OrderedDict[str, ConsoleUser] = OrderedDict()
        self._searching: set[str] = set()  # members whose search is on the wire right now
        self._admins: dict[str, datetime] = {}  # members found to be admins, until when that is taken as known

    def search(self, *, actor: Actor, text: str, limit: int = 20) -> list[ConsoleUser]:
        """Users whose username, email or name contains text (admins only), without ever waiting."""
        self._ensure_admin(actor)
        text = text.strip()
        if not text:
            return []
        with self._lock:
            already = actor.user_id in self._searching
            self._searching.add(actor.user_id)
        if already:  # the member typed again before the last answer came: what is known now will do
            return self.known(text, limit=limit)
        try:
            with at_a_glance():
                found = self._core.console.search_users(text=text, limit=limit)
        except ConsoleBusy:
            return self.known(text, limit=limit)
        finally:
            with self._lock:
                self._searching.discard(actor.user_id)
        self.remember(found)
        return found

    def _ensure_admin(self, actor: Actor) -> None:
        """Refuse anyone but an admin. Slack is asked once per ADMIN_FOR for a member who is one, not at every
        keystroke: each question is a users.info call on the listener thread, within Slack's rate limit."""
        now = self._core.now()
        with self._lock:
            known_until = self._admins.get(actor.user_id)
        if known_until is not None and now < known_until:
            return
        self._core.access.admin(actor)
        with self._lock:
            self._admins = {member: until for member, until in self._admins.items() if until > now}
            self._admins[actor.user_id] = now + ADMIN_FOR

    def remember(self, users: Iterable[ConsoleUser]) -> None:
        with self._lock:
            for user in users:
                self._known[user.id] = user
                self._known.move_to_end(user.id)
            while len(self._known) > KNOWN_AT_MOST:
                self._known.popitem(last=False)

    def known(self, text: str, *, limit: int) -> list[ConsoleUser]:
        """The remembered users that match text as the console would (a part of username, email or name)."""
        wanted = text.strip().casefold()
        with self._lock:
            users = list(self._known.values())
        matching = [user for user in users if any(wanted in value.casefold() for value in (
            user.username, user.email, user.first_name, user.last_name))]
        return sorted(matching, key=lambda user: user.username.lower())[:limit]
