"""The request's message in the approvals channel: the plan and the buttons while it awaits a decision, its
progress while it runs, the steps waiting for hands, and each user's outcome once it ran."""

from __future__ import annotations

from bot.domain.lifecycle import Action, RequestState
from bot.domain.records import OffboardRequest, Target, TargetOutcome
from bot.slack.blocks.kit import MAX_BLOCKS, button, context, header, message, request_facts, section, sections, title
from bot.slack.blocks.plans import left_out_blocks, targets_blocks
from bot.slack.ids import COMMAND, ActionId, BlockId
from bot.slack.markup import mention, plain
from bot.slack.messages.notes import step_note_text, target_text
from bot.slack.messages.plans import checked_by, stage_standing
from bot.slack.messages.states import STATE_LABEL, called_off_why
from bot.slack.plan_report import wants_plans_file
from bot.slack.values import RequestRef

OUTCOME_MARK = {TargetOutcome.PENDING: "…", TargetOutcome.DONE: "✅", TargetOutcome.FAILED: "❌",
                TargetOutcome.ABORTED: "⚠️"}


def approval_message(request: OffboardRequest) -> dict:
    """The request as posted in the approvals channel; buttons only while someone can act on them.

    Once it has run, the per-user outcomes take the place of the plan."""
    ref = RequestRef(r=request.id).dump()
    awaiting = request.state is RequestState.AWAITING_APPROVAL
    head = [header(f"Approval needed: {title(request)}" if awaiting else title(request)), request_facts(request)]
    checked = checked_by(request)
    tail = [context(checked)] if checked else []
    tail.append(section(status_line(request)))
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
    else:
        body = targets_blocks(request, budget=budget, in_thread=wants_plans_file(request))
    return message(f"{title(request)} ({request.id}): {STATE_LABEL[request.state]}", [*head, *body, *tail])


def status_line(request: OffboardRequest) -> str:
    approvers = ", ".join(mention(approval.approver_id) for approval in request.approvals)
    by = f" by {mention(request.decided_by)}" if request.decided_by else ""
    state, label = request.state, STATE_LABEL[request.state]
    approved_by = approvers or "the requester"
    if state is RequestState.AWAITING_APPROVAL:
        done = f" Approved so far by {approvers}." if approvers else ""
        return f"*Waiting for {request.approvals_missing} approval(s)* from an admin other than the requester.{done}"
    if state is RequestState.REJECTED:
        return f"*Rejected*{by}: {plain(request.decision_note)}"
    if state.is_finished_run:
        return f"*{label}* (approved by {approved_by})"
    if state is RequestState.EXECUTING:
        return f"*{label}*: {progress(request)} · approved by {approved_by}"
    if state is RequestState.APPROVED:
        return f"*{label}*, approved by {approved_by}."
    if state is RequestState.WAITING:
        return (f"*{label}* (approved by {approved_by}): the console's API cannot do a step on this account, so an "
                "admin must do it by hand, then press Re-check. Stop here ends the request; steps already done "
                "stay done.")
    if state is RequestState.CANCELLED and request.decision_note:  # called off by the bot, and why
        return f"*{label}*: {called_off_why(request)}."
    return f"*{label}*{by if state is RequestState.CANCELLED else ''}."


def progress(request: OffboardRequest) -> str:
    """How far a run has got, e.g. "137/400 done, 2 failed" (stopped users count as failed). One pass over the
    targets: the message is redrawn while a big request runs."""
    counts = request.counts()
    failed = counts[TargetOutcome.FAILED] + counts[TargetOutcome.ABORTED]
    return f"{counts[TargetOutcome.DONE]}/{len(request.targets)} done" + (f", {failed} failed" if failed else "")


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


def outcome_line(action: Action, target: Target) -> str:
    name = f"`{plain(target.plan.username)}`"
    staged = stage_standing(target)
    if staged is not None:  # a staged delete between stages: say what its stages did, not "pending"
        return f"⏸ {name}: {plain(staged)}"
    if action is Action.RENAME and target.outcome is TargetOutcome.DONE:
        name += f" → `{plain(target.plan.new_username or '')}`"
    return f"{OUTCOME_MARK[target.outcome]} {name}: {plain(target_text(action, target))}"
