"""Refusing replays: a signed Slack request is taken once.

Slack signs every request with its timestamp, and the signature is accepted for five minutes; someone who
captured a request (a proxy log, a leaked HAR file) could send it again within that time and, say, approve
twice in one person's name or re-run a command. Each signature taken is written down, in the database so
that every replica sees it, and kept for as long as its timestamp is accepted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError

from storage.db import session
from storage.models import SeenRequestRow

KEEP_FOR = timedelta(minutes=11)  # Slack's 5 minutes each way, and a minute for clocks that disagree
SWEEP_EVERY = timedelta(minutes=1)


class ReplayGuard:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._swept_at: datetime | None = None

    def first_time(self, signature: str, *, now: datetime) -> bool:
        """Record the signature; False when it was taken before (a replay)."""
        with session(self._engine) as db:
            if self._swept_at is None or now - self._swept_at >= SWEEP_EVERY:
                db.exec(delete(SeenRequestRow).where(SeenRequestRow.seen_at < now - KEEP_FOR))
                self._swept_at = now
            db.add(SeenRequestRow(signature=signature[:80], seen_at=now))
            try:
                db.commit()
            except IntegrityError:
                db.rollback()
                return False
        return True
