"""The audit log: an append-only hash chain. Any edited, inserted or removed row breaks it.

Each row's hash covers the row before it. Without a key the hash is SHA-256, which anyone who can write to the
database can compute again after an edit. With an audit key (OFFBOARD_AUDIT_KEY) it is HMAC-SHA256 under that
key, which only a holder of the key can make. Both kinds of row live in the same table: `verify` tells them apart
by the hash each one matches.

A sealed row vouches for every row before it, so a process with the key only appends to a log that is empty or
ends in a row sealed with it. Plain rows are accepted before or between sealed ones only through a sealed
`audit.key_in_use` row naming them, which a person writes with `offboard-bot audit adopt-key` after reviewing
them: when adopting the key on a log written without it, or after a replica ran without it."""

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
KEY_IN_USE = "audit.key_in_use"  # row 1 of a log a process with a key starts on; and what `audit adopt-key` writes


def _digest(prev_hash: str, seq: int, at: str, actor: str, event: str, request_id: str | None, data: str, *,
            key: SecretStr | None = None) -> str:
    """The row's hash: SHA-256 of its content and the previous hash, or HMAC-SHA256 of the same under key."""
    material = json.dumps([prev_hash, seq, at, actor, event, request_id or "", data], separators=(",", ":")).encode()
    if key is None:
        return hashlib.sha256(material).hexdigest()
    return hmac.new(key.get_secret_value().encode(), material, hashlib.sha256).hexdigest()


def _matches(row: AuditRow, key: SecretStr | None) -> bool:
    """Whether row's hash is the plain hash of its content (key None) or its HMAC under key. Compared as bytes: a
    hash edited to anything, even text that is not ASCII, simply does not match."""
    digest = _digest(row.prev_hash, row.seq, row.at, row.actor, row.event, row.request_id, row.data, key=key)
    return hmac.compare_digest(digest.encode(), (row.hash or "").encode("utf-8", "surrogateescape"))


def _data(row: AuditRow) -> dict:
    try:
        data = json.loads(row.data)
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class AuditBroken(OffboardError):
    """The audit log cannot be appended to safely."""


_ADVICE = ("Run `offboard-bot audit verify` with the key to see which rows. If you are adopting the key now, run "
           "`offboard-bot audit adopt-key` once. If a replica ran without the key, review the rows `verify` names "
           "and accept them with `offboard-bot audit adopt-key --accept-plain-rows FIRST-LAST`.")


def _locked_head(db: Session) -> AuditHeadRow:
    head = db.exec(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).one_or_none()
    if head is None:
        raise AuditBroken("the audit log's head row is missing: the database was not migrated or was tampered with")
    return head


def _unsealed_end(db: Session, head: AuditHeadRow, key: SecretStr) -> str | None:
    """Why the log cannot take a row sealed with key: its newest row is missing, is not the one its head names, or
    is not sealed with key; None when it can (or the log is empty)."""
    if head.seq == 0:
        return None
    newest = db.get(AuditRow, head.seq)
    if newest is None or newest.hash != head.hash:
        return (f"the audit log's head says it ends in row {head.seq}, but that row is missing or does not match it "
                "(rows were removed or rewritten), so nothing more is written to the log. " + _ADVICE)
    if not _matches(newest, key):
        return (f"the audit log ends in row {head.seq}, which is not sealed with OFFBOARD_AUDIT_KEY: written by a "
                "replica running without OFFBOARD_AUDIT_KEY, or rewritten by someone without it. Nothing more is "
                "written to the log until this is resolved. " + _ADVICE)
    return None


def _write(db: Session, head: AuditHeadRow, entry: AuditEntry, *, now: datetime, key: SecretStr | None) -> AuditRow:
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


