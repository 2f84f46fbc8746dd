"""The audit log: an append-only hash chain. Any edited, inserted or removed row breaks it.

Each row's hash covers the row before it. Without a key the hash is SHA-256, which anyone who can write to the
database can compute again after an edit. With an audit key (OFFBOARD_AUDIT_KEY) it is HMAC-SHA256 under that
key, which only a holder of the key can make. Both kinds of row live in the same table: `verify` tells them apart
by the hash each one matches. Plain rows may come first (a log written before the key was set); once a row is
sealed with the key, every later row must be sealed too."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.domain.records import AuditEntry
from bot.errors import OffboardError
from storage.db import session
from storage.models import AuditHeadRow, AuditRow

GENESIS = "0" * 64
EXPORT_FIELDS = ("seq", "at", "actor", "event", "request_id", "data", "prev_hash", "hash")
KEY_IN_USE = "audit.key_in_use"  # the row a process with a key writes at start unless the newest row is sealed


def _digest(prev_hash: str, seq: int, at: str, actor: str, event: str, request_id: str | None, data: str, *,
            key: SecretStr | None = None) -> str:
    """The row's hash: SHA-256 of its content and the previous hash, or HMAC-SHA256 of the same under key."""
    material = json.dumps([prev_hash, seq, at, actor, event, request_id or "", data], separators=(",", ":")).encode()
    if key is None:
        return hashlib.sha256(material).hexdigest()
    return hmac.new(key.get_secret_value().encode(), material, hashlib.sha256).hexdigest()


def _matches(row: AuditRow, key: SecretStr | None) -> bool:
    """Whether row's hash is the plain hash of its content (key None) or its HMAC under key."""
    digest = _digest(row.prev_hash, row.seq, row.at, row.actor, row.event, row.request_id, row.data, key=key)
    return hmac.compare_digest(digest, row.hash)


def _locked_head(db: Session) -> AuditHeadRow:
    head = db.exec(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).one_or_none()
    if head is None:
        raise AuditBroken("the audit log's head row is missing: the database was not migrated or was tampered with")
    return head


def append(db: Session, entry: AuditEntry, *, now: datetime, key: SecretStr | None = None) -> AuditRow:
    """Add entry to the chain inside the caller's transaction (which the caller commits); with a key, the row is
    sealed with it (HMAC-SHA256) instead of plainly hashed."""
    head = _locked_head(db)
    seq = head.seq + 1
    at = now.astimezone(UTC).isoformat(timespec="microseconds")
    data = json.dumps(entry.data or {}, sort_keys=True, separators=(",", ":"), default=str)
    row = AuditRow(seq=seq, at=at, actor=entry.actor, event=entry.event, request_id=entry.request_id, data=data,
                   prev_hash=head.hash, hash=_digest(head.hash, seq, at, entry.actor, entry.event, entry.request_id,
                                                     data, key=key))
    head.seq, head.hash = seq, row.hash
    db.add(row)
    db.add(head)
    return row


def seal(db: Session, *, key: SecretStr, now: datetime) -> AuditRow | None:
    """Make sure the chain's newest row is sealed with key: unless it is, append an `audit.key_in_use` row sealed
    with it, inside the caller's transaction; return that row, or None when nothing was needed.

    A process with a key calls this once at start. From then on the log always ends in a sealed row, so a log
    with rows but none sealed means the sealed rows were removed or rewritten; and the sealed row covers the
    plain rows written before the key was set, as its hash covers theirs. The head stays locked from the check
    to the append, so replicas starting together write one such row, not one each."""
    head = _locked_head(db)
    if head.seq:
        newest = db.get(AuditRow, head.seq)
        if newest is not None and newest.hash == head.hash and _matches(newest, key):
            return None
    return append(db, AuditEntry(actor="system", event=KEY_IN_USE, data={"rows_before": head.seq}), now=now,
                  key=key)


class AuditBroken(OffboardError):
    """The audit log cannot be appended to safely."""


