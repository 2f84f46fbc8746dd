"""The audit log: an append-only hash chain. Any edited, inserted or removed row breaks it.

Each row's hash covers the row before it. Without a key the hash is SHA-256, which anyone who can write to the
database can compute again after an edit. With an audit key (OFFBOARD_AUDIT_KEY) it is HMAC-SHA256 under that
key, which only a holder of the key can make. Both kinds of row live in the same table: `verify` tells them apart
by the hash each one matches.

A sealed row vouches for every row before it, so a process with the key only appends to a log that is empty or
ends in a row sealed with it, and has no row after its head. Plain rows are accepted before or between sealed ones
only through a sealed `audit.key_in_use` row naming them, which a person writes with `offboard-bot audit adopt-key`
after reviewing them: when adopting the key on a log written without it, or after a replica ran without it. The
person names the last row they reviewed with its hash, so rows rewritten after the review are not vouched for.

An append moves the head in the same transaction as its row, so a row after the head was not written by the bot."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from pydantic import SecretStr
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from bot.domain.records import AuditEntry
from bot.errors import OffboardError
from storage.db import session
from storage.models import AuditHeadRow, AuditRow

GENESIS = "0" * 64
EXPORT_FIELDS = ("seq", "at", "actor", "event", "request_id", "data", "prev_hash", "hash")
KEY_IN_USE = "audit.key_in_use"  # row 1 of a log a process with a key starts on; and what `audit adopt-key` writes
_STARTED = AuditEntry(actor="system", event=KEY_IN_USE, data={"rows_before": 0})  # that row 1
HASH_SHOWN = 16  # hex characters of a row's hash that name it in `audit adopt-key` (at least these are compared)
_HASH_PREFIX = re.compile(rf"[0-9a-fA-F]{{{HASH_SHOWN},64}}")


def _digest(prev_hash: str, seq: int, at: str, actor: str, event: str, request_id: str | None, data: str, *,
            key: SecretStr | None = None) -> str:
    """The row's hash: SHA-256 of its content and the previous hash, or HMAC-SHA256 of the same under key."""
    material = json.dumps([prev_hash, seq, at, actor, event, request_id or "", data], separators=(",", ":")).encode()
    if key is None:
        return hashlib.sha256(material).hexdigest()
    return hmac.new(key.get_secret_value().encode(), material, hashlib.sha256).hexdigest()


def _matches(row: AuditRow, key: SecretStr | None) -> bool:
    """Whether row's hash is the plain hash of its content (key None) or its HMAC under key. Compared as bytes: a
    hash edited to anything, even text that is not ASCII, simply does not match.

    A row the bot cannot have written matches nothing, so it is reported as edited: a column holding something
    other than text (SQLite keeps whatever is stored, a BLOB say), or a request_id of "" (the bot writes None,
    which the hash covers as "", so "" would otherwise pass for it)."""
    texts = (row.at, row.actor, row.event, row.data, row.prev_hash, row.hash)
    if not (isinstance(row.seq, int) and all(isinstance(value, str) for value in texts)
            and (row.request_id is None or (isinstance(row.request_id, str) and row.request_id))):
        return False
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


_ADVICE = ("Run `offboard-bot audit verify` with the key. It names the rows that are not sealed, and the "
           "`offboard-bot audit adopt-key` command that accepts them once you have reviewed them (when adopting the "
           "key on a log written without it, or after a replica ran without it).")


_HEAD_MISSING = "the audit log's head row is missing: the database was not migrated or was tampered with"


def _locked_head(db: Session) -> AuditHeadRow:
    head = db.exec(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).one_or_none()
    if head is None:
        raise AuditBroken(_HEAD_MISSING)
    return head


def _after_the_head():
    """The condition "numbered after the head", with the head read in the same statement: an append writes its row
    and moves the head in one transaction, so a row it selects is never one being appended: someone inserted it."""
    return AuditRow.seq > select(AuditHeadRow.seq).where(AuditHeadRow.id == 1).scalar_subquery()


def _first_after_head(db: Session) -> int | None:
    """The first row numbered after the head (one cheap indexed query), or None."""
    return db.exec(select(AuditRow.seq).where(_after_the_head()).order_by(AuditRow.seq).limit(1)).first()


