"""The audit log: an append-only hash chain. Any edited, inserted or removed row breaks it."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.domain.records import AuditEntry
from bot.errors import OffboardError
from storage.db import session
from storage.models import AuditHeadRow, AuditRow

GENESIS = "0" * 64
EXPORT_FIELDS = ("seq", "at", "actor", "event", "request_id", "data", "prev_hash", "hash")


def _digest(prev_hash: str, seq: int, at: str, actor: str, event: str, request_id: str | None, data: str) -> str:
    material = json.dumps([prev_hash, seq, at, actor, event, request_id or "", data], separators=(",", ":"))
    return hashlib.sha256(material.encode()).hexdigest()


def append(db: Session, entry: AuditEntry, *, now: datetime) -> AuditRow:
    """Add entry to the chain inside the caller's transaction (which the caller commits)."""
    head = db.exec(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).one_or_none()
    if head is None:
        raise AuditBroken("the audit log's head row is missing: the database was not migrated or was tampered with")
    seq = head.seq + 1
    at = now.astimezone(UTC).isoformat(timespec="microseconds")
    data = json.dumps(entry.data or {}, sort_keys=True, separators=(",", ":"), default=str)
    row = AuditRow(seq=seq, at=at, actor=entry.actor, event=entry.event, request_id=entry.request_id, data=data,
                   prev_hash=head.hash, hash=_digest(head.hash, seq, at, entry.actor, entry.event, entry.request_id,
                                                     data))
    head.seq, head.hash = seq, row.hash
    db.add(row)
    db.add(head)
    return row


class AuditBroken(OffboardError):
    """The audit log cannot be appended to safely."""


@dataclass(frozen=True)
class Verification:
    ok: bool
    rows: int
    problems: tuple[str, ...]


def verify(engine: Engine) -> Verification:
    """Walk the chain up to its head and return every break found (edited, inserted or removed rows).

    The head is read first, so rows appended while the check runs are left for the next check."""
    with session(engine) as db:
        head = db.get(AuditHeadRow, 1)
    if head is None:
        return Verification(ok=False, rows=0, problems=("the chain's head row is missing (removed)",))
    problems: list[str] = []
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for row in _rows(engine, upto=head.seq):
        count += 1
        if row.seq != expected_seq:
            problems.append(f"row {expected_seq} to {row.seq - 1} missing (removed rows)")
        if row.prev_hash != expected_prev:
            problems.append(f"row {row.seq}: does not follow the row before it")
        if _digest(row.prev_hash, row.seq, row.at, row.actor, row.event, row.request_id, row.data) != row.hash:
            problems.append(f"row {row.seq}: content does not match its hash (edited)")
        expected_prev, expected_seq = row.hash, row.seq + 1
    if head.seq != expected_seq - 1 or head.hash != expected_prev:
        problems.append(f"the chain ends at row {expected_seq - 1} but its head says row {head.seq} (rows removed "
                        "from the end, or the head was edited)")
    return Verification(ok=not problems, rows=count, problems=tuple(problems))


def _rows(engine: Engine, *, upto: int | None = None, batch: int = 1000) -> Iterator[AuditRow]:
    last = 0
    while True:
        query = select(AuditRow).where(AuditRow.seq > last).order_by(AuditRow.seq).limit(batch)
        if upto is not None:
            query = query.where(AuditRow.seq <= upto)
        with session(engine) as db:
            rows = db.exec(query).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def export(engine: Engine, out: IO[str], *, fmt: str = "jsonl") -> int:
    """Write every audit row to out as JSON lines or CSV; return how many rows were written."""
    count = 0
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    for row in _rows(engine):
        record = {name: getattr(row, name) for name in EXPORT_FIELDS}
        if writer:
            writer.writerow(record)
        else:
            record["data"] = json.loads(row.data)
            out.write(json.dumps(record, sort_keys=True) + "\n")
        count += 1
    return count
