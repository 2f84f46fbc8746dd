"""A request proposed by a Workflow Builder step: what the step was given, and how far it went.

The workflow only proposes: its proposal waits in the approvals channel until an admin takes it, which makes
the admin its requester (a draft of their own, with the checklist and the live plan); from there the request
lives as any other, and when it ends the step is completed (or failed) with how it ended."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum

from bot.domain.lifecycle import Action

STEP_ACTIONS = (Action.DELETE, Action.DEACTIVATE)  # what a workflow may propose


class ProposalState(StrEnum):
    PROPOSED = "proposed"  # in the approvals channel, for an admin to take
    TAKEN = "taken"  # an admin took it: the request of the same id is theirs
    ENDED = "ended"  # the request ended and the step was told


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
