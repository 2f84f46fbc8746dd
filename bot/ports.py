"""The seams between the service and the outside world. Adapters implement these."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.domain.directory import ConsoleUser, Released, UserStatus
from bot.domain.events import Event
from bot.domain.lifecycle import Action, RequestState
from bot.domain.moves import Move
from bot.domain.notes import Note
from bot.domain.plan import StepKind, TargetPlan
from bot.domain.problems import Problem
from bot.domain.records import AuditEntry, OffboardRequest, StepStatus, Tally, TargetOutcome
from bot.domain.workflows import Proposal
from bot.errors import Refusal


class Console(Protocol):
    """An admin console holding user profiles (local directory, 8x8, SCIM...).

    Every mutating call returns only once the console has finished the operation, with what it took from the
    user (Released: numbers, licenses, desk phones, queues, ring groups), and raises a ConsoleError subclass when
    it did not.
    """

    name: str
    services_visible: bool  # False when the API shows no licenses, numbers or Contact Center details (SCIM)

    def find_user(self, *, reference: str) -> ConsoleUser | None:
        """Return the user whose username or email equals reference (case-insensitive), or None."""
        ...

    def find_users(self, *, references: Iterable[str]) -> dict[str, ConsoleUser | None]:
        """Return each distinct reference (stripped) with the user find_user would return for it; a
        console that can look many up in one call does (a bulk request names hundreds)."""
        ...

    def get_user(self, *, user_id: str) -> ConsoleUser | None:
        """Return the user with this console id, or None when it does not exist."""
        ...

    def get_users(self, *, names: Mapping[str, tuple[str, ...]]) -> dict[str, ConsoleUser | None]:
        """Return each user with these console ids as get_user would (None: it does not exist). `names` gives,
        for each id, the usernames the user may have now; a console that can list many users in one call
        finds them by those names, and reads on its own any user its answer does not hold."""
        ...

    def search_users(self, *, text: str, limit: int = 20) -> list[ConsoleUser]:
        """Return users whose username, email or name contains text, sorted by username."""
        ...

    def username_taken(self, *, username: str) -> bool:
        """Return True when some user already has this username (case-insensitive)."""
        ...

    def release_licenses(self, *, user_id: str) -> Released:
        """Remove every license and the phone numbers they hold from the user."""
        ...

    def set_status(self, *, user_id: str, status: UserStatus) -> Released:
        """Deactivate or reactivate the user."""
        ...

    def rename(self, *, user_id: str, new_username: str) -> Released:
        """Change the user's username; raises UsernameTaken when another user has it."""
        ...

    def delete(self, *, user_id: str) -> Released:
        """Delete the user profile and its user id for good."""
        ...

    def check(self) -> list[str]:
        """Reach the console and return what was found, a line each; raise ConsoleError when it cannot be used."""
        ...


@dataclass(frozen=True)
class Member:
    """A Slack workspace member as the bot needs to know them."""

    user_id: str
    team_id: str
    name: str
    email: str | None
    email_verified: bool = True
    is_bot: bool = False
    deleted: bool = False
    is_stranger: bool = False
    is_guest: bool = False  # a single- or multi-channel guest of the workspace
    tz: str = "UTC"


class MemberDirectory(Protocol):
    """Looks up Slack workspace members."""

    def member(self, *, user_id: str) -> Member | None:
        """Return the member, or None when Slack does not know them."""
        ...

    def home_team_id(self) -> str:
        """Return the id of the workspace the bot is installed in."""
        ...

    def find_by_email(self, *, email: str) -> Member | None:
        """Return the member with this email, or None (used to show and update admins' App Home)."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Return the current time, timezone-aware UTC."""
        ...


