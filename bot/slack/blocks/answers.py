"""Answers to commands and clicks: help, status, the list of open requests, notices, refusals, reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.records import OffboardRequest
from bot.slack.blocks.approval import outcome_line
from bot.slack.blocks.kit import MAX_BLOCKS, context, message, request_facts, section, sections, title
from bot.slack.ids import COMMAND
from bot.slack.markup import mention, when
from bot.slack.messages.notes import step_name, step_note_text
from bot.slack.messages.plans import checked_by
from bot.slack.messages.refusals import USAGE
from bot.slack.messages.states import STATE_LABEL


def help_message(now: datetime) -> dict:
    """The commands, with an example time a week from `now` (always ahead, whenever help is asked)."""
    example = (now.astimezone(UTC) + timedelta(days=7)).strftime("%Y-%m-%d 09:00")
    lines = [f"`{COMMAND} {usage}`" for usage in USAGE.values()]
    text = ("*Offboard users from the admin console.*\n" + "\n".join(lines)
            + f"\n`{COMMAND}` alone opens a form. Name users by username, email or @mention. "
              "Deleting is final and needs a second admin's approval.\n"
              f"`--at` runs the request later: `{example}` in your Slack time zone (add `UTC` or `+02:00` "
              "for another; ISO 8601 with seconds and `Z` is fine), `friday 17:00`, or `in 2h`. "
              "`--grace 7d --retain 30d` stages a delete: deactivate when it runs, "
              "release licenses 7 days later, delete 30 days after deactivating.")
    return message(f"How to use {COMMAND}", [section(text)])


def reminder(request: OffboardRequest) -> dict:
    """A nudge in the approval message's thread while the request still waits."""
    missing = request.approvals_missing
    text = (f"Reminder: request `{request.id}` ({title(request)}) still needs {missing} approval"
            f"{'s' if missing != 1 else ''} from an admin other than {mention(request.requester_id)}. "
            f"It expires {when(request.expires_at)}.")
    return message(f"Reminder: {request.id} still needs approval", [section(text)])


def refusal(text: str, *, reference: str | None = None) -> dict:
    """A refusal or error, with the trace id to quote when asking for help (it is in the logs too)."""
    tail = [context(f"ref `{reference}`")] if reference else []
    return message(text, [section(f":no_entry: {text}"), *tail])


def notice(text: str) -> dict:
    return message(text, [section(text)])


def status_message(request: OffboardRequest) -> dict:
    lines = [f"*{title(request)}* · `{request.id}` · {STATE_LABEL[request.state]}"]
    checked = checked_by(request)
    if checked:
        lines.append(checked)
    for target in request.targets:
        lines.append(outcome_line(request.action, target, request.state))
        for step in target.steps:
            detail = step_note_text(target.plan, step.note)
            lines.append(f"    · {step_name(step.kind)}: {step.status.value}"
                         + (f" ({detail})" if detail else ""))
    body = sections(lines, budget=MAX_BLOCKS - 1, overflow="…and {hidden} more lines.")
    return message(f"Request {request.id}: {STATE_LABEL[request.state]}", [*body, request_facts(request)])


def list_message(requests: list[OffboardRequest]) -> dict:
    if not requests:
        return notice("No open requests.")
    lines = ["*Open requests*"] + [
        f"`{r.id}` · {title(r)} · {STATE_LABEL[r.state]} · by {mention(r.requester_id)}" for r in requests]
    return message(f"{len(requests)} open request(s)",
                   sections(lines, budget=MAX_BLOCKS, overflow="…and {hidden} more."))
