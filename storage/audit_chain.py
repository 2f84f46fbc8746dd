"""The audit chain's rules, as pure code: a row's hash, sealing, and what walking the rows finds.

Each row's hash covers its content and the hash of the row before it (GENESIS before row 1), so any edited, inserted
or removed row breaks the chain. Without a key the hash is SHA-256, which anyone who can write to the database can
compute again after an edit. With an audit key (OFFBOARD_AUDIT_KEY) it is HMAC-SHA256 under that key, which only a
holder of the key can make: the row is sealed. Both kinds of row live in the same chain, told apart by the hash each
one matches.

A sealed row vouches for every row before it, so a process with the key only appends to a log that is empty or ends
in a row sealed with it, and has no row after its head (end_finding). Plain rows are accepted before or between
sealed ones only through a sealed `audit.key_in_use` row naming them (storage.audit_adoption).

No database and no words: rows come in as plain objects with AuditRow's attributes, findings go out as the
dataclasses of storage.audit_findings. storage.audit reads and writes the rows; storage.audit_words says the
findings."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from pydantic import SecretStr

from bot.domain.records import AuditEntry
from storage.audit_findings import (
    AcceptedRun,
    BelowOne,
    BeyondHead,
    BrokenLink,
    Edited,
    EmptyWithKey,
    EndNotSealed,
    Finding,
    FirstNotKeyInUse,
    HeadDisagrees,
    HeadMissing,
    HeadRowUnmatched,
    MaybeSealed,
    MissingRows,
    NoneSealed,
    NotAdopted,
    PlainRun,
    RowNamed,
    Unfit,
    UnfitRow,
)

GENESIS = "0" * 64  # the hash row 1 follows
KEY_IN_USE = "audit.key_in_use"  # row 1 of a log a process with a key starts on; and what `audit adopt-key` writes
STARTED = AuditEntry(actor="system", event=KEY_IN_USE, data={"rows_before": 0})  # that row 1
ADOPT_KEY = "audit adopt-key"  # what a row written by `audit adopt-key` records as "by"
HASH_SHOWN = 16  # hex characters of a row's hash that name it in `audit adopt-key` (at least these are compared)
_HASH_START = re.compile(rf"[0-9a-fA-F]{{{HASH_SHOWN},64}}")
_HASH = re.compile(r"[0-9a-f]{64}")  # every hash the bot makes
NOTHING = (0, None)  # no row outside the chain: (how many, the first)


class ChainRow(Protocol):
    """A row as the rules read it (storage.models.AuditRow is one). The values are whatever the database holds."""

    seq: int
    at: str
    actor: str
    event: str
    request_id: str | None
    data: str
    prev_hash: str
    hash: str


class ChainHead(Protocol):
    """The head: the newest row's number and hash, moved with each append (storage.models.AuditHeadRow)."""

    seq: int
    hash: str


def digest(prev_hash: str, seq: int, at: str, actor: str, event: str, request_id: str | None, data: str, *,
           key: SecretStr | None = None) -> str:
    """The row's hash: SHA-256 of its content and the previous hash, or HMAC-SHA256 of the same under key."""
    material = json.dumps([prev_hash, seq, at, actor, event, request_id or "", data], separators=(",", ":")).encode()
    if key is None:
        return hashlib.sha256(material).hexdigest()
    return hmac.new(key.get_secret_value().encode(), material, hashlib.sha256).hexdigest()


def unfit(row: ChainRow) -> Unfit | None:
    """Why row can match no hash whatever its content (the bot never writes such a row), or None."""
    texts = (row.at, row.actor, row.event, row.data, row.prev_hash, row.hash)
    if not (isinstance(row.seq, int) and all(isinstance(value, str) for value in texts)
            and (row.request_id is None or isinstance(row.request_id, str))):
        return Unfit.WRONG_TYPE
    if row.request_id == "":
        return Unfit.EMPTY_REQUEST_ID
    if not _HASH.fullmatch(row.hash):
        return Unfit.HASH_NOT_HEX
    return None