def append(db: Session, entry: AuditEntry, *, now: datetime, key: SecretStr | None = None) -> AuditRow:
    """Add entry to the chain inside the caller's transaction (which the caller commits); with a key, the row is
    sealed with it (HMAC-SHA256) instead of plainly hashed.

    With a key, the log must be empty or end in a row sealed with it, checked under the head's lock: otherwise
    AuditBroken, and nothing is written. A sealed row covers every row before it, so sealing after rows written
    without the key (by a replica without it, or by someone who replaced the sealed rows) would vouch for them;
    only `audit adopt-key`, run by a person who reviewed them, does that."""
    head = _locked_head(db)
    if key is not None:
        problem = _unsealed_end(db, head, key)
        if problem:
            raise AuditBroken(problem)
    return _write(db, head, entry, now=now, key=key)


def seal(db: Session, *, key: SecretStr, now: datetime) -> AuditRow | None:
    """What a process with a key does once at start, inside the caller's transaction: an empty log gets an
    `audit.key_in_use` row sealed with key (returned); a log ending in a row sealed with key needs nothing (None);
    any other log raises AuditBroken, as appending would, so the process refuses to start.

    The head stays locked from the check to the append, so replicas starting together write one row, not one each.
    From then on the log always ends in a sealed row, and a process with the key writes row 1 of every log."""
    head = _locked_head(db)
    problem = _unsealed_end(db, head, key)
    if problem:
        raise AuditBroken(problem)
    if head.seq:
        return None
    return _write(db, head, AuditEntry(actor="system", event=KEY_IN_USE, data={"rows_before": 0}), now=now, key=key)


def end_problem(engine: Engine, *, key: SecretStr) -> str | None:
    """Why a process with key would refuse to start on this log (`offboard-bot check`), or None. Reads only."""
    with session(engine) as db:
        head = db.get(AuditHeadRow, 1)
        if head is None:
            return "the audit log's head row is missing: the database was not migrated or was tampered with"
        return _unsealed_end(db, head, key)


@dataclass(frozen=True)
class Adoption:
    """What `adopt_key` did: the sealed `audit.key_in_use` row it wrote (None: the log already ended in one)."""

    seq: int | None
    rows_before: int = 0  # plain rows before the first sealed row, adopted by it
    accepted: tuple[int, int] | None = None  # plain rows after sealed ones, accepted by it


def adopt_key(engine: Engine, *, key: SecretStr, now: datetime, accept: tuple[int, int] | None = None) -> Adoption:
    """Let a process with key write to a log that does not end in a row sealed with it, by appending a sealed
    `audit.key_in_use` row that vouches for the plain rows before it; AuditBroken, with what to do, when it will
    not. A person runs it (`offboard-bot audit adopt-key`) after reviewing the rows.

    - An empty log is sealed.
    - A log with no sealed row must be an intact plain chain; the row records {"rows_before": N}.
    - A log with sealed rows followed by plain ones (a replica ran without the key) is adopted only when `accept`
      names exactly that plain run, and nothing else is wrong; the row records {"accepted_plain_rows": [F, L]},
      which is what `verify` needs to accept those rows (only a holder of the key can write such a row)."""
    with session(engine) as db:
        head = db.get(AuditHeadRow, 1)
        if head is not None and head.seq and _unsealed_end(db, head, key) is None:
            return Adoption(seq=None)  # it ends in a row sealed with the key already: nothing to vouch for
    checked, seen = _verify(engine, key=key)
    if seen is None:
        raise AuditBroken(checked.problems[0])
    data: dict
    if checked.keyed == 0:
        if accept is not None:
            raise AuditBroken("no row is sealed with OFFBOARD_AUDIT_KEY yet, so there are no plain rows after sealed "
                              "ones to accept: run `offboard-bot audit adopt-key` without --accept-plain-rows")
        if seen.seq:
            checked, seen = _verify(engine, key=None)
            if seen is None:
                raise AuditBroken(checked.problems[0])
            if not checked.ok:
                raise AuditBroken("the audit log was not sealed: its plain chain is not intact, and sealing it would "
                                  "vouch for it:\n" + "\n".join(f"  {problem}" for problem in checked.problems))
        data = {"rows_before": seen.seq, "by": ADOPT_KEY}
    else:
        tail = checked.plain_tail
        if tail is None or len(checked.problems) != 1:
            raise AuditBroken("the audit log was not sealed: adopt-key only accepts plain rows at the end of an "
                              "otherwise intact log, and `verify` finds more:\n"
                              + "\n".join(f"  {problem}" for problem in checked.problems))
        if accept != tail:
            named = "" if accept is None else f"--accept-plain-rows {accept[0]}-{accept[1]} does not name them. "
            raise AuditBroken(f"the audit log was not sealed: rows {tail[0]} to {tail[1]} at its end are not sealed "
                              f"with OFFBOARD_AUDIT_KEY. {named}Review them (`offboard-bot audit verify`, "
                              "`offboard-bot audit export`); if a replica running without the key wrote them, run "
                              f"`offboard-bot audit adopt-key --accept-plain-rows {tail[0]}-{tail[1]}`")
        data = {"accepted_plain_rows": list(tail), "by": ADOPT_KEY}
    with session(engine) as db:
        head = _locked_head(db)
        if (head.seq, head.hash) != (seen.seq, seen.hash):
            raise AuditBroken(f"the audit log was not sealed: it changed while it was checked (it ended in row "
                              f"{seen.seq}, now in row {head.seq}). Stop every replica running without "
                              "OFFBOARD_AUDIT_KEY, then run `offboard-bot audit adopt-key` again")
        row = _write(db, head, AuditEntry(actor="system", event=KEY_IN_USE, data=data), now=now, key=key)
        db.commit()
    return Adoption(seq=row.seq, rows_before=data.get("rows_before", 0),
                    accepted=tuple(data["accepted_plain_rows"]) if "accepted_plain_rows" in data else None)


