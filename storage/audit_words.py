"""The words people read about the audit log, in one place, made from the typed findings of storage.audit_findings.

- problem: a line of `audit verify` (storage.audit's Verification.problems).
- refusal: the message of an AuditBroken: what `serve` and `offboard-bot check` print when a process with the key
  could not write, and what `audit adopt-key` and `audit export` print when they did nothing.
- verify_report, adopted, exported: the rest of what the `audit` commands print (bot/cli.py prints them).

No rule is decided here: each function only says what a finding or a result holds."""

from __future__ import annotations

from typing import Protocol

from storage.audit_chain import HASH_SHOWN
from storage.audit_findings import (
    AcceptNamesOthers,
    Act,
    Adoption,
    BelowOne,
    BeyondHead,
    BothNamed,
    BrokenLink,
    ChangedMeanwhile,
    Edited,
    EmptyButMore,
    EmptyHasNoRow,
    EmptyWithKey,
    EndNotSealed,
    Finding,
    FirstNotKeyInUse,
    HeadDisagrees,
    HeadMissing,
    HeadRowUnmatched,
    MaybeSealed,
    MissingRows,
    NoKeyToAdopt,
    NoneSealed,
    NotAdopted,
    NotAHash,
    NothingToAccept,
    NotOnlyPlainTail,
    NotTheReviewedRow,
    PlainNotIntact,
    PlainRun,
    ThroughElsewhere,
    UnnamedAcceptance,
    UnnamedAdoption,
)

ADVICE = ("Run `offboard-bot audit verify` with the key. It names the rows that are not sealed, and the "
          "`offboard-bot audit adopt-key` command that accepts them once you have reviewed them (when adopting the "
          "key on a log written without it, or after a replica ran without it).")
REVIEW_AGAIN = ("Nothing was written. Run `offboard-bot audit verify` again, and review the rows it names before "
                "you run the command it prints.")
NONE_SEALED = ("no row is sealed with the audit key: the log was written without it or with another key, or its "
               "sealed rows were removed or rewritten")
EMPTY_WITH_KEY = ("the log is empty although a key is given: it was wiped, or the bot has never started with the "
                  "key (a process with the key always writes row 1)")
FIRST_NOT_KEY_IN_USE = ("row 1 is sealed with the audit key but is not an `audit.key_in_use` row, which the bot "
                        "writes first on a log it starts (releases before this one did not when they found the log "
                        "empty while running: it may have been wiped)")
ADOPT_NEEDS_KEY = ("OFFBOARD_AUDIT_KEY is not set: `audit adopt-key` seals the audit log with it. Set it as the bot's "
                   "replicas have it")
_HEAD_MISSING = "the audit log's head row is missing: the database was not migrated or was tampered with"
_NOT_SEALED = "the audit log was not sealed: "

# What a run of rows is said as: (one row, several rows), formatted with the row numbers.
_EDITED = ("row {first}: content does not match its hash (edited)",
           "rows {first} to {last}: content does not match their hashes (edited)")
_EDITED_OR_OTHER_KEY = ("row {first}: content does not match its hash (edited, or sealed with another audit key)",
                        "rows {first} to {last}: content does not match their hashes (edited, or sealed with "
                        "another audit key)")
_MAYBE_SEALED = ("row {first} is sealed with an audit key, or edited: set OFFBOARD_AUDIT_KEY to verify it",
                 "rows {first} to {last} are sealed with an audit key, or edited: set OFFBOARD_AUDIT_KEY to verify "
                 "them")
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
_ADOPT = ("; if it was written before the key was set, review it (`offboard-bot audit export`), then adopt the key "
          "with `offboard-bot audit adopt-key --through {named}`")
_BEYOND_HEAD = ("1 row after the head, row {first}: inserted by someone, not by the bot",
                "{count} rows after the head, from row {first}: inserted by someone, not by the bot")
_BELOW_ONE = ("1 row numbered below 1, row {first}: inserted by someone, not by the bot",
              "{count} rows numbered below 1, from row {first}: inserted by someone, not by the bot")


def named(seq: int, row_hash: str) -> str:
    """How `audit adopt-key` names the last row a person reviewed: its number and the start of its hash."""
    return f"{seq}@{row_hash[:HASH_SHOWN]}"


