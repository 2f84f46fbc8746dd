"""Stateful fakes of the service's ports (Slack's members, the notifier, the job pool): the service is tested
against them with the real store on SQLite (or PostgreSQL) and the local console, no HTTP."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bot.domain.events import Event
from bot.domain.records import OffboardRequest
from bot.domain.workflows import Proposal
from bot.ports import Home, Member, NotificationFailed

TEAM = "T0DEMO"


class FakeMembers:
    """The workspace's members, as Slack's users.info would show them; change them with update()."""

    def __init__(self) -> None:
        self._members: dict[str, Member] = {}
        for user_id, name in (("U0ALICE", "alice"), ("U0BOB", "bob"), ("U0DANA", "dana"), ("U0CAROL", "carol"),
                              ("U0JDOE", "jdoe")):
            self.add(Member(user_id=user_id, team_id=TEAM, name=name, email=f"{name}@example.com"))

    def add(self, member: Member) -> None:
        self._members[member.user_id] = member

    def update(self, user_id: str, **changes: object) -> None:
        self._members[user_id] = replace(self._members[user_id], **changes)

    def member(self, *, user_id: str) -> Member | None:
        return self._members.get(user_id)

    def home_team_id(self) -> str:
        return TEAM

    def find_by_email(self, *, email: str) -> Member | None:
        return next((m for m in self._members.values() if (m.email or "").lower() == email.lower()), None)


@dataclass
class Posted:
    channel: str
    ts: str
    request: OffboardRequest  # as last drawn


@dataclass
class FakeNotifier:
    """Keeps what Slack would show: each request's message as last drawn, the events published, the homes."""

    messages: dict[str, Posted] = field(default_factory=dict)  # by request id
    events: list[Event] = field(default_factory=list)
    homes: dict[str, Home] = field(default_factory=dict)
    reminded: list[str] = field(default_factory=list)
    proposals: dict[str, Proposal] = field(default_factory=dict)  # workflow proposals as last drawn, by id
    failed_steps: list[str] = field(default_factory=list)  # execution ids of steps failed untaken
    unreachable: set[str] = field(default_factory=set)  # channels (or members) that refuse the bot
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def announce(self, request: OffboardRequest, *, channel: str) -> tuple[str, str]:
        if channel in self.unreachable:
            raise NotificationFailed(f"Slack answered not_in_channel ({channel})")
        with self._lock:
            posted = Posted(channel=channel, ts=f"{next(self._ts)}.0", request=request)
            self.messages[request.id] = posted
        return posted.channel, posted.ts

    def refresh(self, request: OffboardRequest) -> None:
        with self._lock:
            posted = self.messages.get(request.id)
            if posted is not None and (posted.channel, posted.ts) == (request.message_channel, request.message_ts):
                posted.request = request

    def publish(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def publish_home(self, home: Home) -> None:
        with self._lock:
            self.homes[home.user_id] = home

    def remind(self, request: OffboardRequest) -> None:
        self.reminded.append(request.id)

    def propose(self, proposal: Proposal, *, channel: str) -> tuple[str, str]:
        if channel in self.unreachable:
            raise NotificationFailed(f"Slack answered not_in_channel ({channel})")
        with self._lock:
            self.proposals[proposal.request_id] = proposal
            return channel, f"{next(self._ts)}.0"

    def refresh_proposal(self, proposal: Proposal) -> None:
        with self._lock:
            self.proposals[proposal.request_id] = proposal

    def fail_step(self, proposal: Proposal) -> None:
        with self._lock:
            self.failed_steps.append(proposal.execution_id)

    def of(self, kind: type[Event]) -> list[Event]:
        """The events of one kind, in the order they were published."""
        with self._lock:
            return [event for event in self.events if isinstance(event, kind)]


class QueuedJobs:
    """The Jobs port as a queue the test drains when it wants the background work done."""

    def __init__(self) -> None:
        self._queue: list[tuple[str, Callable[[], object]]] = []
        self._lock = threading.Lock()
        self.done: list[str] = []

    def submit(self, job: Callable[[], object], *, name: str) -> None:
        with self._lock:
            self._queue.append((name, job))

    def drain(self, *, limit: int = 1000) -> list[str]:
        """Run every queued job, and those they queue, in order; return their names."""
        ran = []
        for _ in range(limit):
            with self._lock:
                if not self._queue:
                    return ran
                name, job = self._queue.pop(0)
            job()
            ran.append(name)
            self.done.append(name)
        raise AssertionError(f"jobs kept queueing more jobs: {ran[-10:]}")
