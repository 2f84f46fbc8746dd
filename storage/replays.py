"""Refusing replays: a signed Slack request is taken once.

Slack signs every request with its timestamp, and the signature is accepted for five minutes; someone who
captured a request (a proxy log, a leaked HAR file) could send it again within that time and, say, approve
twice in one person's name or re-run a command. Each signature taken is written down, in the database when
several replicas share it, and kept for as long as its timestamp is accepted.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError

from storage.db import session
from storage.models import SeenRequestRow

KEEP_FOR = timedelta(minutes=11)  # Slack's 5 minutes each way, and a minute for clocks that disagree
SWEEP_EVERY = timedelta(minutes=1)


class ReplayGuard:
    """Remembers the signatures taken: in this process always (a replay to the same process is refused
    without a database round trip), and in the database too on PostgreSQL, which several replicas share.
    SQLite serves one process only, so memory is the whole record there."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._shared = engine.dialect.name != "sqlite"
        self._seen: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._swept_at: datetime | None = None

    def first_time(self, signature: str, *, now: datetime) -> bool:
        """Record the signature; False when it was taken before (a replay)."""
        signature = signature[:80]
        with self._lock:
            sweep = self._swept_at is None or now - self._swept_at >= SWEEP_EVERY
            if sweep:
                self._seen = {seen: at for seen, at in self._seen.items() if now - at < KEEP_FOR}
                self._swept_at = now
            if signature in self._seen:
                return False
            self._seen[signature] = now
        return self._record_shared(signature, now=now, sweep=sweep) if self._shared else True

    def _record_shared(self, signature: str, *, now: datetime, sweep: bool) -> bool:
        with session(self._engine) as db:
            if sweep:
                db.exec(delete(SeenRequestRow).where(SeenRequestRow.seen_at < now - KEEP_FOR))
            db.add(SeenRequestRow(signature=signature, seen_at=now))
            try:
                db.commit()
            except IntegrityError:
                db.rollback()
                return False  # another replica took it
        return True
