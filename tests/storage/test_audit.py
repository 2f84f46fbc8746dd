"""The audit chain verifies when untouched and breaks when any row is edited, inserted or removed."""

import io
import json
import threading
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from bot.domain.records import AuditEntry
from bot.errors import ConfigurationError
from bot.simulators.simultaneous import run_together
from storage import audit
from storage.request_store import RequestStore
from tests.storage.test_request_store import _new


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


def _named(engine, seq):
    """How `verify` names row seq for `audit adopt-key`: its number, @, the first 16 hex characters of its hash."""
    return f"{seq}@{_hash(engine, seq)[:16]}"


def _hash(engine, seq):
    with engine.connect() as connection:
        return connection.execute(text(f"SELECT hash FROM audit_log WHERE seq = {seq}")).scalar_one()


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
REPLICA = "written or rewritten by a replica running without OFFBOARD_AUDIT_KEY"
UNSEALED = "written by a replica running without OFFBOARD_AUDIT_KEY, or rewritten by someone without it"


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


def _cut_back_to(engine, seq):
    """Remove every row after `seq` and point the head at row `seq` (or at the genesis of an empty log)."""
    _run(engine, f"DELETE FROM audit_log WHERE seq > {seq}")
    last = _export(engine)[-1]["hash"] if seq else audit.GENESIS
    _run(engine, f"UPDATE audit_head SET seq = {seq}, hash = '{last}'")


def _write_sealed(engine, clock, event, data):
    """A row sealed with the key, appended whatever the log ends in: what the previous release's keyed append did,
    and what only a holder of the key can do."""
    from storage.db import session

    clock.advance(timedelta(seconds=1))
    with session(engine) as db:
        audit._write(db, audit._locked_head(db), AuditEntry(actor="system", event=event, data=data),
                     now=clock.now(), key=KEY)
        db.commit()


@pytest.fixture
def sealed(any_engine, clock):
    """Five rows written by a store holding the audit key, from its start (row 1 is `audit.key_in_use`)."""
    store = RequestStore(any_engine, audit_key=KEY)
    assert store.seal_audit(now=clock.now()) == 1
    _append(store, clock, *(f"event.{n}" for n in range(1, 5)))
    return any_engine


def test_a_chain_sealed_with_the_key_verifies_with_it(sealed):
    result = audit.verify(sealed, key=KEY)
    assert result.ok, result.problems
    assert (result.rows, result.keyed, result.plain, result.unverified, result.accepted) == (5, 5, 0, 0, 0)
    assert audit.verify(sealed).unverified == 5  # no row's hash is the plain SHA-256 one anyone could make


@pytest.mark.parametrize("start", [3, 5])
def test_a_sealed_row_rewritten_without_the_key_is_caught(sealed, start):
    _rewrite_plainly(sealed, start, actor="U0MALLORY", data={"n": 99})
    result = audit.verify(sealed, key=KEY)
    assert not result.ok
    [problem] = result.problems
    if start == 5:
        assert problem == (f"row 5 is not sealed with the audit key (by U0MALLORY, at 2026-11-02 09:00:04 UTC): "
                           f"{UNSEALED}; review it (`offboard-bot audit export`) and, if a replica wrote it, accept "
                           f"it with `offboard-bot audit adopt-key --accept-plain-rows 5-{_named(sealed, 5)}`")
    else:
        assert problem == (f"rows 3 to 5 are not sealed with the audit key (by U0MALLORY, U0ALICE, from 2026-11-02 "
                           f"09:00:02 UTC to 2026-11-02 09:00:04 UTC): {UNSEALED}; review them (`offboard-bot audit "
                           "export`) and, if a replica wrote them, accept them with `offboard-bot audit adopt-key "
                           f"--accept-plain-rows 3-{_named(sealed, 5)}`")
    assert (result.keyed, result.plain, result.plain_tail) == (start - 1, 5 - start + 1, (start, 5))


def test_rewriting_every_sealed_row_without_the_key_is_caught(sealed):
    _rewrite_plainly(sealed, 1, actor="U0MALLORY")
    result = audit.verify(sealed, key=KEY)
    assert not result.ok and result.problems == (_none_sealed(sealed, 5),)
    assert result.problems[0].startswith("no row is sealed with the audit key")


