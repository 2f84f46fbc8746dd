"""Asking: a command becomes a draft with a plan per user; the requester sends it for approval (or confirms it);
a finished request's failed users become a new draft."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Collection
from dataclasses import replace

from bot.domain import moves
from bot.domain.commands import Command, UserRef, Verb
from bot.domain.directory import ConsoleUser, UserStatus, username_problem
from bot.domain.emails import normal_email
from bot.domain.events import Confirmed, Drafted, SentForApproval
from bot.domain.lifecycle import Action, RequestState
from bot.domain.plan import TargetPlan, build_plan, stages_of
from bot.domain.problems import Problem, ProblemKind
from bot.domain.records import (
    MANUAL_STEPS_BOX,
    Actor,
    AlreadyDecided,
    AuditEntry,
    OffboardRequest,
    TargetOutcome,
    checklist_box,
)
from bot.domain.schedule import Schedule
from bot.errors import Refusal
from bot.ports import NewRequest, NotificationFailed, TargetsBusy
from bot.service.access import Admin
from bot.service.core import Core
from bot.service.runs import Runs

log = logging.getLogger(__name__)
_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
MAX_USERS = 500  # users one request may name, unless the settings say otherwise


def new_request_id() -> str:
    """Return a fresh offboarding request id such as OB-7K2M4Q9A, easy to read aloud and to type."""
    return "OB-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


class Intake:
    def __init__(self, core: Core, runs: Runs, *, max_users: int = MAX_USERS) -> None:
        self._core = core
        self._runs = runs
        self._max_users = max_users

    def prepare(self, *, actor: Actor, command: Command, origin_channel: str | None,
                request_id: str | None = None) -> Drafted:
        """Return a new draft request with a plan per user; raise Refusal naming every blocker. `request_id`:
        the id a workflow's proposal gave it (a new one otherwise).

        When several users are named and only some have problems, the draft holds the others and keeps the
        problems (`left_out`): the requester sees them before asking for approval and need not start over."""
        core = self._core
        admin = core.access.admin(actor)
        if len(command.targets) > self._max_users:
            raise Refusal("too_many_users", named=len(command.targets), limit=self._max_users)
        tz = admin.member.tz or "UTC"  # the member the admin check just read
        now = core.now()
        schedule = command.schedule(tz=tz, now=now)  # BadCommand when --at is unreadable or not ahead
        plans = self._plans(command, admin, schedule)
        blocked = [plan for plan in plans if plan.blockers]
        if blocked and (len(plans) == 1 or len(blocked) == len(plans)):
            raise Refusal("blocked", problems=[[problem.to_dict() for problem in plan.blockers] for plan in blocked])
        left_out = tuple(plan.blockers for plan in blocked)
        plans = [plan for plan in plans if not plan.blockers]
        new = NewRequest(
            id=request_id or new_request_id(), action=command.action, requester_id=actor.user_id,
            requester_email=admin.email,
            reason=command.reason,
            approvals_required=core.policy.approvals_required(command.action, targets=len(plans)),
            expires_at=core.expiry(now, schedule.run_at), origin_channel=origin_channel, plans=tuple(plans),
            run_at=schedule.run_at, requester_tz=tz, left_out=left_out, retry_of=command.retry_of,
            checklist=core.policy.checklist_for(command.action),
        )
        entry = AuditEntry(actor.user_id, "request.drafted", new.id, {
            "action": command.action.value, "requester": admin.email, "reason": command.reason,
            "targets": [plan.username for plan in plans],
            "left_out": [[problem.to_dict() for problem in problems] for problems in left_out],
            "approvals_required": new.approvals_required, "schedule": schedule.to_audit(),
            "retry_of": command.retry_of})
        return Drafted(core.store.create(new, now=now, entry=entry))

    def _plans(self, command: Command, admin: Admin, schedule: Schedule) -> list[TargetPlan]:
        """A plan per distinct user named (a user named twice, in two ways, gets one)."""
        found = self._resolve_all(command.targets)
        plans = [self._plan(ref, found[ref], action=command.action, admin=admin, new_username=command.new_username,
                            schedule=schedule) for ref in command.targets]
        return list({plan.user_id: plan for plan in plans if plan.user_id}.values()) + [
            plan for plan in plans if not plan.user_id]

    def _plan(self, ref: UserRef, resolved: ConsoleUser | Problem, *, action: Action, admin: Admin,
              new_username: str | None, schedule: Schedule) -> TargetPlan:
        if isinstance(resolved, Problem):
            return TargetPlan(action=action, user_id="", username=ref.text, email="", display_name=ref.text,
                              fingerprint="", steps=(), blockers=(resolved,))
        plan = build_plan(action, resolved, new_username=new_username,
                          services_visible=self._core.console.services_visible, grace=schedule.grace,
                          retain=schedule.retain)
        plan = replace(plan, slack_user_id=ref.slack_user_id,
                       policy_admin=self._core.policy.role_of(resolved.email) is not None)
        return plan.with_blockers(self._blockers(plan, resolved, admin=admin))

    def _resolve_all(self, refs: tuple[UserRef, ...]) -> dict[UserRef, ConsoleUser | Problem]:
        """Find every named user in the console, in as few calls as the console allows; return each reference
        with its user, or the problem that kept it from being found."""
        console = self._core.console
        texts: dict[UserRef, str] = {}
        resolved: dict[UserRef, ConsoleUser | Problem] = {}
        for ref in refs:
            if ref.console_id:
                user = console.get_user(user_id=ref.console_id)
                resolved[ref] = user or Problem(ProblemKind.NO_LONGER_IN_CONSOLE, ref.text, console=console.name)
            elif not ref.slack_user_id:
                texts[ref] = ref.text.strip()
            else:
                member = self._core.members.member(user_id=ref.slack_user_id)
                if member is None or not member.email:
                    resolved[ref] = Problem(ProblemKind.NO_EMAIL, ref.slack_user_id)
                else:
                    texts[ref] = member.email.strip()
        users = console.find_users(references=texts.values()) if texts else {}
        for ref, text in texts.items():
            resolved[ref] = users.get(text) or Problem(ProblemKind.NOT_FOUND, text, console=console.name)
        return resolved

    def _blockers(self, plan: TargetPlan, user: ConsoleUser, *, admin: Admin) -> list[Problem]:
        name = user.username
        blockers = []
        if self._core.policy.protected(username=user.username, email=user.email):
            blockers.append(Problem(ProblemKind.PROTECTED, name))
        if admin.email in (normal_email(user.email), normal_email(user.username)):
            blockers.append(Problem(ProblemKind.YOURSELF, name))
        holder = self._core.store.holders([user.id]).get(user.id)
        if holder and self._core.expire_if_due(self._core.get(holder)).state.is_open:
            blockers.append(Problem(ProblemKind.HELD, name, holder=holder))
        if plan.action is Action.DEACTIVATE and user.status is UserStatus.INACTIVE:
            blockers.append(Problem(ProblemKind.ALREADY_INACTIVE, name))
        if plan.action is Action.REACTIVATE and user.status is UserStatus.ACTIVE:
            blockers.append(Problem(ProblemKind.ALREADY_ACTIVE, name))
        if plan.action is Action.RENAME:
            blockers += self._rename_blockers(user, plan.new_username or "")
        return blockers

    def _rename_blockers(self, user: ConsoleUser, new_username: str) -> list[Problem]:
        rule = username_problem(new_username)
        if rule is not None:
            return [Problem(ProblemKind.BAD_USERNAME, new_username, rule=rule)]
        if new_username.lower() == user.username.lower():
            return [Problem(ProblemKind.SAME_USERNAME, user.username)]
        console = self._core.console
        other = console.find_user(reference=new_username)  # a username or someone's email
        if console.username_taken(username=new_username) or (other and other.id != user.id):
            return [Problem(ProblemKind.USERNAME_TAKEN, new_username)]
        return []

    def submit(self, *, actor: Actor, request_id: str, ticked: Collection[str]) -> SentForApproval | Confirmed:
        """Send a draft for approval, or run it when the policy needs no approver; `ticked` are the keys of the
        boxes the requester ticked (request.boxes). Raise Refusal, changing nothing, while a box is unticked."""
        core = self._core
        request = core.get(request_id)
        admin = core.access.admin(actor, request_id=request_id)
        if admin.user_id != request.requester_id:
            raise Refusal("not_requester", request_id=request_id, doing="send")
        current = core.expire_if_due(request) if request.state is RequestState.DRAFT else request
        if current.state is not RequestState.DRAFT:
            raise AlreadyDecided(current)
        unticked = [box for box in request.boxes if box not in ticked]
        if unticked:
            missing = [text for number, text in enumerate(request.checklist, start=1)
                       if checklist_box(number) in unticked]
            manual = MANUAL_STEPS_BOX in unticked
            raise Refusal("checklist_not_ticked", request_id=request_id, boxes=missing,
                          steps=[kind.value for kind in request.manual_step_kinds] if manual else [],
                          visible=request.targets[0].plan.services_visible)
        now = core.now()
        if request.run_at and request.run_at <= now:
            raise Refusal("run_time_passed", request_id=request_id, run_at=request.run_at.isoformat())
        expires_at = core.expiry(now, request.run_at)  # approvers get the full window, up to the run time
        every = core.policy.approvals.remind_every
        remind_at = now + every if every and now + every < expires_at else None
        move = moves.submit(request, by=actor.user_id, expires_at=expires_at, remind_at=remind_at)
        try:
            moved = core.move(request, move)
        except TargetsBusy as busy:
            raise Refusal("busy", request_id=request_id, holders=sorted(set(busy.holders.values()))) from None
        if moved.state is RequestState.APPROVED:
            self._runs.start(moved)
            return Confirmed(moved)
        return SentForApproval(self._announce(moved))

    def _announce(self, request: OffboardRequest) -> OffboardRequest:
        """Post the approval message; without it nobody could approve, so the request is called off."""
        core = self._core
        approvals = core.policy.channels.approvals
        try:
            channel, ts = core.notifier.announce(request, channel=approvals)
        except NotificationFailed as failure:
            log.warning("could not post the approval request for %s: %s", request.id, failure)
            core.move(request, moves.unannounced(request, failure=str(failure)))
            raise Refusal("approvals_unreachable", request_id=request.id, channel=approvals,
                          failure=str(failure)) from None
        core.store.set_message(request.id, channel=channel, ts=ts)
        core.homes.changed(request.requester_id)
        return replace(request, message_channel=channel, message_ts=ts)

    def retry_failed(self, *, actor: Actor, request_id: str) -> Drafted:
        """Return a new draft, prepared for the clicking admin, holding the users of a finished request that
        failed or were stopped. The plans are made afresh from the console, so a user whose step went
        through after all shows up as a problem (gone, already inactive) rather than being done twice."""
        core = self._core
        core.access.admin(actor, request_id=request_id)
        request = core.get(request_id)
        failed = [target.plan for target in request.targets
                  if target.outcome in (TargetOutcome.FAILED, TargetOutcome.ABORTED)]
        if request.state is not RequestState.FAILED or not failed:
            raise Refusal("nothing_to_retry", request_id=request_id, state=request.state.value,
                          decided_by=request.decided_by)
        grace, retain = stages_of(failed)
        # The same profiles, by console id: a username may have passed to someone else since.
        command = Command(verb=Verb(request.action.value),
                          targets=tuple(UserRef(text=plan.username, console_id=plan.user_id,
                                                slack_user_id=plan.slack_user_id) for plan in failed),
                          new_username=failed[0].new_username if request.action is Action.RENAME else None,
                          reason=request.reason, grace=grace, retain=retain, retry_of=request.id)
        drafted = self.prepare(actor=actor, command=command, origin_channel=request.origin_channel)
        core.store.append_audit(AuditEntry(actor.user_id, "request.retried", request_id,
                                           {"draft": drafted.request.id, "users": [plan.username for plan in failed]}),
                                now=core.now())
        return drafted