@dataclass(frozen=True)
class Verification:
    ok: bool
    rows: int  # rows read
    problems: tuple[str, ...]
    keyed: int = 0  # rows sealed with the audit key given to verify
    plain: int = 0  # rows whose hash is plain SHA-256
    unverified: int = 0  # rows that match no plain hash, checked without a key: sealed with a key, or edited
    accepted: int = 0  # plain rows after sealed ones, accepted by a sealed `audit adopt-key` row naming them
    needs_key: bool = False  # nothing found wrong, but some rows could be sealed: only the key can verify them
    plain_tail: tuple[int, int] | None = None  # plain rows after sealed ones that end the log (first, last)


# What a run of consecutive rows is reported as: (one row, several rows), formatted with the row numbers.
_EDITED = ("row {first}: content does not match its hash (edited)",
           "rows {first} to {last}: content does not match their hashes (edited)")
_EDITED_OR_OTHER_KEY = ("row {first}: content does not match its hash (edited, or sealed with another audit key)",
                        "rows {first} to {last}: content does not match their hashes (edited, or sealed with "
                        "another audit key)")
_NEEDS_KEY = ("row {first} is sealed with an audit key, or edited: set OFFBOARD_AUDIT_KEY to verify it",
              "rows {first} to {last} are sealed with an audit key, or edited: set OFFBOARD_AUDIT_KEY to verify them")
_UNSEALED = ("row {first} is not sealed with the audit key ({seen}): written by a replica running without "
             "OFFBOARD_AUDIT_KEY, or rewritten by someone without it",
             "rows {first} to {last} are not sealed with the audit key ({seen}): written by a replica running "
             "without OFFBOARD_AUDIT_KEY, or rewritten by someone without it")
_UNSEALED_AT_END = ("; review it (`offboard-bot audit export`) and, if a replica wrote it, accept it with "
                    "`offboard-bot audit adopt-key --accept-plain-rows {first}-{last}`",
                    "; review them (`offboard-bot audit export`) and, if a replica wrote them, accept them with "
                    "`offboard-bot audit adopt-key --accept-plain-rows {first}-{last}`")
_UNSEALED_BEFORE = ("; the sealed row {sealed} after it does not accept it",
                    "; the sealed row {sealed} after them does not accept them")