def _unsealed_end(db: Session, head: AuditHeadRow, key: SecretStr) -> str | None:
    """Why the log cannot take a row sealed with key: a row comes after its head, or its newest row is missing, is
    not the one its head names, or is not sealed with key; None when it can (or the log is empty)."""
    inserted = _first_after_head(db)
    if inserted is not None:
        return (f"the audit log has rows after its head, from row {inserted} on: inserted by someone, not by the "
                "bot, so nothing more is written to the log. Run `offboard-bot audit verify` with the key to see "
                "them; once you have looked into them, remove them or restore the database from a backup.")
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
    request_id = entry.request_id or None  # never "": the hash covers None as "", and verify takes "" as an edit
    row = AuditRow(seq=seq, at=at, actor=entry.actor, event=entry.event, request_id=request_id, data=data,
                   prev_hash=head.hash, hash=_digest(head.hash, seq, at, entry.actor, entry.event, request_id,
                                                     data, key=key))
    head.seq, head.hash = seq, row.hash
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
        problem = _unsealed_end(db, head, key)
        if problem:
            raise AuditBroken(problem)
        if head.seq == 0:
            _write(db, head, _STARTED, now=now, key=key)
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
    return _write(db, head, _STARTED, now=now, key=key)


def end_problem(engine: Engine, *, key: SecretStr) -> str | None:
    """Why a process with key would refuse to start on this log (`offboard-bot check`), or None. Reads only."""
    with session(engine) as db:
        head = db.get(AuditHeadRow, 1)
        if head is None:
            return _HEAD_MISSING
        return _unsealed_end(db, head, key)


@dataclass(frozen=True)
class Adoption:
    """What `adopt_key` did: the sealed `audit.key_in_use` row it wrote (None: the log already ended in one)."""

    seq: int | None
    rows_before: int = 0  # plain rows before the first sealed row, adopted by it
    accepted: tuple[int, int] | None = None  # plain rows after sealed ones, accepted by it