def _none_sealed(engine, newest):
    """What `verify` with the key says of an intact plain chain: no row is sealed, and how to adopt the key."""
    return (f"{audit.NONE_SEALED}; if it was written before the key was set, review it (`offboard-bot audit "
            f"export`), then adopt the key with `offboard-bot audit adopt-key --through {_named(engine, newest)}`")


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
    assert result.problems == (
        f"row 6 is not sealed with the audit key (by U0ALICE, at 2026-11-02 09:00:05 UTC): {UNSEALED}; review it "
        "(`offboard-bot audit export`) and, if a replica wrote it, accept it with `offboard-bot audit adopt-key "
        f"--accept-plain-rows 6-{_named(sealed, 6)}`",)


def test_verify_without_the_key_reports_the_sealed_rows(sealed):
    result = audit.verify(sealed)
    assert not result.ok and result.needs_key
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


def test_a_key_seals_an_empty_log_and_replicas_starting_together_seal_it_once(any_engine, clock):
    stores = [RequestStore(any_engine, audit_key=KEY) for _ in range(4)]
    written = run_together(*(lambda store=store: store.seal_audit(now=clock.now()) for store in stores))
    assert sorted(written, key=str) == [1, None, None, None]
    assert [row["event"] for row in _export(any_engine)] == [audit.KEY_IN_USE]
    assert audit.verify(any_engine, key=KEY).keyed == 1
    assert RequestStore(any_engine).seal_audit(now=clock.now()) is None  # without a key: nothing to seal with


def test_the_key_goes_from_the_settings_through_the_container_to_the_store(any_engine, tmp_path, clock):
    container = _container(any_engine, tmp_path, clock)
    try:
        container.seal_audit_log()
        container.seal_audit_log()
        container.store.append_audit(AuditEntry(actor="U0ALICE", event="after.start"), now=clock.now())
    finally:
        container.close()
    assert [row["event"] for row in _export(any_engine)] == [audit.KEY_IN_USE, "after.start"]
    assert audit.verify(any_engine, key=KEY).keyed == 2
    assert audit.verify(any_engine).unverified == 2


def _container(engine, tmp_path, clock):
    from bot.container import build
    from bot.settings import load_settings

    settings = load_settings(
        slack_bot_token="xoxb-container-test", slack_signing_secret="container-test-secret",
        database_url=engine.url.render_as_string(hide_password=False),
        offboard_console="local", offboard_local_console=tmp_path / "console.db",
        offboard_audit_key=KEY.get_secret_value())
    return build(settings, clock=clock)


def _refuses_to_start(engine, tmp_path, clock) -> str:
    """The message `serve` (through Container.seal_audit_log) refuses to start with; nothing is written."""
    before = _export(engine)
    container = _container(engine, tmp_path, clock)
    try:
        with pytest.raises(ConfigurationError) as refused:
            container.seal_audit_log()
    finally:
        container.close()
    assert _export(engine) == before
    assert refused.value.message.startswith("cannot start: ")
    return refused.value.message


# -- a sealed row vouches for the rows before it: a process with the key only seals onto a sealed end -------

@pytest.mark.parametrize("kept", [0, 3], ids=["every sealed row", "the last two"])
def test_a_plain_chain_put_in_place_of_sealed_rows_is_never_sealed_over(sealed, clock, tmp_path, kept):
    """The attack: with write access but no key, remove sealed rows and write a plain chain in their place (the
    head at its end). Neither the next keyed write nor the next start may seal over it."""
    _cut_back_to(sealed, kept)
    _append(RequestStore(sealed), clock, "forged.1", "forged.2", actor="U0MALLORY")
    forged = _export(sealed)
    keyed = RequestStore(sealed, audit_key=KEY)
    with pytest.raises(audit.AuditBroken) as refused:
        _new(keyed, clock, "OB-FORGED01", "jdoe")
    message = refused.value.message
    assert message.startswith(f"the audit log ends in row {kept + 2}, which is not sealed with OFFBOARD_AUDIT_KEY: "
                              f"{UNSEALED}.")
    assert message.endswith(audit._ADVICE) and "`offboard-bot audit verify` with the key" in message
    assert keyed.get("OB-FORGED01") is None and _export(sealed) == forged  # the whole write was undone
    with pytest.raises(audit.AuditBroken):
        keyed.append_audit(AuditEntry(actor="U0ALICE", event="refused"), now=clock.now())
    with pytest.raises(audit.AuditBroken):
        keyed.seal_audit(now=clock.now())
    assert message in _refuses_to_start(sealed, tmp_path, clock)
    assert audit.end_problem(sealed, key=KEY) == message  # what `offboard-bot check` reports
    assert _export(sealed) == forged
    result = audit.verify(sealed, key=KEY)
    assert not result.ok
    if kept:
        assert result.problems[0].startswith("rows 4 to 5 are not sealed with the audit key (by U0MALLORY, from")
        assert result.plain_tail == (4, 5)
    else:
        assert result.problems == (_none_sealed(sealed, 2),)


