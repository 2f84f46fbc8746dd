"""A request proposed by a Workflow Builder step: what the step was given, and how far it went.

The workflow only proposes: its proposal waits in the approvals channel until an admin takes it, which makes
the admin its requester (a draft of their own, with the checklist and the live plan); from there the request
lives as any other, and when it ends the step is completed (or failed) with how it ended. A request that goes on
past how long a step may wait (`early_answer`) completes it before, with what is known then."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.domain.lifecycle import Action, RequestState
from bot.domain.records import OffboardRequest

STEP_ACTIONS = (Action.DELETE, Action.DEACTIVATE)  # what a workflow may propose


class ProposalState(StrEnum):
    PROPOSED = "proposed"  # in the approvals channel, for an admin to take
    TAKEN = "taken"  # an admin took it: the request of the same id is theirs
    ENDED = "ended"  # the request ended and the step was told
    ANSWERED = "answered"  # the step was completed with what was known; the request goes on without it


class Answer(StrEnum):
    """Why a step is completed before its request ends."""

    RUNS_LATER = "runs_later"  # approved to run (or to run its next stage) after the step must be answered
    TIME_UP = "time_up"  # the step has waited as long as the policy lets it (workflow_steps.answer_within)


@dataclass(frozen=True)
class StepInputs:
    """What the step's form gave: the leaver as a Slack member and/or as text (an email or console username),
    the action, an optional date (when to run, or a staged delete's start), the reason, and whether HR says the
    offboarding process is complete."""

    action: Action
    leaver_user_id: str | None = None
    leaver_text: str | None = None
    date: datetime | None = None
    reason: str = ""
    process_complete: bool = False

    def to_json(self) -> str:
        data = asdict(self)
        data["action"] = self.action.value
        data["date"] = self.date.isoformat() if self.date else None
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> StepInputs:
        data = json.loads(text)
        date = datetime.fromisoformat(data["date"]).astimezone(UTC) if data.get("date") else None
        return cls(action=Action(data["action"]), leaver_user_id=data.get("leaver_user_id"),
                   leaver_text=data.get("leaver_text"), date=date, reason=data.get("reason") or "",
                   process_complete=bool(data.get("process_complete")))


@dataclass(frozen=True)
class Proposal:
    """One step's proposal. `request_id` is the id the request takes when an admin takes the proposal, so the
    step's output and the approvals channel name it from the start."""

    request_id: str
    execution_id: str  # Slack's function_execution_id: what completes or fails the step later
    inputs: StepInputs
    state: ProposalState
    proposed_by: str  # the member who ran the workflow ('' when Slack did not say)
    created_at: datetime
    expires_at: datetime
    taken_by: str | None = None
    message_channel: str | None = None
    message_ts: str | None = None

    def answer_by(self, answer_within: timedelta) -> datetime:
        """When the step must be answered at the latest, with what is known then."""
        return self.created_at + answer_within


def early_answer(request: OffboardRequest, *, answer_by: datetime, now: datetime) -> Answer | None:
    """Why the step of a request that has not ended must be answered now, or None while it can wait for the end.

    Only an approved request is known to outlive the step: one that waits for its run, or for its next stage,
    past `answer_by`. One still waiting for approval might be rejected or expire in time, so it is answered only
    when its time is up. A run under way, or due now, ends within minutes: the step hears its end instead."""
    if request.state.is_terminal:
        return None
    waits_for_run = request.state is RequestState.APPROVED and request.run_at is not None and request.run_at > now
    if request.state is RequestState.EXECUTING or (request.state is RequestState.APPROVED and not waits_for_run):
        return None
    if now >= answer_by:
        return Answer.TIME_UP
    if waits_for_run and request.run_at > answer_by:
        return Answer.RUNS_LATER
    return None
