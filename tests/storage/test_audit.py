"""The audit chain verifies when untouched and breaks when any row is edited, inserted or removed."""

import io
import json
import threading
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from bot.domain.records import AuditEntry
from storage import audit
from storage.requests import RequestStore
from tests.fakes import run_together


@pytest.fixture
def chain(any_engine, clock):
    store = RequestStore(any_engine)
    for number in range(5):
        clock.advance(timedelta(seconds=1))
        store.append_audit(AuditEntry(actor="U0ALICE", event=f"event.{number}", request_id="OB-AAAAAAAA",
                                      data={"n": number, "note": "ünïcode"}), now=clock.now())
    return any_engine


def _run(engine, sql):
    with engine.begin() as connection:
        connection.execute(text(sql))


def test_untouched_chain_verifies(chain):
    result = audit.verify(chain)
    assert result.ok, result.problems
    assert result.rows == 5


def test_empty_chain_verifies_but_not_once_its_head_is_gone(any_engine):
    assert audit.verify(any_engine).ok
    _run(any_engine, "DELETE FROM audit_head")
    assert not audit.verify(any_engine).ok


def test_wiping_the_whole_log_is_detected(chain):
    _run(chain, "DELETE FROM audit_log")
    _run(chain, "DELETE FROM audit_head")
    result = audit.verify(chain)
    assert not result.ok and "head row is missing" in result.problems[0]


def test_first_appends_racing_on_a_fresh_database_all_land(any_engine, clock):
    store = RequestStore(any_engine)
    run_together(*(lambda n=n: store.append_audit(AuditEntry(actor="U0X", event=f"e{n}"), now=clock.now())
                   for n in range(4)))
    result = audit.verify(any_engine)
    assert result.ok and result.rows == 4


def test_verify_during_appends_reports_no_false_break(any_engine, clock):
    store = RequestStore(any_engine)
    store.append_audit(AuditEntry(actor="U0X", event="start"), now=clock.now())
    stop = threading.Event()

    def keep_appending():
        while not stop.is_set():
            store.append_audit(AuditEntry(actor="U0X", event="tick"), now=clock.now())

    writer = threading.Thread(target=keep_appending)
    writer.start()
    try:
        results = [audit.verify(any_engine) for _ in range(15)]
    finally:
        stop.set()
        writer.join()
    assert all(result.ok for result in results), [r.problems for r in results if not r.ok]


@pytest.mark.parametrize("sql", [
    "UPDATE audit_log SET actor = 'U0MALLORY' WHERE seq = 3",
    "UPDATE audit_log SET data = '[99]' WHERE seq = 1",
    "UPDATE audit_log SET at = '2020-01-01T00:00:00.000000+00:00' WHERE seq = 5",
])
def test_edited_row_is_detected(chain, sql):
    _run(chain, sql)
    result = audit.verify(chain)
    assert not result.ok
    assert any("edited" in problem for problem in result.problems)


def test_removed_row_in_the_middle_is_detected(chain):
    _run(chain, "DELETE FROM audit_log WHERE seq = 2")
    result = audit.verify(chain)
    assert not result.ok
    assert any("missing" in problem for problem in result.problems)


def test_removed_last_row_is_detected(chain):
    _run(chain, "DELETE FROM audit_log WHERE seq = 5")
    result = audit.verify(chain)
    assert not result.ok
    assert any("head" in problem for problem in result.problems)


def test_rehashed_row_still_breaks_the_link_to_the_next(chain):
    # Someone edits row 2 and recomputes its own hash: row 3 no longer follows it.
    rows = {row["seq"]: row for row in _export(chain)}
    forged = rows[2]
    forged["actor"] = "U0MALLORY"
    digest = audit._digest(forged["prev_hash"], 2, forged["at"], "U0MALLORY", forged["event"],
                           forged["request_id"], json.dumps(forged["data"], sort_keys=True, separators=(",", ":")))
    _run(chain, f"UPDATE audit_log SET actor = 'U0MALLORY', hash = '{digest}' WHERE seq = 2")
    result = audit.verify(chain)
    assert any("row 3: does not follow" in problem for problem in result.problems)