def test_a_head_not_matching_the_newest_row_is_never_sealed_over(sealed, clock):
    _run(sealed, "DELETE FROM audit_log WHERE seq = 5")  # the head still names row 5
    with pytest.raises(audit.AuditBroken, match="head says it ends in row 5, but that row is missing"):
        RequestStore(sealed, audit_key=KEY).append_audit(AuditEntry(actor="U0ALICE", event="e"), now=clock.now())


def test_a_plain_row_sealed_over_by_a_previous_release_is_still_reported(sealed, clock):
    # Before this check, a keyed append sealed right after whatever the log ended in.
    _append(RequestStore(sealed), clock, "plain")
    _write_sealed(sealed, clock, "request.done", {})
    result = audit.verify(sealed, key=KEY)
    assert len(result.problems) == 1 and result.problems[0].startswith("row 6 is not sealed with the audit key")
    assert result.problems[0].endswith("; the sealed row 7 after it does not accept it")
    assert (result.accepted, result.plain_tail) == (0, None)


def test_a_plain_history_sealed_over_without_adopting_it_is_reported(chain, clock):
    _write_sealed(chain, clock, "request.done", {})
    assert audit.verify(chain, key=KEY).problems == (
        "rows 1 to 5 come before the first sealed row, row 6, which does not adopt them (an `audit.key_in_use` row "
        "does): they may have been rewritten before row 6 was sealed",)


# -- `audit adopt-key`: a person vouches for plain rows, once --------------------------------------------------

def _adopt(engine, clock, newest):
    """`audit adopt-key --through NEWEST@HASH`, as a person runs it after reviewing the plain rows up to newest."""
    clock.advance(timedelta(seconds=1))
    return audit.adopt_key(engine, key=KEY, now=clock.now(), through=newest, row_hash=_hash(engine, newest)[:16])


def test_adopting_a_key_on_a_plain_log_needs_adopt_key_once(chain, clock, tmp_path):
    store = RequestStore(chain, audit_key=KEY)
    with pytest.raises(audit.AuditBroken, match="not sealed with OFFBOARD_AUDIT_KEY"):
        store.seal_audit(now=clock.now())  # at start: refused, not sealed over
    assert audit._ADVICE in _refuses_to_start(chain, tmp_path, clock)
    reviewed = _named(chain, 5)
    assert audit.verify(chain, key=KEY).problems == (_none_sealed(chain, 5),)
    assert audit.verify(chain, key=KEY).problems[0].endswith(f"`offboard-bot audit adopt-key --through {reviewed}`")
    with pytest.raises(audit.AuditBroken, match="no row is sealed with OFFBOARD_AUDIT_KEY yet"):
        audit.adopt_key(chain, key=KEY, now=clock.now(), accept=(1, 5), row_hash=reviewed[2:])
    with pytest.raises(audit.AuditBroken) as unbound:  # the command to run, once the rows are reviewed
        audit.adopt_key(chain, key=KEY, now=clock.now())
    assert unbound.value.message == (
        "the audit log was not sealed: the sealed row would vouch for its 5 plain rows, so name the last row you "
        "reviewed with its hash. Review them (`offboard-bot audit export`), then run `offboard-bot audit adopt-key "
        f"--through {reviewed}`")
    with pytest.raises(audit.AuditBroken, match="it ends in row 5, not in row 4"):
        audit.adopt_key(chain, key=KEY, now=clock.now(), through=4, row_hash=_hash(chain, 4)[:16])
    with pytest.raises(audit.AuditBroken, match="is not a row's hash: give at least its first 16 hex characters"):
        audit.adopt_key(chain, key=KEY, now=clock.now(), through=5, row_hash=_hash(chain, 5)[:15])
    assert len(_export(chain)) == 5  # nothing written by the refusals
    clock.advance(timedelta(seconds=1))
    assert audit.adopt_key(chain, key=KEY, now=clock.now(), through=5, row_hash=_hash(chain, 5).upper()) == (
        audit.Adoption(seq=6, rows_before=5))  # the whole hash, in capitals, does as well
    assert audit.adopt_key(chain, key=KEY, now=clock.now()) == audit.Adoption(seq=None)  # once is enough
    rows = _export(chain)
    assert (rows[-1]["seq"], rows[-1]["event"], rows[-1]["actor"], rows[-1]["data"]) == (
        6, audit.KEY_IN_USE, "system", {"rows_before": 5, "through_hash": rows[4]["hash"], "by": "audit adopt-key"})
    assert store.seal_audit(now=clock.now()) is None  # the next start
    _append(store, clock, "after.adoption")
    result = audit.verify(chain, key=KEY)
    assert result.ok, result.problems
    assert (result.rows, result.keyed, result.plain, result.accepted) == (7, 2, 5, 0)
    assert audit.verify(chain).problems == (
        "rows 6 to 7 are sealed with an audit key, or edited: set OFFBOARD_AUDIT_KEY to verify them",)


