"""The rules of `audit adopt-key` without a database: from walks of plain rows to the row to write, or why not."""

from __future__ import annotations

import pytest

from storage import audit_adoption as adoption
from storage import audit_chain as chain
from storage.audit_chain import ADOPT_KEY, KEY_IN_USE
from storage.audit_findings import (
    AcceptNamesOthers,
    Adoption,
    BeyondHead,
    BothNamed,
    ChangedMeanwhile,
    Edited,
    EmptyButMore,
    EmptyHasNoRow,
    EmptyWithKey,
    HeadMissing,
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
from tests.storage.test_audit_chain import KEY, Head, Log


def _plan(log: Log, **named):
    """adopt-key's plan for log as it is; the walk without the key is made only if the plan asks for it."""
    asked = []

    def walk_plain():
        asked.append(True)
        return log.walk()

    named = {"accept": None, "through": None, "row_hash": None} | named
    return adoption.plan(log.walk(KEY), walk_plain, **named), bool(asked)


def test_the_arguments_name_rows_one_way_with_the_start_of_a_hash():
    assert adoption.refuse_arguments(accept=(1, 2), through=2, row_hash=None) == BothNamed()
    for given in ["0123456789abcde", "x" * 16, "0" * 65, "0123456789abcdef "]:
        assert adoption.refuse_arguments(accept=None, through=2, row_hash=given) == NotAHash(given=given)
    for given in [None, "0123456789abcdef", "0123456789ABCDEF" * 4]:
        assert adoption.refuse_arguments(accept=None, through=2, row_hash=given) is None


def test_an_empty_log_is_sealed_with_nothing_to_name():
    planned, walked_plain = _plan(Log())
    assert planned == adoption.Plan(end=RowNamed(seq=0, hash=Log().head.hash), data={"rows_before": 0,
                                                                                       "by": ADOPT_KEY})
    assert not walked_plain
    assert _plan(Log(), through=5, row_hash="0" * 16)[0] == EmptyHasNoRow(through=5)
    assert _plan(Log(), accept=(1, 2), row_hash="0" * 16)[0] == NothingToAccept()


def test_an_empty_log_with_more_wrong_is_not_sealed():
    log = Log()
    walk = log.walk(KEY, after_head=(1, 3))
    planned = adoption.plan(walk, log.walk, accept=None, through=None, row_hash=None)
    assert planned == EmptyButMore(problems=(BeyondHead(first=3, count=1),))
    assert EmptyWithKey() in walk.findings


def test_a_plain_history_is_adopted_through_its_newest_row_as_reviewed():
    log = Log().plain(5)
    newest = RowNamed(seq=5, hash=log.head.hash)
    assert _plan(log) == (UnnamedAdoption(newest=newest), True)
    assert _plan(log, through=5)[0] == UnnamedAdoption(newest=newest)
    assert _plan(log, through=4, row_hash="0" * 16)[0] == ThroughElsewhere(newest=5, through=4)
    assert _plan(log, accept=(1, 5), row_hash="0" * 16) == (NothingToAccept(), False)
    planned, _ = _plan(log, through=5, row_hash=log.head.hash[:16])
    assert planned == adoption.Plan(end=newest, data={"rows_before": 5, "by": ADOPT_KEY}, bound=5)


def test_a_plain_history_that_is_not_intact_is_not_adopted():
    log = Log().plain(5)
    log.row(2).actor = "U0MALLORY"
    assert _plan(log, through=5, row_hash=log.head.hash[:16])[0] == PlainNotIntact(
        problems=(Edited(first=2, last=2, key_given=False),))


def test_a_missing_head_stops_the_plan():
    headless = chain.walk(None, (), key=KEY)
    assert adoption.plan(headless, Log().walk, accept=None, through=None, row_hash=None) == HeadMissing()
    plain = Log().plain(2)
    assert adoption.plan(plain.walk(KEY), lambda: headless, accept=None, through=2, row_hash="0" * 16) == (
        HeadMissing())


@pytest.fixture
def tail() -> Log:
    """Sealed rows 1 to 5, then plain rows 6 and 7 written by a replica without the key."""
    log = Log().sealed(5)
    log.plain(2, actor="U0BOB")
    return log


def test_a_plain_tail_is_accepted_only_as_named(tail):
    last = tail.head.hash
    assert _plan(tail) == (UnnamedAcceptance(first=6, last=7, last_hash=last), False)
    assert _plan(tail, accept=(6, 7))[0] == UnnamedAcceptance(first=6, last=7, last_hash=last)
    for wrong in [(5, 7), (6, 6), (6, 8)]:
        assert _plan(tail, accept=wrong)[0] == AcceptNamesOthers(first=6, last=7, accept=wrong)
    assert _plan(tail, row_hash=last[:16])[0] == AcceptNamesOthers(first=6, last=7, accept=None)
    assert _plan(tail, through=7, row_hash=last[:16])[0] == NoKeyToAdopt()
    planned, _ = _plan(tail, accept=(6, 7), row_hash=last[:16])
    assert planned == adoption.Plan(end=RowNamed(seq=7, hash=last),
                                    data={"accepted_plain_rows": [6, 7], "by": ADOPT_KEY}, bound=7)


def test_a_plain_tail_is_not_accepted_when_more_is_wrong(tail):
    tail.row(3).actor = "U0MALLORY"
    planned, _ = _plan(tail, accept=(6, 7), row_hash=tail.head.hash)
    assert isinstance(planned, NotOnlyPlainTail) and planned.problems[0] == Edited(first=3, last=3, key_given=True)
    beyond = adoption.plan(Log().sealed(5).walk(KEY, after_head=(1, 9)), Log().walk, accept=(9, 9),
                           through=None, row_hash="0" * 16)
    assert beyond == NotOnlyPlainTail(problems=(BeyondHead(first=9, count=1),))


def test_under_the_lock_the_log_must_still_end_in_the_row_reviewed(tail):
    last = tail.rows[-1]
    planned, _ = _plan(tail, accept=(6, 7), row_hash=last.hash[:16].upper())
    data = adoption.confirm(planned, head=tail.head, beyond=None, bound_row=last, row_hash=last.hash[:16].upper())
    assert data == {"accepted_plain_rows": [6, 7], "by": ADOPT_KEY, "through_hash": last.hash}
    moved = Head(seq=8, hash="ab" * 32)
    assert adoption.confirm(planned, head=moved, beyond=None, bound_row=last, row_hash=last.hash) == (
        ChangedMeanwhile(was=7, now=8))
    assert adoption.confirm(planned, head=tail.head, beyond=12, bound_row=last, row_hash=last.hash) == (
        BeyondHead(first=12))
    for bound_row, given in [(last, "0" * 16), (None, last.hash), (tail.rows[-2], tail.rows[-2].hash)]:
        assert adoption.confirm(planned, head=tail.head, beyond=None, bound_row=bound_row, row_hash=given) == (
            NotTheReviewedRow(seq=7, given=given))


def test_sealing_an_empty_log_checks_only_that_it_is_still_empty():
    planned, _ = _plan(Log())
    assert adoption.confirm(planned, head=Head(), beyond=None, bound_row=None, row_hash=None) == {
        "rows_before": 0, "by": ADOPT_KEY}
    assert adoption.confirm(planned, head=Head(), beyond=1, bound_row=None, row_hash=None) == BeyondHead(first=1)


def test_what_was_done_is_read_from_the_row_written():
    assert adoption.adoption(6, {"rows_before": 5, "by": ADOPT_KEY}) == Adoption(seq=6, rows_before=5)
    assert adoption.adoption(8, {"accepted_plain_rows": [6, 7]}) == Adoption(seq=8, accepted=(6, 7))
    assert adoption.adoption(1, {"rows_before": 0}) == Adoption(seq=1)


def test_an_adopted_log_verifies_with_the_key(tail):
    planned, _ = _plan(tail, accept=(6, 7), row_hash=tail.head.hash[:16])
    data = adoption.confirm(planned, head=tail.head, beyond=None, bound_row=tail.rows[-1], row_hash=tail.head.hash)
    tail.add(KEY_IN_USE, key=KEY, actor="system", data=data)
    walk = tail.walk(KEY)
    assert walk.ok and walk.accepted_rows == 2