def matches(row: ChainRow, key: SecretStr | None) -> bool:
    """Whether row's hash is the plain hash of its content (key None) or its HMAC under key. An unfit row matches
    nothing, so it counts as edited: a column holding something other than text, a request_id of "" (which the
    hash covers as it covers None), a hash edited to anything not hex, even text that is not ASCII."""
    if unfit(row) is not None:
        return False
    expected = digest(row.prev_hash, row.seq, row.at, row.actor, row.event, row.request_id, row.data, key=key)
    return hmac.compare_digest(expected, row.hash)


def row_data(row: ChainRow) -> dict:
    """The row's data as a dict ({} when it is not a JSON object)."""
    try:
        data = json.loads(row.data)
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_hash_start(text: str) -> bool:
    """Whether text can name a row by its hash: at least its first HASH_SHOWN hex characters, in either case."""
    return bool(_HASH_START.fullmatch(text))


@dataclass(frozen=True)
class NewRow:
    """A row as the bot appends it."""

    seq: int
    at: str
    actor: str
    event: str
    request_id: str | None
    data: str
    prev_hash: str
    hash: str


def next_row(head: ChainHead, entry: AuditEntry, *, now: datetime, key: SecretStr | None) -> NewRow:
    """The row that follows the head for entry: plainly hashed, or sealed with key."""
    seq = head.seq + 1
    at = now.astimezone(UTC).isoformat(timespec="microseconds")
    data = json.dumps(entry.data or {}, sort_keys=True, separators=(",", ":"), default=str)
    request_id = entry.request_id or None  # never "": the hash covers None as "", and "" counts as an edit
    return NewRow(seq=seq, at=at, actor=entry.actor, event=entry.event, request_id=request_id, data=data,
                  prev_hash=head.hash,
                  hash=digest(head.hash, seq, at, entry.actor, entry.event, request_id, data, key=key))


def end_finding(head: ChainHead, *, beyond: int | None, newest: ChainRow | None, key: SecretStr) -> Finding | None:
    """Why a process with key cannot append to the log as it ends, or None when it can (or the log is empty).

    beyond: the first row numbered after the head, if any; newest: the row the head names, as read (when it is
    needed: no row after the head and the log not empty)."""
    if beyond is not None:
        return BeyondHead(first=beyond)
    if head.seq == 0:
        return None
    if newest is None or newest.hash != head.hash:
        return HeadRowUnmatched(head=head.seq)
    if not matches(newest, key):
        return EndNotSealed(seq=head.seq)
    return None


@dataclass(frozen=True)
class Walk:
    """What walking the chain up to its head found: the problems in the order they are reported, and counts."""

    head: RowNamed | None  # as read before the walk; None: the head row is missing
    findings: tuple[Finding, ...]
    rows: int = 0  # rows read
    keyed: int = 0  # rows sealed with the key the walk was given
    plain: int = 0  # rows whose hash is plain SHA-256
    unverified: int = 0  # rows in MaybeSealed findings: sealed with a key, or edited
    accepted: tuple[AcceptedRun, ...] = ()
    needs_key: bool = False  # nothing found wrong, but some rows could be sealed: only the key can verify them
    plain_tail: tuple[int, int] | None = None  # plain rows after sealed ones that end the log (first, last)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def accepted_rows(self) -> int:
        return sum(run.last - run.first + 1 for run in self.accepted)


@dataclass
class _Run:
    """Plain rows in a row after a sealed one, while they are read."""

    first: int
    last: int
    actors: list[str]
    since: str
    until: str
    last_hash: str

    @classmethod
    def of(cls, row: ChainRow) -> _Run:
        return cls(first=row.seq, last=row.seq, actors=[row.actor], since=row.at, until=row.at, last_hash=row.hash)

    def add(self, row: ChainRow) -> None:
        self.last, self.until, self.last_hash = row.seq, row.at, row.hash
        if row.actor not in self.actors:
            self.actors.append(row.actor)

    def finding(self, *, followed_by: int | None = None, at_end: bool = False) -> PlainRun:
        return PlainRun(first=self.first, last=self.last, actors=tuple(self.actors), since=self.since,
                        until=self.until, last_hash=self.last_hash, followed_by=followed_by, at_end=at_end)