_NOT_ADOPTED = ("row 1 comes before the first sealed row, row {sealed}, which does not adopt it (an "
                "`audit.key_in_use` row does): it may have been rewritten before row {sealed} was sealed",
                "rows 1 to {last} come before the first sealed row, row {sealed}, which does not adopt them (an "
                "`audit.key_in_use` row does): they may have been rewritten before row {sealed} was sealed")
NONE_SEALED = ("no row is sealed with the audit key: the log was written without it (to adopt the key, run "
               "`offboard-bot audit adopt-key` once) or with another key, or its sealed rows were removed or "
               "rewritten")
EMPTY_WITH_KEY = ("the log is empty although a key is given: it was wiped, or the bot has never started with the "
                  "key (a process with the key always writes row 1)")
ADOPT_KEY = "audit adopt-key"


@dataclass
class _PlainRun:
    """Plain rows in a row after a sealed one: what a problem about them says."""

    first: int
    last: int
    actors: list[str]
    since: str
    until: str

    @classmethod
    def of(cls, row: AuditRow) -> _PlainRun:
        return cls(first=row.seq, last=row.seq, actors=[row.actor], since=row.at, until=row.at)

    def add(self, row: AuditRow) -> None:
        self.last, self.until = row.seq, row.at
        if row.actor not in self.actors:
            self.actors.append(row.actor)

    def seen(self) -> str:
        """Who wrote them and when, as the rows say (whoever rewrote them could have written anything there)."""
        shown = [actor if actor.isprintable() and len(actor) <= 40 else repr(actor[:40]) for actor in self.actors[:5]]
        actors = ", ".join(shown) + (f" and {len(self.actors) - 5} more" if len(self.actors) > 5 else "")
        when = (f"at {_when(self.since)}" if self.first == self.last
                else f"from {_when(self.since)} to {_when(self.until)}")
        return f"by {actors}, {when}"

    def problem(self, *, followed_by: int | None, at_end: bool) -> str:
        """The problem text; followed_by: the sealed row that came next without accepting them, if one did."""
        several = self.first != self.last
        text = _UNSEALED[several].format(first=self.first, last=self.last, seen=self.seen())
        if at_end:
            return text + _UNSEALED_AT_END[several].format(first=self.first, last=self.last)
        if followed_by is not None:
            return text + _UNSEALED_BEFORE[several].format(sealed=followed_by)
        return text


def _when(at: str) -> str:
    """2026-11-02T09:00:01.000000+00:00 as 2026-11-02 09:00:01 UTC."""
    shown = at[:19].replace("T", " ")
    return f"{shown} UTC" if shown.isprintable() and len(at) >= 19 else repr(at[:40])


def verify(engine: Engine, *, key: SecretStr | None = None) -> Verification:
    """Walk the chain up to its head and return every break found (edited, inserted or removed rows).

    The head is read first, so rows appended while the check runs are left for the next check.

    With the audit key, each row must match either its plain hash or its HMAC under the key. Plain rows may come
    before the first sealed row only when that row is an `audit.key_in_use` row adopting them; plain rows after a
    sealed one only when the next sealed row is an `audit.key_in_use` row naming exactly them (`audit adopt-key`).
    A log with rows of which none is sealed, and an empty log, are reported too (a process with the key writes
    row 1). Without it, rows matching no plain hash from the first `audit.key_in_use` row on (where sealed rows
    can be) cannot be told from edited ones: they are reported, asking for the key; before it, they are edited."""
    return _verify(engine, key=key)[0]


