"""Looking many users up at once, for consoles whose API has nothing better than one lookup each."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bot.domain.directory import ConsoleUser


class _FindsOne(Protocol):
    def find_user(self, *, reference: str) -> ConsoleUser | None: ...


def find_each(console: _FindsOne, references: Iterable[str]) -> dict[str, ConsoleUser | None]:
    """Return each distinct reference (stripped) with the user it names, or None: one lookup each."""
    return {reference: console.find_user(reference=reference)
            for reference in dict.fromkeys(ref.strip() for ref in references)}