class NotificationFailed(Exception):
    """Slack did not take a message; the request's state is unaffected. `code` is Slack's error code when it
    answered one (e.g. "execution_not_in_running_state"), None when it could not be reached."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class Notifier(Protocol):
    """Shows requests in Slack and tells people what happened to them; Slack failing raises NotificationFailed."""

    def announce(self, request: OffboardRequest, *, channel: str) -> tuple[str, str]:
        """Post the request's message (approval, progress or manual steps) to channel; return its (channel, ts)."""
        ...

    def refresh(self, request: OffboardRequest) -> None:
        """Redraw the request's message to match its state (buttons only while someone can act on them)."""
        ...

    def publish(self, event: Event) -> None:
        """Tell the people concerned what happened: direct messages, results in the results channel."""
        ...

    def publish_home(self, home: Home) -> None:
        """Show a member their App Home tab as it now stands."""
        ...

    def remind(self, request: OffboardRequest) -> None:
        """Remind the approvers, in the approval message's thread, that the request still waits."""
        ...

    def propose(self, proposal: Proposal, *, channel: str) -> tuple[str, str]:
        """Post a workflow's proposal, for an admin to take, to channel; return its (channel, ts)."""
        ...

    def refresh_proposal(self, proposal: Proposal) -> None:
        """Redraw a proposal's message: who took it, or that it lapsed (and no button any more)."""
        ...

    def fail_step(self, proposal: Proposal) -> None:
        """Fail the step of a proposal that ended before anyone took it (no request was ever made)."""
        ...


class Jobs(Protocol):
    """Runs long jobs (executing a request) away from the thread that answers Slack."""

    def submit(self, job: Callable[[], object], *, name: str) -> None:
        """Start job soon; it must record its own outcome."""
        ...


@dataclass(frozen=True)
class ConsoleCall:
    """One HTTP request a console client sent; each retry and each poll is a call of its own."""

    backend: str  # "8x8", "scim"
    operation: str  # the method and the resource, such as "DELETE users" (never an id)
    status: int | None  # the HTTP status, or None when no answer came
    seconds: float  # from sending to the answer, or to giving up on it
    error: str | None = None  # why no answer came: the transport error's name, such as "ConnectTimeout"


class Metrics(Protocol):
    """What the bot counts for monitoring; bot/metrics.py serves it to Prometheus."""

    def request_finished(self, *, action: Action, outcome: RequestState) -> None:
        """A request reached its final state: done, failed, rejected, expired or cancelled."""
        ...

    def request_approved(self, *, action: Action, waited: timedelta) -> None:
        """A request got its last approval, `waited` after it was created (no separate submit time is kept)."""
        ...

    def lease_taken_over(self) -> None:
        """This process claimed a run whose lease, held by another process, had lapsed."""
        ...

    def sweep_finished(self, *, ok: bool, expired: int = 0, reminded: int = 0, started: int = 0) -> None:
        """A sweep ended (ok False: it failed), having expired, reminded about and started so many requests."""
        ...

    def console_call(self, call: ConsoleCall) -> None:
        """A console client sent one HTTP request."""
        ...


class NoMetrics:
    """The Metrics port counting nothing, for wherever nobody scrapes."""

    def request_finished(self, *, action: Action, outcome: RequestState) -> None:
        pass

    def request_approved(self, *, action: Action, waited: timedelta) -> None:
        pass

    def lease_taken_over(self) -> None:
        pass

    def sweep_finished(self, *, ok: bool, expired: int = 0, reminded: int = 0, started: int = 0) -> None:
        pass

    def console_call(self, call: ConsoleCall) -> None:
        pass


class TargetsBusy(Exception):
    """Another open request already holds one of the users."""

    def __init__(self, holders: dict[str, str]) -> None:
        super().__init__(f"users held by other requests: {holders}")
        self.holders = holders


@dataclass(frozen=True)
class NewRequest:
    id: str
    action: Action
    requester_id: str
    requester_email: str
    reason: str
    approvals_required: int
    expires_at: datetime
    origin_channel: str | None
    plans: tuple[TargetPlan, ...]
    run_at: datetime | None = None
    requester_tz: str = "UTC"
    left_out: tuple[tuple[Problem, ...], ...] = ()  # the problems of each user named but left out
    retry_of: str | None = None  # the finished request whose failed users this asks for again
    checklist: tuple[str, ...] = ()  # the policy's boxes the requester ticks before sending