@dataclass(frozen=True)
class Verification:
    ok: bool
    rows: int  # rows read
    problems: tuple[str, ...]
    keyed: int = 0  # rows sealed with the audit key given to verify
    plain: int = 0  # rows whose hash is plain SHA-256
    unverified: int = 0  # rows that match no plain hash, checked without a key: sealed with a key, or edited


# What a run of consecutive rows is reported as: (one row, several rows), formatted with the row numbers.
_EDITED = ("row {first}: content does not match its hash (edited)",
           "rows {first} to {last}: content does not match their hashes (edited)")
_EDITED_OR_OTHER_KEY = ("row {first}: content does not match its hash (edited, or sealed with another audit key)",
                        "rows {first} to {last}: content does not match their hashes (edited, or sealed with "
                        "another audit key)")
_UNSEALED = ("row {first} is not sealed with the audit key: written or rewritten by someone without it",
             "rows {first} to {last} are not sealed with the audit key: written or rewritten by someone without it")
_NEEDS_KEY = ("row {first} is sealed with an audit key, or edited: set OFFBOARD_AUDIT_KEY to verify it",
              "rows {first} to {last} are sealed with an audit key, or edited: set OFFBOARD_AUDIT_KEY to verify them")
NONE_SEALED = ("no row is sealed with the audit key: the log was written without it or with another key, or its "
               "sealed rows were removed or rewritten")


def verify(engine: Engine, *, key: SecretStr | None = None) -> Verification:
    """Walk the chain up to its head and return every break found (edited, inserted or removed rows).

    The head is read first, so rows appended while the check runs are left for the next check.

    With the audit key, each row must match either its plain hash or its HMAC under the key, and no plain row may
    follow a sealed one; a log with rows of which none is sealed is reported too (a process with the key seals
    the log when it starts). Without it, rows matching no plain hash at the end of the log (where sealed rows
    are) cannot be told from edited ones: they are reported, asking for the key."""
    with session(engine) as db:
        head = db.get(AuditHeadRow, 1)
    if head is None:
        return Verification(ok=False, rows=0, problems=("the chain's head row is missing (removed)",))
    problems: list[tuple[int, str]] = []  # (row, text): reported in row order
    runs: list[list] = []  # [messages, first row, last row]: consecutive rows with the same finding
    expected_prev, expected_seq, count, keyed, plain = GENESIS, 1, 0, 0, 0

    def finding(messages: tuple[str, str], seq: int) -> None:
        if runs and runs[-1][0] is messages and runs[-1][2] == seq - 1:
            runs[-1][2] = seq
        else:
            runs.append([messages, seq, seq])

    for row in _rows(engine, upto=head.seq):
        count += 1
        if row.seq != expected_seq:
            problems.append((row.seq, f"row {expected_seq} to {row.seq - 1} missing (removed rows)"))
        if row.prev_hash != expected_prev:
            problems.append((row.seq, f"row {row.seq}: does not follow the row before it"))
        if key is not None and _matches(row, key):
            keyed += 1
        elif _matches(row, None):
            plain += 1
            if keyed:
                finding(_UNSEALED, row.seq)
        else:
            finding(_EDITED if key is None else _EDITED_OR_OTHER_KEY, row.seq)
        expected_prev, expected_seq = row.hash, row.seq + 1
    unverified = 0
    if key is None and runs and runs[-1][0] is _EDITED and runs[-1][2] == expected_seq - 1:
        runs[-1][0] = _NEEDS_KEY  # the log ends in rows no plain hash matches: sealed rows, unless edited
        unverified = runs[-1][2] - runs[-1][1] + 1
    for messages, first, last in runs:
        problems.append((first, messages[first != last].format(first=first, last=last)))
    problems.sort(key=lambda problem: problem[0])
    if key is not None and count and not keyed:
        problems.append((expected_seq, NONE_SEALED))
    if head.seq != expected_seq - 1 or head.hash != expected_prev:
        problems.append((expected_seq, f"the chain ends at row {expected_seq - 1} but its head says row {head.seq} "
                                       "(rows removed from the end, or the head was edited)"))
    return Verification(ok=not problems, rows=count, problems=tuple(text for _, text in problems), keyed=keyed,
                        plain=plain, unverified=unverified)


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
