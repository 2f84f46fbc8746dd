"""Why a user ended as it did, or how one of its steps stands: a code and the facts, never words.

The step runner writes these to the journal and to each user's result; the Slack layer (bot/slack/messages)
says them to people. Stored as JSON; a note stored as plain text by an earlier version reads back as TEXT."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from enum import StrEnum

from bot.domain.directory import Released
from bot.domain.plan import StepKind


class Why(StrEnum):
    # how a user ended
    COMPLETED = "completed"  # every step done
    ALREADY_DELETED = "already_deleted"  # a later stage found the user deleted by someone else
    UNREADABLE = "unreadable"  # could not read the user before starting: nothing was changed
    GONE = "gone"  # the user no longer exists: nothing was done
    CHANGED = "changed"  # the record changed since the approval: nothing was done
    NOT_THE_SAME_PERSON = "not_the_same_person"  # username or email changed since the approval
    UNDONE = "undone"  # before a later stage: earlier stages no longer show (`steps`)
    STEP_FAILED = "step_failed"  # `step` did not happen, because of `cause`
    STEP_UNCONFIRMED = "step_unconfirmed"  # `step` was sent but whether it happened is unknown (`cause`)
    STOPPED = "stopped"  # an admin stopped the request while a step waited to be done by hand
    GAVE_UP = "gave_up"  # `count` unexpected errors on our side: the run stopped for good
    # how a step stands in the journal
    DONE = "done"  # done through the console's API; `released` says what it took from the user
    ATTESTED = "attested"  # a manual step the requester confirmed before approval
    BY_HAND = "by_hand"  # the console's API cannot do it: an admin does it in `console`, then Re-check
    DONE_BY_HAND = "done_by_hand"  # done by hand, verified by reading the user back
    # causes of a failed or unconfirmed step
    REFUSED = "refused"  # the console refused or failed it (`said`)
    DEACTIVATED_ONLY = "deactivated_only"  # asked to delete, the console only deactivated (`said`)
    NO_CHANGE = "no_change"  # accepted, but reading the user back shows no change
    READ_BACK_FAILED = "read_back_failed"  # sent, but the user could not be read back (`said`)
    UNSURE = "unsure"  # sent, and the console could not say whether it happened (`said`)
    TEXT = "text"  # written as plain text by an earlier version (`said`)


@dataclass(frozen=True)
class Note:
    why: Why
    step: StepKind | None = None  # the step it concerns
    cause: Why | None = None  # for STEP_FAILED and STEP_UNCONFIRMED
    said: str = ""  # the console's own words (an error, with its response id), or a legacy text
    count: int = 0  # GAVE_UP: how many errors
    steps: tuple[StepKind, ...] = ()  # UNDONE: the earlier stages that no longer show
    console: str = ""  # BY_HAND: whose admin pages
    held: tuple[str, ...] = ()  # BY_HAND, releasing licenses: what the user held when it was read
    released: Released | None = None  # DONE: what the step took from the user (numbers, licenses, phones…)

    def to_dict(self) -> dict:
        """The fields that differ from their defaults (what the audit log and the database keep)."""
        data = {field.name: getattr(self, field.name) for field in fields(self)
                if getattr(self, field.name) != field.default}
        if self.released is not None:
            data["released"] = self.released.to_dict()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> Note | None:
        """The note stored as text; None for none; a plain text from an earlier version as a TEXT note."""
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict) or "why" not in data:
            return cls(Why.TEXT, said=text)
        return cls(why=Why(data["why"]), step=_kind(data.get("step")), cause=_why(data.get("cause")),
                   said=data.get("said", ""), count=data.get("count", 0),
                   steps=tuple(StepKind(kind) for kind in data.get("steps", ())), console=data.get("console", ""),
                   held=tuple(data.get("held", ())),
                   released=Released.from_dict(data["released"]) if "released" in data else None)


def _kind(value: str | None) -> StepKind | None:
    return StepKind(value) if value else None


def _why(value: str | None) -> Why | None:
    return Why(value) if value else None
