"""The offboarding service: the request's life from the command to the outcome."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.access import Admin, Gatekeeper
from bot.ambient import LeaseLost, holding_lease
from bot.domain.commands import MAX_REASON, Command, UserRef, Verb
from bot.domain.directory import ConsoleUser, UserStatus, username_problem
from bot.domain.lifecycle import Action, RequestState
from bot.domain.plan import StepKind, TargetPlan, build_plan
from bot.domain.records import Actor, AuditEntry, OffboardRequest, TargetOutcome
from bot.domain.schedule import Schedule
from bot.domain.text import escape, quote
from bot.errors import AlreadyDecided, NotFound, Refusal, StorageUnavailable
from bot.executor import Executor
from bot.leases import Lease, new_owner_id
from bot.policy import Policy, Role
from bot.ports import (
    Clock,
    Console,
    Home,
    MemberDirectory,
    Metrics,
    NewRequest,
    NoMetrics,
    NotificationFailed,
    Notifier,
    RequestRepository,
    Runner,
    TargetsBusy,
)

log = logging.getLogger(__name__)
_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
MAX_INTERRUPTIONS = 3  # unexpected errors in one run before it stops for good
DEFAULT_LEASE = timedelta(seconds=60)  # renewed every third of it while a request runs
MAX_USERS = 500  # users one request may name, unless the settings say otherwise
OPEN_STATES = (RequestState.AWAITING_APPROVAL, RequestState.APPROVED, RequestState.EXECUTING, RequestState.WAITING)


def new_request_id() -> str:
    """Return a fresh request id such as OB-7K2M4Q9A, easy to read aloud and to type."""
    return "OB-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


@dataclass(frozen=True)
class _HomeLists:
    """The requests every App Home is drawn from, read once per change."""

    open: tuple[OffboardRequest, ...]
    recent: tuple[OffboardRequest, ...]


@dataclass(frozen=True)
class Decision:
    """What a click did: the request as it now stands, and whether this click moved it."""

    request: OffboardRequest
    message: str


class OffboardService:
    """Prepares, approves, rejects, cancels and runs offboarding requests."""

    def __init__(self, *, store: RequestRepository, console: Console, members: MemberDirectory, policy: Policy,
                 notifier: Notifier, runner: Runner, clock: Clock, owner: str | None = None,
                 lease_ttl: timedelta = DEFAULT_LEASE, metrics: Metrics | None = None, max_users: int = MAX_USERS,
                 workers: int = 1) -> None:
        self._store = store
        self._metrics = metrics or NoMetrics()
        self.owner = owner or new_owner_id()
        self._lease_ttl = lease_ttl
        self._runner = runner
        self._console = console
        self._members = members
        self._policy = policy
        self._notifier = notifier
        self._clock = clock
        self._gate = Gatekeeper(members=members, policy=policy)
        self._homes_lock = threading.Lock()
        self._homes_due: set[str] = set()  # requesters whose requests changed since the last redraw
        self._homes_running = False
        self._max_users = max_users
        self._executor = Executor(store=store, console=console, clock=clock, workers=workers)

    # -- asking ---------------------------------------------------------------------------------------

    def prepare(self, *, actor: Actor, command: Command, origin_channel: str | None) -> OffboardRequest:
        """Return a new draft request with a plan per target; raise Refusal naming every blocker.

        When several users are named and only some have problems, the draft holds the others and lists the
        problems (`left_out`): the requester sees them before asking for approval and need not start over."""
        action = command.action
        admin = self._gate.admin(actor)
        if len(command.targets) > self._max_users:
            raise Refusal("too_many_users", f"That names {len(command.targets)} users; one request may name at "
                          f"most {self._max_users}. Split the list into several requests.")
        tz = admin.member.tz or "UTC"  # the member the admin check just read
        now = self._clock.now()
        schedule = command.schedule(tz=tz, now=now)  # BadCommand when --at is unreadable or not ahead
        found = self._resolve_all(command.targets)
        plans = [self._plan(ref, found[ref], action=action, admin=admin, new_username=command.new_username,
                            schedule=schedule) for ref in command.targets]
        plans = list({plan.user_id: plan for plan in plans if plan.user_id}.values()) + [
            plan for plan in plans if not plan.user_id]
        blocked = [plan for plan in plans if plan.blockers]
        if blocked and (len(plans) == 1 or len(blocked) == len(plans)):
            raise Refusal("blocked", "\n".join(blocker for plan in blocked for blocker in plan.blockers))
        left_out = tuple(" ".join(plan.blockers) for plan in blocked)  # a line per user
        plans = [plan for plan in plans if not plan.blockers]
        new = NewRequest(
            id=new_request_id(), action=action, requester_id=actor.user_id, requester_email=admin.email,
            reason=command.reason, approvals_required=self._policy.approvals_required(action, targets=len(plans)),
            expires_at=self._expiry(now, schedule.run_at), origin_channel=origin_channel, plans=tuple(plans),
            run_at=schedule.run_at, requester_tz=tz, left_out=left_out,
        )
        entry = AuditEntry(actor=actor.user_id, event="request.drafted", request_id=new.id,
                           data={"action": action.value, "requester": admin.email, "reason": command.reason,
                                 "targets": [plan.username for plan in plans], "left_out": list(left_out),
                                 "approvals_required": new.approvals_required,
                                 "schedule": schedule.describe("UTC")})
        return self._store.create(new, now=now, entry=entry)

    def _plan(self, ref: UserRef, resolved: tuple[ConsoleUser | None, str], *, action: Action, admin: Admin,
              new_username: str | None, schedule: Schedule) -> TargetPlan:
        user, problem = resolved
        if user is None:
            return _blocked_plan(action, ref, problem)
        plan = build_plan(action, user, new_username=new_username, services_visible=self._console.services_visible,
                          grace=schedule.grace, retain=schedule.retain)
        return plan.with_blockers(self._blockers(plan, user, admin=admin))

    def _resolve_all(self, refs: tuple[UserRef, ...]) -> dict[UserRef, tuple[ConsoleUser | None, str]]:
        """Find every named user in the console, in as few calls as the console allows; return each reference
        with its user, or None and why not."""
        texts: dict[UserRef, str] = {}
        resolved: dict[UserRef, tuple[ConsoleUser | None, str]] = {}
        for ref in refs:
            if ref.console_id:
                user = self._console.get_user(user_id=ref.console_id)
                resolved[ref] = (user, "") if user is not None else (
                    None, f"{quote(ref.text)}: no longer in the {self._console.name} console.")
                continue
            if not ref.slack_user_id:
                texts[ref] = ref.text.strip()
                continue
            member = self._members.member(user_id=ref.slack_user_id)
            if member is None or not member.email:
                resolved[ref] = (None, f"{quote(str(ref))}: I cannot see an email for this Slack member, so I "
                                 "cannot find their profile.")
            else:
                texts[ref] = member.email.strip()
        users = self._console.find_users(references=texts.values()) if texts else {}
        for ref, text in texts.items():
            user = users.get(text)
            resolved[ref] = (user, "") if user is not None else (
                None, f"{quote(text)}: no user with this username or email in the {self._console.name} console.")
        return resolved

    def _blockers(self, plan: TargetPlan, user: ConsoleUser, *, admin: Admin) -> list[str]:
        name = quote(user.username)
        blockers = []
        if self._policy.protected(username=user.username, email=user.email):
            blockers.append(f"{name} is protected by the policy and cannot be offboarded.")
        if admin.email in (user.email.lower(), user.username.lower()):
            blockers.append(f"{name} is you: you cannot offboard yourself.")
        holder = self._store.holders([user.id]).get(user.id)
        if holder and self._expire_if_due(self._get(holder)).state.holds_targets:
            blockers.append(f"{name} is already part of open request {holder}.")
        if plan.action is Action.DEACTIVATE and user.status is UserStatus.INACTIVE:
            blockers.append(f"{name} is already deactivated.")
        if plan.action is Action.REACTIVATE and user.status is UserStatus.ACTIVE:
            blockers.append(f"{name} is already active.")
        if plan.action is Action.RENAME:
            blockers += self._rename_blockers(user, plan.new_username or "")
        return blockers

    def _rename_blockers(self, user: ConsoleUser, new_username: str) -> list[str]:
        problem = username_problem(new_username)
        if problem:
            return [f"{quote(new_username)} cannot be used: {problem}."]
        if new_username.lower() == user.username.lower():
            return [f"{quote(user.username)} already has that username."]
        other = self._console.find_user(reference=new_username)  # a username or someone's email
        if self._console.username_taken(username=new_username) or (other and other.id != user.id):
            return [f"{quote(new_username)} is already in use by another user."]
        return []

    def submit(self, *, actor: Actor, request_id: str, attested: bool) -> OffboardRequest:
        """Send a draft for approval, or run it when the policy needs no approver; return it."""
        request = self._get(request_id)
        admin = self._gate.admin(actor, request_id=request_id)
        if admin.user_id != request.requester_id:
            raise Refusal("not_requester", "Only the admin who prepared this request can send it.",
                          request_id=request_id)
        self._ensure_open(request, RequestState.DRAFT)
        if request.needs_attestation and not attested:
            raise Refusal(
                "manual_steps_not_attested",
                "This plan has steps done by hand: " + "; ".join(request.manual_step_summaries)
                + ". Do them, tick the box confirming it, then press the button again.", request_id=request_id)
        now = self._clock.now()
        if request.run_at and request.run_at <= now:
            raise Refusal("run_time_passed", f"This request was to run at {_utc(request.run_at)}, which has passed. "
                          "Ask again with a new time.", request_id=request_id)
        direct = request.approvals_required == 0
        target = RequestState.APPROVED if direct else RequestState.AWAITING_APPROVAL
        entry = AuditEntry(actor=actor.user_id, event="request.confirmed" if direct else "request.submitted",
                           request_id=request_id, data={"attested_manual_steps": attested})
        expires_at = self._expiry(now, request.run_at)  # approvers get the full window, up to the run time
        changes = {"attested_by": actor.user_id if request.needs_attestation else None, "expires_at": expires_at}
        every = self._policy.approvals.remind_every
        if not direct and every and now + every < expires_at:
            changes["remind_at"] = now + every
        if direct:
            changes["decided_by"] = actor.user_id
        try:
            moved = self._store.transition(request_id, to=target, allowed_from=[RequestState.DRAFT], now=now,
                                           entry=entry, changes=changes)
        except TargetsBusy as busy:
            raise Refusal("busy", "Another open request took these users meanwhile: "
                          + ", ".join(sorted(set(busy.holders.values()))), request_id=request_id) from None
        if moved is None:
            raise AlreadyDecided(_describe(self._get(request_id)), request_id=request_id)
        if direct:
            self._start(request_id)
            return moved
        self._announce(moved)
        self._update_homes(request_id)
        return self._get(request_id)

    def retry_failed(self, *, actor: Actor, request_id: str) -> OffboardRequest:
        """Return a new draft, prepared for the clicking admin, holding the users of a finished request that
        failed or were stopped. The plans are made afresh from the console, so a user whose step went
        through after all shows up as a problem (gone, already inactive) rather than being done twice."""
        self._gate.admin(actor, request_id=request_id)
        request = self._get(request_id)
        if request.state is not RequestState.FAILED:
            raise Refusal("nothing_to_retry", f"Request {request.id} has no failed users to retry: "
                          f"{_describe(request)}", request_id=request_id)
        failed = [target.plan for target in request.targets
                  if target.outcome in (TargetOutcome.FAILED, TargetOutcome.ABORTED)]
        if not failed:
            raise Refusal("nothing_to_retry", f"Request {request.id} has no failed users to retry.",
                          request_id=request_id)
        reason = f"Retry of the users that failed in {request.id}" + (f": {request.reason}" if request.reason else "")
        # The same profiles, by console id: a username may have passed to someone else since.
        command = Command(verb=Verb(request.action.value),
                          targets=tuple(UserRef(text=plan.username, console_id=plan.user_id) for plan in failed),
                          new_username=failed[0].new_username if request.action is Action.RENAME else None,
                          reason=reason[:MAX_REASON], **_stages_of(failed))
        draft = self.prepare(actor=actor, command=command, origin_channel=request.origin_channel)
        self._store.append_audit(AuditEntry(actor=actor.user_id, event="request.retried", request_id=request_id,
                                            data={"draft": draft.id, "users": [plan.username for plan in failed]}),
                                 now=self._clock.now())
        return draft

    # -- deciding -------------------------------------------------------------------------------------

    def approve(self, *, actor: Actor, request_id: str) -> Decision:
        """Count the actor's approval; run the request when it was the last one needed."""
        admin = self._gate.admin(actor, request_id=request_id)
        request = self._get(request_id)
        self._ensure_open(request, RequestState.AWAITING_APPROVAL)
        self._ensure_not_requester(actor, admin, request)
        if any(approval.approver_email == admin.email for approval in request.approvals):
            raise AlreadyDecided("You already approved this request; it needs a different admin now.",
                                 request_id=request_id)
        now = self._clock.now()
        entry = AuditEntry(actor=actor.user_id, event="request.approval", request_id=request_id,
                           data={"approver": admin.email, "role": admin.role.value})
        approved = AuditEntry(actor=actor.user_id, event="request.approved", request_id=request_id)
        result = self._store.record_approval(request_id, approver_id=actor.user_id, approver_email=admin.email,
                                             now=now, entry=entry, approved_entry=approved,
                                             counted=self._policy.admin_emails)
        if not result.recorded:
            current = self._get(request_id)
            if current.state is RequestState.AWAITING_APPROVAL and current.expired(now):
                self._ensure_open(current, RequestState.AWAITING_APPROVAL)
            if current.state is RequestState.AWAITING_APPROVAL:
                raise AlreadyDecided("You already approved this request; it needs a different admin now.",
                                 request_id=request_id)
            raise AlreadyDecided(_describe(current), request_id=request_id)
        if result.became_approved:
            self._metrics.request_approved(action=result.request.action, waited=now - result.request.created_at)
            self._refresh(request_id)  # buttons off, Home tabs updated, even when it runs only later
            self._start(request_id)
            results = f"<#{self._policy.channels.results}>"
            if result.request.run_at and result.request.run_at > now:
                return Decision(result.request, f"Approved. It will run at {_utc(result.request.run_at)} and can be "
                                f"cancelled until then; the outcome will be posted in {results}.")
            return Decision(result.request, "Approved. It is running now; the outcome will be posted in "
                            f"<#{self._policy.channels.results}>.")
        self._refresh(request_id)
        return Decision(result.request, f"Approval counted; {result.request.approvals_missing} more needed.")

    def check_can_reject(self, *, actor: Actor, request_id: str) -> OffboardRequest:
        """Return the request when the actor may reject it now; raise Refusal otherwise."""
        admin = self._gate.admin(actor, request_id=request_id)
        request = self._get(request_id)
        self._ensure_open(request, RequestState.AWAITING_APPROVAL)
        self._ensure_not_requester(actor, admin, request)
        return request

    def reject(self, *, actor: Actor, request_id: str, reason: str) -> Decision:
        """Reject the request with a reason; raise AlreadyDecided when someone else decided first."""
        reason = reason.strip()
        if not reason:
            raise Refusal("no_reason", "Give a reason for the rejection.")
        self.check_can_reject(actor=actor, request_id=request_id)
        entry = AuditEntry(actor=actor.user_id, event="request.rejected", request_id=request_id,
                           data={"reason": reason})
        moved = self._store.transition(request_id, to=RequestState.REJECTED,
                                       allowed_from=[RequestState.AWAITING_APPROVAL], now=self._clock.now(),
                                       entry=entry, changes={"decided_by": actor.user_id, "decision_note": reason})
        if moved is None:
            raise AlreadyDecided(_describe(self._get(request_id)), request_id=request_id)
        self._ended(moved)
        self._refresh(moved.id)
        self._tell(moved.requester_id, f"Your request {moved.id} was rejected by <@{actor.user_id}>: {escape(reason)}")
        return Decision(moved, "Rejected.")

    def cancel(self, *, actor: Actor, request_id: str) -> Decision:
        """Cancel a request that is not running right now; the requester or a primary admin may.

        A request waiting for a manual step is stopped; a staged one keeps the stages already done."""
        admin = self._gate.admin(actor, request_id=request_id)
        request = self._get(request_id)
        if request.state is RequestState.WAITING:
            return self.stop_waiting(actor=actor, request_id=request_id)
        if admin.user_id != request.requester_id and admin.role is not Role.PRIMARY:
            raise Refusal("not_requester",
                          "Only the admin who asked for this request (or a primary admin) can cancel it.",
                          request_id=request_id)
        cancellable = (RequestState.DRAFT, RequestState.AWAITING_APPROVAL, RequestState.APPROVED)
        if request.state not in cancellable:
            raise AlreadyDecided(_describe(request), request_id=request.id)
        entry = AuditEntry(actor=actor.user_id, event="request.cancelled", request_id=request_id,
                           data={"previous_state": request.state.value})
        moved = self._store.transition(request_id, to=RequestState.CANCELLED, allowed_from=cancellable,
                                       now=self._clock.now(), entry=entry, changes={"decided_by": actor.user_id})
        if moved is None:
            raise AlreadyDecided(_describe(self._get(request_id)), request_id=request_id)
        self._ended(moved)
        self._refresh(moved.id)
        if moved.requester_id != actor.user_id:
            self._tell(moved.requester_id, f"Your request {moved.id} was cancelled by <@{actor.user_id}>.")
        if any(step for target in moved.targets for step in target.steps):
            return Decision(moved, f"Request {moved.id} is cancelled before its next stage; the stages already "
                            "done stay done.")
        return Decision(moved, f"Request {moved.id} is cancelled; nothing was changed in the console.")

    # -- running --------------------------------------------------------------------------------------

    def recheck(self, *, actor: Actor, request_id: str) -> Decision:
        """An admin did the manual steps by hand: verify them by reading the users back, then carry on."""
        self._gate.admin(actor, request_id=request_id)
        request = self._get(request_id)
        if request.state is not RequestState.WAITING:
            raise AlreadyDecided(_describe(request), request_id=request_id)
        moved = self._store.transition(request_id, to=RequestState.EXECUTING, allowed_from=[RequestState.WAITING],
                                       now=self._clock.now(),
                                       entry=AuditEntry(actor=actor.user_id, event="request.recheck",
                                                        request_id=request_id))
        if moved is None:
            raise AlreadyDecided(_describe(self._get(request_id)), request_id=request_id)
        self._refresh(request_id)
        self._start(request_id, rechecked_by=actor.user_id)
        return Decision(moved, "Re-checking: I am reading the users back from the console and will carry on "
                        "with the remaining steps if the manual ones show as done.")

    def stop_waiting(self, *, actor: Actor, request_id: str) -> Decision:
        """Give up on the manual steps: the request ends as failed and its users are released."""
        admin = self._gate.admin(actor, request_id=request_id)
        request = self._get(request_id)
        if admin.user_id != request.requester_id and admin.role is not Role.PRIMARY:
            raise Refusal("not_requester", "Only the admin who asked for this request (or a primary admin) can "
                          "stop it.", request_id=request_id)
        if request.state is not RequestState.WAITING:
            raise AlreadyDecided(_describe(request), request_id=request_id)
        moved = self._store.transition(
            request_id, to=RequestState.FAILED, allowed_from=[RequestState.WAITING], now=self._clock.now(),
            entry=AuditEntry(actor=actor.user_id, event="request.stopped", request_id=request_id),
            changes={"decided_by": actor.user_id},
            fail_pending="stopped while a step waited to be done by hand; earlier steps stay done")
        if moved is None:
            raise AlreadyDecided(_describe(self._get(request_id)), request_id=request_id)
        finished = self._get(request_id)
        self._ended(finished)
        self._safely(self._notifier.post_outcome, finished)  # first: the redraw reads the database again
        if finished.requester_id != actor.user_id:
            self._tell(finished.requester_id, f"Your request {finished.id} was stopped by <@{actor.user_id}> "
                       "while it waited for a manual step.")
        self._refresh(request_id)
        return Decision(finished, f"Request {finished.id} is stopped; steps already done stay done.")

    def run(self, *, request_id: str, rechecked_by: str | None = None,
            keep_going: Callable[[], bool] = lambda: True) -> OffboardRequest:
        """Execute a due approved request, or carry on with one left executing; tell everyone.

        The caller holds the request's lease (see _run_leased); `keep_going` turns False if it is lost."""
        request = self._get(request_id)
        if request.state is RequestState.APPROVED:
            if request.run_at and request.run_at > self._clock.now():
                return request  # not yet: the sweeper starts it when it is due
            lapsed = self._lapsed_authority(request)
            if lapsed:
                return self._call_off(request, lapsed)
            changes = {"started_at": self._clock.now()} if request.started_at is None else {}
            request = self._store.transition(request_id, to=RequestState.EXECUTING,
                                             allowed_from=[RequestState.APPROVED], now=self._clock.now(),
                                             entry=AuditEntry(actor="system", event="request.executing",
                                                              request_id=request_id), changes=changes)
            if request is None:
                return self._get(request_id)  # cancelled meanwhile
            if not request.message_ts and len(request.targets) > 1:
                self._post_progress_message(request)
            self._refresh(request_id)
        elif request.state is not RequestState.EXECUTING:
            return request
        try:
            finished = self._executor.run(request, keep_going=keep_going,
                                          on_progress=lambda: self._show_progress(request_id))
        except LeaseLost:
            self._store.append_audit(AuditEntry(actor="system", event="request.lease_lost", request_id=request_id,
                                                data={"owner": self.owner}), now=self._clock.now())
            return self._get(request_id)
        except Exception as error:
            # Unknown trouble (a bug, the database going away): the step journal keeps what was done, and the
            # request stays executing; once the lease lapses a sweeper resumes it without repeating a step.
            # After a few such errors it stops for good and says so, rather than retrying forever.
            self._interrupted(request, error)
            raise
        if finished.state is RequestState.WAITING:
            self._ask_for_manual_steps(finished, rechecked_by=rechecked_by)
            return finished
        if finished.state is RequestState.APPROVED:  # the next stage is due later
            self._refresh(request_id)
            return finished
        self._ended(finished)
        self._report_outcome(finished)  # first: the redraw reads the database again, which may fail
        self._refresh(request_id)
        return finished

    def _interrupted(self, request: OffboardRequest, error: Exception) -> None:
        """Count an unexpected error in a run and tell the requester what happens next. The database may be
        the trouble: then the count is lost with it, and the requester is told all the same (through Slack)."""
        try:
            count = self._store.count_interruption(
                request.id, now=self._clock.now(),
                entry=AuditEntry(actor="system", event="request.interrupted", request_id=request.id,
                                 data={"error": type(error).__name__}))
        except Exception:
            log.warning("could not record the interruption of %s", request.id, exc_info=True)
            count = 0
        if count >= MAX_INTERRUPTIONS:
            self._give_up(request.id, count)
            return
        minutes = max(1, round(self._lease_ttl.total_seconds() / 60))
        later = f"{minutes} minute{'s' if minutes > 1 else ''}"
        if isinstance(error, StorageUnavailable):
            what = (f"my database stopped answering. Steps already done stay done and will not be repeated. It "
                    f"carries on by itself once the database answers again, {later} from now at the earliest")
        else:
            what = (f"an error on my side (`{type(error).__name__}`). Steps already done stay done and will not be "
                    f"repeated. It is tried again by itself in about {later}; if the error keeps coming back, it "
                    f"stops after {MAX_INTERRUPTIONS} tries and says so")
        self._tell(request.requester_id, f"Your request {request.id} was interrupted: {what}. "
                   f"`/offboard status {request.id}` shows where it is.")

    def _report_outcome(self, finished: OffboardRequest) -> None:
        """Post the results to the results channel, and tell the requester how it ended. When the results
        could not be posted, the requester's message says so and where to read them instead."""
        try:
            self._notifier.post_outcome(finished)
        except NotificationFailed as failure:
            log.warning("could not post the results of %s: %s", finished.id, failure)
            self._tell(finished.requester_id, f"{_outcome_line(finished, shown=False)} I could not post the "
                       f"results in <#{self._policy.channels.results}> ({escape(str(failure))}): "
                       f"`/offboard status {finished.id}` shows each user's result.")
            return
        self._tell(finished.requester_id, _outcome_line(finished))

    def _lapsed_authority(self, request: OffboardRequest) -> str:
        """Checked again as it starts (or starts its next stage): is the requester still an admin, and do
        enough approvals come from people who still are? Return why not, or ''."""
        team_id = self._members.home_team_id()

        def still_admin(user_id: str, email: str) -> bool:
            try:
                admin = self._gate.admin(Actor(user_id=user_id, team_id=team_id))
            except Refusal:
                return False
            return admin.email == email.lower()

        if not still_admin(request.requester_id, request.requester_email):
            return f"{request.requester_email}, who asked for it, is no longer an admin"
        valid = {approval.approver_email for approval in request.approvals
                 if approval.approver_email != request.requester_email
                 and still_admin(approval.approver_id, approval.approver_email)}
        if len(valid) < request.approvals_required:
            gone = [approval.approver_email for approval in request.approvals if approval.approver_email not in valid]
            return (f"the approval of {', '.join(gone)} no longer counts (no longer an admin), so it has "
                    f"{len(valid)} of the {request.approvals_required} approvals it needs")
        return ""

    def _call_off(self, request: OffboardRequest, why: str) -> OffboardRequest:
        """Cancel an approved request that may no longer run, before anything more is done, and say why."""
        stopped = self._store.transition(
            request.id, to=RequestState.CANCELLED, allowed_from=[RequestState.APPROVED], now=self._clock.now(),
            entry=AuditEntry(actor="system", event="request.cancelled", request_id=request.id,
                             data={"why": why}), changes={"decision_note": why})
        if stopped is None:
            return self._get(request.id)
        self._ended(stopped)
        self._refresh(request.id)
        done = " Stages already done stay done." if any(t.steps for t in stopped.targets) else ""
        self._tell(stopped.requester_id, f"Your request {stopped.id} was called off before it ran: {escape(why)}. "
                   f"Nothing more was changed in the console.{done} Ask again if it is still needed.")
        return stopped

    def _post_progress_message(self, request: OffboardRequest) -> None:
        """A request for several users that needed no approval has no message yet: post one to show its
        progress on, in the approvals channel where requests are followed."""
        try:
            channel, ts = self._notifier.announce(request, channel=self._policy.channels.approvals)
        except NotificationFailed as failure:
            log.warning("could not post the progress message of %s: %s", request.id, failure)
            return
        self._store.set_message(request.id, channel=channel, ts=ts)

    def _show_progress(self, request_id: str) -> None:
        """Redraw the running request's message with how far it got (the executor calls this at most about
        once a second, however many users finish)."""
        self._safely(self._notifier.refresh, self._get(request_id))

    def _give_up(self, request_id: str, count: int) -> None:
        stopped = self._store.transition(
            request_id, to=RequestState.FAILED, allowed_from=[RequestState.EXECUTING], now=self._clock.now(),
            entry=AuditEntry(actor="system", event="request.failed", request_id=request_id,
                             data={"why": f"{count} unexpected errors while running"}),
            fail_pending=f"stopped after {count} unexpected errors on my side; steps already done stay done. Check "
                         "these users in the admin console, and tell whoever runs the bot")
        if stopped is not None:
            self._ended(stopped)
            self._report_outcome(stopped)
            self._refresh(request_id)

    def _ask_for_manual_steps(self, request: OffboardRequest, *, rechecked_by: str | None) -> None:
        """Show the manual steps with the Re-check button: on the request's message, or on a new one in the
        approvals channel, or (when that fails too) in a direct message to the requester."""
        if request.message_ts:
            self._refresh(request.id)
        else:
            for channel in (self._policy.channels.approvals, request.requester_id):
                try:
                    posted, ts = self._notifier.announce(request, channel=channel)
                except NotificationFailed as failure:
                    log.warning("could not post the manual steps of %s to %s: %s", request.id, channel, failure)
                    continue
                self._store.set_message(request.id, channel=posted, ts=ts)
                break
        request = self._get(request.id)
        if not request.message_ts:
            where = f": `/offboard status {request.id}` shows them, and `/offboard cancel {request.id}` stops it"
        elif request.message_channel == self._policy.channels.approvals:
            where = f" on the request in <#{request.message_channel}>"
        else:
            where = " on the request in our direct messages"
        waiting = ", ".join(f"`{escape(target.plan.username)}` ({target.manual_step.kind.value.replace('_', ' ')})"
                            for target in request.targets if target.manual_step)
        if rechecked_by:
            self._tell(rechecked_by, f"Re-checked {request.id}: these steps still wait to be done by hand: "
                       f"{waiting}. The instructions are{where}.")
        else:
            self._tell(request.requester_id, f"Your request {request.id} needs steps done by hand in the "
                       f"{self._console.name} console, as its API cannot do them on this account: {waiting}. "
                       f"The instructions and a Re-check button are{where}.")

    # -- time: called by the sweeper on every replica ------------------------------------------------

    def start_due_runs(self, *, limit: int = 20) -> list[str]:
        """Lease the requests that are due to run (or whose runner died) and start them; return their ids."""
        now = self._clock.now()
        claimed = self._store.claim_due(owner=self.owner, now=now, until=now + self._lease_ttl, limit=limit,
                                        on_takeover=self._taken_over)
        for request_id, token in claimed.items():
            self._runner.submit(lambda request_id=request_id, token=token: self._run_leased(request_id, token),
                                name=f"run {request_id}")
        return list(claimed)

    def expire_overdue(self) -> list[str]:
        """Expire every undecided request whose time is up; return the ids that expired now."""
        expired = []
        for request_id in self._store.due_for_expiry(now=self._clock.now()):
            if self._expire_if_due(self._get(request_id)).state is RequestState.EXPIRED:
                expired.append(request_id)
        return expired

    def send_due_reminders(self) -> list[str]:
        """Remind the approvers of requests still waiting (once per due time, whichever replica wins)."""
        every = self._policy.approvals.remind_every
        if not every:
            return []
        reminded = self._store.claim_reminders(now=self._clock.now(), every=every)
        for request_id in reminded:
            self._safely(self._notifier.remind, self._get(request_id))
        return reminded

    def _run_leased(self, request_id: str, token: str, *, rechecked_by: str | None = None) -> None:
        """Run the request while holding the lease claim_due gave it, then let the lease go."""
        with (Lease(self._store, self._clock, request_id=request_id, token=token, ttl=self._lease_ttl) as lease,
              holding_lease(lambda: lease.held)):
            if lease.held:
                self.run(request_id=request_id, rechecked_by=rechecked_by, keep_going=lambda: lease.held)

    # -- reading --------------------------------------------------------------------------------------

    def status(self, *, actor: Actor, request_id: str) -> OffboardRequest:
        """Return the request for an admin to look at."""
        self._gate.admin(actor, request_id=request_id)
        return self._expire_if_due(self._get(request_id))

    def open_requests(self, *, actor: Actor) -> list[OffboardRequest]:
        """Return the requests waiting, approved or running, newest first."""
        self._gate.admin(actor)
        current = [self._expire_if_due(request) for request in self._store.list(states=OPEN_STATES, limit=50)]
        return [request for request in current if request.state in OPEN_STATES]

    def home(self, *, actor: Actor) -> Home:
        """What the member's App Home shows: requests that wait for them and theirs, or who the admins are."""
        try:
            admin = self._gate.admin(actor)
        except Refusal as refusal:
            return Home(user_id=actor.user_id, is_admin=False, admins=self._admin_ids(), why_not=refusal.message)
        return self._admin_home(actor.user_id, admin.email)

    def search_console(self, *, actor: Actor, text: str, limit: int = 20) -> list[ConsoleUser]:
        """Users whose username, email or name contains text, for the form's user picker (admins only)."""
        self._gate.admin(actor)
        return self._console.search_users(text=text.strip(), limit=limit) if text.strip() else []

    def _admin_home(self, user_id: str, email: str, *, lists: _HomeLists | None = None) -> Home:
        now = self._clock.now()
        lists = lists or self._home_lists()
        to_approve = tuple(
            r for r in lists.open if r.state is RequestState.AWAITING_APPROVAL and not r.expired(now)
            and r.requester_id != user_id and r.requester_email != email
            and all(approval.approver_email != email for approval in r.approvals))
        scheduled = tuple(r for r in lists.open if r.state is RequestState.APPROVED and r.run_at and r.run_at > now)
        return Home(user_id=user_id, is_admin=True, to_approve=to_approve,
                    mine=tuple(r for r in lists.open if r.requester_id == user_id), scheduled=scheduled,
                    recent=lists.recent)

    def _home_lists(self) -> _HomeLists:
        finished = [RequestState.DONE, RequestState.FAILED, RequestState.REJECTED, RequestState.EXPIRED,
                    RequestState.CANCELLED]
        return _HomeLists(open=tuple(self._store.list(states=OPEN_STATES, limit=100)),
                          recent=tuple(self._store.list(states=finished, limit=8)))

    def _admin_ids(self) -> tuple[str, ...]:
        found = (self._members.find_by_email(email=email) for email in sorted(self._policy.admin_emails))
        return tuple(member.user_id for member in found if member is not None)

    def _publish_homes(self, requesters: set[str]) -> None:
        """Bring the App Home of everyone the changes concern up to date: their requesters and the admins.
        Each one is checked as an admin is at a click, so someone no longer an admin gets the plain view."""
        team_id = self._members.home_team_id()
        audience = sorted(requesters)
        for email in sorted(self._policy.admin_emails):
            member = self._members.find_by_email(email=email)
            if member is not None and member.user_id not in audience:
                audience.append(member.user_id)
        lists = self._home_lists()  # read once for everyone
        for user_id in audience:
            try:
                admin = self._gate.admin(Actor(user_id=user_id, team_id=team_id))
            except Refusal as refusal:
                home = Home(user_id=user_id, is_admin=False, admins=self._admin_ids(), why_not=refusal.message)
            except Exception:  # Slack or the database hiccupped for this one: the others still get theirs
                log.warning("could not check %s for their App Home", user_id, exc_info=True)
                continue
            else:
                home = self._admin_home(user_id, admin.email, lists=lists)
            self._safely(self._notifier.publish_home, home)

    def ensure_admin(self, *, actor: Actor) -> None:
        """Raise Refusal unless the actor is an admin of this workspace."""
        self._gate.admin(actor)

    def record_refusal(self, *, actor: Actor, refusal: Refusal, doing: str) -> None:
        """Write a refusal to the audit log (the Slack edge calls this once per refused click or command)."""
        self._store.append_audit(
            AuditEntry(actor=actor.user_id, event="refused", request_id=refusal.request_id,
                       data={"code": refusal.code, "doing": doing, "reason": refusal.message,
                             "team": actor.team_id, "enterprise": actor.enterprise_id}),
            now=self._clock.now())

    # -- helpers --------------------------------------------------------------------------------------

    def _get(self, request_id: str) -> OffboardRequest:
        request = self._store.get(request_id)
        if request is None:
            raise NotFound(f"There is no request {request_id}.", request_id=request_id)
        return request

    def _ensure_open(self, request: OffboardRequest, state: RequestState) -> None:
        if request.state is not state:
            raise AlreadyDecided(_describe(request), request_id=request.id)
        current = self._expire_if_due(request)
        if current.state is not state:
            raise AlreadyDecided(_describe(current), request_id=request.id)

    def _expire_if_due(self, request: OffboardRequest) -> OffboardRequest:
        """Expire an undecided request whose time is up (and tell its requester); return it as it now stands."""
        undecided = (RequestState.DRAFT, RequestState.AWAITING_APPROVAL)
        if request.state not in undecided or not request.expired(self._clock.now()):
            return request
        expired = self._store.transition(
            request.id, to=RequestState.EXPIRED, allowed_from=[request.state], now=self._clock.now(),
            entry=AuditEntry(actor="system", event="request.expired", request_id=request.id))
        if expired is None:
            return self._get(request.id)
        self._ended(expired)
        self._refresh(expired.id)
        if request.state is RequestState.AWAITING_APPROVAL:
            self._tell(expired.requester_id, f"Your request {expired.id} expired before it was approved.")
        return expired

    def _expiry(self, now: datetime, run_at: datetime | None) -> datetime:
        """When an undecided request expires: after the policy's window, and never after its run time."""
        expires_at = now + self._policy.approvals.expire_after
        return min(expires_at, run_at) if run_at else expires_at

    def _ensure_not_requester(self, actor: Actor, admin: Admin, request: OffboardRequest) -> None:
        if actor.user_id == request.requester_id or admin.email == request.requester_email:
            raise Refusal("self_approval", "You asked for this request, so a different admin must decide on it. "
                          "You can still cancel it.", request_id=request.id)

    def _start(self, request_id: str, *, rechecked_by: str | None = None) -> None:
        """Run the request now if it is due and nobody else holds it (else a sweeper starts it when due)."""

        def job() -> None:
            now = self._clock.now()
            claimed = self._store.claim_due(owner=self.owner, now=now, until=now + self._lease_ttl, limit=1,
                                            request_id=request_id, on_takeover=self._taken_over)
            if request_id in claimed:
                self._run_leased(request_id, claimed[request_id], rechecked_by=rechecked_by)

        self._runner.submit(job, name=f"run {request_id}")

    def _announce(self, request: OffboardRequest) -> None:
        """Post the approval message; without it nobody could approve, so the request is called off."""
        try:
            channel, ts = self._notifier.announce(request, channel=self._policy.channels.approvals)
        except NotificationFailed as failure:
            log.warning("could not post the approval request for %s: %s", request.id, failure)
            called_off = self._store.transition(
                request.id, to=RequestState.CANCELLED, allowed_from=[RequestState.AWAITING_APPROVAL],
                now=self._clock.now(), entry=AuditEntry(actor="system", event="request.cancelled",
                                                        request_id=request.id,
                                                        data={"why": f"approval message not posted: {failure}"}))
            self._ended(called_off)
            raise Refusal("approvals_unreachable",
                          f"I could not post the request to <#{self._policy.channels.approvals}> ({failure}), so "
                          "nobody was asked and nothing was changed. Invite me to that channel, then ask again.",
                          request_id=request.id) from None
        self._store.set_message(request.id, channel=channel, ts=ts)

    def _refresh(self, request_id: str) -> None:
        """Redraw the approval message from the stored request, and again if it changed meanwhile, so a
        slow update can never leave an older state (or old buttons) on screen. Called after a change was
        committed: the database failing here must not turn that change into an error, so it is logged."""
        try:
            self._redraw(request_id)
        except StorageUnavailable:
            log.warning("could not redraw %s after its change: the database did not answer", request_id,
                        exc_info=True)

    def _redraw(self, request_id: str) -> None:
        for _ in range(3):
            request = self._get(request_id)
            if not request.message_ts:
                break
            self._safely(self._notifier.refresh, request)
            if self._get(request_id).version == request.version:
                break
        self._update_homes(request_id)

    def _update_homes(self, request_id: str) -> None:
        """Ask for the App Home tabs to be redrawn, off the caller's thread. Changes that come while a redraw
        is pending are folded into one more redraw, so a burst (a sweep, a bulk run) costs one per person."""
        requester = self._get(request_id).requester_id
        with self._homes_lock:
            self._homes_due.add(requester)
            if self._homes_running:
                return
            self._homes_running = True
        try:
            self._runner.submit(self._redraw_homes, name="App Home tabs")
        except RuntimeError:  # shutting down: the tabs are redrawn at the next change
            with self._homes_lock:
                self._homes_running = False

    def _redraw_homes(self) -> None:
        while True:
            with self._homes_lock:
                requesters, self._homes_due = self._homes_due, set()
                if not requesters:
                    self._homes_running = False
                    return
            try:
                self._publish_homes(requesters)
            except Exception:  # the App Home is a convenience: never let it break what was recorded
                log.warning("could not update the App Home tabs", exc_info=True)

    def _ended(self, request: OffboardRequest | None) -> None:
        """Count a request that reached its final state; called by the one writer whose transition won."""
        if request is not None and request.state.is_terminal:
            self._metrics.request_finished(action=request.action, outcome=request.state)

    def _taken_over(self, request_id: str, previous_holder: str) -> None:
        log.warning("took over %s: the lease held by %s had lapsed", request_id, previous_holder)
        self._metrics.lease_taken_over()

    def _tell(self, user_id: str, text: str) -> None:
        self._safely(self._notifier.tell, user_id, text)

    @staticmethod
    def _safely(send, *args) -> None:
        # Slack being unavailable must not undo or repeat what the console already did; the
        # request's state and the audit log stay the source of truth.
        try:
            send(*args)
        except NotificationFailed as failure:
            log.warning("could not notify Slack: %s", failure)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _stages_of(plans: list[TargetPlan]) -> dict[str, timedelta | None]:
    """The --grace and --retain a staged delete's plans were made with (none for a delete at once). Every plan
    of a request shares them, but only a user holding numbers has the release step that shows the grace."""
    retain = max((step.after for plan in plans for step in plan.steps if step.kind is StepKind.DELETE), default=0)
    if not retain:
        return {}
    releases = [step.after for plan in plans for step in plan.steps
                if step.kind is StepKind.RELEASE_LICENSES and not step.manual and step.after != retain]
    return {"grace": timedelta(seconds=releases[0]) if releases else None, "retain": timedelta(seconds=retain)}


