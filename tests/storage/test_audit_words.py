"""What people read about the audit log, made from typed findings (the rest is pinned by test_audit and test_cli)."""

from __future__ import annotations

from typing import get_args

import pytest

from storage import audit_words as words
from storage.audit import Verification
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
    RowNamed,
    ThroughElsewhere,
    UnnamedAcceptance,
    UnnamedAdoption,
)

HASH = "3f9a0c1b2d4e5f60" + "0" * 48
RUN = PlainRun(first=6, last=6, actors=("U0BOB",), since="2026-11-02T09:00:05.000000+00:00",
               until="2026-11-02T09:00:05.000000+00:00", last_hash=HASH)

# Each kind of finding, and what stops (None: a line of `audit verify`).
EXAMPLES: list[tuple[Finding, Act | None]] = [
    (HeadMissing(), None), (MissingRows(first=2, last=3), None), (BrokenLink(seq=4), None),
    (Edited(first=2, last=2, key_given=False), None), (MaybeSealed(first=6, last=7), None),
    (NotAdopted(last=1, sealed=2), None), (FirstNotKeyInUse(), None), (RUN, None), (EmptyWithKey(), None),
    (HeadDisagrees(last=4, head=5), None), (BeyondHead(first=7, count=1), None), (BelowOne(first=0, count=1), None),
    (NoneSealed(), None), (HeadRowUnmatched(head=5), Act.WRITE), (EndNotSealed(seq=5), Act.WRITE),
    (BothNamed(), Act.ADOPT), (NotAHash(given="xyz"), Act.ADOPT), (NothingToAccept(), Act.ADOPT),
    (NoKeyToAdopt(), Act.ADOPT), (EmptyHasNoRow(through=5), Act.ADOPT),
    (EmptyButMore(problems=(BeyondHead(first=3, count=1),)), Act.ADOPT),
    (PlainNotIntact(problems=(BrokenLink(seq=3),)), Act.ADOPT), (NotOnlyPlainTail(problems=(RUN,)), Act.ADOPT),
    (UnnamedAdoption(newest=RowNamed(seq=5, hash=HASH)), Act.ADOPT), (ThroughElsewhere(newest=5, through=4), Act.ADOPT),
    (UnnamedAcceptance(first=6, last=7, last_hash=HASH), Act.ADOPT),
    (AcceptNamesOthers(first=6, last=7, accept=None), Act.ADOPT), (ChangedMeanwhile(was=5, now=6), Act.ADOPT),
    (NotTheReviewedRow(seq=7, given="0" * 16), Act.ADOPT),
]


def test_every_kind_of_finding_has_words():
    assert {type(finding) for finding, _ in EXAMPLES} == set(get_args(Finding))
    for finding, act in EXAMPLES:
        said = words.problem(finding) if act is None else words.refusal(finding, act)
        assert said and "{" not in said and "None" not in said, (finding, said)


def test_a_finding_said_where_it_has_no_words_is_a_bug_not_a_sentence():
    with pytest.raises(TypeError):
        words.problem(EndNotSealed(seq=5))
    with pytest.raises(TypeError):
        words.refusal(BrokenLink(seq=3), Act.WRITE)


def test_the_lines_of_verify():
    assert words.problem(MissingRows(first=2, last=2)) == "row 2 to 2 missing (removed rows)"
    assert words.problem(HeadDisagrees(last=0, head=0)) == (
        "the chain ends at row 0 but its head says row 0 (rows removed from the end, or the head was edited)")
    assert words.problem(NotAdopted(last=1, sealed=2)) == (
        "row 1 comes before the first sealed row, row 2, which does not adopt it (an `audit.key_in_use` row does): "
        "it may have been rewritten before row 2 was sealed")
    assert words.problem(BelowOne(first=0, count=1)) == (
        "1 row numbered below 1, row 0: inserted by someone, not by the bot")
    assert words.problem(NoneSealed(adoptable=RowNamed(seq=5, hash=HASH))).endswith(
        "`offboard-bot audit adopt-key --through 5@3f9a0c1b2d4e5f60`")


