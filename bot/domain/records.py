"""What the bot remembers about a request, as the service sees it (storage maps rows to these)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.emails import normal_email
from bot.domain.lifecycle import Action, RequestState
from bot.domain.notes import Note
from bot.domain.plan import StepKind, TargetPlan
from bot.domain.problems import Problem
from bot.errors import Refusal

MANUAL_STEPS_BOX = "attested"  # the key of the box confirming the steps done by hand


def checklist_box(number: int) -> str:
    """The key of the checklist's box `number` (from 1), as the requester's preview sends it back."""
    return f"box-{number}"


class TargetOutcome(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    ABORTED = "aborted"  # stopped before touching the console: the record changed since approval


class StepStatus(StrEnum):
    STARTED = "started"
    DONE = "done"
    FAILED = "failed"
    MANUAL = "manual"  # the console cannot do it: waiting for an admin to do it by hand, then a Re-check


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
    note: Note | None
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class Target:
    id: int
    position: int
    plan: TargetPlan
    outcome: TargetOutcome
    note: Note | None  # why it ended as it did (None while pending)
    steps: tuple[StepRecord, ...] = ()

    def step(self, kind: StepKind) -> StepRecord | None:
        return next((step for step in self.steps if step.kind is kind), None)

    @property
    def manual_step(self) -> StepRecord | None:
        """The step waiting to be done by hand, if this target is still waiting for one."""
        if self.outcome is not TargetOutcome.PENDING:
            return None
        return next((step for step in self.steps if step.status is StepStatus.MANUAL), None)


@dataclass(frozen=True)
class Approval:
    approver_id: str
    approver_email: str
    at: datetime


@dataclass(frozen=True)
class Approvers:
    """A request's approvals, sorted by whether they count (OffboardRequest.approvers)."""

    counted: tuple[Approval, ...] = ()  # one per person, each still an admin
    gone: tuple[Approval, ...] = ()  # by people no longer admins
    repeated: tuple[Approval, ...] = ()  # by the requester, or an approver counted already, under another account
    offboarded: tuple[Approval, ...] = ()  # by someone the request offboards


@dataclass(frozen=True)
class Actor:
    """Who is acting, taken from the signed Slack payload only."""

    user_id: str
    team_id: str | None
    enterprise_id: str | None = None


@dataclass(frozen=True)
class WorkflowOrigin:
    """A request a Workflow Builder step proposed (bot/domain/workflows.py): who ran the workflow ('' when Slack did
    not say), and whether the workflow said the offboarding process was complete. Approvers see both."""

    proposed_by: str
    process_complete: bool


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
    attested_by: str | None = None  # who ticked the checklist and confirmed the manual steps, when sent
    message_channel: str | None = None  # the approval (or confirmation) message
    message_ts: str | None = None
    decided_by: str | None = None
    decision_note: str = ""
    run_at: datetime | None = None  # when it may run (or run its next stage); None: once approved
    started_at: datetime | None = None  # when its first step began; stages count from here
    remind_at: datetime | None = None  # next reminder to the approvers
    requester_tz: str = "UTC"  # the requester's Slack time zone, for showing times
    lease_owner: str | None = None  # the process running it, if any
    left_out: tuple[tuple[Problem, ...], ...] = ()  # the problems of each user named but left out before approval
    retry_of: str | None = None  # the finished request whose failed users this asks for again
    checklist: tuple[str, ...] = ()  # the policy's boxes the requester ticks before sending, as shown to them
    workflow: WorkflowOrigin | None = None  # the workflow step that proposed it, if one did

    @property
    def approvals_missing(self) -> int:
        """Approvals still needed: one per person (emails compared normalised), never the requester's nor a
        target's."""
        return max(0, self.approvals_required - len(self.approvers().counted))

    def approvers(self, still_admin: Callable[[Approval], bool] = lambda approval: True) -> Approvers:
        """The approvals sorted by whether they count: never a target's; never the requester's, nor a second one of
        a person counted already (same Slack id, or same email compared normalised); and only while `still_admin`
        says so (the execution gate asks Slack and the policy; for showing, everyone still is)."""
        requester = normal_email(self.requester_email)
        counted: list[Approval] = []
        gone, repeated, offboarded = [], [], []
        for approval in self.approvals:
            email = normal_email(approval.approver_email)
            if self.offboards(approval.approver_id, email):
                offboarded.append(approval)
            elif (email in (requester, *(normal_email(earlier.approver_email) for earlier in counted))
                  or approval.approver_id in (self.requester_id, *(earlier.approver_id for earlier in counted))):
                repeated.append(approval)
            elif still_admin(approval):
                counted.append(approval)
            else:
                gone.append(approval)
        return Approvers(tuple(counted), tuple(gone), tuple(repeated), tuple(offboarded))

    def offboards(self, user_id: str, email: str) -> bool:
        """True when this Slack member is one of the request's targets: named as this member, or with this
        email (compared normalised) in the console."""
        email = normal_email(email)
        return any(target.plan.slack_user_id == user_id or (email and normal_email(target.plan.email) == email)
                   for target in self.targets)

    @property
    def needs_attestation(self) -> bool:
        """True when some target has steps done by hand, which the requester must confirm before approval."""
        return any(target.plan.manual_steps for target in self.targets)

    @property
    def boxes(self) -> tuple[str, ...]:
        """The keys of every box the requester must tick before sending: one per line of the checklist, then
        one confirming the manual steps when there are some."""
        keys = tuple(checklist_box(number) for number in range(1, len(self.checklist) + 1))
        return keys + ((MANUAL_STEPS_BOX,) if self.needs_attestation else ())

    @property
    def manual_step_kinds(self) -> tuple[StepKind, ...]:
        """The distinct kinds of manual steps of all targets, in plan order."""
        return tuple(dict.fromkeys(step.kind for target in self.targets for step in target.plan.manual_steps))

    @property
    def any_step_begun(self) -> bool:
        """True once some step of some user was journalled (a staged request past its first stage, say)."""
        return any(target.steps for target in self.targets)

    def counts(self) -> dict[TargetOutcome, int]:
        """How many users ended (or are pending) each way."""
        counted = dict.fromkeys(TargetOutcome, 0)
        for target in self.targets:
            counted[target.outcome] += 1
        return counted

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class Tally:
    """How far a running request got, counted by the database without loading its users: the request's version
    (a tally of a request changed since it was loaded is not drawn on its old picture) and its users by outcome."""

    version: int
    counts: dict[TargetOutcome, int]


class AlreadyDecided(Refusal):
    """Someone or something else already moved the request on: `request` is how it stands now. With
    `you_approved`, it still waits, but for an admin other than the one who clicked."""

    def __init__(self, request: OffboardRequest, *, you_approved: bool = False) -> None:
        super().__init__("already_decided", request_id=request.id, state=request.state.value,
                         decided_by=request.decided_by, you_approved=you_approved)
        self.request = request
        self.you_approved = you_approved
