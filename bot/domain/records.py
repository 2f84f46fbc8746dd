"""What the bot remembers about a request, as the service sees it (storage maps rows to these)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.plan import StepKind, TargetPlan
from bot.domain.requests import Action, RequestState


class TargetOutcome(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    ABORTED = "aborted"  # stopped before touching the console: the record changed since approval


class StepStatus(StrEnum):
    STARTED = "started"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class AuditEntry:
    """One thing that happened: who did it (a Slack user id or "system"), what, to which request."""

    actor: str
    event: str
    request_id: str | None = None
    data: dict | None = None


@dataclass(frozen=True)
class StepRecord:
    kind: StepKind
    status: StepStatus
    detail: str
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class Target:
    id: int
    position: int
    plan: TargetPlan
    outcome: TargetOutcome
    detail: str
    steps: tuple[StepRecord, ...] = ()

    def step(self, kind: StepKind) -> StepRecord | None:
        return next((step for step in self.steps if step.kind is kind), None)


@dataclass(frozen=True)
class Approval:
    approver_id: str
    approver_email: str
    at: datetime


@dataclass(frozen=True)
class Actor:
    """Who is acting, taken from the signed Slack payload only."""

    user_id: str
    team_id: str | None
    enterprise_id: str | None = None


@dataclass(frozen=True)
class OffboardRequest:
    id: str
    action: Action
    state: RequestState
    version: int
    requester_id: str
    requester_email: str
    reason: str
    approvals_required: int
    created_at: datetime
    expires_at: datetime
    origin_channel: str | None
    targets: tuple[Target, ...]
    approvals: tuple[Approval, ...] = ()
    attested_by: str | None = None  # who confirmed the manual Contact Center step
    message_channel: str | None = None  # the approval (or confirmation) message
    message_ts: str | None = None
    decided_by: str | None = None
    decision_note: str = ""

    @property
    def approvals_missing(self) -> int:
        return max(0, self.approvals_required - len(self.approvals))

    @property
    def needs_contact_center_attestation(self) -> bool:
        return any(target.plan.needs_contact_center_attestation for target in self.targets)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at
