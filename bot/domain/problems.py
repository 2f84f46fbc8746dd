"""Why a named user cannot be part of a request: a kind and the facts, never words (bot/slack/messages says them).

A request naming one user is refused with its problems; a request naming several leaves the users with
problems out and keeps each one's problems on the request (`left_out`), shown before anyone approves."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from enum import StrEnum

from bot.domain.directory import UsernameProblem


class ProblemKind(StrEnum):
    NOT_FOUND = "not_found"  # no user with this username or email in the console
    NO_LONGER_IN_CONSOLE = "no_longer_in_console"  # a retry's profile, by console id, is gone
    NO_EMAIL = "no_email"  # a Slack member named by mention shows no email to find the profile by
    PROTECTED = "protected"  # the policy protects the user
    YOURSELF = "yourself"  # the requester named themself
    HELD = "held"  # another open request (`holder`) has the user
    ALREADY_INACTIVE = "already_inactive"
    ALREADY_ACTIVE = "already_active"
    BAD_USERNAME = "bad_username"  # the new username breaks the console's rules (`rule`)
    SAME_USERNAME = "same_username"  # the user already has the new username
    USERNAME_TAKEN = "username_taken"  # another user has the new username
    TEXT = "text"  # written as plain text by an earlier version (`subject` holds it)


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    subject: str  # the user as named, or their username; the new username for the rename problems
    holder: str = ""  # HELD: the request that has the user
    console: str = ""  # NOT_FOUND, NO_LONGER_IN_CONSOLE: which console was asked
    rule: UsernameProblem | None = None  # BAD_USERNAME: which rule the new username breaks

    def to_dict(self) -> dict:
        return {field.name: getattr(self, field.name) for field in fields(self)
                if getattr(self, field.name) != field.default or field.name in ("kind", "subject")}

    @classmethod
    def from_dict(cls, data: dict) -> Problem:
        rule = data.get("rule")
        return cls(kind=ProblemKind(data["kind"]), subject=data["subject"], holder=data.get("holder", ""),
                   console=data.get("console", ""), rule=UsernameProblem(rule) if rule else None)


def problems_to_json(users: tuple[tuple[Problem, ...], ...]) -> str:
    """The problems of each left-out user, as stored with the request."""
    return json.dumps([[problem.to_dict() for problem in problems] for problems in users])


def problems_from_json(text: str | None) -> tuple[tuple[Problem, ...], ...]:
    """Read back what problems_to_json wrote; an earlier version stored a line of text per user."""
    users = []
    for item in json.loads(text or "[]"):
        if isinstance(item, str):
            users.append((Problem(ProblemKind.TEXT, subject=item),))
        else:
            users.append(tuple(Problem.from_dict(problem) for problem in item))
    return tuple(users)