def adopt_key(engine: Engine, *, key: SecretStr, now: datetime, accept: tuple[int, int] | None = None,
              through: int | None = None, row_hash: str | None = None) -> Adoption:
    """Let a process with key write to a log that does not end in a row sealed with it, by appending a sealed
    `audit.key_in_use` row that vouches for the plain rows before it; AuditBroken, with what to do, when it will
    not. A person runs it (`offboard-bot audit adopt-key`) after reviewing the rows.

    - An empty log is sealed; nothing more is needed.
    - A log with no sealed row must be an intact plain chain, and `through` must name its newest row; the row
      records {"rows_before": N}.
    - A log with sealed rows followed by plain ones (a replica ran without the key) is adopted only when `accept`
      names exactly that plain run, and nothing else is wrong; the row records {"accepted_plain_rows": [F, L]},
      which is what `verify` needs to accept those rows (only a holder of the key can write such a row).

    row_hash binds the acceptance to what the person reviewed: the hash of the last row vouched for (N, or L), at
    least its first HASH_SHOWN hex characters, as `verify` prints them. It is compared with that row under the
    head's lock, in the transaction that writes the sealed row, so rows rewritten since the review are refused,
    not vouched for. The row records the full hash as "through_hash". Without row_hash, AuditBroken gives the
    command to run after the review."""
    if accept is not None and through is not None:
        raise AuditBroken("give --accept-plain-rows or --through, not both")
    if row_hash is not None and not _HASH_PREFIX.fullmatch(row_hash):
        raise AuditBroken(f"{row_hash[:80]!r} is not a row's hash: give at least its first {HASH_SHOWN} hex "
                          "characters, as `offboard-bot audit verify` prints them")
    with session(engine) as db:
        head = db.get(AuditHeadRow, 1)
        if head is not None and head.seq and _unsealed_end(db, head, key) is None:
            return Adoption(seq=None)  # it ends in a row sealed with the key already: nothing to vouch for
    checked, seen = _verify(engine, key=key)
    if seen is None:
        raise AuditBroken(checked.problems[0])
    data: dict
    bound: int | None = None  # the last row vouched for, whose hash must start with row_hash
    if checked.keyed == 0:
        if accept is not None:
            raise AuditBroken("no row is sealed with OFFBOARD_AUDIT_KEY yet, so there are no plain rows after sealed "
                              "ones to accept: adopting the key takes --through instead. `offboard-bot audit "
                              "verify` prints the command")
        if seen.seq == 0:
            if through is not None:
                raise AuditBroken(f"the audit log was not sealed: it is empty, so it has no row {through}. If it "
                                  "had rows when you reviewed it, it was wiped since: restore it from a backup")
            others = [problem for problem in checked.problems if problem != EMPTY_WITH_KEY]
            if others:
                raise AuditBroken("the audit log was not sealed: its head says it is empty, but `verify` finds "
                                  "more:\n" + "\n".join(f"  {problem}" for problem in others))
            data = {"rows_before": 0, "by": ADOPT_KEY}
        else:
            checked, seen = _verify(engine, key=None)
            if seen is None:
                raise AuditBroken(checked.problems[0])
            if not checked.ok:
                raise AuditBroken("the audit log was not sealed: its plain chain is not intact, and sealing it would "
                                  "vouch for it:\n" + "\n".join(f"  {problem}" for problem in checked.problems))
            if through is None or row_hash is None:
                raise AuditBroken(f"the audit log was not sealed: the sealed row would vouch for its {seen.seq} plain "
                                  "rows, so name the last row you reviewed with its hash. Review them (`offboard-bot "
                                  "audit export`), then run `offboard-bot audit adopt-key --through "
                                  f"{_named(seen.seq, seen.hash)}`")
            if through != seen.seq:
                raise AuditBroken(f"the audit log was not sealed: it ends in row {seen.seq}, not in row {through}. "
                                  + _REVIEW_AGAIN)
            data, bound = {"rows_before": seen.seq, "by": ADOPT_KEY}, seen.seq
    else:
        if through is not None:
            raise AuditBroken("the audit log was not sealed: rows of it are sealed with OFFBOARD_AUDIT_KEY already, "
                              "so there is no key to adopt (--through). `offboard-bot audit verify` names any plain "
                              "rows to accept, and the command")
        tail = checked.plain_tail
        if tail is None or len(checked.problems) != 1:
            raise AuditBroken("the audit log was not sealed: adopt-key only accepts plain rows at the end of an "
                              "otherwise intact log, and `verify` finds more:\n"
                              + "\n".join(f"  {problem}" for problem in checked.problems))
        unsealed = f"rows {tail[0]} to {tail[1]} at its end are not sealed with OFFBOARD_AUDIT_KEY."
        named = "" if accept is None else f" --accept-plain-rows {accept[0]}-{accept[1]} does not name them."
        if row_hash is None and accept in (None, tail):
            raise AuditBroken(f"the audit log was not sealed: {unsealed} Review them (`offboard-bot audit verify`, "
                              "`offboard-bot audit export`); if a replica running without the key wrote them, run "
                              f"`offboard-bot audit adopt-key --accept-plain-rows {tail[0]}-"
                              f"{_named(tail[1], seen.hash)}`")
        if accept != tail:
            raise AuditBroken(f"the audit log was not sealed: {unsealed}{named} " + _REVIEW_AGAIN)
        data, bound = {"accepted_plain_rows": list(tail), "by": ADOPT_KEY}, tail[1]
    with session(engine) as db:
        head = _locked_head(db)
        if (head.seq, head.hash) != (seen.seq, seen.hash):
            raise AuditBroken(f"the audit log was not sealed: it changed while it was checked (it ended in row "
                              f"{seen.seq}, now in row {head.seq}). Stop every replica running without "
                              "OFFBOARD_AUDIT_KEY, then run `offboard-bot audit verify` again")
        inserted = _first_after_head(db)
        if inserted is not None:
            raise AuditBroken(f"the audit log was not sealed: rows were inserted after its head, from row {inserted} "
                              "on. " + _REVIEW_AGAIN)
        if bound is not None:  # the reviewed row, read under the lock the sealed row is written under
            last = db.get(AuditRow, bound)
            reviewed = last.hash if last is not None and last.hash == head.hash else None
            if not (isinstance(reviewed, str) and row_hash and reviewed.lower().startswith(row_hash.lower())):
                raise AuditBroken(f"the audit log was not sealed: row {bound} is not the row you reviewed (its hash "
                                  f"does not start with {row_hash}): it was rewritten since, or the hash was "
                                  "mistyped. " + _REVIEW_AGAIN)
            data["through_hash"] = reviewed
        row = _write(db, head, AuditEntry(actor="system", event=KEY_IN_USE, data=data), now=now, key=key)
        db.commit()
    return Adoption(seq=row.seq, rows_before=data.get("rows_before", 0),
                    accepted=tuple(data["accepted_plain_rows"]) if "accepted_plain_rows" in data else None)


_REVIEW_AGAIN = ("Nothing was written. Run `offboard-bot audit verify` again, and review the rows it names before "
                 "you run the command it prints.")


def _named(seq: int, row_hash: str) -> str:
    """How `audit adopt-key` names the last row a person reviewed: its number and the start of its hash."""
    return f"{seq}@{row_hash[:HASH_SHOWN]}"


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
                    "`offboard-bot audit adopt-key --accept-plain-rows {first}-{named}`",
                    "; review them (`offboard-bot audit export`) and, if a replica wrote them, accept them with "
                    "`offboard-bot audit adopt-key --accept-plain-rows {first}-{named}`")
_UNSEALED_BEFORE = ("; the sealed row {sealed} after it does not accept it",
                    "; the sealed row {sealed} after them does not accept them")
_NOT_ADOPTED = ("row 1 comes before the first sealed row, row {sealed}, which does not adopt it (an "
                "`audit.key_in_use` row does): it may have been rewritten before row {sealed} was sealed",
                "rows 1 to {last} come before the first sealed row, row {sealed}, which does not adopt them (an "
                "`audit.key_in_use` row does): they may have been rewritten before row {sealed} was sealed")
