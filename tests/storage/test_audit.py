"""The audit chain verifies when untouched and breaks when any row is edited, inserted or removed."""

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.domain.records import AuditEntry
from storage import audit
from storage.requests import RequestStore


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


def test_empty_chain_verifies(any_engine):
    assert audit.verify(any_engine).ok


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
