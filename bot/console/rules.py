"""The console's rules for usernames, as the console adapters word a refusal (defence in depth: the service
checks a new username before any console is asked)."""

from __future__ import annotations

from bot.domain.directory import USERNAME_MAX, USERNAME_MIN, UsernameProblem, username_problem

_SAID = {
    UsernameProblem.LENGTH: f"a username must be {USERNAME_MIN} to {USERNAME_MAX} characters long",
    UsernameProblem.CHARACTERS: "a username may only contain letters, digits and . @ - _ /",
}


def username_refusal(username: str) -> str | None:
    """Why a console refuses this username, in words; None when it accepts it."""
    problem = username_problem(username)
    return _SAID[problem] if problem is not None else None
