"""The audit chain's rules without a database: rows are plain objects, what the walk finds is typed facts."""

from __future__ import annotations

import ast
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.domain.records import AuditEntry
from storage import audit_chain as chain
from storage.audit_chain import GENESIS, KEY_IN_USE
from storage.audit_findings import (
    AcceptedRun,
    BelowOne,
    BeyondHead,
    BrokenLink,
    Edited,
    EmptyWithKey,
    EndNotSealed,
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

KEY = SecretStr("audit-key-for-chain-tests-Pq7Xr2Lm9Vz4Nb6Kw")
OTHER_KEY = SecretStr("another-key-for-chain-tests-Jt5Gy8Fc1Ws6Q")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class Row:
    seq: object
    at: object
    actor: object
    event: object
    request_id: object
    data: object
    prev_hash: object
    hash: object


@dataclass
class Head:
    seq: int = 0
    hash: str = GENESIS


class Log:
    """Rows in a list and a head, appended as the bot appends them; edited as someone with write access would."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.head = Head()

    def add(self, event: str = "e", *, key: SecretStr | None = None, actor: str = "U0ALICE",
            data: dict | None = None) -> Row:
        entry = AuditEntry(actor=actor, event=event, request_id="OB-AAAAAAAA", data=data)
        row = Row(**asdict(chain.next_row(self.head, entry, now=T0 + timedelta(seconds=len(self.rows)), key=key)))
        self.rows.append(row)
        self.head = Head(seq=row.seq, hash=row.hash)
        return row

    def plain(self, count: int, **kwargs) -> Log:
        for number in range(count):
            self.add(f"event.{number}", **kwargs)
        return self

    def sealed(self, count: int) -> Log:
        """count rows written by a process with the key from the start: row 1 is its `audit.key_in_use` row."""
        self.add(KEY_IN_USE, key=KEY, actor="system", data={"rows_before": 0})
        for number in range(1, count):
            self.add(f"event.{number}", key=KEY)
        return self

    def row(self, seq: int) -> Row:
        return next(row for row in self.rows if row.seq == seq)

    def rehash(self, seq: int, *, key: SecretStr | None = None) -> None:
        """Hash row seq again for its content (as someone holding key, or nobody's); the head follows if it is last."""
        row = self.row(seq)
        row.hash = chain.digest(row.prev_hash, row.seq, row.at, row.actor, row.event, row.request_id, row.data,
                                key=key)
        if self.head.seq == seq:
            self.head.hash = row.hash

    def walk(self, key: SecretStr | None = None, **outside) -> chain.Walk:
        return chain.walk(self.head, self.rows, key=key, **outside)


# -- the hash ------------------------------------------------------------------------------------------------------

def test_a_plain_hash_is_sha256_and_a_sealed_one_hmac_of_the_same_material():
    material = json.dumps(["p", 3, "at", "U0A", "ev", "", "{}"], separators=(",", ":")).encode()
    assert chain.digest("p", 3, "at", "U0A", "ev", None, "{}") == hashlib.sha256(material).hexdigest()
    assert chain.digest("p", 3, "at", "U0A", "ev", None, "{}", key=KEY) == hmac.new(
        KEY.get_secret_value().encode(), material, hashlib.sha256).hexdigest()
    assert chain.digest("p", 3, "at", "U0A", "ev", "", "{}") == chain.digest("p", 3, "at", "U0A", "ev", None, "{}")


def test_the_next_row_follows_the_head_and_is_sealed_with_the_key():
    head = Head(seq=4, hash="ab" * 32)
    entry = AuditEntry(actor="U0A", event="ev", request_id="", data={"b": 1, "a": datetime(2026, 1, 1)})
    row = Row(**asdict(chain.next_row(head, entry, now=T0, key=KEY)))
    assert (row.seq, row.prev_hash, row.request_id) == (5, head.hash, None)  # "" is written as None
    assert row.at == "2026-11-02T09:00:00.000000+00:00"
    assert row.data == '{"a":"2026-01-01 00:00:00","b":1}'
    assert chain.matches(row, KEY) and not chain.matches(row, None) and not chain.matches(row, OTHER_KEY)
    plain = Row(**asdict(chain.next_row(head, entry, now=T0, key=None)))
    assert chain.matches(plain, None) and not chain.matches(plain, KEY)


@pytest.mark.parametrize(("change", "why"), [
    ({"actor": b"U0ALICE"}, Unfit.WRONG_TYPE),
    ({"data": b"{}"}, Unfit.WRONG_TYPE),
    ({"request_id": 7}, Unfit.WRONG_TYPE),
    ({"seq": "1"}, Unfit.WRONG_TYPE),
    ({"request_id": ""}, Unfit.EMPTY_REQUEST_ID),
    ({"hash": "ünïcödé-hash-✓"}, Unfit.HASH_NOT_HEX),
    ({"hash": "AB" * 32}, Unfit.HASH_NOT_HEX),
    ({"hash": "ab" * 31}, Unfit.HASH_NOT_HEX),
])
def test_a_row_the_bot_cannot_have_written_matches_nothing(change, why):
    written = Log().plain(1).rows[0]
    row = replace(written, **change)
    assert chain.unfit(written) is None and chain.matches(written, None)
    assert chain.unfit(row) is why
    assert not chain.matches(row, None) and not chain.matches(row, KEY)


def test_a_row_with_an_empty_request_id_is_unfit_even_when_its_hash_covers_it():
    log = Log().plain(1)
    row = log.rows[0]
    row.request_id = ""  # and hashed as None would be: the hash covers "" and None alike
    row.hash = chain.digest(row.prev_hash, row.seq, row.at, row.actor, row.event, None, row.data)
    assert chain.unfit(row) is Unfit.EMPTY_REQUEST_ID and not chain.matches(row, None)


# -- walking a plain chain -----------------------------------------------------------------------------------------

def test_an_intact_plain_chain_has_no_findings():
    walk = Log().plain(5).walk()
    assert walk.ok and walk.findings == ()
    assert (walk.rows, walk.keyed, walk.plain, walk.unverified, walk.needs_key) == (5, 0, 5, 0, False)
    assert walk.head == RowNamed(seq=5, hash=walk.head.hash)


def test_an_empty_chain_is_intact_without_a_key_and_wiped_with_one():
    assert Log().walk().ok
    assert Log().walk(KEY).findings == (EmptyWithKey(),)


def test_a_missing_head_is_all_there_is_to_say():
    assert chain.walk(None, Log().plain(3).rows, key=KEY).findings == (HeadMissing(),)


def test_an_edited_row_and_a_run_of_them():
    log = Log().plain(6)
    log.row(2).actor = "U0MALLORY"
    log.row(4).data = "[99]"
    log.row(5).event = "nothing"
    assert log.walk().findings == (Edited(first=2, last=2, key_given=False), Edited(first=4, last=5, key_given=False))
    assert log.walk(KEY).findings[:2] == (Edited(first=2, last=2, key_given=True),
                                          Edited(first=4, last=5, key_given=True))


def test_an_edited_run_names_the_rows_that_could_match_nothing():
    log = Log().plain(5)
    log.row(2).actor = b"U0ALICE"
    log.row(3).request_id = ""
    log.row(4).hash = "not hex"
    assert log.walk().findings == (
        Edited(first=2, last=4, key_given=False, unfit=(
            UnfitRow(seq=2, why=Unfit.WRONG_TYPE), UnfitRow(seq=3, why=Unfit.EMPTY_REQUEST_ID),
            UnfitRow(seq=4, why=Unfit.HASH_NOT_HEX))),
        BrokenLink(seq=5),  # row 5 follows the hash row 4 had
    )


def test_a_row_hashed_again_after_an_edit_breaks_the_link_to_the_next():
    log = Log().plain(5)
    log.row(2).actor = "U0MALLORY"
    log.rehash(2)
    assert log.walk().findings == (BrokenLink(seq=3),)


def test_removed_rows_in_the_middle_and_at_the_end():
    log = Log().plain(6)
    log.rows = [row for row in log.rows if row.seq not in (2, 3)]
    assert log.walk().findings == (MissingRows(first=2, last=3), BrokenLink(seq=4))
    log.rows.pop()
    assert log.walk().findings[-1] == HeadDisagrees(last=5, head=6)


def test_rows_beyond_the_head_and_below_one_are_counted_by_the_caller():
    walk = Log().plain(3).walk(after_head=(2, 7), below_one=(1, -3))
    assert walk.findings == (BeyondHead(first=7, count=2), BelowOne(first=-3, count=1))
    assert not walk.ok


def test_without_a_key_an_intact_plain_chain_is_the_most_a_walk_can_vouch_for():
    log = Log().plain(3)
    for row in log.rows[1:]:  # a consistent rewrite of the tail and the head goes unseen without a key
        row.actor = "U0MALLORY"
        row.prev_hash = log.row(row.seq - 1).hash
        log.rehash(row.seq)
    assert log.walk().ok


# -- walking with a key --------------------------------------------------------------------------------------------

def test_a_sealed_chain_verifies_with_its_key_only():
    log = Log().sealed(5)
    walk = log.walk(KEY)
    assert walk.ok and (walk.rows, walk.keyed, walk.plain) == (5, 5, 0)
    without = log.walk()
    assert without.findings == (MaybeSealed(first=1, last=5),) and without.needs_key and without.unverified == 5
    wrong = log.walk(OTHER_KEY)
    assert wrong.findings == (Edited(first=1, last=5, key_given=True), NoneSealed()) and not wrong.needs_key


def test_without_a_key_rows_before_the_first_key_in_use_row_are_edited_and_after_it_maybe_sealed():
    log = Log().plain(5)
    log.add(KEY_IN_USE, key=KEY, actor="system", data={"rows_before": 5})
    log.add("sealed.7", key=KEY)
    assert log.walk(KEY).ok
    log.row(5).actor = "U0MALLORY"  # one span of rows matching no plain hash, 5 to 7, cut where sealed rows start
    walk = log.walk()
    assert walk.findings == (Edited(first=5, last=5, key_given=False), MaybeSealed(first=6, last=7))
    assert not walk.needs_key and walk.unverified == 2


def test_plain_rows_after_sealed_ones_are_a_run_that_ends_the_log():
    log = Log().sealed(5)
    log.add("replica.1", actor="U0BOB")
    last = log.add("replica.2", actor="U0CAROL")
    walk = log.walk(KEY)
    assert walk.findings == (PlainRun(first=6, last=7, actors=("U0BOB", "U0CAROL"),
                                      since="2026-11-02T09:00:05.000000+00:00",
                                      until="2026-11-02T09:00:06.000000+00:00", last_hash=last.hash, at_end=True),)
    assert walk.plain_tail == (6, 7) and (walk.keyed, walk.plain) == (5, 2)


def test_a_plain_run_is_the_tail_adopt_key_accepts_only_if_the_head_names_its_last_row():
    log = Log().sealed(5)
    log.plain(2, actor="U0BOB")
    log.rows.pop()  # row 7 removed, the head still names it
    walk = log.walk(KEY)
    assert [type(found) for found in walk.findings] == [PlainRun, HeadDisagrees]
    assert walk.findings[0].at_end and walk.plain_tail is None


def test_a_plain_run_followed_by_a_sealed_row_that_does_not_accept_it():
    log = Log().sealed(5)
    log.add("plain")
    log.add("request.done", key=KEY)
    [run] = log.walk(KEY).findings
    assert (run.first, run.last, run.followed_by, run.at_end) == (6, 6, 7, False)
    assert log.walk(KEY).plain_tail is None


def test_plain_runs_are_cut_by_an_edited_row():
    log = Log().sealed(3)
    log.plain(3)
    log.row(5).actor = "U0MALLORY"
    walk = log.walk(KEY)
    assert [type(found).__name__ for found in walk.findings] == ["PlainRun", "Edited", "PlainRun"]
    first, edited, last = walk.findings
    assert (first.first, first.last, first.at_end, first.followed_by) == (4, 4, False, None)
    assert edited == Edited(first=5, last=5, key_given=True)
    assert (last.first, last.last, last.at_end) == (6, 6, True) and walk.plain_tail == (6, 6)


def test_a_run_is_accepted_only_by_a_sealed_row_naming_exactly_it():
    log = Log().sealed(5)
    log.plain(2, actor="U0BOB")
    log.add(KEY_IN_USE, key=KEY, actor="system", data={"accepted_plain_rows": [6, 7]})
    walk = log.walk(KEY)
    assert walk.ok and walk.accepted == (AcceptedRun(first=6, last=7, by=8),) and walk.accepted_rows == 2
    other = Log().sealed(5)
    other.plain(2, actor="U0BOB")
    other.add(KEY_IN_USE, key=KEY, actor="system", data={"accepted_plain_rows": [6, 6]})
    assert [found.followed_by for found in other.walk(KEY).findings] == [8]
    forged = Log().sealed(5)
    forged.plain(2, actor="U0BOB")
    forged.add(KEY_IN_USE, actor="system", data={"accepted_plain_rows": [6, 7]})  # plain: anyone can write it
    walk = forged.walk(KEY)
    assert walk.accepted == () and walk.plain_tail == (6, 8)


def test_plain_rows_before_the_first_sealed_row_need_an_adopting_row():
    log = Log().plain(5)
    log.add("request.done", key=KEY)
    assert log.walk(KEY).findings == (NotAdopted(last=5, sealed=6),)
    adopted = Log().plain(5)
    adopted.add(KEY_IN_USE, key=KEY, actor="system", data={"rows_before": 5})
    assert adopted.walk(KEY).ok


def test_a_sealed_row_1_must_be_a_key_in_use_row():
    log = Log()
    log.add("request.done", key=KEY)
    log.add("sealed.2", key=KEY)
    walk = log.walk(KEY)
    assert walk.findings == (FirstNotKeyInUse(),) and walk.keyed == 2


def test_rows_of_which_none_is_sealed_name_the_row_to_adopt_when_intact():
    log = Log().plain(5)
    assert log.walk(KEY).findings == (NoneSealed(adoptable=RowNamed(seq=5, hash=log.head.hash)),)
    log.row(2).actor = "U0MALLORY"
    assert log.walk(KEY).findings == (Edited(first=2, last=2, key_given=True), NoneSealed())


def test_findings_come_in_row_order_and_what_concerns_the_whole_log_last():
    log = Log()
    walk = log.walk(KEY, after_head=(1, 3))
    assert walk.findings == (EmptyWithKey(), BeyondHead(first=3, count=1))
    log = Log().plain(4)
    log.add("request.done", key=KEY)
    log.row(3).actor = "U0MALLORY"
    log.rows.pop(1)
    assert log.walk(KEY).findings == (NotAdopted(last=4, sealed=5), MissingRows(first=2, last=2), BrokenLink(seq=3),
                                      Edited(first=3, last=3, key_given=True))


# -- the end of the log a keyed process appends to -----------------------------------------------------------------

def test_a_keyed_process_appends_only_after_a_row_sealed_with_its_key():
    sealed, plain = Log().sealed(3), Log().plain(3)
    assert chain.end_finding(Head(), beyond=None, newest=None, key=KEY) is None  # empty: it starts the log
    assert chain.end_finding(sealed.head, beyond=None, newest=sealed.rows[-1], key=KEY) is None
    assert chain.end_finding(sealed.head, beyond=9, newest=None, key=KEY) == BeyondHead(first=9)
    assert chain.end_finding(Head(), beyond=1, newest=None, key=KEY) == BeyondHead(first=1)
    assert chain.end_finding(sealed.head, beyond=None, newest=None, key=KEY) == HeadRowUnmatched(head=3)
    assert chain.end_finding(sealed.head, beyond=None, newest=sealed.rows[-2], key=KEY) == HeadRowUnmatched(head=3)
    assert chain.end_finding(plain.head, beyond=None, newest=plain.rows[-1], key=KEY) == EndNotSealed(seq=3)
    assert chain.end_finding(sealed.head, beyond=None, newest=sealed.rows[-1], key=OTHER_KEY) == EndNotSealed(seq=3)


# -- what the rules may import -------------------------------------------------------------------------------------

STORAGE = Path(__file__).resolve().parents[2] / "storage"


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("name", ["audit_chain", "audit_adoption", "audit_findings", "audit_words"])
def test_the_rules_and_the_words_touch_no_database(name):
    for module in _imported(STORAGE / f"{name}.py"):
        assert module.split(".")[0] not in {"sqlalchemy", "sqlmodel"}, module
        assert module not in {"storage.db", "storage.models", "storage.audit"}, module


@pytest.mark.parametrize("path", sorted(STORAGE.glob("*.py")), ids=lambda path: path.name)
def test_storage_never_imports_slack_or_handlers(path):
    for module in _imported(path):
        assert not module.startswith(("bot.slack", "handlers", "slack_bolt", "slack_sdk")), module