def _blocked_plan(action: Action, ref: UserRef, problem: str) -> TargetPlan:
    return TargetPlan(action=action, user_id="", username=str(ref), email="", display_name=str(ref),
                      fingerprint="", steps=(), blockers=(problem,))


def _describe(request: OffboardRequest) -> str:
    """Explain in one sentence where the request stands, for someone whose click came too late."""
    who = f" by <@{request.decided_by}>" if request.decided_by else ""
    return {
        RequestState.DRAFT: f"Request {request.id} has not been sent for approval yet.",
        RequestState.AWAITING_APPROVAL: f"Request {request.id} is still waiting for approval.",
        RequestState.APPROVED: f"Request {request.id} was already approved{who}.",
        RequestState.EXECUTING: f"Request {request.id} was already approved{who} and is running.",
        RequestState.WAITING: f"Request {request.id} is waiting for a step to be done by hand in the console.",
        RequestState.DONE: f"Request {request.id} was already approved{who} and has finished.",
        RequestState.FAILED: f"Request {request.id} was already approved{who}; it finished with failures.",
        RequestState.REJECTED: f"Request {request.id} was already rejected{who}.",
        RequestState.EXPIRED: f"Request {request.id} expired; start a new one if it is still needed.",
        RequestState.CANCELLED: f"Request {request.id} was cancelled{who}.",
    }[request.state]


def _outcome_line(request: OffboardRequest, *, shown: bool = True) -> str:
    done = sum(1 for target in request.targets if target.outcome.value == "done")
    total = len(request.targets)
    if request.state is RequestState.DONE:
        return f"Your request {request.id} finished: {done}/{total} {request.action.past_tense} successfully."
    see = " See the results channel." if shown else ""
    return f"Your request {request.id} finished with problems: {done}/{total} succeeded.{see}"
