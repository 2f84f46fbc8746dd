"""Moving a stored request directly (storage and replica tests set up requests in a given state this way)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.domain.lifecycle import RequestState
from bot.domain.moves import Changes, Move
from bot.domain.notes import Note
from bot.domain.records import AuditEntry, OffboardRequest


def transition(store, request_id: str, *, to: RequestState, allowed_from: Iterable[RequestState], now: datetime,
               entry: AuditEntry, changes: dict | None = None, fail_pending: Note | None = None
               ) -> OffboardRequest | None:
    """Apply a raw Move (no verb's rules): the guarded update storage makes of every move."""
    move = Move(request_id, to, frozenset(allowed_from), entry, Changes(**(changes or {})), fail_pending)
    return store.apply(move, now=now)
