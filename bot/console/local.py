"""The embedded admin console: a small user directory in one SQLite file (standard library only)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.console.lookup import find_each, get_each
from bot.console.rules import username_refusal
from bot.domain.directory import ConsoleUser, Device, Extension, ExtensionType, Released, UserStatus, released
from bot.errors import ConfigurationError, ConsoleError, ConsoleRejected, ConsoleUnavailable, UserGone, UsernameTaken
from bot.ports import Clock

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id       TEXT PRIMARY KEY,
    username TEXT NOT NULL COLLATE NOCASE UNIQUE,
    email    TEXT NOT NULL COLLATE NOCASE,
    data     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS users_email ON users (email);
CREATE TABLE IF NOT EXISTS operations (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    name    TEXT NOT NULL,
    user_id TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT ''
);
"""
BUSY_TIMEOUT_SECONDS = 10.0
USER_COLUMNS = "id, username, email, data"


@dataclass(frozen=True)
class Operation:
    """One mutating operation the local console applied."""

    seq: int
    at: datetime
    name: str  # release_licenses | set_status | rename | delete
    user_id: str
    detail: str


class _UtcClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class LocalConsole:
    """A Console backed by a SQLite file; safe to share between threads (one connection per call)."""

    name = "local"
    services_visible = True

    def __init__(self, path: str | Path, *, clock: Clock | None = None) -> None:
        if str(path) in ("", ":memory:"):
            raise ConfigurationError("the local console needs a file path, not an in-memory database")
        self.path = Path(path)
        self._clock = clock or _UtcClock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)

    # -- reads -------------------------------------------------------------------------------

    def find_user(self, *, reference: str) -> ConsoleUser | None:
        """Return the user whose username or email equals reference (case-insensitive), or None."""
        reference = reference.strip()
        if not reference:
            return None
        with self._connection() as conn:
            row = conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE username = ?", (reference,)).fetchone()
            if row is not None:
                return _user_from_row(row)
            rows = conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE email = ? LIMIT 2", (reference,)).fetchall()
        if len(rows) > 1:
            raise ConsoleRejected(f"several users have the email {reference}; use their username instead")
        return _user_from_row(rows[0]) if rows else None

    def find_users(self, *, references: Iterable[str]) -> dict[str, ConsoleUser | None]:
        """Return each reference with the user it names (one lookup each)."""
        return find_each(self, references)

    def get_users(self, *, names: Mapping[str, tuple[str, ...]]) -> dict[str, ConsoleUser | None]:
        """Return each user id with its user (one read each)."""
        return get_each(self, names)

    def get_user(self, *, user_id: str) -> ConsoleUser | None:
        """Return the user with this console id, or None when it does not exist."""
        with self._connection() as conn:
            row = conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE id = ?", (user_id,)).fetchone()
        return _user_from_row(row) if row else None

    def check(self) -> list[str]:
        """Count the users, which proves the file can be read."""
        with self._connection() as conn:
            (count,) = conn.execute("SELECT count(*) FROM users").fetchone()
        return [f"local console {self.path}: {count} users"]

    def search_users(self, *, text: str, limit: int = 20) -> list[ConsoleUser]:
        """Return users whose username, email or name contains text, sorted by username."""
        if limit <= 0:
            return []
        query = f"""
            SELECT {USER_COLUMNS} FROM users
            WHERE instr(fold(username), :t) OR instr(fold(email), :t)
               OR instr(fold(json_extract(data, '$.first_name') || ' ' || json_extract(data, '$.last_name')), :t)
            ORDER BY username, id LIMIT :n
        """
        with self._connection() as conn:
            rows = conn.execute(query, {"t": text.strip().casefold(), "n": limit}).fetchall()
        return [_user_from_row(row) for row in rows]

    def username_taken(self, *, username: str) -> bool:
        """Return True when some user already has this username (case-insensitive)."""
        with self._connection() as conn:
            row = conn.execute("SELECT 1 FROM users WHERE username = ?", (username.strip(),)).fetchone()
        return row is not None

    def operations(self, *, user_id: str | None = None) -> list[Operation]:
        """Return the log of applied mutations, oldest first, optionally for one user only."""
        query = "SELECT seq, at, name, user_id, detail FROM operations"
        params: tuple[str, ...] = ()
        if user_id is not None:
            query, params = query + " WHERE user_id = ?", (user_id,)
        with self._connection() as conn:
            rows = conn.execute(query + " ORDER BY seq", params).fetchall()
        return [Operation(seq, datetime.fromisoformat(at), name, uid, detail) for seq, at, name, uid, detail in rows]

    # -- mutations ---------------------------------------------------------------------------

    def release_licenses(self, *, user_id: str) -> Released:
        """Remove every license and the phone numbers they hold from the user."""

        def change(user: ConsoleUser) -> tuple[ConsoleUser, str]:
            extensions = tuple(replace(ext, phone_numbers=()) for ext in user.extensions)
            licenses, numbers = ", ".join(user.licenses) or "none", ", ".join(user.phone_numbers) or "none"
            detail = f"licenses: {licenses}; numbers: {numbers}"
            return replace(user, licenses=(), extensions=extensions), detail

        return self._mutate(user_id, "release_licenses", change)

    def set_status(self, *, user_id: str, status: UserStatus) -> Released:
        """Deactivate or reactivate the user."""
        status = UserStatus(status)
        return self._mutate(user_id, "set_status",
                            lambda user: (replace(user, status=status), f"{user.status} -> {status}"))

    def rename(self, *, user_id: str, new_username: str) -> Released:
        """Change the user's username; raises UsernameTaken when another user has it."""

        def change(user: ConsoleUser) -> tuple[ConsoleUser, str]:
            problem = username_refusal(new_username)
            if problem:
                raise ConsoleRejected(f"cannot rename {user.username} to {new_username!r}: {problem}")
            return replace(user, username=new_username), f"{user.username} -> {new_username}"

        return self._mutate(user_id, "rename", change)

    def delete(self, *, user_id: str) -> Released:
        """Delete the user profile and its user id for good (its numbers, licenses and desk phones with it)."""
        return self._mutate(user_id, "delete", lambda user: (None, f"deleted {user.username} <{user.email}>"))

    # -- seeding -----------------------------------------------------------------------------

    def add_user(self, user: ConsoleUser) -> None:
        """Insert a user; raises UsernameTaken or ConsoleRejected on a duplicate username or id."""
        with self._transaction() as conn:
            _insert(conn, user)

    def seed_if_empty(self) -> int:
        """Insert the demo users when the directory is empty; return how many were inserted."""
        from bot.console.demo_data import DEMO_USERS

        with self._transaction() as conn:
            if conn.execute("SELECT 1 FROM users LIMIT 1").fetchone():
                return 0
            for user in DEMO_USERS:
                _insert(conn, user)
        return len(DEMO_USERS)

    # -- plumbing ----------------------------------------------------------------------------

    def _mutate(
        self, user_id: str, operation: str, change: Callable[[ConsoleUser], tuple[ConsoleUser | None, str]]
    ) -> Released:
        """Apply change to the stored user and log the operation, all in one write transaction; return what the
        change took from the user."""
        with self._transaction() as conn:
            row = conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE id = ?", (user_id,)).fetchone()
            if row is None:
                raise UserGone(user_id)
            before = _user_from_row(row)
            updated, detail = change(before)
            if updated is None:
                conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
            else:
                _check_username_free(conn, updated)
                conn.execute(
                    "UPDATE users SET username = ?, email = ?, data = ? WHERE id = ?",
                    (updated.username, updated.email, _data_json(updated), user_id),
                )
            conn.execute(
                "INSERT INTO operations (at, name, user_id, detail) VALUES (?, ?, ?, ?)",
                (self._clock.now().isoformat(), operation, user_id, detail),
            )
        return released(before, updated)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """Yield a fresh autocommit connection, closed afterwards; SQLite failures become ConsoleErrors."""
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        except sqlite3.Error as exc:
            raise ConsoleUnavailable(f"cannot open the local console at {self.path}: {exc}") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            conn.create_function("fold", 1, _fold, deterministic=True)
            yield conn
        except sqlite3.OperationalError as exc:
            raise ConsoleUnavailable(f"the local console is unavailable: {exc}") from exc
        except sqlite3.Error as exc:
            raise ConsoleError(f"the local console failed: {exc}") from exc
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Yield a connection inside a write transaction, committed on success, rolled back otherwise."""
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")


def _fold(value: Any) -> str:
    return str(value).casefold() if value is not None else ""


def _check_username_free(conn: sqlite3.Connection, user: ConsoleUser) -> None:
    row = conn.execute("SELECT 1 FROM users WHERE username = ? AND id <> ?", (user.username, user.id)).fetchone()
    if row is not None:
        raise UsernameTaken(user.username)


def _insert(conn: sqlite3.Connection, user: ConsoleUser) -> None:
    if conn.execute("SELECT 1 FROM users WHERE id = ?", (user.id,)).fetchone():
        raise ConsoleRejected(f"a user with id {user.id} already exists")
    _check_username_free(conn, user)
    conn.execute(
        f"INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, ?, ?)",
        (user.id, user.username, user.email, _data_json(user)),
    )


def _data_json(user: ConsoleUser) -> str:
    """Serialise every field but the indexed columns (id, username, email)."""
    data = asdict(user)
    for column in ("id", "username", "email"):
        del data[column]
    return json.dumps(data, sort_keys=True)


def _user_from_row(row: tuple[str, str, str, str]) -> ConsoleUser:
    user_id, username, email, data_json = row
    data = json.loads(data_json)
    return ConsoleUser(
        id=user_id,
        username=username,
        email=email,
        first_name=data.get("first_name", ""),
        last_name=data.get("last_name", ""),
        status=UserStatus(data.get("status", UserStatus.ACTIVE)),
        licenses=tuple(data.get("licenses", ())),
        extensions=tuple(_extension(ext) for ext in data.get("extensions", ())),
        call_queues=tuple(data.get("call_queues", ())),
        ring_groups=tuple(data.get("ring_groups", ())),
        site=data.get("site", ""),
        extra=dict(data.get("extra") or {}),
    )


def _extension(data: dict[str, Any]) -> Extension:
    return Extension(
        number=data["number"],
        type=ExtensionType(data["type"]),
        phone_numbers=tuple(data.get("phone_numbers", ())),
        devices=tuple(Device(**device) for device in data.get("devices", ())),
    )
