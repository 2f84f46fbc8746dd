"""What a Workflow Builder step hears, in words: its outputs when its request ended well, or why it failed."""

from __future__ import annotations

from bot.domain.lifecycle import RequestState
from bot.domain.records import OffboardRequest
from bot.domain.workflows import Proposal
from bot.slack.ids import StepOutput
from bot.slack.markup import escape
from bot.slack.messages.notes import target_text
from bot.slack.messages.states import STATE_LABEL

ERROR_LIMIT = 2000  # the step's error is shown in Workflow Builder's activity: one short paragraph


def summary_lines(request: OffboardRequest) -> str:
    """One line per user: its username and how it ended (e.g. "jdoe: deleted successfully")."""
    return "\n".join(f"{target.plan.username}: {target_text(request.action, target, request.state)}"
                     for target in request.targets)


def step_outputs(request: OffboardRequest) -> dict[str, str]:
    """The step's outputs (manifest.yml `output_parameters`)."""
    return {StepOutput.REQUEST_ID.value: request.id, StepOutput.STATE.value: STATE_LABEL[request.state],
            StepOutput.SUMMARY.value: summary_lines(request)}


def step_error(request: OffboardRequest) -> str:
    """Why the step failed: its request ended without doing what was asked (rejected, expired, cancelled,
    failed), with the request id and whatever is known per user."""
    state = request.state
    if state is RequestState.REJECTED:
        why = f"rejected: {request.decision_note}" if request.decision_note else "rejected"
    elif state is RequestState.EXPIRED:
        why = "expired: nobody sent or approved it in time"
    elif state is RequestState.CANCELLED:
        why = "cancelled"
    else:
        why = "failed: " + "; ".join(summary_lines(request).splitlines())
    return f"Offboarding request {request.id} {why}"[:ERROR_LIMIT]


def step_not_told(request: OffboardRequest, *, failure: str) -> str:
    """Said in the request's thread when its workflow step could not be told how it ended (Slack stopped
    waiting for it, or did not answer): the outcome is here, and whoever runs the workflow must look here."""
    return (f"The workflow that proposed {request.id} could not be told how it ended ({escape(failure)}): Slack no "
            f"longer waits for that step. It ended *{STATE_LABEL[request.state]}*; tell whoever started the "
            "workflow.")


def untaken_error(proposal: Proposal) -> str:
    return (f"Offboarding request {proposal.request_id} expired: no admin took it from the approvals channel "
            "in time")


def proposal_title(proposal: Proposal) -> str:
    leaver = f"<@{proposal.inputs.leaver_user_id}>" if proposal.inputs.leaver_user_id else "`{}`".format(
        (proposal.inputs.leaver_text or "").replace("`", "'"))
    return f"{proposal.inputs.action.value.capitalize()} {leaver}"
