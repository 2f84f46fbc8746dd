"""Engines and sessions for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from bot.errors import StorageUnavailable


def make_engine(url: str) -> Engine:
    """Return an engine for url; SQLite gets WAL, foreign keys and writer-serialising transactions."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _serialise_sqlite_writers(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    event.listen(engine, "handle_error", _unavailable)
    return engine


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database, an in-memory one, or a URL SQLAlchemy cannot read),
    so that a command can say the file or its folder is missing before SQLite creates it or fails on it."""
    try:
        parsed = make_url(url)
    except Exception:  # unreadable: the engine says so when it is made
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:") or parsed.query.get("uri"):  # SQLite's URI form: left to SQLite
        return None
    return Path(parsed.database)


_SQLITE_BUSY = ("database is locked", "database is busy")


def _unavailable(context: ExceptionContext) -> StorageUnavailable | None:
    """The database being down, unreachable or locked too long becomes StorageUnavailable, which every
    layer above knows how to explain. Everything else (a missing table, a deadlock, a constraint) stays
    as it is: those are bugs or races, not an outage, and must be reported as such. The pool's own
    liveness pings are left alone, so it can still replace a dead connection quietly."""
    if context.is_pre_ping or not isinstance(context.sqlalchemy_exception, OperationalError):
        return None
    original = context.original_exception
    could_not_connect = context.connection is None
    locked = context.engine is not None and context.engine.dialect.name == "sqlite" and any(
        words in str(original).lower() for words in _SQLITE_BUSY)
    if not (context.is_disconnect or could_not_connect or locked):
        return None
    return StorageUnavailable(type(original).__name__)


def _serialise_sqlite_writers(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN; take the write lock at the start instead, so a
    # read-then-write transaction never fails halfway with "database is locked".
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session(engine: Engine) -> Session:
    """Return a new session; use it as a context manager and commit explicitly."""
    return Session(engine, expire_on_commit=False)


def snapshot_engine(engine: Engine) -> Engine:
    """The engine to read a request whole with: its row, users, steps and approvals from one moment.

    PostgreSQL reads committed data statement by statement by default, so a read overlapping a commit could
    see the request's row from before it and its approvals from after; its sessions here read one snapshot
    (REPEATABLE READ). SQLite's transactions already read one snapshot."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="REPEATABLE READ")
    return engine
