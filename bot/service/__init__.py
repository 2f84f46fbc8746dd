"""The offboarding service, split by job over one small core (bot/service/core.py):

- intake: commands become drafts with a plan per user; drafts are sent for approval; failed users retried;
- decisions: approve, reject, cancel, stop waiting, re-check;
- runs: leased runs through the execution gate (gate.py), users side by side (batch.py, steps.py);
- timers: expiries, reminders and due runs, for the sweeper;
- queries: status, lists, App Homes (homes.py), the user picker, and the audit of refusals;
- workflows: a Workflow Builder step proposes a request, an admin takes it, the step hears how it ended.

The service says what happened in typed events (bot/domain/events.py); it never words a message, never
imports Slack, HTTP or SQL, and reaches the world only through the ports (bot/ports.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.leases import new_owner_id
from bot.policy import Policy
from bot.ports import Clock, Console, Jobs, MemberDirectory, Metrics, NoMetrics, Notifier, RequestRepository
from bot.service.access import Gatekeeper
from bot.service.batch import WAVE, Batch
from bot.service.core import Core
from bot.service.decisions import Decisions
from bot.service.gate import Gate
from bot.service.homes import Homes
from bot.service.intake import MAX_USERS, Intake
from bot.service.queries import Queries
from bot.service.runs import Runs
from bot.service.steps import TargetRun
from bot.service.timers import Timers
from bot.service.workflows import Workflows

DEFAULT_LEASE = timedelta(seconds=60)  # renewed every third of it while a request runs


@dataclass(frozen=True)
class OffboardService:
    """The service's parts; the Slack edge and the sweeper call them."""

    core: Core
    gate: Gate
    intake: Intake
    decisions: Decisions
    runs: Runs
    timers: Timers
    queries: Queries
    steps: TargetRun  # each user's steps (its `sleep` is the pause between read-backs)
    workflows: Workflows

    @property
    def owner(self) -> str:
        return self.core.owner


def build_service(*, store: RequestRepository, console: Console, members: MemberDirectory, policy: Policy,
                  notifier: Notifier, jobs: Jobs, clock: Clock, owner: str | None = None,
                  lease_ttl: timedelta = DEFAULT_LEASE, metrics: Metrics | None = None, max_users: int = MAX_USERS,
                  workers: int = 1, wave: int = WAVE) -> OffboardService:
    """Wire the service's parts over the ports."""
    access = Gatekeeper(members=members, policy=policy)
    homes = Homes(store=store, access=access, members=members, policy=policy, notifier=notifier, jobs=jobs,
                  clock=clock)
    core = Core(store=store, console=console, members=members, policy=policy, notifier=notifier, jobs=jobs,
                clock=clock, metrics=metrics or NoMetrics(), access=access, homes=homes,
                owner=owner or new_owner_id(), lease_ttl=lease_ttl)
    gate = Gate(core)
    steps = TargetRun(store=store, console=console, clock=clock)
    runs = Runs(core, gate, Batch(steps, workers=workers, wave=wave))
    intake = Intake(core, runs, max_users=max_users)
    workflows = Workflows(core, intake)
    core.on_change = workflows.changed
    return OffboardService(core=core, gate=gate, intake=intake, decisions=Decisions(core, gate, runs), runs=runs,
                           timers=Timers(core, runs, workflows), queries=Queries(core), steps=steps,
                           workflows=workflows)