@dataclass(frozen=True)
class Home:
    """What one member's App Home tab shows: for admins, what waits for them; for others, who to ask."""

    user_id: str
    is_admin: bool
    to_approve: tuple[OffboardRequest, ...] = ()  # waiting for this admin's approval
    mine: tuple[OffboardRequest, ...] = ()  # this admin's own open requests
    scheduled: tuple[OffboardRequest, ...] = ()  # approved, to run later (or their next stage)
    recent: tuple[OffboardRequest, ...] = ()  # finished lately
    to_take: tuple[Proposal, ...] = ()  # proposed by workflows, for an admin to take
    admins: tuple[str, ...] = ()  # Slack user ids of the admins (for members who are not one)
    why_not: Refusal | None = None  # why this member is not an admin here


@dataclass(frozen=True)
class ApprovalResult:
    recorded: bool  # False: a duplicate, or the request no longer awaited approval
    request: OffboardRequest
    became_approved: bool = False
    missing: int = 0  # approvals still needed, as the store counted them once recorded


class RequestRepository(Protocol):
    """Durable requests. Every write appends its audit entry in the same transaction."""

    def get(self, request_id: str) -> OffboardRequest | None: ...

    def holders(self, user_ids: Iterable[str]) -> dict[str, str]: ...

    def list(self, *, states: Iterable[RequestState] | None = None, limit: int = 20) -> list[OffboardRequest]: ...

    def create(self, new: NewRequest, *, now: datetime, entry: AuditEntry) -> OffboardRequest: ...

    def apply(self, move: Move, *, now: datetime) -> OffboardRequest | None: ...

    def version_of(self, request_id: str) -> int | None: ...

    def tally(self, request_id: str) -> Tally | None: ...

    def record_approval(self, request_id: str, *, approver_id: str, approver_email: str, now: datetime,
                        entry: AuditEntry, approved_entry: AuditEntry,
                        counted: Iterable[str] | None = None) -> ApprovalResult: ...

    def set_message(self, request_id: str, *, channel: str, ts: str) -> None: ...

    def start_step(self, target_id: int, kind: StepKind, *, now: datetime, entry: AuditEntry) -> None: ...

    def finish_step(self, target_id: int, kind: StepKind, *, status: StepStatus, note: Note | None, now: datetime,
                    entry: AuditEntry) -> None: ...

    def finish_target(self, target_id: int, *, outcome: TargetOutcome, note: Note, now: datetime,
                      entry: AuditEntry) -> None: ...

    def append_audit(self, entry: AuditEntry, *, now: datetime) -> None: ...

    def claim_due(self, *, owner: str, now: datetime, until: datetime, limit: int, request_id: str | None = None,
                  on_takeover: Callable[[str, str], None] | None = None) -> dict[str, str]: ...

    def renew_lease(self, request_id: str, *, token: str, until: datetime) -> bool: ...

    def release_lease(self, request_id: str, *, token: str) -> None: ...

    def count_interruption(self, request_id: str, *, entry: AuditEntry, now: datetime) -> int: ...

    def due_for_expiry(self, *, now: datetime, limit: int = 100) -> list[str]: ...

    def claim_reminders(self, *, now: datetime, every: timedelta, limit: int = 100) -> list[str]: ...

    # Proposals of Workflow Builder steps (bot/domain/workflows.py)
    def propose(self, proposal: Proposal, *, entry: AuditEntry) -> Proposal | None: ...

    def proposal(self, request_id: str) -> Proposal | None: ...

    def set_proposal_message(self, request_id: str, *, channel: str, ts: str) -> None: ...

    def take_proposal(self, request_id: str, *, by: str, now: datetime) -> Proposal | None: ...

    def give_back_proposal(self, request_id: str, *, by: str) -> None: ...

    def end_proposal(self, request_id: str, *, entry: AuditEntry, now: datetime,
                     untaken: bool = False) -> Proposal | None: ...

    def answer_proposal(self, request_id: str, *, version: int, entry: AuditEntry,
                        now: datetime) -> Proposal | None: ...

    def lapsed_proposals(self, *, now: datetime, limit: int = 100) -> list[str]: ...

    def waiting_proposals(self, *, now: datetime, limit: int = 20) -> list[Proposal]: ...

    def steps_waiting_since(self, before: datetime, *, limit: int = 100) -> list[str]: ...
