"""The rules of `audit adopt-key`, as pure code: from what walking the chain found and what the person named, the
sealed `audit.key_in_use` row to write, or the finding that says why not. storage.audit reads the rows and writes
the row; storage.audit_words says the findings.

A person runs `audit adopt-key` after reviewing the plain rows the sealed row will vouch for:

- An empty log is sealed; nothing more is needed.
- A log with no sealed row must be an intact plain chain, and `through` must name its newest row; the row records
  {"rows_before": N}.
- A log with sealed rows followed by plain ones (a replica ran without the key) is adopted only when `accept` names
  exactly that plain run, and nothing else is wrong; the row records {"accepted_plain_rows": [F, L]}, which is what
  a walk needs to accept those rows (only a holder of the key can write such a row).

row_hash binds the acceptance to what the person reviewed: the start of the hash of the last row vouched for (N, or
L). It is compared with that row under the head's lock, in the transaction that writes the sealed row (confirm), so
rows rewritten since the review are refused, not vouched for. The row records the full hash as "through_hash"."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from storage.audit_chain import ADOPT_KEY, ChainHead, ChainRow, Walk, is_hash_start
from storage.audit_findings import (
    AcceptNamesOthers,
    Adoption,
    BeyondHead,
    BothNamed,
    ChangedMeanwhile,
    EmptyButMore,
    EmptyHasNoRow,
    EmptyWithKey,
    Finding,
    NoKeyToAdopt,
    NotAHash,
    NothingToAccept,
    NotOnlyPlainTail,
    NotTheReviewedRow,
    PlainNotIntact,
    RowNamed,
    ThroughElsewhere,
    UnnamedAcceptance,
    UnnamedAdoption,
)


@dataclass(frozen=True)
class Plan:
    """The sealed `audit.key_in_use` row to write, if the log still ends in `end` under the head's lock."""

    end: RowNamed  # the head, as the walk the plan was made from read it
    data: Mapping[str, object]  # what the row records ("through_hash" is added under the lock)
    bound: int | None = None  # the last row vouched for, whose hash must start with what the person named


def refuse_arguments(*, accept: tuple[int, int] | None, through: int | None, row_hash: str | None) -> Finding | None:
    """Why the arguments name no reviewed rows the way adopt-key takes them, or None."""
    if accept is not None and through is not None:
        return BothNamed()
    if row_hash is not None and not is_hash_start(row_hash):
        return NotAHash(given=row_hash)
    return None


def plan(keyed: Walk, walk_plain: Callable[[], Walk], *, accept: tuple[int, int] | None, through: int | None,
         row_hash: str | None) -> Plan | Finding:
    """The row to write, given the walk with the key, or why not. walk_plain walks the chain without a key; it is
    called only when no row is sealed and the log has rows (to check the plain chain the row would vouch for)."""
    if keyed.head is None:
        return keyed.findings[0]
    if keyed.keyed:
        return _accept_plain_tail(keyed, accept=accept, through=through, row_hash=row_hash)
    if accept is not None:
        return NothingToAccept()
    if keyed.head.seq == 0:
        return _seal_empty(keyed, through=through)
    return _adopt_plain_history(walk_plain(), through=through, row_hash=row_hash)


def _seal_empty(keyed: Walk, *, through: int | None) -> Plan | Finding:
    if through is not None:
        return EmptyHasNoRow(through=through)
    others = tuple(finding for finding in keyed.findings if not isinstance(finding, EmptyWithKey))
    if others:
        return EmptyButMore(problems=others)
    return Plan(end=keyed.head, data={"rows_before": 0, "by": ADOPT_KEY})


def _adopt_plain_history(plain: Walk, *, through: int | None, row_hash: str | None) -> Plan | Finding:
    if plain.head is None:
        return plain.findings[0]
    if not plain.ok:
        return PlainNotIntact(problems=plain.findings)
    if through is None or row_hash is None:
        return UnnamedAdoption(newest=plain.head)
    if through != plain.head.seq:
        return ThroughElsewhere(newest=plain.head.seq, through=through)
    return Plan(end=plain.head, data={"rows_before": plain.head.seq, "by": ADOPT_KEY}, bound=plain.head.seq)


def _accept_plain_tail(keyed: Walk, *, accept: tuple[int, int] | None, through: int | None,
                       row_hash: str | None) -> Plan | Finding:
    if through is not None:
        return NoKeyToAdopt()
    tail = keyed.plain_tail
    if tail is None or len(keyed.findings) != 1:
        return NotOnlyPlainTail(problems=keyed.findings)
    if row_hash is None and accept in (None, tail):
        return UnnamedAcceptance(first=tail[0], last=tail[1], last_hash=keyed.head.hash)
    if accept != tail:
        return AcceptNamesOthers(first=tail[0], last=tail[1], accept=accept)
    return Plan(end=keyed.head, data={"accepted_plain_rows": list(tail), "by": ADOPT_KEY}, bound=tail[1])


def confirm(planned: Plan, *, head: ChainHead, beyond: int | None, bound_row: ChainRow | None,
            row_hash: str | None) -> dict | Finding:
    """Under the head's lock: the data the sealed row records, or why it is not written. beyond: the first row after
    the head, if any; bound_row: the row planned.bound names, as read now (None when missing or not asked for)."""
    if (head.seq, head.hash) != (planned.end.seq, planned.end.hash):
        return ChangedMeanwhile(was=planned.end.seq, now=head.seq)
    if beyond is not None:
        return BeyondHead(first=beyond)
    if planned.bound is None:
        return dict(planned.data)
    reviewed = bound_row.hash if bound_row is not None and bound_row.hash == head.hash else None
    if not (isinstance(reviewed, str) and row_hash and reviewed.lower().startswith(row_hash.lower())):
        return NotTheReviewedRow(seq=planned.bound, given=row_hash)
    return {**planned.data, "through_hash": reviewed}


def adoption(seq: int, data: Mapping[str, object]) -> Adoption:
    """What adopt-key did, from the row it wrote."""
    accepted = data.get("accepted_plain_rows")
    return Adoption(seq=seq, rows_before=data.get("rows_before", 0),
                    accepted=tuple(accepted) if accepted is not None else None)