def test_adopt_key_refuses_a_plain_log_that_is_not_intact(chain, clock):
    _run(chain, "UPDATE audit_log SET actor = 'U0MALLORY' WHERE seq = 2")
    with pytest.raises(audit.AuditBroken) as refused:
        _adopt(chain, clock, 5)
    assert "its plain chain is not intact" in refused.value.message
    assert "row 2: content does not match its hash (edited)" in refused.value.message
    assert len(_export(chain)) == 5


def test_adopt_key_seals_an_empty_log(any_engine, clock):
    with pytest.raises(audit.AuditBroken, match=r"it is empty, so it has no row 5\. If it had rows when you "
                                                r"reviewed it, it was wiped since"):
        audit.adopt_key(any_engine, key=KEY, now=clock.now(), through=5, row_hash="0123456789abcdef")
    assert audit.adopt_key(any_engine, key=KEY, now=clock.now()) == audit.Adoption(seq=1)  # no rows to name
    assert _export(any_engine)[0]["data"] == {"rows_before": 0, "by": "audit adopt-key"}
    assert audit.verify(any_engine, key=KEY).ok


def test_once_adopted_the_plain_history_cannot_be_rewritten_either(chain, clock):
    _rewrite_plainly(chain, 2, actor="U0MALLORY", data={"n": 99})
    assert audit.verify(chain).ok  # the gap: without a key, a consistent rewrite of tail and head goes unseen
    _adopt(chain, clock, 5)
    _rewrite_plainly(chain, 3, actor="U0EVE")  # rows 3 to 5, and the sealed row 6 with them
    result = audit.verify(chain, key=KEY)
    assert not result.ok and result.problems == (_none_sealed(chain, 6),)


def test_removing_the_sealed_rows_of_an_adopted_log_is_caught(chain, clock):
    store = RequestStore(chain, audit_key=KEY)
    _adopt(chain, clock, 5)
    _append(store, clock, "after.adoption")
    _cut_back_to(chain, 5)
    result = audit.verify(chain, key=KEY)
    assert not result.ok and result.problems == (_none_sealed(chain, 5),)
    with pytest.raises(audit.AuditBroken):
        _append(store, clock, "laundering")


@pytest.fixture
def plain_tail(sealed, clock):
    """A replica without the key (say, rolled back) wrote rows 6 and 7 after the sealed rows 1 to 5."""
    _append(RequestStore(sealed), clock, "replica.1", "replica.2", actor="U0BOB")
    return sealed


