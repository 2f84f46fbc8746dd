"""A staged delete's stage that has run, as posted to the results channel: what each user's stage did, and when
the next stages run (until then the request can be cancelled)."""

from __future__ import annotations

from bot.domain.records import OffboardRequest
from bot.slack.blocks.kit import MAX_BLOCKS, context, header, message, request_facts, sections, title
from bot.slack.blocks.results import result_line
from bot.slack.ids import COMMAND
from bot.slack.messages import plans


def stage_message(request: OffboardRequest) -> dict:
    """The results of a stage, each user on a line (failures first), then the stages still to come."""
    ordered = sorted(request.targets, key=lambda target: plans.stage_standing(target) is not None)
    lines = [result_line(request, target) for target in ordered]  # with what each stage released
    coming = plans.next_stages(request)
    tail = [context(plans.NEXT_STAGES.format(stages="\n".join(f"• {stage}" for stage in coming),
                                             cancel=f"`{COMMAND} cancel {request.id}`"))] if coming else []
    head = [header(f"{plans.STAGE_DONE_TITLE}: {title(request)}"), request_facts(request)]
    overflow = "…and {hidden} more users: " + f"`{COMMAND} status {request.id}` lists every one."
    body = sections(lines, budget=MAX_BLOCKS - len(head) - len(tail), overflow=overflow)
    return message(f"{plans.STAGE_DONE_TITLE}: {title(request)} ({request.id})", [*head, *body, *tail])
