"""What a SCIM console last read of each user: the version (ETag) its next change is conditional on, and the
username its messages name the user by."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import bot.console.scim.mapping as mapping
from bot.domain.directory import ConsoleUser


@dataclass(frozen=True)
class _Seen:
    version: str | None
    username: str


class Versions:
    """Per user id, the version and username last read; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, _Seen] = {}

    def remember(self, raw: dict[str, Any]) -> ConsoleUser:
        """Remember a user as read; return it as a ConsoleUser."""
        user = mapping.user_from_scim(raw)
        with self._lock:
            self._seen[user.id] = _Seen(version=mapping.version(raw), username=user.username)
        return user

    def written(self, user_id: str, *, version: str | None, username: str | None) -> None:
        """A change went through: remember the version it produced (None: unknown, the next change reads first)."""
        with self._lock:
            seen = self._seen.get(user_id)
            self._seen[user_id] = _Seen(version=version, username=username or (seen.username if seen else ""))

    def version(self, user_id: str) -> str | None:
        with self._lock:
            seen = self._seen.get(user_id)
        return seen.version if seen else None

    def forget(self, user_id: str) -> None:
        """Drop the version (the record is gone or changed), keep the username for messages."""
        with self._lock:
            seen = self._seen.get(user_id)
            if seen is not None:
                self._seen[user_id] = _Seen(version=None, username=seen.username)

    def label(self, user_id: str) -> str:
        """How messages name the user: "jdoe (id 42)", or "id 42" before it was read."""
        with self._lock:
            seen = self._seen.get(user_id)
        return f"{seen.username} (id {user_id})" if seen and seen.username else f"id {user_id}"