def test_plain_rows_after_sealed_ones_are_accepted_only_as_named(plain_tail, clock):
    keyed = RequestStore(plain_tail, audit_key=KEY)
    with pytest.raises(audit.AuditBroken):
        _append(keyed, clock, "refused")
    result = audit.verify(plain_tail, key=KEY)
    assert result.plain_tail == (6, 7) and result.problems[0].startswith(
        f"rows 6 to 7 are not sealed with the audit key (by U0BOB, from 2026-11-02 09:00:05 UTC to 2026-11-02 "
        f"09:00:06 UTC): {UNSEALED}")
    command = f"`offboard-bot audit adopt-key --accept-plain-rows 6-{_named(plain_tail, 7)}`"
    assert result.problems[0].endswith(command)
    for unbound in [None, (6, 7)]:  # without the hash of the last row reviewed: the command to run after review
        with pytest.raises(audit.AuditBroken) as unnamed:
            audit.adopt_key(plain_tail, key=KEY, now=clock.now(), accept=unbound)
        assert "rows 6 to 7 at its end are not sealed" in unnamed.value.message
        assert unnamed.value.message.endswith(f"run {command}")
    reviewed = _hash(plain_tail, 7)[:16]
    for wrong in [(5, 7), (6, 6), (7, 7), (6, 8)]:
        with pytest.raises(audit.AuditBroken, match=f"--accept-plain-rows {wrong[0]}-{wrong[1]} does not name them"):
            audit.adopt_key(plain_tail, key=KEY, now=clock.now(), accept=wrong, row_hash=reviewed)
    with pytest.raises(audit.AuditBroken, match="there is no key to adopt"):
        audit.adopt_key(plain_tail, key=KEY, now=clock.now(), through=7, row_hash=reviewed)
    assert len(_export(plain_tail)) == 7  # nothing written by the refusals
    clock.advance(timedelta(seconds=1))
    assert audit.adopt_key(plain_tail, key=KEY, now=clock.now(), accept=(6, 7), row_hash=reviewed) == (
        audit.Adoption(seq=8, accepted=(6, 7)))
    assert _export(plain_tail)[-1]["data"] == {"accepted_plain_rows": [6, 7], "through_hash": _hash(plain_tail, 7),
                                               "by": "audit adopt-key"}
    _append(keyed, clock, "after.acceptance")
    result = audit.verify(plain_tail, key=KEY)
    assert result.ok, result.problems
    assert (result.rows, result.keyed, result.plain, result.accepted) == (9, 7, 2, 2)
    without = audit.verify(plain_tail)  # without the key, sealed rows on both sides of the plain ones
    assert without.needs_key and without.unverified == 7, without.problems


def test_a_plain_row_made_to_look_like_an_acceptance_does_not_count(plain_tail, clock):
    forged = AuditEntry(actor="system", event=audit.KEY_IN_USE,
                        data={"accepted_plain_rows": [6, 7], "by": "audit adopt-key"})
    RequestStore(plain_tail).append_audit(forged, now=clock.now())  # row 8: plain, as anyone can write it
    result = audit.verify(plain_tail, key=KEY)
    assert not result.ok and result.accepted == 0 and result.plain_tail == (6, 8)
    assert result.problems[0].startswith("rows 6 to 8 are not sealed with the audit key")
    with pytest.raises(audit.AuditBroken):
        _append(RequestStore(plain_tail, audit_key=KEY), clock, "refused")


def test_a_sealed_acceptance_naming_other_rows_does_not_count(plain_tail, clock):
    _write_sealed(plain_tail, clock, audit.KEY_IN_USE, {"accepted_plain_rows": [6, 6], "by": "audit adopt-key"})
    result = audit.verify(plain_tail, key=KEY)
    assert result.accepted == 0 and len(result.problems) == 1
    assert result.problems[0].startswith("rows 6 to 7 are not sealed with the audit key")
    assert result.problems[0].endswith("; the sealed row 8 after them does not accept them")


def test_adopt_key_refuses_a_plain_tail_when_more_is_wrong(plain_tail, clock):
    _run(plain_tail, "UPDATE audit_log SET actor = 'U0MALLORY' WHERE seq = 3")
    with pytest.raises(audit.AuditBroken) as refused:
        audit.adopt_key(plain_tail, key=KEY, now=clock.now(), accept=(6, 7), row_hash=_hash(plain_tail, 7))
    assert "only accepts plain rows at the end of an otherwise intact log" in refused.value.message
    assert "row 3: content does not match its hash" in refused.value.message
    assert len(_export(plain_tail)) == 7


# -- a wiped log, a hash that is not hex, the key's absence ------------------------------------------------------

def test_a_wiped_log_does_not_verify_with_the_key(sealed):
    _cut_back_to(sealed, 0)
    result = audit.verify(sealed, key=KEY)
    assert not result.ok and result.problems == (audit.EMPTY_WITH_KEY,)
    assert result.problems[0].startswith("the log is empty although a key is given: it was wiped, or the bot has "
                                         "never started with the key")
    assert audit.verify(sealed).ok  # without a key, an empty log is all it can be


