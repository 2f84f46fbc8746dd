"""Reading: a request's status, the open requests, a member's App Home, the form's user picker; and the one
place refusals are written to the audit log."""

from __future__ import annotations

from bot.domain.directory import ConsoleUser
from bot.domain.lifecycle import OPEN
from bot.domain.records import Actor, AuditEntry, OffboardRequest
from bot.errors import Refusal
from bot.ports import Home
from bot.service.core import Core
from bot.service.picker import Picker

OPEN_LISTED = 50  # open requests `/offboard list` shows at most


class Queries:
    def __init__(self, core: Core) -> None:
        self._core = core
        self._picker = Picker(core)

    def status(self, *, actor: Actor, request_id: str) -> OffboardRequest:
        """Return the request for an admin to look at."""
        self._core.access.admin(actor, request_id=request_id)
        return self._core.expire_if_due(self._core.get(request_id))

    def open_requests(self, *, actor: Actor) -> list[OffboardRequest]:
        """Return the requests waiting, approved or running, newest first."""
        self._core.access.admin(actor)
        current = [self._core.expire_if_due(request) for request in self._core.store.list(states=OPEN,
                                                                                           limit=OPEN_LISTED)]
        return [request for request in current if request.state.is_open]

    def home(self, *, actor: Actor) -> Home:
        """What the member's App Home shows: requests that wait for them and theirs, or who the admins are."""
        return self._core.homes.for_member(actor)

    def search_console(self, *, actor: Actor, text: str, limit: int = 20) -> list[ConsoleUser]:
        """Users whose username, email or name contains text, for the form's user picker (admins only). It never
        waits for the console's rate limit: when the console is busy it answers from the users seen before."""
        return self._picker.search(actor=actor, text=text, limit=limit)

    def ensure_admin(self, *, actor: Actor) -> None:
        """Raise Refusal unless the actor is an admin of this workspace."""
        self._core.access.admin(actor)

    def record_refusal(self, *, actor: Actor, refusal: Refusal, doing: str) -> None:
        """Write a refusal to the audit log (the Slack edge calls this once per refused click or command)."""
        self._core.store.append_audit(
            AuditEntry(actor.user_id, "refused", refusal.request_id,
                       {"code": refusal.code, "doing": doing, "facts": refusal.facts, "team": actor.team_id,
                        "enterprise": actor.enterprise_id}),
            now=self._core.now())
