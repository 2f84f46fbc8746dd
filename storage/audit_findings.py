"""What the audit chain's rules find, as facts: row numbers, counts and hashes, never sentences.

storage.audit_chain and storage.audit_adoption make these; storage.audit_words is the one place that says them to
people. A finding that stops something (AuditBroken) is said with the act it stopped (Act), since the same fact
calls for other advice when it stops a write than when it stops `audit adopt-key`. Standard library only."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Act(StrEnum):
    """What a finding stopped."""

    WRITE = "write"  # an append or seal by a process with the key, and `offboard-bot check` asking if it could
    ADOPT = "adopt"  # `offboard-bot audit adopt-key`
    EXPORT = "export"  # `offboard-bot audit export`


class Unfit(StrEnum):
    """Why a row matches no hash whatever its content says: the bot never writes such a row, so it is an edit."""

    WRONG_TYPE = "wrong_type"  # a value that is not text (SQLite keeps a BLOB in a text column), or a seq not an int
    EMPTY_REQUEST_ID = "empty_request_id"  # "" where the bot writes None; the hash covers both as "", so it would pass
    HASH_NOT_HEX = "hash_not_hex"  # not 64 lowercase hex characters, as every hash the bot makes is


@dataclass(frozen=True)
class UnfitRow:
    seq: int
    why: Unfit


@dataclass(frozen=True)
class RowNamed:
    """A row as a person names it to `audit adopt-key` after reviewing it: its number and its hash."""

    seq: int
    hash: str


# -- what walking the chain finds (`audit verify`), in the order it reports them ------------------------------------

@dataclass(frozen=True)
class HeadMissing:
    """The head row, which says where the chain ends, is missing."""


@dataclass(frozen=True)
class MissingRows:
    """Rows first to last are not there: the chain jumps from the row before first to the row after last."""

    first: int
    last: int


@dataclass(frozen=True)
class BrokenLink:
    """Row seq's prev_hash is not the hash of the row read before it."""

    seq: int


@dataclass(frozen=True)
class Edited:
    """Consecutive rows first to last match no hash they may have: edited (or, with a key given, sealed with another
    key). unfit: those of them that could match nothing whatever their content; the others' content changed."""

    first: int
    last: int
    key_given: bool
    unfit: tuple[UnfitRow, ...] = ()


@dataclass(frozen=True)
class MaybeSealed:
    """Verified without a key: consecutive rows first to last, from the first `audit.key_in_use` row that matches no
    plain hash on, match no plain hash either: sealed with a key, or edited; only the key tells."""

    first: int
    last: int
    unfit: tuple[UnfitRow, ...] = ()


@dataclass(frozen=True)
class NotAdopted:
    """Plain rows 1 to last come before the first sealed row, `sealed`, which is no `audit.key_in_use` row adopting
    them (naming rows_before = last)."""

    last: int
    sealed: int


@dataclass(frozen=True)
class FirstNotKeyInUse:
    """Row 1 is sealed with the key but is not the `audit.key_in_use` row a process with the key writes first."""


@dataclass(frozen=True)
class PlainRun:
    """Consecutive plain rows first to last after a sealed row, not accepted by an `audit adopt-key` row. actors,
    since and until are what the rows say of who wrote them and when (whoever rewrote them could say anything)."""

    first: int
    last: int
    actors: tuple[str, ...]  # each once, in the order met
    since: str  # the first row's `at`
    until: str  # the last row's `at`
    last_hash: str  # what `audit adopt-key` is given to accept them as they are now
    followed_by: int | None = None  # the sealed row that came next without accepting them
    at_end: bool = False  # they end the chain as read, so `audit adopt-key --accept-plain-rows` can accept them


@dataclass(frozen=True)
class AcceptedRun:
    """Not a problem: plain rows first to last after sealed ones, accepted by the sealed `audit.key_in_use` row `by`
    that names exactly them."""

    first: int
    last: int
    by: int


@dataclass(frozen=True)
class EmptyWithKey:
    """Verified with a key, the log is empty: wiped, or never written by a process with the key (which always writes
    row 1)."""


@dataclass(frozen=True)
class HeadDisagrees:
    """The chain read ends at row `last` (0: no row), but its head names row `head` or another hash."""

    last: int
    head: int


@dataclass(frozen=True)
class BeyondHead:
    """Rows numbered after the head, from row `first` on: the bot moves the head with each row it appends, so someone
    inserted them. count: how many, when counted (`verify` counts them; a write looks for the first only)."""

    first: int
    count: int | None = None