@pytest.mark.parametrize("key", [KEY, None], ids=["sealed", "plain"])
def test_a_hash_that_is_not_ascii_is_an_edit_not_a_crash(any_engine, clock, tmp_path, key):
    store = RequestStore(any_engine, audit_key=key)
    store.seal_audit(now=clock.now())
    _append(store, clock, "e1", "e2", "e3")
    last = len(_export(any_engine))
    with any_engine.begin() as connection:  # the newest row's hash and the head's, both the same odd text
        connection.execute(text("UPDATE audit_log SET hash = :hash WHERE seq = :seq"),
                           dict(hash="ünïcödé-hash-✓", seq=last))
        connection.execute(text("UPDATE audit_head SET hash = :hash"), dict(hash="ünïcödé-hash-✓"))
    result = audit.verify(any_engine, key=key)
    assert not result.ok
    edited = "edited, or sealed with another audit key" if key else "edited"
    assert f"row {last}: content does not match its hash ({edited})" in result.problems
    assert not audit.verify(any_engine).ok
    if key is not None:
        assert f"ends in row {last}, which is not sealed" in _refuses_to_start(any_engine, tmp_path, clock)
        with pytest.raises(audit.AuditBroken):
            _append(store, clock, "refused")


def test_without_the_key_an_edit_before_the_first_sealed_row_is_broken(chain, clock):
    _adopt(chain, clock, 5)  # row 6
    _append(RequestStore(chain, audit_key=KEY), clock, "sealed.7")
    _run(chain, "UPDATE audit_log SET actor = 'U0MALLORY' WHERE seq = 5")  # the last plain row, next to them
    result = audit.verify(chain)
    assert not result.ok and not result.needs_key  # BROKEN, not NOT VERIFIED
    assert result.problems == (
        "row 5: content does not match its hash (edited)",
        "rows 6 to 7 are sealed with an audit key, or edited: set OFFBOARD_AUDIT_KEY to verify them")
    assert result.unverified == 2
    assert audit.verify(chain, key=KEY).problems == (
        "row 5: content does not match its hash (edited, or sealed with another audit key)",)


def test_without_the_key_rows_matching_nothing_and_no_key_in_use_row_are_broken(chain):
    _run(chain, "UPDATE audit_log SET actor = 'U0MALLORY' WHERE seq >= 4")
    result = audit.verify(chain)
    assert result.problems == ("rows 4 to 5: content does not match their hashes (edited)",)
    assert not result.needs_key and result.unverified == 0


# -- rows after the head: never appended by the bot (an append moves the head with its row) --------------------

def _insert_plain(engine, seq, *, prev_hash=audit.GENESIS, actor="U0MALLORY", event="forged"):
    """A row as someone with write access but no key inserts it: plainly hashed, numbered as they like."""
    at, data = "2026-11-02T09:30:00.000000+00:00", '{"forged":true}'
    digest = audit._digest(prev_hash, seq, at, actor, event, None, data)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO audit_log (seq, at, actor, event, request_id, data, prev_hash, hash) "
                                "VALUES (:seq, :at, :actor, :event, NULL, :data, :prev, :hash)"),
                           dict(seq=seq, at=at, actor=actor, event=event, data=data, prev=prev_hash, hash=digest))


def test_a_row_inserted_after_the_head_is_reported_refused_and_not_exported(sealed, clock, tmp_path):
    before = _export(sealed)
    _insert_plain(sealed, 1_000_000, prev_hash=before[-1]["hash"])
    inserted = "1 row after the head, row 1000000: inserted by someone, not by the bot"
    result = audit.verify(sealed, key=KEY)
    assert not result.ok and result.problems == (inserted,)
    keyless = audit.verify(sealed)
    assert inserted in keyless.problems and not keyless.needs_key  # BROKEN, not merely NOT VERIFIED
    assert _export(sealed) == before  # export stops at the head
    keyed = RequestStore(sealed, audit_key=KEY)
    with pytest.raises(audit.AuditBroken) as refused:
        _append(keyed, clock, "refused")
    message = refused.value.message
    assert message.startswith("the audit log has rows after its head, from row 1000000 on: inserted by someone, "
                              "not by the bot, so nothing more is written to the log.")
    with pytest.raises(audit.AuditBroken):
        keyed.seal_audit(now=clock.now())
    assert message in _refuses_to_start(sealed, tmp_path, clock)
    assert audit.end_problem(sealed, key=KEY) == message  # `offboard-bot check`
    with pytest.raises(audit.AuditBroken, match="only accepts plain rows at the end of an otherwise intact log"):
        audit.adopt_key(sealed, key=KEY, now=clock.now(), accept=(1_000_000, 1_000_000),
                        row_hash=_hash(sealed, 1_000_000))
    _insert_plain(sealed, 7)
    assert audit.verify(sealed, key=KEY).problems == (
        "2 rows after the head, from row 7: inserted by someone, not by the bot",)
    _run(sealed, "DELETE FROM audit_log WHERE seq > 5")
    assert audit.verify(sealed, key=KEY).ok and _export(sealed) == before
    _append(keyed, clock, "after.removing.them")


