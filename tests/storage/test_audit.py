"""The audit chain verifies when untouched and breaks when any row is edited, inserted or removed."""

import io
import json
import threading
from datetime import timedelta

import pytest
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
