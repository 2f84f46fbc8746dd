"""The audit log in the database: an append-only hash chain (its rules: storage.audit_chain).

Appends happen inside the caller's transaction, under the head's lock: an append moves the head in the same
transaction as its row, so a row after the head was not written by the bot. A process with the audit key seals its
rows (HMAC-SHA256 under OFFBOARD_AUDIT_KEY) and only appends to a log that is empty or ends in a row sealed with it,
with no row after its head. `verify` walks the chain, `adopt_key` writes the sealed `audit.key_in_use` row a person
vouches with (storage.audit_adoption), `export` writes the rows out.

This module reads and writes rows and applies the rules to them; what it finds is typed (storage.audit_findings)
and said in storage.audit_words, which makes AuditBroken's messages and Verification.problems."""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import IO

from pydantic import SecretStr
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from bot.domain.records import AuditEntry
from bot.errors import OffboardError
from storage import audit_adoption as adoption
from storage import audit_chain as chain
from storage import audit_words as words
from storage.audit_chain import GENESIS, HASH_SHOWN, KEY_IN_USE
from storage.audit_findings import Act, Adoption, Finding, HeadMissing
from storage.audit_words import EMPTY_WITH_KEY, FIRST_NOT_KEY_IN_USE, NONE_SEALED
from storage.db import session
from storage.models import AuditHeadRow, AuditRow

__all__ = ["EMPTY_WITH_KEY", "EXPORT_FIELDS", "FIRST_NOT_KEY_IN_USE", "GENESIS", "HASH_SHOWN", "KEY_IN_USE",
           "NONE_SEALED", "Adoption", "AuditBroken", "Verification", "adopt_key", "append", "end_problem", "export",
           "seal", "verify"]

EXPORT_FIELDS = ("seq", "at", "actor", "event", "request_id", "data", "prev_hash", "hash")
_digest = chain.digest  # the tests hash rows as someone without the key would, under the name they had here
_ADVICE = words.ADVICE


class AuditBroken(OffboardError):
    """The audit log cannot be appended to safely, or adopt-key or export did nothing: finding says why, act what
    it stopped, and the message says both to people."""

    def __init__(self, finding: Finding, act: Act = Act.WRITE) -> None:
        super().__init__(words.refusal(finding, act))
        self.finding = finding
        self.act = act

    def __reduce__(self):  # copied or pickled from the facts, not the message
        return type(self), (self.finding, self.act)


@dataclass(frozen=True)
class Verification:
    ok: bool
    rows: int  # rows read
    problems: tuple[str, ...]  # the findings, as `audit verify` prints them
    keyed: int = 0  # rows sealed with the audit key given to verify
    plain: int = 0  # rows whose hash is plain SHA-256
    unverified: int = 0  # rows that match no plain hash, checked without a key: sealed with a key, or edited
    accepted: int = 0  # plain rows after sealed ones, accepted by a sealed `audit adopt-key` row naming them
    needs_key: bool = False  # nothing found wrong, but some rows could be sealed: only the key can verify them
    plain_tail: tuple[int, int] | None = None  # plain rows after sealed ones that end the log (first, last)
    findings: tuple[Finding, ...] = ()  # what was found, in the order of problems

    @classmethod
    def of(cls, walk: chain.Walk) -> Verification:
        return cls(ok=walk.ok, rows=walk.rows, problems=tuple(words.problem(found) for found in walk.findings),
                   keyed=walk.keyed, plain=walk.plain, unverified=walk.unverified, accepted=walk.accepted_rows,
                   needs_key=walk.needs_key, plain_tail=walk.plain_tail, findings=walk.findings)


# -- appending, under the head's lock -------------------------------------------------------------------------------

def _locked_head(db: Session) -> AuditHeadRow:
    head = db.exec(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).one_or_none()
    if head is None:
        raise AuditBroken(HeadMissing())
    return head