def test_a_row_inserted_into_an_empty_log_stops_the_first_keyed_write(any_engine, clock):
    _insert_plain(any_engine, 3)
    result = audit.verify(any_engine)
    assert result.problems == ("1 row after the head, row 3: inserted by someone, not by the bot",)
    assert audit.verify(any_engine, key=KEY).problems == (audit.EMPTY_WITH_KEY, result.problems[0])
    assert _export(any_engine) == []
    keyed = RequestStore(any_engine, audit_key=KEY)
    for write in (lambda: keyed.seal_audit(now=clock.now()), lambda: _append(keyed, clock, "refused"),
                  lambda: audit.adopt_key(any_engine, key=KEY, now=clock.now())):
        with pytest.raises(audit.AuditBroken, match="row 3"):
            write()
    assert _export(any_engine) == [] and audit.verify(any_engine).problems == result.problems


def test_rows_numbered_below_1_are_reported(chain):
    _insert_plain(chain, 0)
    _insert_plain(chain, -3)
    assert audit.verify(chain).problems == (
        "2 rows numbered below 1, from row -3: inserted by someone, not by the bot",)
    assert [row["seq"] for row in _export(chain)] == [1, 2, 3, 4, 5]


def test_export_needs_the_head(chain):
    _run(chain, "DELETE FROM audit_head")
    with pytest.raises(audit.AuditBroken, match="head row is missing"):
        _export(chain)


@pytest.mark.parametrize("key", [KEY, None], ids=["sealed", "plain"])
def test_verify_during_keyed_and_plain_appends_finds_nothing_after_the_head(any_engine, clock, key):
    """An append commits its row and the head together, so counting rows after the head never catches one."""
    stores = [RequestStore(any_engine, audit_key=key) for _ in range(2)]
    stores[0].seal_audit(now=clock.now())
    stop = threading.Event()

    def keep_appending(store):
        while not stop.is_set():
            store.append_audit(AuditEntry(actor="U0X", event="tick"), now=clock.now())

    writers = [threading.Thread(target=keep_appending, args=(store,)) for store in stores]
    for writer in writers:
        writer.start()
    try:
        results = [audit.verify(any_engine, key=key) for _ in range(15)]
        after_head = [audit._after_head(any_engine) for _ in range(50)]
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert all(result.ok for result in results), [r.problems for r in results if not r.ok]
    assert set(after_head) == {(0, None)}


# -- `audit adopt-key` vouches for the rows as reviewed, not for whatever rows carry those numbers later ------

def test_plain_rows_rewritten_after_their_review_are_not_accepted(plain_tail, clock):
    reviewed = _hash(plain_tail, 7)[:16]  # from the command `verify` printed when a person reviewed rows 6 and 7
    _rewrite_plainly(plain_tail, 6, actor="U0MALLORY", data={"forged": True})  # rows 6, 7 and the head
    assert audit.verify(plain_tail, key=KEY).plain_tail == (6, 7)  # the same numbers, other content
    with pytest.raises(audit.AuditBroken) as refused:
        audit.adopt_key(plain_tail, key=KEY, now=clock.now(), accept=(6, 7), row_hash=reviewed)
    assert refused.value.message.startswith(
        f"the audit log was not sealed: row 7 is not the row you reviewed (its hash does not start with {reviewed}): "
        "it was rewritten since, or the hash was mistyped. Nothing was written. Run `offboard-bot audit verify` "
        "again")
    assert _hash(plain_tail, 7)[:16] not in refused.value.message  # no ready-made command for the new content
    assert len(_export(plain_tail)) == 7
    with pytest.raises(audit.AuditBroken):
        _append(RequestStore(plain_tail, audit_key=KEY), clock, "still.refused")


