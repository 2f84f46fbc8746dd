"""Looking many users up (or reading many) at once, for consoles whose API has nothing better than one call each."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from bot.domain.directory import ConsoleUser


class _FindsOne(Protocol):
    def find_user(self, *, reference: str) -> ConsoleUser | None: ...


class _GetsOne(Protocol):
    def get_user(self, *, user_id: str) -> ConsoleUser | None: ...


def find_each(console: _FindsOne, references: Iterable[str]) -> dict[str, ConsoleUser | None]:
    """Return each distinct reference (stripped) with the user it names, or None: one lookup each."""
    return {reference: console.find_user(reference=reference)
            for reference in dict.fromkeys(ref.strip() for ref in references)}


def get_each(console: _GetsOne, names: Mapping[str, tuple[str, ...]]) -> dict[str, ConsoleUser | None]:
    """Return each user id with the user it has, or None: one read each."""
    return {user_id: console.get_user(user_id=user_id) for user_id in names}