def _after_the_head():
    """The condition "numbered after the head", with the head read in the same statement: an append writes its row
    and moves the head in one transaction, so a row it selects is never one being appended: someone inserted it."""
    return AuditRow.seq > select(AuditHeadRow.seq).where(AuditHeadRow.id == 1).scalar_subquery()


def _first_after_head(db: Session) -> int | None:
    """The first row numbered after the head (one cheap indexed query), or None."""
    return db.exec(select(AuditRow.seq).where(_after_the_head()).order_by(AuditRow.seq).limit(1)).first()


def _end_finding(db: Session, head: AuditHeadRow, key: SecretStr) -> Finding | None:
    """Why the log cannot take a row sealed with key (storage.audit_chain.end_finding), or None."""
    beyond = _first_after_head(db)
    newest = db.get(AuditRow, head.seq) if beyond is None and head.seq else None
    return chain.end_finding(head, beyond=beyond, newest=newest, key=key)


def _write(db: Session, head: AuditHeadRow, entry: AuditEntry, *, now: datetime, key: SecretStr | None) -> AuditRow:
    row = AuditRow(**asdict(chain.next_row(head, entry, now=now, key=key)))
    head.seq, head.hash = row.seq, row.hash
    db.add(row)
    db.add(head)
    return row


def append(db: Session, entry: AuditEntry, *, now: datetime, key: SecretStr | None = None) -> AuditRow:
    """Add entry to the chain inside the caller's transaction (which the caller commits); with a key, the row is
    sealed with it (HMAC-SHA256) instead of plainly hashed.

    With a key, the log must be empty or end in a row sealed with it, with no row after its head, checked under
    the head's lock: otherwise AuditBroken, and nothing is written. A sealed row covers every row before it, so
    sealing after rows written without the key (by a replica without it, or by someone who replaced the sealed
    rows) would vouch for them; only `audit adopt-key`, run by a person who reviewed them, does that. On an empty
    log an `audit.key_in_use` row comes first, in the same transaction: row 1 of a log written with a key always
    is one."""
    head = _locked_head(db)
    if key is not None:
        found = _end_finding(db, head, key)
        if found:
            raise AuditBroken(found)
        if head.seq == 0:
            _write(db, head, chain.STARTED, now=now, key=key)
    return _write(db, head, entry, now=now, key=key)


def seal(db: Session, *, key: SecretStr, now: datetime) -> AuditRow | None:
    """What a process with a key does once at start, inside the caller's transaction: an empty log gets an
    `audit.key_in_use` row sealed with key (returned); a log ending in a row sealed with key needs nothing (None);
    any other log raises AuditBroken, as appending would, so the process refuses to start.

    The head stays locked from the check to the append, so replicas starting together write one row, not one each.
    From then on the log always ends in a sealed row, and a process with the key writes row 1 of every log."""
    head = _locked_head(db)
    found = _end_finding(db, head, key)
    if found:
        raise AuditBroken(found)
    if head.seq:
        return None
    return _write(db, head, chain.STARTED, now=now, key=key)


def end_problem(engine: Engine, *, key: SecretStr) -> str | None:
    """Why a process with key would refuse to start on this log (`offboard-bot check`), or None. Reads only."""
    with session(engine) as db:
        head = db.get(AuditHeadRow, 1)
        found = HeadMissing() if head is None else _end_finding(db, head, key)
    return None if found is None else words.refusal(found, Act.WRITE)


# -- `audit adopt-key` --------------------------------------------------------------------------------------------

