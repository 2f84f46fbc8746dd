"""What an admin asked for: the verb, the users named, the options. The Slack edge parses typed text and
forms into a Command (handlers/parsing.py)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.lifecycle import Action
from bot.domain.schedule import Schedule, check_run_at, resolve_when

MAX_REASON = 3000


class Verb(StrEnum):
    DELETE = "delete"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    RENAME = "rename"
    STATUS = "status"
    LIST = "list"
    CANCEL = "cancel"
    HELP = "help"
    MODAL = "modal"


TYPED_VERBS = tuple(verb.value for verb in Verb if verb is not Verb.MODAL)  # what may follow /offboard


TYPO_CUTOFF = 0.66  # how alike (difflib's ratio) a word must be to a choice to be taken for a typo of it


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The choice a mistyped word most likely meant (`delet` → `delete`, `--reson` → `--reason`); None when none
    is close enough. Options are compared without their leading dashes, which every one has."""
    bare = {choice.lstrip("-"): choice for choice in choices}
    found = difflib.get_close_matches(word.lower().lstrip("-"), list(bare), n=1, cutoff=TYPO_CUTOFF)
    return bare[found[0]] if found else None


@dataclass(frozen=True)
class UserRef:
    """A user as typed: a Slack mention (resolved through the member's email) or a username/email; or, for a
    retry, the very console profile an earlier request named (`console_id`; `text` is its username then)."""

    text: str
    slack_user_id: str | None = None
    console_id: str | None = None


@dataclass(frozen=True)
class Command:
    """What was asked. A typed `--at` stays text (`at_text`) until the requester's time zone is known;
    the form's date-time picker gives an absolute `at`. `grace`/`retain` make a delete staged."""

    verb: Verb
    targets: tuple[UserRef, ...] = ()
    new_username: str | None = None
    reason: str = ""
    request_id: str | None = None
    at_text: str | None = None
    at: datetime | None = None
    grace: timedelta | None = None
    retain: timedelta | None = None
    retry_of: str | None = None  # the finished request whose failed users this asks for again

    @property
    def action(self) -> Action:
        return Action(self.verb.value)

    def schedule(self, *, tz: str, now: datetime) -> Schedule:
        """Return when and in what stages this runs, `--at` read in tz (IANA name; unknown means UTC);
        raise BadCommand when the run time is unreadable, not in the future or more than a year away."""
        run_at = None
        if self.at_text is not None:
            run_at = resolve_when(self.at_text, tz=tz, now=now)
        elif self.at is not None:
            run_at = check_run_at(self.at, now=now)
        return Schedule(run_at=run_at, grace=self.grace, retain=self.retain)