def _verify(engine: Engine, *, key: SecretStr | None) -> tuple[Verification, AuditHeadRow | None]:
    with session(engine) as db:
        head = db.get(AuditHeadRow, 1)
    if head is None:
        return Verification(ok=False, rows=0, problems=("the chain's head row is missing (removed)",)), None
    problems: list[tuple[int, str]] = []  # (row, text): reported in row order
    runs: list[list] = []  # [messages, first row, last row]: consecutive rows with the same finding
    expected_prev, expected_seq, count, keyed, plain, accepted = GENESIS, 1, 0, 0, 0, 0
    could_be_sealed: int | None = None  # without a key: the first `audit.key_in_use` row no plain hash matches
    pending: _PlainRun | None = None  # with a key: plain rows since the last sealed row

    def finding(messages: tuple[str, str], seq: int) -> None:
        if runs and runs[-1][0] is messages and runs[-1][2] == seq - 1:
            runs[-1][2] = seq
        else:
            runs.append([messages, seq, seq])

    def unsealed(run: _PlainRun, *, followed_by: int | None = None, at_end: bool = False) -> None:
        problems.append((run.first, run.problem(followed_by=followed_by, at_end=at_end)))

    for row in _rows(engine, upto=head.seq):
        count += 1
        if row.seq != expected_seq:
            problems.append((row.seq, f"row {expected_seq} to {row.seq - 1} missing (removed rows)"))
        if row.prev_hash != expected_prev:
            problems.append((row.seq, f"row {row.seq}: does not follow the row before it"))
        if key is not None and _matches(row, key):
            data = _data(row) if row.event == KEY_IN_USE else {}
            if not keyed and row.seq > 1 and data.get("rows_before") != row.seq - 1:
                problems.append((1, _NOT_ADOPTED[row.seq > 2].format(last=row.seq - 1, sealed=row.seq)))
            if pending is not None:
                if data.get("accepted_plain_rows") == [pending.first, pending.last]:
                    accepted += pending.last - pending.first + 1
                else:
                    unsealed(pending, followed_by=row.seq)
                pending = None
            keyed += 1
        elif _matches(row, None):
            plain += 1
            if keyed and pending is not None and pending.last == row.seq - 1:
                pending.add(row)
            elif keyed:  # the first plain row after a sealed one, or after a gap or an edited row
                if pending is not None:
                    unsealed(pending)
                pending = _PlainRun.of(row)
        else:
            finding(_EDITED if key is None else _EDITED_OR_OTHER_KEY, row.seq)
            if key is None and could_be_sealed is None and row.event == KEY_IN_USE:
                could_be_sealed = row.seq
            if pending is not None:
                unsealed(pending)
                pending = None
        expected_prev, expected_seq = row.hash, row.seq + 1
    plain_tail = None
    if pending is not None:
        unsealed(pending, at_end=True)
        if head.seq == pending.last and head.hash == expected_prev:
            plain_tail = (pending.first, pending.last)
    unverified = 0
    if key is None and could_be_sealed is not None:  # rows no plain hash matches from there on: sealed, or edited
        split = []
        for run in runs:
            if run[2] < could_be_sealed:
                split.append(run)
            elif run[1] >= could_be_sealed:
                split.append([_NEEDS_KEY, run[1], run[2]])
            else:
                split += [[run[0], run[1], could_be_sealed - 1], [_NEEDS_KEY, could_be_sealed, run[2]]]
        runs = split
        unverified = sum(run[2] - run[1] + 1 for run in runs if run[0] is _NEEDS_KEY)
    for messages, first, last in runs:
        problems.append((first, messages[first != last].format(first=first, last=last)))
    problems.sort(key=lambda problem: problem[0])
    needs_key = bool(runs) and all(run[0] is _NEEDS_KEY for run in runs) and len(problems) == len(runs)
    if key is not None and count and not keyed:
        problems.append((expected_seq, NONE_SEALED))
    if key is not None and not count and head.seq == 0:
        problems.append((1, EMPTY_WITH_KEY))
    if head.seq != expected_seq - 1 or head.hash != expected_prev:
        needs_key = False
        problems.append((expected_seq, f"the chain ends at row {expected_seq - 1} but its head says row {head.seq} "
                                       "(rows removed from the end, or the head was edited)"))
    return (Verification(ok=not problems, rows=count, problems=tuple(text for _, text in problems), keyed=keyed,
                         plain=plain, unverified=unverified, accepted=accepted, needs_key=needs_key,
                         plain_tail=plain_tail), head)


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
