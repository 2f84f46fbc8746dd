"""The results of a request that ran, as posted to the results channel."""

from __future__ import annotations

from typing import Literal

from bot.domain.records import OffboardRequest, Target, TargetOutcome
from bot.slack.blocks.approval import outcome_line
from bot.slack.blocks.kit import MAX_BLOCKS, button, context, header, message, request_facts, sections, title
from bot.slack.ids import COMMAND, ActionId, BlockId
from bot.slack.markup import plain
from bot.slack.messages.notes import released_by, released_text
from bot.slack.messages.states import PAST_TENSE, STATE_LABEL
from bot.slack.values import RequestRef

CsvFile = Literal["attached", "failed"]  # the full results went into the thread as a file, or could not


def outcome_message(request: OffboardRequest, *, csv_file: CsvFile | None = None) -> dict:
    """The per-user results posted to the results channel, failures first, with a button that retries the users
    who failed. csv_file says whether the message must point to the CSV of all results in its thread, or say that
    it could not be attached (the message is posted first: the file goes into its thread)."""
    count = len(request.targets)
    counts = request.counts()
    summary = f"{title(request)}: {counts[TargetOutcome.DONE]}/{count} {PAST_TENSE[request.action]} successfully"
    head = [header(f"{STATE_LABEL[request.state]}: {title(request)}"), request_facts(request)]
    tail: list[dict] = []
    if csv_file == "attached":
        note = f"The results of all {count} users are in the CSV file in this message's thread."
        summary += f". {note}"
        tail.append(context(f":page_facing_up: {note}"))
    elif csv_file == "failed":
        tail.append(context(f"The CSV file with all {count} results could not be attached: "
                            f"`{COMMAND} status {request.id}` lists every user."))
    failed = counts[TargetOutcome.FAILED] + counts[TargetOutcome.ABORTED]  # the users a retry takes up again
    if failed:
        label = f"Retry the {failed} failed users" if failed > 1 else "Retry the failed user"
        tail.append({"type": "actions", "block_id": BlockId.ACTIONS.value, "elements": [
            button(label, ActionId.RETRY_FAILED, RequestRef(r=request.id).dump())]})
    body = _result_blocks(request, budget=MAX_BLOCKS - len(head) - len(tail))
    return message(summary, [*head, *body, *tail])


def _result_blocks(request: OffboardRequest, *, budget: int) -> list[dict]:
    """One entry per user, failures first (never the part left out): how it ended, then what its steps released
    (numbers to reassign, licenses, desk phones inactivated, queues and ring groups left)."""
    lines = [result_line(request, target)
             for target in sorted(request.targets, key=lambda target: target.outcome is TargetOutcome.DONE)]
    overflow = "…and {hidden} more users: " + f"`{COMMAND} status {request.id}` lists every one."
    return sections(lines, budget=budget, overflow=overflow)


def result_line(request: OffboardRequest, target: Target) -> str:
    """How the user stands, and below it what its steps released so far (nothing when they released nothing)."""
    released = released_text(released_by(target))
    return outcome_line(request.action, target, request.state) + (f"\n      ↳ {plain(released)}" if released else "")
