"""What a Workflow Builder step hears, in words: its outputs when its request ended well, or why it failed; and,
for a request that goes on past the step's time, the outputs it was completed with early and what the request's
thread says of it."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.lifecycle import RequestState
from bot.domain.records import OffboardRequest, Target, TargetOutcome
from bot.domain.workflows import Answer, Proposal
from bot.ports import NotificationFailed
from bot.slack.ids import COMMAND, StepOutput
from bot.slack.markup import escape, mention, quote, span
from bot.slack.messages.notes import target_text
from bot.slack.messages.plans import moment_text, stage_standing
from bot.slack.messages.states import STATE_LABEL

ERROR_LIMIT = 2000  # the step's error is shown in Workflow Builder's activity: one short paragraph


NOT_RUN_YET = "not run yet"
STILL_IN_PROGRESS = "{state}, still in progress"
RUNS = ": runs {when}"
NEXT_STAGE_RUNS = ": its next stage runs {when}"


def summary_lines(request: OffboardRequest) -> str:
    """One line per user: its username and how it ended (e.g. "jdoe: deleted successfully"), or how it stands
    in a request that goes on ("jdoe: not run yet")."""
    return "\n".join(f"{target.plan.username}: {_standing(request, target)}" for target in request.targets)


def _standing(request: OffboardRequest, target: Target) -> str:
    """A user that has not ended in a request that goes on: what its stages did so far, or that it has not run."""
    if target.outcome is TargetOutcome.PENDING and not request.state.is_terminal:
        staged = stage_standing(target)
        if staged is not None:
            return staged
        if not target.steps:
            return NOT_RUN_YET
    return target_text(request.action, target, request.state)


def step_outputs(request: OffboardRequest) -> dict[str, str | bool]:
    """The step's outputs (manifest.yml `output_parameters`) when its request ended."""
    return {StepOutput.REQUEST_ID.value: request.id, StepOutput.STATE.value: STATE_LABEL[request.state],
            StepOutput.SUMMARY.value: summary_lines(request), StepOutput.IN_PROGRESS.value: False}


def answered_outputs(request: OffboardRequest) -> dict[str, str | bool]:
    """The outputs of a step completed before its request ended: the request as it stands, and that it goes on."""
    return {StepOutput.REQUEST_ID.value: request.id, StepOutput.STATE.value: standing_text(request),
            StepOutput.SUMMARY.value: summary_lines(request), StepOutput.IN_PROGRESS.value: True}


def standing_text(request: OffboardRequest) -> str:
    """How a request that goes on stands, e.g. "Approved, still in progress: runs 2026-12-18 09:00 UTC"."""
    text = STILL_IN_PROGRESS.format(state=STATE_LABEL[request.state])
    if request.state is RequestState.APPROVED and request.run_at is not None:
        when = moment_text(request.run_at, request.requester_tz)
        text += (NEXT_STAGE_RUNS if request.started_at is not None else RUNS).format(when=when)
    return text


def step_answered(request: OffboardRequest, *, why: Answer, answer_by: datetime, answer_within: timedelta) -> str:
    """Said in the request's thread when its workflow step was completed before the request ended."""
    setting = "the policy's `workflow_steps.answer_within`"
    if why is Answer.RUNS_LATER:
        cause = (f"A workflow step is kept waiting {span(answer_within)} at most ({setting}: until "
                 f"{moment_text(answer_by, request.requester_tz)} for this one), and this request runs later.")
    else:
        cause = f"The step has waited {span(answer_within)}, as long as a workflow step is kept waiting ({setting})."
    return (f"The workflow that proposed {request.id} was answered now with what is known: "
            f"*{escape(standing_text(request))}*. {cause} The workflow is not told how the request ends: "
            f"`{COMMAND} status {request.id}` shows it at any time.")


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


STEP_GONE = ("execution_not_in_running_state", "function_execution_not_found")  # Slack no longer waits for it


def step_not_told(request: OffboardRequest, *, failure: NotificationFailed) -> str:
    """Said in the request's thread when its workflow step could not be told how it ended or stands: Slack
    stopped waiting for it, or did not take the answer (the workflow may still show the step running)."""
    if request.state.is_terminal:
        told, standing = "how it ended", f"It ended *{STATE_LABEL[request.state]}*"
    else:
        told, standing = "how it stands", f"It is *{escape(standing_text(request))}*"
    why = ("Slack no longer waits for that step" if failure.code in STEP_GONE
           else "the workflow may still show that step as running")
    return (f"The workflow that proposed {request.id} could not be told {told} ({escape(str(failure))}): {why}. "
            f"{standing}; tell whoever started the workflow.")


def untaken_error(proposal: Proposal) -> str:
    return (f"Offboarding request {proposal.request_id} expired: no admin took it from the approvals channel "
            "in time")


def proposal_title(proposal: Proposal) -> str:
    """E.g. "Delete <@U0JDOE>", or "Delete `jdoe@example.com`": the leaver text (typed by whoever ran the
    workflow) on one line, escaped, so it cannot mention, link or break out of its code span."""
    inputs = proposal.inputs
    leaver = mention(inputs.leaver_user_id) if inputs.leaver_user_id else quote(inputs.leaver_text or "", limit=120)
    return f"{inputs.action.value.capitalize()} {leaver}"