@dataclass
class _Span:
    """Consecutive rows matching no hash, while they are read."""

    first: int
    last: int
    unfit: list[UnfitRow] = field(default_factory=list)

    def unfit_within(self, first: int, last: int) -> tuple[UnfitRow, ...]:
        return tuple(row for row in self.unfit if first <= row.seq <= last)


class Walker:
    """Walks the chain one row at a time, in order (see), then concludes (finish), given the rows outside it.

    With a key, each row must match either its plain hash or its HMAC under the key. Plain rows may come before the
    first sealed row only when that row is an `audit.key_in_use` row adopting them; plain rows after a sealed one
    only when the next sealed row is an `audit.key_in_use` row naming exactly them. A log with rows of which none is
    sealed, an empty log, and a log whose row 1 is sealed but not an `audit.key_in_use` row are findings too (a
    process with the key writes that row first). Without a key, rows matching no plain hash from the first
    `audit.key_in_use` row on (where sealed rows can be) cannot be told from edited ones: they may be sealed
    (MaybeSealed); before it, they are edited."""

    def __init__(self, head: ChainHead, *, key: SecretStr | None) -> None:
        self._head = RowNamed(seq=head.seq, hash=head.hash)
        self._key = key
        self._rows = self._keyed = self._plain = 0
        self._prev, self._next = GENESIS, 1  # what the next row's prev_hash and seq should be
        self._found: list[tuple[int, Finding]] = []  # (row, finding): reported in row order
        self._spans: list[_Span] = []
        self._maybe_sealed_from: int | None = None  # no key: the first `audit.key_in_use` row no plain hash matches
        self._pending: _Run | None = None  # with a key: plain rows since the last sealed row
        self._accepted: list[AcceptedRun] = []

    def see(self, row: ChainRow) -> None:
        """Take the next row of the chain."""
        self._rows += 1
        if row.seq != self._next:
            self._found.append((row.seq, MissingRows(first=self._next, last=row.seq - 1)))
        if row.prev_hash != self._prev:
            self._found.append((row.seq, BrokenLink(seq=row.seq)))
        if self._key is not None and matches(row, self._key):
            self._sealed(row)
        elif matches(row, None):
            self._plain_row(row)
        else:
            self._unmatched(row)
        self._prev, self._next = row.hash, row.seq + 1

    def _sealed(self, row: ChainRow) -> None:
        data = row_data(row) if row.event == KEY_IN_USE else {}
        if not self._keyed and row.seq > 1 and data.get("rows_before") != row.seq - 1:
            self._found.append((1, NotAdopted(last=row.seq - 1, sealed=row.seq)))
        if not self._keyed and row.seq == 1 and row.event != KEY_IN_USE:
            self._found.append((1, FirstNotKeyInUse()))
        run = self._pending
        if run is not None:
            if data.get("accepted_plain_rows") == [run.first, run.last]:
                self._accepted.append(AcceptedRun(first=run.first, last=run.last, by=row.seq))
            else:
                self._found.append((run.first, run.finding(followed_by=row.seq)))
            self._pending = None
        self._keyed += 1

    def _plain_row(self, row: ChainRow) -> None:
        self._plain += 1
        if not self._keyed:
            return
        run = self._pending
        if run is not None and run.last == row.seq - 1:
            run.add(row)
            return
        if run is not None:  # a plain row after a gap or an edited row: another run
            self._found.append((run.first, run.finding()))
        self._pending = _Run.of(row)

    def _unmatched(self, row: ChainRow) -> None:
        if self._spans and self._spans[-1].last == row.seq - 1:
            self._spans[-1].last = row.seq
        else:
            self._spans.append(_Span(first=row.seq, last=row.seq))
        why = unfit(row)
        if why is not None:
            self._spans[-1].unfit.append(UnfitRow(seq=row.seq, why=why))
        if self._key is None and self._maybe_sealed_from is None and row.event == KEY_IN_USE:
            self._maybe_sealed_from = row.seq
        if self._pending is not None:
            self._found.append((self._pending.first, self._pending.finding()))
            self._pending = None

    def finish(self, *, after_head: tuple[int, int | None] = NOTHING,
               below_one: tuple[int, int | None] = NOTHING) -> Walk:
        """What the walk found, given the rows numbered after the head and below 1: (how many, the first)."""
        plain_tail = self._close_at_end()
        spans = self._span_findings()
        findings = [finding for _, finding in sorted(self._found + spans, key=lambda found: found[0])]
        needs_key = bool(spans) and len(findings) == len(spans) and all(
            isinstance(finding, MaybeSealed) for _, finding in spans)
        intact_plain = not findings and self._plain == self._rows  # a plain chain `audit adopt-key` could adopt
        if self._key is not None and not self._rows and self._head.seq == 0:
            findings.append(EmptyWithKey())
        if self._head.seq != self._next - 1 or self._head.hash != self._prev:
            needs_key = intact_plain = False
            findings.append(HeadDisagrees(last=self._next - 1, head=self._head.seq))
        for (count, first), outside in ((after_head, BeyondHead), (below_one, BelowOne)):
            if count:
                needs_key = intact_plain = False
                findings.append(outside(first=first, count=count))
        if self._key is not None and self._rows and not self._keyed:
            findings.append(NoneSealed(adoptable=self._head if intact_plain else None))
        unverified = sum(found.last - found.first + 1 for _, found in spans if isinstance(found, MaybeSealed))
        return Walk(head=self._head, findings=tuple(findings), rows=self._rows, keyed=self._keyed,
                    plain=self._plain, unverified=unverified, accepted=tuple(self._accepted), needs_key=needs_key,
                    plain_tail=plain_tail)

    def _close_at_end(self) -> tuple[int, int] | None:
        """Report plain rows left open at the end of the walk; they are the plain tail if the head names their
        last row."""
        run, self._pending = self._pending, None
        if run is None:
            return None
        self._found.append((run.first, run.finding(at_end=True)))
        if self._head.seq == run.last and self._head.hash == self._prev:
            return run.first, run.last
        return None

    def _span_findings(self) -> list[tuple[int, Finding]]:
        """The spans of rows matching no hash: edited, or (without a key, from the first `audit.key_in_use` row no
        plain hash matches on) maybe sealed."""
        cut, given = self._maybe_sealed_from, self._key is not None
        found: list[tuple[int, Finding]] = []
        for span in self._spans:
            edited_to = span.last if cut is None else min(span.last, cut - 1)
            if span.first <= edited_to:
                found.append((span.first, Edited(first=span.first, last=edited_to, key_given=given,
                                                 unfit=span.unfit_within(span.first, edited_to))))
            if cut is not None and span.last >= cut:
                first = max(span.first, cut)
                found.append((first, MaybeSealed(first=first, last=span.last,
                                                 unfit=span.unfit_within(first, span.last))))
        return found


def walk(head: ChainHead | None, rows: Iterable[ChainRow], *, key: SecretStr | None,
         after_head: tuple[int, int | None] = NOTHING, below_one: tuple[int, int | None] = NOTHING) -> Walk:
    """Walk rows (the chain up to the head, in order) and say what is wrong; head None: its row is missing."""
    if head is None:
        return Walk(head=None, findings=(HeadMissing(),))
    walker = Walker(head, key=key)
    for row in rows:
        walker.see(row)
    return walker.finish(after_head=after_head, below_one=below_one)
