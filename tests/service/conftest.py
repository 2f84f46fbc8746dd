"""The service over stateful fakes: the real store (SQLite, or PostgreSQL for `any_engine` tests), the local
console with fault switches, fake members, notifier and jobs, a manual clock. No HTTP, no Slack."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.clock import ManualClock
from bot.console.local import LocalConsole
from bot.domain.commands import Command, UserRef, Verb
from bot.domain.records import MANUAL_STEPS_BOX, Actor, OffboardRequest
from bot.policy import Policy
from bot.service import OffboardService, build_service
from bot.service.batch import WAVE
from bot.simulators.faulty_console import FaultyConsole
from storage.request_store import RequestStore
from tests.service.fakes import TEAM, FakeMembers, FakeNotifier, QueuedJobs

IDS = {"alice": "U0ALICE", "bob": "U0BOB", "dana": "U0DANA", "carol": "U0CAROL", "jdoe": "U0JDOE"}


@dataclass
class Desk:
    """The service and everything around it, with the verbs tests use to act as admins."""

    service: OffboardService
    store: RequestStore
    console: FaultyConsole
    members: FakeMembers
    notifier: FakeNotifier
    jobs: QueuedJobs
    clock: ManualClock
    engine: Engine

    @staticmethod
    def actor(who: str) -> Actor:
        return Actor(user_id=IDS.get(who, who), team_id=TEAM)

    def ask(self, who: str, verb: str, *users: str, **options: object) -> OffboardRequest:
        """A draft, as /offboard <verb> <users> would make it."""
        command = Command(verb=Verb(verb), targets=tuple(UserRef(text=user) for user in users), **options)
        return self.service.intake.prepare(actor=self.actor(who), command=command, origin_channel="C0GENERAL").request

    def send(self, who: str, request: OffboardRequest, *, attested: bool = False) -> OffboardRequest:
        """Send a draft with the policy's checklist ticked, and the manual steps' box when `attested`."""
        return self.service.intake.submit(actor=self.actor(who), request_id=request.id,
                                          ticked=ticked(request, attested=attested)).request

    def approve(self, who: str, request: OffboardRequest) -> OffboardRequest:
        return self.service.decisions.approve(actor=self.actor(who), request_id=request.id).request

    def get(self, request: OffboardRequest | str) -> OffboardRequest:
        return self.store.get(request if isinstance(request, str) else request.id)

    def later(self, delta: timedelta) -> None:
        self.clock.advance(delta)

    def sweep(self) -> None:
        """What the sweeper does on its tick, and the runs it starts."""
        timers = self.service.timers
        timers.expire_overdue()
        timers.lapse_overdue_proposals()
        timers.send_due_reminders()
        timers.answer_overdue_steps()
        timers.start_due_runs()
        self.jobs.drain()


def ticked(request: OffboardRequest, *, attested: bool = False) -> list[str]:
    """The keys of the request's boxes a requester ticks: the checklist's, and the manual steps' when attested."""
    return [box for box in request.boxes if attested or box != MANUAL_STEPS_BOX]


def make_desk(engine: Engine, console: FaultyConsole, policy: Policy, clock: ManualClock, *,
              workers: int = 1, wave: int = WAVE, lease: timedelta = timedelta(seconds=60)) -> Desk:
    store = RequestStore(engine)
    members, notifier, jobs = FakeMembers(), FakeNotifier(), QueuedJobs()
    service = build_service(store=store, console=console, members=members, policy=policy, notifier=notifier,
                            jobs=jobs, clock=clock, lease_ttl=lease, workers=workers,
                            wave=wave)
    return Desk(service=service, store=store, console=console, members=members, notifier=notifier, jobs=jobs,
                clock=clock, engine=engine)


@pytest.fixture
def console(tmp_path) -> FaultyConsole:
    local = LocalConsole(tmp_path / "console.db")
    local.seed_if_empty()
    return FaultyConsole(local)


@pytest.fixture
def desk(sqlite_engine, console, policy, clock) -> Iterator[Desk]:
    yield make_desk(sqlite_engine, console, policy, clock)


@pytest.fixture
def any_desk(any_engine, console, policy, clock) -> Iterator[Desk]:
    yield make_desk(any_engine, console, policy, clock)
