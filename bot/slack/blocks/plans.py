"""The plan: each user's steps and what they lose and keep, the requester's private preview, and the users
left out of a request."""

from __future__ import annotations

from bot.domain.plan import TargetPlan
from bot.domain.records import OffboardRequest
from bot.slack.blocks.kit import (
    MAX_BLOCKS,
    button,
    context,
    header,
    message,
    mrkdwn,
    request_facts,
    section,
    sections,
    title,
)
from bot.slack.ids import COMMAND, ActionId, BlockId
from bot.slack.markup import plain
from bot.slack.messages import plans
from bot.slack.messages.notes import step_name
from bot.slack.messages.refusals import user_problems_line
from bot.slack.values import RequestRef

DETAILED_UP_TO = 5  # users shown with their full plan; more are listed one line each
LEFT_OUT_BLOCKS = 4  # at most this many blocks list the users left out of a request


def plan_blocks(plan: TargetPlan) -> list[dict]:
    """Describe one target's plan: the user, the ordered steps, what goes and what stays."""
    lines = [f"*{plain(plan.display_name)}* · `{plain(plan.username)}` · {plain(plan.email)}"]
    steps = list(zip(plan.steps, plans.step_texts(plan), strict=True))
    by_hand = [text for step, text in steps if step.manual]
    if by_hand:  # done before approval, so listed first, apart from what the bot does
        lines += [plans.BY_HAND, *(f"• {plain(text)}" for text in by_hand), plans.BOT_DOES]
    lines += [f"{number}. {plain(text)}"
              for number, text in enumerate((text for step, text in steps if not step.manual), start=1)]
    facts = [plain(note) for note in plans.notes(plan)]
    if plans.removed(plan):
        facts.append("Removed: " + plain(", ".join(plans.removed(plan))))
    if plans.kept(plan):
        facts.append("Kept: " + plain(", ".join(plans.kept(plan))))
    blocks = [section("\n".join(lines))]
    if facts:
        blocks.append(context("\n".join(facts)))
    return blocks


def targets_blocks(request: OffboardRequest, *, budget: int) -> list[dict]:
    """The plan of every target, in full for a few users, one line each for many, within budget blocks."""
    if len(request.targets) <= DETAILED_UP_TO:
        return [block for target in request.targets for block in plan_blocks(target.plan)]
    lines = [_plan_line(target.plan) for target in request.targets]
    first = request.targets[0].plan
    facts = [f"Removed: {plain(', '.join(plans.removed(first)))}"] if plans.removed(first) else []
    facts += [f"Kept: {plain(', '.join(plans.kept(first)))}"] if plans.kept(first) else []
    overflow = "…and {hidden} more users: " + f"`{COMMAND} status {request.id}` lists every one."
    return [*sections(lines, budget=budget - 1, overflow=overflow), context(" · ".join(facts) or " ")]


def _plan_line(plan: TargetPlan) -> str:
    steps = " → ".join(step_name(step.kind) + (" (manual)" if step.manual else "") for step in plan.steps)
    admin = f" ({plans.POLICY_ADMIN[:1].lower()}{plans.POLICY_ADMIN[1:]})" if plan.policy_admin else ""
    return f"• *{plain(plan.display_name)}* · `{plain(plan.username)}` · {plain(plan.email)}{admin}: {steps}"


def preview(request: OffboardRequest) -> dict:
    """The private plan shown to the requester, with the buttons to go ahead or cancel."""
    ref = RequestRef(r=request.id).dump()
    head = [header(f"Plan: {title(request)}"), request_facts(request)]
    tail: list[dict] = []
    boxes = plans.checklist_boxes(request)
    if boxes:
        tail += [section(plans.CHECKLIST_HEADING), {
            "type": "actions", "block_id": BlockId.CHECKLIST.value,
            "elements": [{"type": "checkboxes", "action_id": ActionId.CHECKLIST.value,
                          "options": [{"text": mrkdwn(text, 75), "value": key} for key, text in boxes]}],
        }]
    if request.approvals_required:
        needed = request.approvals_required
        note = f"Needs {needed} approval{'s' if needed > 1 else ''} from another admin before anything happens."
        go = button("Request approval", ActionId.REQUEST_APPROVAL, ref, style="primary")
    else:
        note = "The policy needs no second admin for this: confirming runs it now."
        go = button("Confirm", ActionId.CONFIRM, ref, style="primary")
    tail += [context(note), {"type": "actions", "block_id": BlockId.ACTIONS.value,
                             "elements": [go, button("Cancel", ActionId.DISCARD, ref)]}]
    left_out = left_out_blocks(request)
    body = targets_blocks(request, budget=MAX_BLOCKS - len(head) - len(left_out) - len(tail))
    return message(f"Plan for request {request.id}: {title(request)}", [*head, *left_out, *body, *tail])


def left_out_blocks(request: OffboardRequest) -> list[dict]:
    """The named users left out of the request because of a problem, each with it: shown before anyone is
    asked to approve, so the requester can fix them in a separate request or go ahead without them."""
    if not request.left_out:
        return []
    count = len(request.left_out)
    lines = [f":warning: *Left out: {count} of the users named*, for these reasons (the plan below is "
             "for the others):", *(f"• {user_problems_line(problems)}" for problems in request.left_out)]
    return sections(lines, budget=LEFT_OUT_BLOCKS, overflow="…and {hidden} more left out.")


def preview_closed(request: OffboardRequest, note: str) -> dict:
    """What replaces the preview once it was sent, confirmed or cancelled (note is the bot's own mrkdwn)."""
    return message(note, [section(f"*{title(request)}* · `{request.id}`\n{note}")])