def test_who_wrote_plain_rows_is_shown_as_the_rows_say_it_but_never_raw():
    many = PlainRun(first=6, last=14, actors=tuple(f"U0A{n}" for n in range(8)), since="2026-11-02T09:00:05.1+00:00",
                    until="later", last_hash=HASH, followed_by=15)
    assert words.problem(many) == (
        "rows 6 to 14 are not sealed with the audit key (by U0A0, U0A1, U0A2, U0A3, U0A4 and 3 more, from "
        "2026-11-02 09:00:05 UTC to 'later'): written by a replica running without OFFBOARD_AUDIT_KEY, or rewritten "
        "by someone without it; the sealed row 15 after them does not accept them")
    odd = PlainRun(first=6, last=6, actors=("<!channel>\n", "x" * 41), since="2026-11-02\t09:00:05.000000",
                   until="", last_hash=HASH)
    assert words.problem(odd).startswith(
        f"row 6 is not sealed with the audit key (by '<!channel>\\n', '{'x' * 40}', at '2026-11-02\\t09:00:05.000000')")


def test_what_stops_a_write_export_and_adopt_key():
    assert words.refusal(HeadMissing(), Act.WRITE) == (
        "the audit log's head row is missing: the database was not migrated or was tampered with")
    assert words.refusal(HeadMissing(), Act.EXPORT).startswith("the audit log's head row is missing, so where the "
                                                               "log ends is unknown: nothing was exported")
    assert words.refusal(HeadMissing(), Act.ADOPT) == words.problem(HeadMissing())
    assert words.refusal(HeadRowUnmatched(head=5), Act.WRITE).endswith(words.ADVICE)
    assert words.refusal(ChangedMeanwhile(was=5, now=6), Act.ADOPT) == (
        "the audit log was not sealed: it changed while it was checked (it ended in row 5, now in row 6). Stop every "
        "replica running without OFFBOARD_AUDIT_KEY, then run `offboard-bot audit verify` again")
    assert words.refusal(AcceptNamesOthers(first=6, last=7, accept=None), Act.ADOPT) == (
        "the audit log was not sealed: rows 6 to 7 at its end are not sealed with OFFBOARD_AUDIT_KEY. "
        + words.REVIEW_AGAIN)
    assert words.refusal(BeyondHead(first=9), Act.ADOPT) == (
        "the audit log was not sealed: rows were inserted after its head, from row 9 on. " + words.REVIEW_AGAIN)
    assert words.refusal(NotAHash(given="y" * 100), Act.ADOPT).startswith(f"{'y' * 80!r} is not a row's hash")
    assert words.refusal(EmptyButMore(problems=(BeyondHead(first=3, count=1), BelowOne(first=-1, count=2))),
                         Act.ADOPT) == (
        "the audit log was not sealed: its head says it is empty, but `verify` finds more:\n"
        "  1 row after the head, row 3: inserted by someone, not by the bot\n"
        "  2 rows numbered below 1, from row -1: inserted by someone, not by the bot")


@pytest.mark.parametrize(("result", "key_given", "lines"), [
    (Verification(ok=True, rows=0, problems=()), False,
     ["audit chain intact: 0 rows verified (0 plain; OFFBOARD_AUDIT_KEY is not set)"]),
    (Verification(ok=True, rows=9, problems=(), keyed=7, plain=2, accepted=2), True,
     ["audit chain intact: 9 rows verified (7 sealed with the audit key, 2 plain, of which 2 after sealed ones, "
      "accepted with `audit adopt-key`)"]),
    (Verification(ok=False, rows=5, problems=("a", "b"), unverified=5, needs_key=True), False,
     ["audit chain NOT VERIFIED (5 rows read: 0 plain; OFFBOARD_AUDIT_KEY is not set):", "  a", "  b"]),
    (Verification(ok=False, rows=5, problems=("a",), keyed=4, plain=1), True,
     ["audit chain BROKEN (5 rows read: 4 sealed with the audit key, 1 plain):", "  a"]),
])
def test_the_verify_report(result, key_given, lines):
    assert words.verify_report(result, key_given=key_given) == lines


def test_what_adopt_key_and_export_print_when_done():
    assert words.adopted(Adoption(seq=None)).startswith("nothing to do: the audit log already ends in a row sealed")
    assert words.adopted(Adoption(seq=1)) == (
        "sealed the empty audit log: row 1 (audit.key_in_use) is sealed with OFFBOARD_AUDIT_KEY")
    assert words.adopted(Adoption(seq=6, rows_before=5)).startswith(
        "adopted the key: row 6 (audit.key_in_use) is sealed with OFFBOARD_AUDIT_KEY and vouches for the 5 plain")
    assert words.adopted(Adoption(seq=8, accepted=(6, 7))).startswith(
        "accepted the plain rows 6 to 7: row 8 (audit.key_in_use) names them")
    assert words.exported(3, "/tmp/audit.csv") == "wrote 3 audit rows to /tmp/audit.csv"
