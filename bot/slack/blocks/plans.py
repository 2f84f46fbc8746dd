"""The plan: each user's steps and what they lose and keep, the requester's private preview, and the users
left out of a request."""

from __future__ import annotations

from datetime import datetime

from bot.domain.lifecycle import Action
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
from bot.slack.markup import plain, when
from bot.slack.messages import plans
from bot.slack.messages.refusals import user_problems_line
from bot.slack.values import RequestRef

DETAILED_UP_TO = 5  # users shown with their full plan; more are listed one line each
LEFT_OUT_BLOCKS = 4  # at most this many blocks list the users left out of a request


def plan_blocks(plan: TargetPlan, *, start: datetime | None = None, tz: str = "UTC") -> list[dict]:
    """Describe one target's plan: the user, the ordered steps, what goes and what stays. `start`: when the
    request starts (or started), for a staged delete's dates, shown in the requester's zone `tz` and UTC."""
    lines = [f"*{plain(plan.display_name)}* · `{plain(plan.username)}` · {plain(plan.email)}"]
    steps = list(zip(plan.steps, plans.step_texts(plan, start=start, tz=tz), strict=True))
    by_hand = [text for step, text in steps if step.manual]
    if by_hand:  # done before approval, so listed first, apart from what the bot does
        lines += [plans.BY_HAND, *(f"• {plain(text)}" for text in by_hand), plans.BOT_DOES]
    lines += [f"{number}. {plain(text)}"
              for number, text in enumerate((text for step, text in steps if not step.manual), start=1)]
    facts = [plain(note) for note in plans.notes(plan)]
    if plans.removed(plan):
        facts.append(f"{plans.removed_label(plan)}: " + plain(", ".join(plans.removed(plan))))
    if plans.kept(plan):
        facts.append("Kept: " + plain(", ".join(plans.kept(plan))))
    blocks = [section("\n".join(lines))]
    if facts:
        blocks.append(context("\n".join(facts)))
    return blocks


def targets_blocks(request: OffboardRequest, *, budget: int, in_thread: bool = False) -> list[dict]:
    """The plan of every target within budget blocks: in full for a few users; for many, the steps once per group
    of users that share them (what is done by hand first), then each user's telephony detail on a line.
    `in_thread`: every user's plan is in a file in the message's thread (the approval message of many users)."""
    if len(request.targets) <= DETAILED_UP_TO:
        start, tz = request.started_at or request.run_at, request.requester_tz
        return [block for target in request.targets for block in plan_blocks(target.plan, start=start, tz=tz)]
    where = ("the file in this message's thread has every user's plan" if in_thread
             else "once sent, every user's plan goes into a file in the approval message's thread")
    overflow = "…and {hidden} more users: " + f"{where} (`{COMMAND} status {request.id}` lists them too)."
    lines = [*_grouped_steps(request), *_facts(request), plans.EACH_USER]
    lines += [f"• *{plain(target.plan.display_name)}* · `{plain(target.plan.username)}` · {plain(target.plan.email)}"
              f": {plain(plans.held_detail(target.plan))}" for target in request.targets]
    return sections(lines, budget=budget, overflow=overflow)


def _grouped_steps(request: OffboardRequest) -> list[str]:
    """What is done by hand, and what the bot does, each once for the users it concerns."""
    by_hand: dict[str, list[str]] = {}
    bot_does: dict[str, list[str]] = {}
    for target in request.targets:
        plan = target.plan
        name = f"`{plain(plan.username)}`"
        start, tz = request.started_at or request.run_at, request.requester_tz
        texts = (list(plan.wording.steps) if plan.wording is not None
                 else [plans.any_user_step_text(plan, step, start=start, tz=tz) for step in plan.steps])
        for step, text in zip(plan.steps, texts, strict=True):
            if step.manual:
                by_hand.setdefault(text, []).append(name)
        automatic = [text for step, text in zip(plan.steps, texts, strict=True) if not step.manual]
        bot_does.setdefault(plans.steps_line(automatic), []).append(name)
    lines = []
    if by_hand:
        lines += [plans.BY_HAND, *(f"• {plain(text)}: {', '.join(names)}" for text, names in by_hand.items()),
                  plans.BOT_DOES]
    lines += [f"• {plain(text)}: {', '.join(names)}" for text, names in bot_does.items()]
    return lines


def _facts(request: OffboardRequest) -> list[str]:
    """What goes and what stays, for every user (each plan's own words, in order, once)."""
    removed = dict.fromkeys(item for target in request.targets for item in plans.removed(target.plan))
    kept = dict.fromkeys(item for target in request.targets for item in plans.kept(target.plan))
    label = plans.removed_label(request.targets[0].plan)
    facts = [f"{label}: {plain(', '.join(removed))}"] if removed else []
    facts += [f"Kept: {plain(', '.join(kept))}"] if kept else []
    if request.action is Action.DELETE:
        facts.append(plans.LEFT_AUTOMATICALLY)
    return [" · ".join(facts)] if facts else []


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
        who = "another admin" if needed == 1 else f"{needed} other admins"
        note = f"Needs the approval of {who} before anything happens."
        go = button("Request approval", ActionId.REQUEST_APPROVAL, ref, style="primary")
    else:
        note = "The policy needs no second admin for this: confirming runs it now."
        if request.run_at is not None:  # scheduled: confirming schedules it, it does not run it now
            note = (f"The policy needs no second admin for this: confirming schedules it for "
                    f"{when(request.run_at)} and it can be cancelled until then.")
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
