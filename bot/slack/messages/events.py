"""What happened, in words: the answer to whoever clicked or typed, and the direct messages to the people a
request concerns."""

from __future__ import annotations

from bot.domain.directory import Released
from bot.domain.events import (
    ApprovalCounted,
    Approved,
    CalledOff,
    Cancelled,
    Confirmed,
    Event,
    Expired,
    Interrupted,
    Rechecking,
    Rejected,
    SentForApproval,
    Stopped,
    WaitingForManual,
)
from bot.domain.lifecycle import RequestState
from bot.domain.records import OffboardRequest, TargetOutcome
from bot.slack.ids import COMMAND
from bot.slack.markup import channel, escape, mention, plain, utc
from bot.slack.messages.notes import released_by, released_count, released_text, step_name
from bot.slack.messages.states import PAST_TENSE, lapse_text
from bot.slack.reports import wants_csv


def answer(event: Event, *, results: str) -> str:
    """What the admin who clicked (or typed) is told their click did. `results`: the results channel."""
    request = event.request
    if isinstance(event, SentForApproval):
        where = f" in {channel(request.message_channel)}" if request.message_channel else ""
        return f"Sent for approval{where}. I will tell you how it ends."
    if isinstance(event, Confirmed):
        if request.run_at is not None:  # a confirmed request never runs before its time, which was ahead
            return (f"Confirmed. It will run at {utc(request.run_at)} and can be cancelled until then; I will send "
                    "you the outcome.")
        return "Confirmed. It is running now; I will send you the outcome."
    if isinstance(event, ApprovalCounted):
        return f"Approval counted; {event.missing} more needed."
    if isinstance(event, Approved):
        if event.runs_at is not None:
            return (f"Approved. It will run at {utc(event.runs_at)} and can be cancelled until then; the outcome "
                    f"will be posted in {channel(results)}.")
        return f"Approved. It is running now; the outcome will be posted in {channel(results)}."
    if isinstance(event, Rejected):
        return "Rejected."
    if isinstance(event, Cancelled):
        if request.any_step_begun:
            return f"Request {request.id} is cancelled before its next stage; the stages already done stay done."
        return f"Request {request.id} is cancelled; nothing was changed in the console."
    if isinstance(event, Stopped):
        return f"Request {request.id} is stopped; steps already done stay done."
    if isinstance(event, Rechecking):
        return ("Re-checking: I am reading the users back from the console and will carry on with the remaining "
                "steps if the manual ones show as done.")
    if isinstance(event, CalledOff):
        return f"Request {request.id} was called off: {lapse_text(event.lapse)}. {_nothing_more(request)}"
    raise TypeError(f"no answer for {type(event).__name__}")


def direct_messages(event: Event, *, approvals: str) -> list[tuple[str, str]]:
    """The direct messages the event calls for, as (member, text). `approvals`: the approvals channel."""
    request = event.request
    requester = request.requester_id
    if isinstance(event, Rejected):
        return [(requester, f"Your request {request.id} was rejected by {mention(event.by)}: {plain(event.reason)}")]
    if isinstance(event, Cancelled) and event.by != requester:
        return [(requester, f"Your request {request.id} was cancelled by {mention(event.by)}.")]
    if isinstance(event, Stopped) and event.by != requester:
        return [(requester, f"Your request {request.id} was stopped by {mention(event.by)} while it waited for a "
                 "manual step.")]
    if isinstance(event, Expired) and event.was_awaiting:
        return [(requester, f"Your request {request.id} expired before it was approved.")]
    if isinstance(event, CalledOff):
        before = "carried on" if event.running else "ran"
        return [(requester, f"Your request {request.id} was called off before it {before}: "
                 f"{lapse_text(event.lapse)}. {_nothing_more(request)} Ask again if it is still needed.")]
    if isinstance(event, Interrupted):
        return [(requester, _interrupted(event))]
    if isinstance(event, WaitingForManual):
        return [_waiting(event, approvals=approvals)]
    return []


def _nothing_more(request: OffboardRequest) -> str:
    done = " Stages already done stay done." if request.any_step_begun else ""
    return f"Nothing more was changed in the console.{done}"


def _interrupted(event: Interrupted) -> str:
    request = event.request
    minutes = max(1, round(event.retry_in.total_seconds() / 60))
    later = f"{minutes} minute{'s' if minutes > 1 else ''}"
    if event.storage_down:
        what = (f"my database stopped answering. Steps already done stay done and will not be repeated. It "
                f"carries on by itself once the database answers again, {later} from now at the earliest")
    else:
        what = (f"an error on my side (`{event.error}`). Steps already done stay done and will not be repeated. It "
                f"is tried again by itself in about {later}; if the error keeps coming back, it stops after "
                f"{event.tries} tries and says so")
    return f"Your request {request.id} was interrupted: {what}. `{COMMAND} status {request.id}` shows where it is."


def _waiting(event: WaitingForManual, *, approvals: str) -> tuple[str, str]:
    request = event.request
    if not request.message_ts:
        where = (f": `{COMMAND} status {request.id}` shows them, and `{COMMAND} cancel {request.id}` stops it")
    elif request.message_channel == approvals:
        where = f" on the request in {channel(request.message_channel)}"
    else:
        where = " on the request in our direct messages"
    waiting = ", ".join(f"`{plain(target.plan.username)}` ({step_name(target.manual_step.kind)})"
                        for target in request.targets if target.manual_step)
    if event.rechecked_by:
        return event.rechecked_by, (f"Re-checked {request.id}: these steps still wait to be done by hand: "
                                    f"{waiting}. The instructions are{where}.")
    return request.requester_id, (f"Your request {request.id} needs steps done by hand in the {event.console} "
                                  f"console, as its API cannot do them on this account: {waiting}. The "
                                  f"instructions and a Re-check button are{where}.")


DM_RELEASED_USERS = 5  # up to this many users, the requester's message says what each one's steps released


def outcome_line(request: OffboardRequest, *, shown: bool = True) -> str:
    """How a finished request ended, for its requester, with what it released (numbers to reassign, licenses,
    desk phones, queues and ring groups): user by user for a few users, counted for many."""
    done = sum(1 for target in request.targets if target.outcome is TargetOutcome.DONE)
    total = len(request.targets)
    if request.state is RequestState.DONE:
        line = f"Your request {request.id} finished: {done}/{total} {PAST_TENSE[request.action]} successfully."
    else:
        see = " See the results channel." if shown else ""
        line = f"Your request {request.id} finished with problems: {done}/{total} succeeded.{see}"
    return line + _released(request, shown=shown)


def _released(request: OffboardRequest, *, shown: bool) -> str:
    released = {target.plan.username: released_by(target) for target in request.targets}
    if len(request.targets) <= DM_RELEASED_USERS:
        return "".join(f"\n`{plain(name)}`: {plain(released_text(facts))}"
                       for name, facts in released.items() if facts)
    total = sum(released.values(), start=Released())
    if not total:
        return ""
    where = (" in the CSV file in the results channel" if wants_csv(request) else " in the results channel") if shown \
        else f": `{COMMAND} status {request.id}` lists them"
    return f"\nReleased in all: {released_count(total) or 'queues and ring groups'}; each user's{where}."


def results_not_posted(request: OffboardRequest, *, results: str, failure: str) -> str:
    """The requester's message when the results could not be posted in the results channel."""
    return (f"{outcome_line(request, shown=False)} I could not post the results in {channel(results)} "
            f"({escape(failure)}): `{COMMAND} status {request.id}` shows each user's result.")