NONE_SEALED = ("no row is sealed with the audit key: the log was written without it or with another key, or its "
               "sealed rows were removed or rewritten")
_ADOPT = ("; if it was written before the key was set, review it (`offboard-bot audit export`), then adopt the key "
          "with `offboard-bot audit adopt-key --through {named}`")
EMPTY_WITH_KEY = ("the log is empty although a key is given: it was wiped, or the bot has never started with the "
                  "key (a process with the key always writes row 1)")
FIRST_NOT_KEY_IN_USE = ("row 1 is sealed with the audit key but is not an `audit.key_in_use` row, which the bot "
                        "writes first on a log it starts (releases before this one did not when they found the log "
                        "empty while running: it may have been wiped)")
_INSERTED = ("1 row after the head, row {first}: inserted by someone, not by the bot",
             "{count} rows after the head, from row {first}: inserted by someone, not by the bot")
_BELOW_ONE = ("1 row numbered below 1, row {first}: inserted by someone, not by the bot",
              "{count} rows numbered below 1, from row {first}: inserted by someone, not by the bot")
ADOPT_KEY = "audit adopt-key"


@dataclass
class _PlainRun:
    """Plain rows in a row after a sealed one: what a problem about them says."""

    first: int
    last: int
    actors: list[str]
    since: str
    until: str
    last_hash: str  # what `audit adopt-key` is given to accept them as they are now

    @classmethod
    def of(cls, row: AuditRow) -> _PlainRun:
        return cls(first=row.seq, last=row.seq, actors=[row.actor], since=row.at, until=row.at, last_hash=row.hash)

    def add(self, row: AuditRow) -> None:
        self.last, self.until, self.last_hash = row.seq, row.at, row.hash
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
            return text + _UNSEALED_AT_END[several].format(first=self.first, named=_named(self.last, self.last_hash))
        if followed_by is not None:
            return text + _UNSEALED_BEFORE[several].format(sealed=followed_by)
        return text


def _when(at: str) -> str:
    """2026-11-02T09:00:01.000000+00:00 as 2026-11-02 09:00:01 UTC."""
    shown = at[:19].replace("T", " ")
    return f"{shown} UTC" if shown.isprintable() and len(at) >= 19 else repr(at[:40])


def verify(engine: Engine, *, key: SecretStr | None = None) -> Verification:
    """Walk the chain up to its head and return every break found (edited, inserted or removed rows).

    The head is read first, so rows appended while the check runs are left for the next check. Rows after the
    head are then counted in one statement that reads the head again: an append commits its row and the head
    together, so any row it finds was inserted by someone, not appended by the bot.

    With the audit key, each row must match either its plain hash or its HMAC under the key. Plain rows may come
    before the first sealed row only when that row is an `audit.key_in_use` row adopting them; plain rows after a
    sealed one only when the next sealed row is an `audit.key_in_use` row naming exactly them (`audit adopt-key`).
    A log with rows of which none is sealed, an empty log, and a log whose row 1 is sealed but not an
    `audit.key_in_use` row are reported too (a process with the key writes that row first). Without it, rows
    matching no plain hash from the first `audit.key_in_use` row on (where sealed rows can be) cannot be told from
    edited ones: they are reported, asking for the key; before it, they are edited."""
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
            if not keyed and row.seq == 1 and row.event != KEY_IN_USE:
                problems.append((1, FIRST_NOT_KEY_IN_USE))
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
    intact_plain = not problems and not runs and plain == count  # a plain chain `audit adopt-key` could adopt
    if key is not None and not count and head.seq == 0:
        problems.append((1, EMPTY_WITH_KEY))
    if head.seq != expected_seq - 1 or head.hash != expected_prev:
        needs_key = intact_plain = False
        problems.append((expected_seq, f"the chain ends at row {expected_seq - 1} but its head says row {head.seq} "
                                       "(rows removed from the end, or the head was edited)"))
    for messages, (inserted, first) in ((_INSERTED, _after_head(engine)), (_BELOW_ONE, _below_one(engine))):
        if inserted:
            needs_key = intact_plain = False
            problems.append((first, messages[inserted > 1].format(count=inserted, first=first)))
    if key is not None and count and not keyed:
        problems.append((expected_seq, NONE_SEALED + (_ADOPT.format(named=_named(head.seq, head.hash))
                                                      if intact_plain else "")))
    return (Verification(ok=not problems, rows=count, problems=tuple(text for _, text in problems), keyed=keyed,
                         plain=plain, unverified=unverified, accepted=accepted, needs_key=needs_key,
                         plain_tail=plain_tail), head)


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
        raise AuditBroken("the audit log's head row is missing, so where the log ends is unknown: nothing was "
                          "exported. Run `offboard-bot audit verify`")
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