@dataclass(frozen=True)
class BelowOne:
    """count rows numbered below 1, from row `first` on, where neither the chain nor an export looks."""

    first: int
    count: int


@dataclass(frozen=True)
class NoneSealed:
    """Verified with a key: the log has rows, none sealed with it. adoptable: the newest row of an intact plain
    chain, which `audit adopt-key --through` would name; None when the chain is not intact."""

    adoptable: RowNamed | None = None


# -- why a process with the key cannot append to the log as it ends (also `offboard-bot check`) --------------------

@dataclass(frozen=True)
class HeadRowUnmatched:
    """The head names row `head`, which is missing or has another hash."""

    head: int


@dataclass(frozen=True)
class EndNotSealed:
    """The log ends in row seq, which is not sealed with the key."""

    seq: int


# -- why `audit adopt-key` wrote nothing ----------------------------------------------------------------------------

@dataclass(frozen=True)
class BothNamed:
    """Both --accept-plain-rows and --through were given."""


@dataclass(frozen=True)
class NotAHash:
    """given is not the start of a row's hash (at least HASH_SHOWN hex characters, at most 64)."""

    given: str


@dataclass(frozen=True)
class NothingToAccept:
    """--accept-plain-rows on a log with no sealed row: there is no plain run after sealed rows (adopting takes
    --through)."""


@dataclass(frozen=True)
class NoKeyToAdopt:
    """--through on a log with sealed rows: the key is adopted already."""


@dataclass(frozen=True)
class EmptyHasNoRow:
    """--through names row `through` of a log that is empty (wiped since the review, if it had rows then)."""

    through: int


@dataclass(frozen=True)
class EmptyButMore:
    """The head says the log is empty, but walking it finds these problems too."""

    problems: tuple[Finding, ...]


@dataclass(frozen=True)
class PlainNotIntact:
    """No row is sealed, and the plain chain has these problems: sealing it would vouch for them."""

    problems: tuple[Finding, ...]


@dataclass(frozen=True)
class NotOnlyPlainTail:
    """Sealed rows, and problems other than one plain run at the end: adopt-key accepts such a run only."""

    problems: tuple[Finding, ...]


@dataclass(frozen=True)
class UnnamedAdoption:
    """Adopting the key would vouch for the plain rows up to `newest`, but the person named no reviewed row."""

    newest: RowNamed


@dataclass(frozen=True)
class ThroughElsewhere:
    """--through names row `through`, but the log ends in row `newest`."""

    newest: int
    through: int


@dataclass(frozen=True)
class UnnamedAcceptance:
    """The plain rows first to last end the log; the person did not name the last one's hash (nor other rows)."""

    first: int
    last: int
    last_hash: str


@dataclass(frozen=True)
class AcceptNamesOthers:
    """The plain rows first to last end the log, and --accept-plain-rows names other rows (accept), or none."""

    first: int
    last: int
    accept: tuple[int, int] | None


@dataclass(frozen=True)
class ChangedMeanwhile:
    """The log ended in row `was` when it was checked, and in row `now` (or another hash) under the head's lock."""

    was: int
    now: int


@dataclass(frozen=True)
class NotTheReviewedRow:
    """Row seq's hash, read under the head's lock, does not start with `given`: rewritten since the review, or
    mistyped."""

    seq: int
    given: str | None


@dataclass(frozen=True)
class Adoption:
    """What `audit adopt-key` did: the sealed `audit.key_in_use` row it wrote (None: the log already ended in one)."""

    seq: int | None
    rows_before: int = 0  # plain rows before the first sealed row, adopted by it
    accepted: tuple[int, int] | None = None  # plain rows after sealed ones, accepted by it


Finding = (HeadMissing | MissingRows | BrokenLink | Edited | MaybeSealed | NotAdopted | FirstNotKeyInUse | PlainRun
           | EmptyWithKey | HeadDisagrees | BeyondHead | BelowOne | NoneSealed | HeadRowUnmatched | EndNotSealed
           | BothNamed | NotAHash | NothingToAccept | NoKeyToAdopt | EmptyHasNoRow | EmptyButMore | PlainNotIntact
           | NotOnlyPlainTail | UnnamedAdoption | ThroughElsewhere | UnnamedAcceptance | AcceptNamesOthers
           | ChangedMeanwhile | NotTheReviewedRow)