def problem(finding: Finding) -> str:
    """The line `audit verify` prints for a finding of walking the chain."""
    match finding:
        case HeadMissing():
            return "the chain's head row is missing (removed)"
        case MissingRows(first=first, last=last):
            return f"row {first} to {last} missing (removed rows)"
        case BrokenLink(seq=seq):
            return f"row {seq}: does not follow the row before it"
        case Edited(first=first, last=last, key_given=key_given):
            return (_EDITED_OR_OTHER_KEY if key_given else _EDITED)[first != last].format(first=first, last=last)
        case MaybeSealed(first=first, last=last):
            return _MAYBE_SEALED[first != last].format(first=first, last=last)
        case NotAdopted(last=last, sealed=sealed):
            return _NOT_ADOPTED[last > 1].format(last=last, sealed=sealed)
        case FirstNotKeyInUse():
            return FIRST_NOT_KEY_IN_USE
        case PlainRun():
            return _plain_run(finding)
        case EmptyWithKey():
            return EMPTY_WITH_KEY
        case HeadDisagrees(last=last, head=head):
            return (f"the chain ends at row {last} but its head says row {head} (rows removed from the end, or the "
                    "head was edited)")
        case BeyondHead(first=first, count=count) | BelowOne(first=first, count=count):
            said = _BEYOND_HEAD if isinstance(finding, BeyondHead) else _BELOW_ONE
            return said[(count or 0) > 1].format(count=count, first=first)
        case NoneSealed(adoptable=None):
            return NONE_SEALED
        case NoneSealed(adoptable=newest):
            return NONE_SEALED + _ADOPT.format(named=named(newest.seq, newest.hash))
    raise TypeError(f"no words for {finding!r} in `audit verify`")


def _plain_run(run: PlainRun) -> str:
    several = run.first != run.last
    text = _UNSEALED[several].format(first=run.first, last=run.last, seen=_seen(run))
    if run.at_end:
        return text + _UNSEALED_AT_END[several].format(first=run.first, named=named(run.last, run.last_hash))
    if run.followed_by is not None:
        return text + _UNSEALED_BEFORE[several].format(sealed=run.followed_by)
    return text


def _seen(run: PlainRun) -> str:
    """Who wrote the rows and when, as the rows say (whoever rewrote them could have written anything there)."""
    shown = [actor if actor.isprintable() and len(actor) <= 40 else repr(actor[:40]) for actor in run.actors[:5]]
    actors = ", ".join(shown) + (f" and {len(run.actors) - 5} more" if len(run.actors) > 5 else "")
    when = f"at {_when(run.since)}" if run.first == run.last else f"from {_when(run.since)} to {_when(run.until)}"
    return f"by {actors}, {when}"


def _when(at: str) -> str:
    """2026-11-02T09:00:01.000000+00:00 as 2026-11-02 09:00:01 UTC."""
    shown = at[:19].replace("T", " ")
    return f"{shown} UTC" if shown.isprintable() and len(at) >= 19 else repr(at[:40])


def _listed(problems: tuple[Finding, ...]) -> str:
    return "\n".join(f"  {problem(found)}" for found in problems)


def refusal(finding: Finding, act: Act) -> str:
    """The message of the AuditBroken raised when finding stopped act."""
    if act is Act.EXPORT and isinstance(finding, HeadMissing):
        return ("the audit log's head row is missing, so where the log ends is unknown: nothing was exported. Run "
                "`offboard-bot audit verify`")
    if act is Act.ADOPT:
        return _not_adopted(finding)
    match finding:
        case HeadMissing():
            return _HEAD_MISSING
        case BeyondHead(first=first):
            return (f"the audit log has rows after its head, from row {first} on: inserted by someone, not by the "
                    "bot, so nothing more is written to the log. Run `offboard-bot audit verify` with the key to see "
                    "them; once you have looked into them, remove them or restore the database from a backup.")
        case HeadRowUnmatched(head=head):
            return (f"the audit log's head says it ends in row {head}, but that row is missing or does not match it "
                    "(rows were removed or rewritten), so nothing more is written to the log. " + ADVICE)
        case EndNotSealed(seq=seq):
            return (f"the audit log ends in row {seq}, which is not sealed with OFFBOARD_AUDIT_KEY: written by a "
                    "replica running without OFFBOARD_AUDIT_KEY, or rewritten by someone without it. Nothing more is "
                    "written to the log until this is resolved. " + ADVICE)
    raise TypeError(f"no words for {finding!r} stopping {act}")


def _not_adopted(finding: Finding) -> str:
    """Why `audit adopt-key` wrote nothing."""
    match finding:
        case BothNamed():
            return "give --accept-plain-rows or --through, not both"
        case NotAHash(given=given):
            return (f"{given[:80]!r} is not a row's hash: give at least its first {HASH_SHOWN} hex characters, as "
                    "`offboard-bot audit verify` prints them")
        case NothingToAccept():
            return ("no row is sealed with OFFBOARD_AUDIT_KEY yet, so there are no plain rows after sealed ones to "
                    "accept: adopting the key takes --through instead. `offboard-bot audit verify` prints the command")
    why = _log_not_adoptable(finding) or _review_not_matched(finding)
    return problem(finding) if why is None else _NOT_SEALED + why  # the head missing: as `audit verify` says it


