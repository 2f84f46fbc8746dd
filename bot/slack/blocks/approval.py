"""The request's message in the approvals channel: the plan and the buttons while it awaits a decision, its
progress while it runs, the steps waiting for hands, and each user's outcome once it ran."""

from __future__ import annotations

import threading
from collections import OrderedDict

from bot.domain.lifecycle import Action, RequestState
from bot.domain.records import OffboardRequest, Target, TargetOutcome
from bot.slack.blocks.kit import MAX_BLOCKS, button, context, header, message, request_facts, section, sections, title
from bot.slack.blocks.plans import left_out_blocks, targets_blocks
from bot.slack.ids import COMMAND, ActionId, BlockId
from bot.slack.markup import mention, plain
from bot.slack.messages.notes import step_note_text, target_text
from bot.slack.messages.plans import checked_by, stage_standing
from bot.slack.messages.states import STATE_LABEL, called_off_why
from bot.slack.plan_report import has_plans_file
from bot.slack.values import RequestRef

PLAN_BODIES = 16  # running requests whose plan blocks are kept for their progress redraws
_plan_bodies: OrderedDict[tuple[int, int], tuple[tuple[Target, ...], list[dict]]] = OrderedDict()
_plan_bodies_lock = threading.Lock()

OUTCOME_MARK = {TargetOutcome.PENDING: "…", TargetOutcome.DONE: "✅", TargetOutcome.FAILED: "❌",
                TargetOutcome.ABORTED: "⚠️"}


def approval_message(request: OffboardRequest, *, counts: dict[TargetOutcome, int] | None = None) -> dict:
    """The request as posted in the approvals channel; buttons only while someone can act on them.

    Once it has run, the per-user outcomes take the place of the plan. `counts` (users by outcome, counted by
    the database while it runs) stand in for the users' outcomes in the progress line."""
    ref = RequestRef(r=request.id).dump()
    awaiting = request.state is RequestState.AWAITING_APPROVAL
    head = [header(f"Approval needed: {title(request)}" if awaiting else title(request)), request_facts(request)]
    checked = checked_by(request)
    tail = [context(checked)] if checked else []
    if not request.approvals_required and not awaiting:
        tail.append(context("Posted here to follow its progress; nobody needs to approve it."))
    tail.append(section(status_line(request, counts=counts)))
    if awaiting:
        tail.append({"type": "actions", "block_id": BlockId.ACTIONS.value, "elements": [
            button("Approve", ActionId.APPROVE, ref, style="primary"),
            button("Reject", ActionId.REJECT, ref, style="danger"),
        ]})
        head += left_out_blocks(request)  # the approvers see who was named but is not part of it
    if request.state is RequestState.WAITING:
        tail.append({"type": "actions", "block_id": BlockId.ACTIONS.value, "elements": [
            button("Re-check", ActionId.RECHECK, ref, style="primary"),
            button("Stop here", ActionId.STOP_WAITING, ref),
        ]})
    budget = MAX_BLOCKS - len(head) - len(tail)
    if request.state is RequestState.WAITING:
        body = _manual_blocks(request, budget=budget)
    elif request.state.is_finished_run:
        body = outcome_blocks(request, budget=budget)
    elif request.state is RequestState.EXECUTING:
        body = _running_plan(request, budget=budget)
    else:
        body = targets_blocks(request, budget=budget, in_thread=has_plans_file(request))
    return message(f"{title(request)} ({request.id}): {STATE_LABEL[request.state]}", [*head, *body, *tail])


def _running_plan(request: OffboardRequest, *, budget: int) -> list[dict]:
    """The plan blocks of a running request, built once for the users as loaded when it began: a progress
    redraw changes only the progress line, so it costs the same for 5 users or 500. Kept by the identity of
    the (immutable) users it was built from, so a request loaded again is built again."""
    key = (id(request.targets), budget)
    with _plan_bodies_lock:
        kept = _plan_bodies.get(key)
        if kept is not None and kept[0] is request.targets:
            _plan_bodies.move_to_end(key)
            return list(kept[1])
    body = targets_blocks(request, budget=budget, in_thread=has_plans_file(request))
    with _plan_bodies_lock:
        _plan_bodies[key] = (request.targets, body)
        while len(_plan_bodies) > PLAN_BODIES:
            _plan_bodies.popitem(last=False)
    return list(body)