def _export(engine, fmt="jsonl"):
    out = io.StringIO()
    audit.export(engine, out, fmt=fmt)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_export_jsonl_and_csv(chain):
    rows = _export(chain)
    assert [row["seq"] for row in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["data"] == {"n": 0, "note": "ünïcode"}
    out = io.StringIO()
    assert audit.export(chain, out, fmt="csv") == 5
    lines = out.getvalue().splitlines()
    assert lines[0] == ",".join(audit.EXPORT_FIELDS)
    assert len(lines) == 6


# -- the audit key: rows sealed with HMAC-SHA256, which whoever lacks the key cannot make -----------------

KEY = SecretStr("audit-key-for-tests-Pq7Xr2Lm9Vz4Nb6Kw3Hd")
OTHER_KEY = SecretStr("another-audit-key-Jt5Gy8Fc1Ws6Qe3Ra0Ub")


def _append(store, clock, *events, actor="U0ALICE"):
    for event in events:
        clock.advance(timedelta(seconds=1))
        store.append_audit(AuditEntry(actor=actor, event=event, request_id="OB-AAAAAAAA", data={"event": event}),
                           now=clock.now())


def _rewrite_plainly(engine, start, **changes):
    """What someone who can write to the database but lacks the key can do: change row `start`, then hash it and
    every later row again with plain SHA-256 so each follows the one before, and point the head at the end."""
    rows = {row["seq"]: row for row in _export(engine)}
    rows[start].update(changes)
    prev = rows[start - 1]["hash"] if start > 1 else audit.GENESIS
    for seq in range(start, max(rows) + 1):
        row = rows[seq]
        data = json.dumps(row["data"], sort_keys=True, separators=(",", ":"))
        digest = audit._digest(prev, seq, row["at"], row["actor"], row["event"], row["request_id"], data)
        with engine.begin() as connection:
            connection.execute(text("UPDATE audit_log SET actor = :actor, data = :data, prev_hash = :prev, "
                                    "hash = :hash WHERE seq = :seq"),
                               dict(actor=row["actor"], data=data, prev=prev, hash=digest, seq=seq))
        prev = digest
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_head SET seq = :seq, hash = :hash"), dict(seq=max(rows), hash=prev))


@pytest.fixture
def sealed(any_engine, clock):
    """Five rows written by a store holding the audit key."""
    _append(RequestStore(any_engine, audit_key=KEY), clock, *(f"event.{n}" for n in range(5)))
    return any_engine


def test_a_chain_sealed_with_the_key_verifies_with_it(sealed):
    result = audit.verify(sealed, key=KEY)
    assert result.ok, result.problems
    assert (result.rows, result.keyed, result.plain, result.unverified) == (5, 5, 0, 0)
    assert audit.verify(sealed).unverified == 5  # no row's hash is the plain SHA-256 one anyone could make


@pytest.mark.parametrize("start", [3, 5])
def test_a_sealed_row_rewritten_without_the_key_is_caught(sealed, start):
    _rewrite_plainly(sealed, start, actor="U0MALLORY", data={"n": 99})
    result = audit.verify(sealed, key=KEY)
    assert not result.ok
    expected = (f"row {start} is not sealed" if start == 5 else f"rows {start} to 5 are not sealed")
    assert result.problems == (f"{expected} with the audit key: written or rewritten by someone without it",)
    assert (result.keyed, result.plain) == (start - 1, 5 - start + 1)


def test_rewriting_every_sealed_row_without_the_key_is_caught(sealed):
    _rewrite_plainly(sealed, 1, actor="U0MALLORY")
    result = audit.verify(sealed, key=KEY)
    assert not result.ok and result.problems == (audit.NONE_SEALED,)
    assert result.problems[0].startswith("no row is sealed with the audit key")


def test_a_sealed_row_rehashed_with_a_guessed_key_is_edited(sealed):
    rows = {row["seq"]: row for row in _export(sealed)}
    row = rows[5]
    digest = audit._digest(row["prev_hash"], 5, row["at"], "U0MALLORY", row["event"], row["request_id"],
                           json.dumps(row["data"], sort_keys=True, separators=(",", ":")), key=OTHER_KEY)
    _run(sealed, f"UPDATE audit_log SET actor = 'U0MALLORY', hash = '{digest}' WHERE seq = 5")
    _run(sealed, f"UPDATE audit_head SET hash = '{digest}'")
    result = audit.verify(sealed, key=KEY)
    assert result.problems == ("row 5: content does not match its hash (edited, or sealed with another audit key)",)


def test_a_plain_row_after_a_sealed_one_is_a_break(sealed, clock):
    _append(RequestStore(sealed), clock, "written.by.a.replica.without.the.key")  # the chain itself holds
    result = audit.verify(sealed, key=KEY)
    assert result.problems == ("row 6 is not sealed with the audit key: written or rewritten by someone without it",)


def test_verify_without_the_key_reports_the_sealed_rows(sealed):
    result = audit.verify(sealed)
    assert not result.ok
    assert result.problems == ("rows 1 to 5 are sealed with an audit key, or edited: set OFFBOARD_AUDIT_KEY to "
                               "verify them",)
    assert (result.keyed, result.plain, result.unverified) == (0, 0, 5)


def test_a_wrong_key_reports_the_rows_as_not_matching(sealed):
    result = audit.verify(sealed, key=OTHER_KEY)
    assert not result.ok
    assert result.problems == (
        "rows 1 to 5: content does not match their hashes (edited, or sealed with another audit key)",
        audit.NONE_SEALED)
    assert (result.keyed, result.plain) == (0, 0)


def test_adopting_a_key_seals_the_plain_history_at_once(chain, clock):
    store = RequestStore(chain, audit_key=KEY)
    assert not audit.verify(chain, key=KEY).ok  # plain rows only: not yet sealed
    clock.advance(timedelta(seconds=1))
    assert store.seal_audit(now=clock.now()) == 6
    assert store.seal_audit(now=clock.now()) is None  # the log ends in a sealed row already
    rows = _export(chain)
    assert (rows[-1]["seq"], rows[-1]["event"], rows[-1]["actor"], rows[-1]["data"]) == (
        6, audit.KEY_IN_USE, "system", {"rows_before": 5})
    _append(store, clock, "after.adoption")
    result = audit.verify(chain, key=KEY)
    assert result.ok, result.problems
    assert (result.rows, result.keyed, result.plain) == (7, 2, 5)
    assert audit.verify(chain).problems == (
        "rows 6 to 7 are sealed with an audit key, or edited: set OFFBOARD_AUDIT_KEY to verify them",)


def test_once_sealed_the_plain_history_cannot_be_rewritten_either(chain, clock):
    _rewrite_plainly(chain, 2, actor="U0MALLORY", data={"n": 99})
    assert audit.verify(chain).ok  # the gap: without a key, a consistent rewrite of tail and head goes unseen
    RequestStore(chain, audit_key=KEY).seal_audit(now=clock.now())
    _rewrite_plainly(chain, 3, actor="U0EVE")  # rows 3 to 5, and the sealed row 6 with them
    result = audit.verify(chain, key=KEY)
    assert not result.ok and result.problems == (audit.NONE_SEALED,)


def test_removing_the_sealed_rows_of_an_adopted_log_is_caught(chain, clock):
    store = RequestStore(chain, audit_key=KEY)
    store.seal_audit(now=clock.now())
    _append(store, clock, "after.adoption")
    _run(chain, "DELETE FROM audit_log WHERE seq > 5")
    last = _export(chain)[-1]
    _run(chain, f"UPDATE audit_head SET seq = 5, hash = '{last['hash']}'")
    result = audit.verify(chain, key=KEY)
    assert not result.ok and result.problems == (audit.NONE_SEALED,)


def test_a_key_seals_an_empty_log_and_replicas_starting_together_seal_it_once(any_engine, clock):
    stores = [RequestStore(any_engine, audit_key=KEY) for _ in range(4)]
    written = run_together(*(lambda store=store: store.seal_audit(now=clock.now()) for store in stores))
    assert sorted(written, key=str) == [1, None, None, None]
    assert [row["event"] for row in _export(any_engine)] == [audit.KEY_IN_USE]
    assert audit.verify(any_engine, key=KEY).keyed == 1
    assert RequestStore(any_engine).seal_audit(now=clock.now()) is None  # without a key: nothing to seal with


def test_the_key_goes_from_the_settings_through_the_container_to_the_store(any_engine, tmp_path, clock):
    from bot.container import build
    from bot.settings import load_settings

    settings = load_settings(
        slack_bot_token="xoxb-container-test", slack_signing_secret="container-test-secret",
        database_url=any_engine.url.render_as_string(hide_password=False),
        offboard_local_console=tmp_path / "console.db", offboard_audit_key=KEY.get_secret_value())
    container = build(settings, clock=clock)
    try:
        container.seal_audit_log()
        container.seal_audit_log()
        container.store.append_audit(AuditEntry(actor="U0ALICE", event="after.start"), now=clock.now())
    finally:
        container.close()
    assert [row["event"] for row in _export(any_engine)] == [audit.KEY_IN_USE, "after.start"]
    assert audit.verify(any_engine, key=KEY).keyed == 2
    assert audit.verify(any_engine).unverified == 2
