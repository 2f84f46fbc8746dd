"""The one table naming a request's states, and where a request stands, in a sentence."""

from __future__ import annotations

from bot.domain.events import Lapse
from bot.domain.lifecycle import Action, RequestState
from bot.domain.records import OffboardRequest
from bot.slack.markup import mention, plain

STATE_LABEL = {
    RequestState.DRAFT: "Not sent yet",
    RequestState.AWAITING_APPROVAL: "Waiting for approval",
    RequestState.APPROVED: "Approved",
    RequestState.EXECUTING: "Running",
    RequestState.WAITING: "Waiting for a manual step",
    RequestState.DONE: "Done",
    RequestState.FAILED: "Finished with failures",
    RequestState.REJECTED: "Rejected",
    RequestState.EXPIRED: "Expired",
    RequestState.CANCELLED: "Cancelled",
}

PAST_TENSE = {
    Action.DELETE: "deleted",
    Action.DEACTIVATE: "deactivated",
    Action.REACTIVATE: "reactivated",
    Action.RENAME: "renamed",
}


def where_it_stands(request: OffboardRequest) -> str:
    """Where the request stands, in one sentence, for someone whose click came too late."""
    return standing(request.id, request.state, request.decided_by)


def standing(request_id: str, state: RequestState, decided_by: str | None) -> str:
    who = f" by {mention(decided_by)}" if decided_by else ""
    return {
        RequestState.DRAFT: f"Request {request_id} has not been sent for approval yet.",
        RequestState.AWAITING_APPROVAL: f"Request {request_id} is still waiting for approval.",
        RequestState.APPROVED: f"Request {request_id} was already approved{who}.",
        RequestState.EXECUTING: f"Request {request_id} was already approved{who} and is running.",
        RequestState.WAITING: f"Request {request_id} is waiting for a step to be done by hand in the console.",
        RequestState.DONE: f"Request {request_id} was already approved{who} and has finished.",
        RequestState.FAILED: f"Request {request_id} was already approved{who}; it finished with failures.",
        RequestState.REJECTED: f"Request {request_id} was already rejected{who}.",
        RequestState.EXPIRED: f"Request {request_id} expired; start a new one if it is still needed.",
        RequestState.CANCELLED: f"Request {request_id} was cancelled{who}.",
    }[state]


def lapse_text(lapse: Lapse) -> str:
    """Why a request may no longer run."""
    if lapse.requester:
        return f"{plain(lapse.requester)}, who asked for it, is no longer an admin"
    why = [f"the approval of {plain(', '.join(who))} {reason}" for who, reason in (
        (lapse.gone, "no longer counts (no longer an admin)"),
        (lapse.repeated, "does not count (the requester or an earlier approver, under another account)"),
        (lapse.offboarded, "does not count (this request offboards them)")) if who]
    return (f"{'; '.join(why) or 'its approvals no longer count'}, so it has {lapse.counted} of the "
            f"{lapse.required} approvals it needs")


def called_off_why(request: OffboardRequest) -> str:
    """Why the bot called the request off, as mrkdwn (the note of an earlier version is shown as it was, inert)."""
    lapse = Lapse.from_json(request.decision_note)
    return lapse_text(lapse) if lapse is not None else plain(request.decision_note)