def test_a_plain_history_rewritten_after_its_review_is_not_adopted(chain, clock):
    reviewed = _hash(chain, 5)[:16]
    _rewrite_plainly(chain, 3, actor="U0MALLORY")  # rows 3 to 5 and the head: still an intact plain chain
    assert audit.verify(chain).ok
    with pytest.raises(audit.AuditBroken, match="row 5 is not the row you reviewed"):
        audit.adopt_key(chain, key=KEY, now=clock.now(), through=5, row_hash=reviewed)
    assert len(_export(chain)) == 5 and audit.verify(chain, key=KEY).keyed == 0


# -- a request_id of "" passes for None in the hash: the bot never writes it ----------------------------------

@pytest.mark.parametrize("key", [KEY, None], ids=["sealed", "plain"])
def test_a_request_id_changed_from_null_to_empty_is_an_edit(any_engine, clock, key):
    store = RequestStore(any_engine, audit_key=key)
    store.append_audit(AuditEntry(actor="U0ALICE", event="notice"), now=clock.now())
    store.append_audit(AuditEntry(actor="U0ALICE", event="empty.id", request_id=""), now=clock.now())
    rows = _export(any_engine)
    assert [row["request_id"] for row in rows[-2:]] == [None, None]  # "" is written as None
    assert audit.verify(any_engine, key=key).ok
    last = rows[-1]["seq"]
    _run(any_engine, f"UPDATE audit_log SET request_id = '' WHERE seq = {last}")
    edited = "edited, or sealed with another audit key" if key else "edited"
    assert audit.verify(any_engine, key=key).problems == (f"row {last}: content does not match its hash ({edited})",)


# -- SQLite keeps a BLOB in a text column: the row is edited, and verify goes on ------------------------------

@pytest.mark.parametrize("column", ["actor", "data", "at", "prev_hash", "hash", "request_id"])
@pytest.mark.parametrize("key", [KEY, None], ids=["sealed", "plain"])
def test_a_blob_in_a_text_column_is_an_edit_not_a_crash(sqlite_engine, clock, column, key):
    store = RequestStore(sqlite_engine, audit_key=key)
    store.seal_audit(now=clock.now())
    _append(store, clock, "e1", "e2", "e3")
    seq = len(_export(sqlite_engine)) - 1  # not the newest row: the rows after it are still checked
    _run(sqlite_engine, f"UPDATE audit_log SET {column} = CAST({column} AS BLOB) WHERE seq = {seq}")
    result = audit.verify(sqlite_engine, key=key)
    assert not result.ok
    assert any(problem.startswith(f"row {seq}: content does not match its hash (edited")
               for problem in result.problems), result.problems
    assert result.rows == seq + 1
    assert not audit.verify(sqlite_engine).ok
    assert len(_export(sqlite_engine)) == seq + 1
    out = io.StringIO()
    assert audit.export(sqlite_engine, out, fmt="csv") == seq + 1


# -- row 1 of a log written with the key is an `audit.key_in_use` row -----------------------------------------

@pytest.mark.parametrize("writers", [1, 4])
def test_a_keyed_write_on_an_empty_log_writes_the_key_in_use_row_first(any_engine, clock, writers):
    stores = [RequestStore(any_engine, audit_key=KEY) for _ in range(writers)]
    run_together(*(lambda store=store, n=n: store.append_audit(AuditEntry(actor="U0X", event=f"e{n}"),
                                                               now=clock.now()) for n, store in enumerate(stores)))
    rows = _export(any_engine)
    assert [row["event"] for row in rows][:1] == [audit.KEY_IN_USE] and len(rows) == writers + 1
    assert (rows[0]["actor"], rows[0]["data"]) == ("system", {"rows_before": 0})
    assert audit.KEY_IN_USE not in [row["event"] for row in rows[1:]]
    result = audit.verify(any_engine, key=KEY)
    assert result.ok and result.keyed == writers + 1, result.problems


def test_a_sealed_row_1_that_is_not_a_key_in_use_row_is_reported(any_engine, clock):
    _write_sealed(any_engine, clock, "request.done", {})  # what the previous release's keyed append did here
    _append(RequestStore(any_engine, audit_key=KEY), clock, "sealed.2")
    result = audit.verify(any_engine, key=KEY)
    assert result.problems == (audit.FIRST_NOT_KEY_IN_USE,) and result.keyed == 2