def _log_not_adoptable(finding: Finding) -> str | None:
    """What about the log keeps adopt-key from sealing it, or None."""
    match finding:
        case EmptyHasNoRow(through=through):
            return (f"it is empty, so it has no row {through}. If it had rows when you reviewed it, it was wiped "
                    "since: restore it from a backup")
        case EmptyButMore(problems=problems):
            return "its head says it is empty, but `verify` finds more:\n" + _listed(problems)
        case PlainNotIntact(problems=problems):
            return "its plain chain is not intact, and sealing it would vouch for it:\n" + _listed(problems)
        case NoKeyToAdopt():
            return ("rows of it are sealed with OFFBOARD_AUDIT_KEY already, so there is no key to adopt (--through). "
                    "`offboard-bot audit verify` names any plain rows to accept, and the command")
        case NotOnlyPlainTail(problems=problems):
            return ("adopt-key only accepts plain rows at the end of an otherwise intact log, and `verify` finds "
                    "more:\n" + _listed(problems))
    return None


def _review_not_matched(finding: Finding) -> str | None:
    """How the rows the person named (or did not name) differ from the log as it is, or None."""
    match finding:
        case UnnamedAdoption(newest=newest):
            return (f"the sealed row would vouch for its {newest.seq} plain rows, so name the last row you reviewed "
                    "with its hash. Review them (`offboard-bot audit export`), then run `offboard-bot audit "
                    f"adopt-key --through {named(newest.seq, newest.hash)}`")
        case ThroughElsewhere(newest=newest, through=through):
            return f"it ends in row {newest}, not in row {through}. " + REVIEW_AGAIN
        case UnnamedAcceptance(first=first, last=last, last_hash=last_hash):
            return (f"{_tail_unsealed(first, last)} Review them (`offboard-bot audit verify`, `offboard-bot audit "
                    "export`); if a replica running without the key wrote them, run `offboard-bot audit adopt-key "
                    f"--accept-plain-rows {first}-{named(last, last_hash)}`")
        case AcceptNamesOthers(first=first, last=last, accept=accept):
            others = "" if accept is None else f" --accept-plain-rows {accept[0]}-{accept[1]} does not name them."
            return f"{_tail_unsealed(first, last)}{others} " + REVIEW_AGAIN
        case ChangedMeanwhile(was=was, now=now):
            return (f"it changed while it was checked (it ended in row {was}, now in row {now}). Stop every replica "
                    "running without OFFBOARD_AUDIT_KEY, then run `offboard-bot audit verify` again")
        case BeyondHead(first=first):
            return f"rows were inserted after its head, from row {first} on. " + REVIEW_AGAIN
        case NotTheReviewedRow(seq=seq, given=given):
            return (f"row {seq} is not the row you reviewed (its hash does not start with {given}): it was rewritten "
                    "since, or the hash was mistyped. " + REVIEW_AGAIN)
    return None


def _tail_unsealed(first: int, last: int) -> str:
    return f"rows {first} to {last} at its end are not sealed with OFFBOARD_AUDIT_KEY."


class Verified(Protocol):
    """What verify_report needs of a verification (storage.audit.Verification)."""

    ok: bool
    rows: int
    problems: tuple[str, ...]
    keyed: int
    plain: int
    accepted: int
    needs_key: bool


def verify_report(result: Verified, *, key_given: bool) -> list[str]:
    """What `audit verify` prints: one line when the chain is intact (standard output), else a line and the
    problems (standard error)."""
    if not key_given:
        kinds = f"{result.plain} plain; OFFBOARD_AUDIT_KEY is not set"
    else:
        kinds = f"{result.keyed} sealed with the audit key, {result.plain} plain"
        if result.accepted:
            kinds += f", of which {result.accepted} after sealed ones, accepted with `audit adopt-key`"
    if result.ok:
        return [f"audit chain intact: {result.rows} rows verified ({kinds})"]
    state = "NOT VERIFIED" if result.needs_key else "BROKEN"  # NOT VERIFIED: nothing wrong found, the key is needed
    return [f"audit chain {state} ({result.rows} rows read: {kinds}):", *(f"  {line}" for line in result.problems)]


def adopted(done: Adoption) -> str:
    """What `audit adopt-key` prints when it did what it was asked (or nothing was needed)."""
    if done.seq is None:
        return ("nothing to do: the audit log already ends in a row sealed with OFFBOARD_AUDIT_KEY "
                "(`offboard-bot audit verify` checks the whole log)")
    if done.accepted is not None:
        first, last = done.accepted
        return (f"accepted the plain rows {first} to {last}: row {done.seq} (audit.key_in_use) names them and is "
                "sealed with OFFBOARD_AUDIT_KEY; the bot can write to the log again")
    if done.rows_before:
        return (f"adopted the key: row {done.seq} (audit.key_in_use) is sealed with OFFBOARD_AUDIT_KEY and vouches "
                f"for the {done.rows_before} plain rows before it; every row from now on is sealed")
    return f"sealed the empty audit log: row {done.seq} (audit.key_in_use) is sealed with OFFBOARD_AUDIT_KEY"


def exported(count: int, path: object) -> str:
    """What `audit export --output PATH` prints once the rows are written."""
    return f"wrote {count} audit rows to {path}"
