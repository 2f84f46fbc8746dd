"""The App Home tabs: what each member sees there, and keeping them up to date as requests change.

A change asks for the tabs to be redrawn off the caller's thread; changes that come while a redraw is pending
fold into one more redraw, so a burst (a sweep, a bulk run) costs one redraw per person."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from bot.domain.lifecycle import OPEN, TERMINAL, RequestState
from bot.domain.records import Actor, OffboardRequest
from bot.domain.workflows import Proposal
from bot.errors import Refusal
from bot.policy import Policy
from bot.ports import Clock, Home, Jobs, MemberDirectory, NotificationFailed, Notifier, RequestRepository
from bot.service.access import Gatekeeper

log = logging.getLogger(__name__)
PROPOSALS_READ = 6  # workflows' proposals read for an admin's tab: it shows 5, and says when there are more


@dataclass(frozen=True)
class _Lists:
    """The requests every App Home is drawn from, read once per redraw."""

    open: tuple[OffboardRequest, ...]
    recent: tuple[OffboardRequest, ...]
    to_take: tuple[Proposal, ...]  # workflows' proposals waiting for an admin


class Homes:
    def __init__(self, *, store: RequestRepository, access: Gatekeeper, members: MemberDirectory, policy: Policy,
                 notifier: Notifier, jobs: Jobs, clock: Clock) -> None:
        self._store = store
        self._access = access
        self._members = members
        self._policy = policy
        self._notifier = notifier
        self._jobs = jobs
        self._clock = clock
        self._lock = threading.Lock()
        self._due: set[str] = set()  # requesters whose requests changed since the last redraw
        self._admins_due = False  # something every admin sees changed (a workflow's proposal)
        self._running = False

    def for_member(self, actor: Actor) -> Home:
        """What the member's App Home shows: requests that wait for them and theirs, or who the admins are."""
        try:
            admin = self._access.admin(actor)
        except Refusal as refusal:
            return Home(user_id=actor.user_id, is_admin=False, admins=self._admin_ids(), why_not=refusal)
        return self._admin_home(actor.user_id, admin.email, self._lists())

    def changed(self, requester_id: str | None = None) -> None:
        """Ask for the tabs of the requester (if any) and of the admins to be redrawn, off the caller's thread."""
        with self._lock:
            if requester_id:
                self._due.add(requester_id)
            self._admins_due = True
            if self._running:
                return
            self._running = True
        try:
            self._jobs.submit(self._redraw, name="app-home-tabs")
        except RuntimeError:  # shutting down: the tabs are redrawn at the next change
            with self._lock:
                self._running = False

    def _redraw(self) -> None:
        while True:
            with self._lock:
                requesters, self._due = self._due, set()
                if not requesters and not self._admins_due:
                    self._running = False
                    return
                self._admins_due = False
            try:
                self._publish(requesters)
            except Exception:  # the App Home is a convenience: never let it break what was recorded
                log.warning("could not update the App Home tabs", exc_info=True)

    def _publish(self, requesters: set[str]) -> None:
        """Bring the App Home of everyone the changes concern up to date: their requesters and the admins.
        Each one is checked as an admin is at a click, so someone no longer an admin gets the plain view."""
        team_id = self._members.home_team_id()
        audience = sorted(requesters)
        for email in sorted(self._policy.admin_emails):
            member = self._members.find_by_email(email=email)
            if member is not None and member.user_id not in audience:
                audience.append(member.user_id)
        lists = self._lists()  # read once for everyone
        for user_id in audience:
            try:
                admin = self._access.admin(Actor(user_id=user_id, team_id=team_id))
            except Refusal as refusal:
                home = Home(user_id=user_id, is_admin=False, admins=self._admin_ids(), why_not=refusal)
            except Exception:  # Slack or the database hiccupped for this one: the others still get theirs
                log.warning("could not check %s for their App Home", user_id, exc_info=True)
                continue
            else:
                home = self._admin_home(user_id, admin.email, lists)
            try:
                self._notifier.publish_home(home)
            except NotificationFailed as failure:
                log.warning("could not notify Slack: %s", failure)

    def _admin_home(self, user_id: str, email: str, lists: _Lists) -> Home:
        now = self._clock.now()
        to_approve = tuple(
            r for r in lists.open if r.state is RequestState.AWAITING_APPROVAL and not r.expired(now)
            and r.requester_id != user_id and r.requester_email != email
            and all(approval.approver_email != email for approval in r.approvals))
        scheduled = tuple(r for r in lists.open if r.state is RequestState.APPROVED and r.run_at and r.run_at > now)
        return Home(user_id=user_id, is_admin=True, to_approve=to_approve,
                    mine=tuple(r for r in lists.open if r.requester_id == user_id), scheduled=scheduled,
                    recent=lists.recent, to_take=lists.to_take)

    def _lists(self) -> _Lists:
        return _Lists(open=tuple(self._store.list(states=OPEN, limit=100)),
                      recent=tuple(self._store.list(states=TERMINAL, limit=8)),
                      to_take=tuple(self._store.waiting_proposals(now=self._clock.now(), limit=PROPOSALS_READ)))

    def _admin_ids(self) -> tuple[str, ...]:
        found = (self._members.find_by_email(email=email) for email in sorted(self._policy.admin_emails))
        return tuple(member.user_id for member in found if member is not None)