def adopt_key(engine: Engine, *, key: SecretStr, now: datetime, accept: tuple[int, int] | None = None,
              through: int | None = None, row_hash: str | None = None) -> Adoption:
    """Let a process with key write to a log that does not end in a row sealed with it, by appending a sealed
    `audit.key_in_use` row that vouches for the plain rows before it (the rules: storage.audit_adoption);
    AuditBroken, with what to do, when it will not. A person runs it (`offboard-bot audit adopt-key`) after
    reviewing the rows, and names the last one with the start of its hash (row_hash): through, adopting the key on a
    log written without it; accept, the plain rows at the end of the log after sealed ones. Without row_hash,
    AuditBroken gives the command to run after the review."""
    refused = adoption.refuse_arguments(accept=accept, through=through, row_hash=row_hash)
    if refused is not None:
        raise AuditBroken(refused, Act.ADOPT)
    if _ends_sealed(engine, key=key):
        return Adoption(seq=None)  # nothing to vouch for
    planned = adoption.plan(_walk(engine, key=key), lambda: _walk(engine, key=None), accept=accept,
                            through=through, row_hash=row_hash)
    if not isinstance(planned, adoption.Plan):
        raise AuditBroken(planned, Act.ADOPT)
    with session(engine) as db:
        head = _locked_head(db)  # held until the sealed row is committed
        beyond = _first_after_head(db)
        bound_row = db.get(AuditRow, planned.bound) if planned.bound is not None else None
        data = adoption.confirm(planned, head=head, beyond=beyond, bound_row=bound_row, row_hash=row_hash)
        if not isinstance(data, dict):
            raise AuditBroken(data, Act.ADOPT)
        row = _write(db, head, AuditEntry(actor="system", event=KEY_IN_USE, data=data), now=now, key=key)
        db.commit()
    return adoption.adoption(row.seq, data)


def _ends_sealed(engine: Engine, *, key: SecretStr) -> bool:
    """Whether the log has rows and ends in a row sealed with key, with none after its head."""
    with session(engine) as db:
        head = db.get(AuditHeadRow, 1)
        return head is not None and head.seq != 0 and _end_finding(db, head, key) is None


# -- `audit verify` and `audit export` -----------------------------------------------------------------------------

def verify(engine: Engine, *, key: SecretStr | None = None) -> Verification:
    """Walk the chain up to its head and return every break found (edited, inserted or removed rows), with a key
    also every plain row no sealed row vouches for (storage.audit_chain.Walker).

    The head is read first, so rows appended while the check runs are left for the next check. Rows after the
    head are then counted in one statement that reads the head again: an append commits its row and the head
    together, so any row it finds was inserted by someone, not appended by the bot."""
    return Verification.of(_walk(engine, key=key))


def _walk(engine: Engine, *, key: SecretStr | None) -> chain.Walk:
    with session(engine) as db:
        head = db.get(AuditHeadRow, 1)
    if head is None:
        return chain.walk(None, (), key=key)
    walker = chain.Walker(head, key=key)
    for row in _rows(engine, upto=head.seq):
        walker.see(row)
    return walker.finish(after_head=_after_head(engine), below_one=_below_one(engine))


def _after_head(engine: Engine) -> tuple[int, int | None]:
    """How many rows come after the head, and the first of them, in one statement (see _after_the_head)."""
    with session(engine) as db:
        return tuple(db.exec(select(func.count(), func.min(AuditRow.seq)).where(_after_the_head())).one())


def _below_one(engine: Engine) -> tuple[int, int | None]:
    """How many rows are numbered below 1, where neither the chain nor an export ever looks, and the first."""
    with session(engine) as db:
        return tuple(db.exec(select(func.count(), func.min(AuditRow.seq)).where(AuditRow.seq < 1)).one())


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
    """Write the audit rows up to the head, read first, to out as JSON lines or CSV; return how many rows were
    written. Rows after the head were not appended by the bot (`verify` reports them), so they are left out, as
    are rows appended while the export runs. AuditBroken when the head row is missing."""
    with session(engine) as db:
        head = db.get(AuditHeadRow, 1)
    if head is None:
        raise AuditBroken(HeadMissing(), Act.EXPORT)
    count = 0
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    for row in _rows(engine, upto=head.seq):
        record = {name: getattr(row, name) for name in EXPORT_FIELDS}
        if writer:
            writer.writerow(record)
        else:
            with contextlib.suppress(TypeError, ValueError):  # data edited to something not JSON: shown as it is
                record["data"] = json.loads(row.data)
            out.write(json.dumps(record, sort_keys=True, default=repr) + "\n")
        count += 1
    return count
