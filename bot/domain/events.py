"""What happened to a request, as the service says it: small typed events, never sentences.

The service returns the event of a decision to whoever made it (the Slack edge answers them with its words),
and publishes through the Notifier port what other people must hear of (a rejection, an expiry, a request
called off, interrupted, waiting for hands, progressing, finished); the Slack layer (bot/slack) turns each
into the words and messages people see."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.records import OffboardRequest, TargetOutcome
from bot.domain.workflows import Answer, Proposal


@dataclass(frozen=True)
class Lapse:
    """Why a request may no longer run: its requester, or enough of its approvers, are no longer admins (or no
    longer distinct people, or among those it offboards). Stored with a request the bot called off."""

    requester: str = ""  # the requester's email, when they may no longer ask
    gone: tuple[str, ...] = ()  # the approvers who are no longer admins
    counted: int = 0  # approvals that still count
    required: int = 0
    repeated: tuple[str, ...] = ()  # approvers who are the requester or an earlier approver under another account
    offboarded: tuple[str, ...] = ()  # approvers the request offboards

    def to_json(self) -> str:
        return json.dumps({"lapse": {"requester": self.requester, "gone": list(self.gone), "counted": self.counted,
                                     "required": self.required, "repeated": list(self.repeated),
                                     "offboarded": list(self.offboarded)}})

    @classmethod
    def from_json(cls, text: str | None) -> Lapse | None:
        """The lapse stored as a request's decision note, or None when the note is something else."""
        try:
            data = json.loads(text or "")
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("lapse"), dict):
            return None
        lapse = data["lapse"]
        return cls(requester=lapse.get("requester", ""), gone=tuple(lapse.get("gone", ())),
                   counted=lapse.get("counted", 0), required=lapse.get("required", 0),
                   repeated=tuple(lapse.get("repeated", ())), offboarded=tuple(lapse.get("offboarded", ())))


@dataclass(frozen=True)
class Event:
    request: OffboardRequest  # as it stands after what happened


@dataclass(frozen=True)
class Drafted(Event):
    """A plan was made: shown privately to whoever asked."""


@dataclass(frozen=True)
class SentForApproval(Event):
    """The requester sent the draft; the approval message is posted."""


@dataclass(frozen=True)
class Confirmed(Event):
    """The requester confirmed a request the policy lets run without a second admin."""


@dataclass(frozen=True)
class ApprovalCounted(Event):
    by: str  # who approved
    missing: int  # approvals still needed, as counted when this one was recorded


@dataclass(frozen=True)
class Approved(Event):
    by: str  # whose approval was the last one needed
    runs_at: datetime | None  # when it runs, when that is later than now


@dataclass(frozen=True)
class Rejected(Event):
    by: str
    reason: str


@dataclass(frozen=True)
class Cancelled(Event):
    by: str


@dataclass(frozen=True)
class Stopped(Event):
    """An admin gave up on the steps waiting to be done by hand: the request failed, earlier steps stay."""

    by: str


@dataclass(frozen=True)
class Rechecking(Event):
    """An admin says the manual steps are done: the users are read back and the run carries on."""

    by: str


@dataclass(frozen=True)
class Expired(Event):
    was_awaiting: bool  # False: a draft nobody sent


@dataclass(frozen=True)
class CalledOff(Event):
    """The bot cancelled a request that may no longer run, before doing anything more."""

    lapse: Lapse
    running: bool = False  # it was carrying on (after a Re-check, or taken over), not starting


@dataclass(frozen=True)
class Interrupted(Event):
    """An unexpected error stopped a run; it resumes by itself, without repeating a finished step."""

    error: str  # the error's type name
    storage_down: bool  # the bot's own database did not answer
    retry_in: timedelta  # the run carries on this long from now at the earliest
    tries: int  # after this many interruptions the run stops for good


@dataclass(frozen=True)
class WaitingForManual(Event):
    """Some steps wait to be done by hand in the console (its API cannot do them on this account)."""

    console: str  # the console's name
    rechecked_by: str | None  # who pressed Re-check, when this follows one


@dataclass(frozen=True)
class StageDone(Event):
    """A staged request finished a stage; the next one runs at request.run_at."""


@dataclass(frozen=True)
class Progressed(Event):
    """Some users of a running request finished (published at most about once a second). `counts` is how many
    ended each way; the request is as loaded when the run began (its users' outcomes are not kept up to date)."""

    counts: dict[TargetOutcome, int]


@dataclass(frozen=True)
class Finished(Event):
    """The request ran to its end (done or failed): every user has its result."""


@dataclass(frozen=True)
class StepEnded(Event):
    """A request a workflow step proposed has ended: the step is completed (done) or failed (any other end)."""

    execution_id: str  # Slack's function_execution_id


@dataclass(frozen=True)
class StepAnswered(Event):
    """A request a workflow step proposed goes on past when the step must be answered (`why`): the step is
    completed now with what is known (the request as it stands), and its end is no longer the step's."""

    proposal: Proposal  # its execution_id completes the step; its message is where a draft's thread would be
    why: Answer
    answer_by: datetime


def later(moment: datetime | None, now: datetime) -> datetime | None:
    """The moment when it is still ahead of now, else None."""
    return moment if moment is not None and moment > now else None