def status_line(request: OffboardRequest, *, counts: dict[TargetOutcome, int] | None = None) -> str:
    approvers = ", ".join(mention(approval.approver_id) for approval in request.approvals)
    by = f" by {mention(request.decided_by)}" if request.decided_by else ""
    state, label = request.state, STATE_LABEL[request.state]
    # A request the policy lets run without approval was confirmed by its requester: nobody approved it.
    approved_by = f"approved by {approvers or 'the requester'}"
    if not approvers and not request.approvals_required:
        approved_by = f"confirmed by {mention(request.requester_id)}; the policy needs no approval for this"
    if state is RequestState.AWAITING_APPROVAL:
        done = f" Approved so far by {approvers}." if approvers else ""
        missing = request.approvals_missing
        who = "an admin" if missing == 1 else f"{missing} admins"
        return f"*Waiting for the approval of {who}* other than the requester.{done}"
    if state is RequestState.REJECTED:
        return f"*Rejected*{by}: {plain(request.decision_note)}"
    if state.is_finished_run:
        return f"*{label}* ({approved_by})"
    if state is RequestState.EXECUTING:
        return f"*{label}*: {progress(request, counts=counts)} · {approved_by}"
    if state is RequestState.APPROVED:
        return f"*{label}*, {approved_by}."
    if state is RequestState.WAITING:
        return (f"*{label}* ({approved_by}): the console's API cannot do a step on this account, so an "
                "admin must do it by hand, then press Re-check. Stop here ends the request; steps already done "
                "stay done.")
    if state is RequestState.CANCELLED and request.decision_note:  # called off by the bot, and why
        return f"*{label}*: {called_off_why(request)}."
    return f"*{label}*{by if state is RequestState.CANCELLED else ''}."


def progress(request: OffboardRequest, *, counts: dict[TargetOutcome, int] | None = None) -> str:
    """How far a run has got, e.g. "137/400 done, 2 failed" (stopped users count as failed), from `counts`
    when given, else from one pass over the users."""
    counts = counts if counts is not None else request.counts()
    failed = counts.get(TargetOutcome.FAILED, 0) + counts.get(TargetOutcome.ABORTED, 0)
    done = counts.get(TargetOutcome.DONE, 0)
    return f"{done}/{len(request.targets)} done" + (f", {failed} failed" if failed else "")


def outcome_blocks(request: OffboardRequest, *, budget: int) -> list[dict]:
    """One line per user with how it ended; failures first, so they are never the part left out."""
    ordered = sorted(request.targets, key=lambda target: target.outcome is TargetOutcome.DONE)
    lines = [outcome_line(request.action, target) for target in ordered]
    overflow = "…and {hidden} more users: " + f"`{COMMAND} status {request.id}` lists every one."
    return sections(lines, budget=budget, overflow=overflow)


def _manual_blocks(request: OffboardRequest, *, budget: int) -> list[dict]:
    """The steps waiting to be done by hand, with their instructions, then how the other users stand."""
    lines = [f":raised_hand: `{plain(target.plan.username)}`: {step_note_text(target.plan, target.manual_step.note)}"
             for target in request.targets if target.manual_step]
    lines += [outcome_line(request.action, target) for target in request.targets if not target.manual_step]
    overflow = "…and {hidden} more users: " + f"`{COMMAND} status {request.id}` lists every one."
    return sections(lines, budget=budget, overflow=overflow)


def outcome_line(action: Action, target: Target, state: RequestState | None = None) -> str:
    """How one user stands; `state`, the request's, tells a user that will never run from one still to run."""
    name = f"`{plain(target.plan.username)}`"
    staged = stage_standing(target)
    if staged is not None:  # a staged delete between stages: say what its stages did, not "pending"
        return f"⏸ {name}: {plain(staged)}"
    if action is Action.RENAME and target.outcome is TargetOutcome.DONE:
        name += f" → `{plain(target.plan.new_username or '')}`"
    return f"{OUTCOME_MARK[target.outcome]} {name}: {plain(target_text(action, target, state))}"
