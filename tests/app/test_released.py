"""What a finished request released, as an admin needs it to act on: the numbers (E.164, ready to reassign), the
licenses, the desk phones inactivated (model and id) and the queues and ring groups the user left. Each user's
result says it in the results channel (the message for a few users, the CSV for many), in the requester's direct
message and in the audit log, whichever console did it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.console.eightbyeight import mapping
from bot.domain.directory import ConsoleUser, Device, Extension, ExtensionType
from bot.simulators.harness import App, serve_eightbyeight
from bot.slack import reports
from storage import audit
from tests.app.test_eightbyeight_flows import _by_hand
from tests.console.eightbyeight.test_console import seed

JDOE_FACTS = ("+14155550101", "X Series X4", "Poly VVX 450", "dev-jdoe-1", "Support Tier 1", "Support Overflow")


def _delete_approved(app: App, names: str, *, approvers: tuple[str, ...] = ("bob",)) -> str:
    app.command("alice", f"delete {names} --reason left the company")
    request_id = app.request_id()
    app.press("alice", "Request approval", offboard_checklist="box-1")
    for approver in approvers:
        app.press(approver, "Approve")
    return request_id


def _audit_rows(app: App, request_id: str) -> list[dict]:
    out = io.StringIO()
    audit.export(app.container.engine, out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    return [row for row in rows if row["request_id"] == request_id]


def test_a_delete_says_what_it_released_in_results_dm_and_audit(app):
    request_id = _delete_approved(app, "jdoe")

    results = app.channel_texts("C0RESULTS")[-1]
    assert "`jdoe`: deleted successfully" in results
    for fact in JDOE_FACTS:
        assert fact in results, fact
    assert "ready to reassign" in results

    [dm] = [text for text in app.dm_texts("alice") if request_id in text and "finished" in text]
    for fact in JDOE_FACTS:
        assert fact in dm, fact

    done = {row["data"]["step"]: row["data"]["detail"] for row in _audit_rows(app, request_id)
            if row["event"] == "step.done"}
    assert done["release_licenses"]["released"] == {"numbers": ["+14155550101"], "licenses": ["X Series X4"]}
    assert done["delete"]["released"] == {"devices": [{"id": "dev-jdoe-1", "model": "Poly VVX 450",
                                                       "status": "ACTIVE"}],
                                          "call_queues": ["Support Tier 1"], "ring_groups": ["Support Overflow"]}


def test_a_deactivate_releases_nothing_and_says_nothing_of_it(app):
    app.command("alice", "deactivate jdoe --reason on leave")
    app.press("alice", "Confirm")
    results = app.channel_texts("C0RESULTS")[-1]
    assert "`jdoe`: deactivated successfully" in results
    assert "+14155550101" not in results and "reassign" not in results


def _add_users(app: App, count: int) -> list[str]:
    names = [f"bulk{n:02d}" for n in range(count)]
    for n, name in enumerate(names):
        app.console.add_user(ConsoleUser(
            id=f"u-9{n:03d}", username=name, email=f"{name}@example.com", first_name="Bulk", last_name=f"User {n}",
            licenses=("X Series X2",), call_queues=("Sales",),
            extensions=(Extension(f"2{n:03d}", ExtensionType.UC, phone_numbers=(f"+1415555{n:04d}",),
                                  devices=(Device(id=f"dev-bulk-{n}", model="Yealink T54W"),)),)))
    return names


def test_many_users_get_what_was_released_in_the_csv(app):
    names = _add_users(app, reports.CSV_ABOVE_TARGETS + 1)
    request_id = _delete_approved(app, " ".join(names), approvers=("bob", "dana"))
    [shared] = app.slack.files("C0RESULTS")
    rows = {row["username"]: row for row in csv.DictReader(io.StringIO(shared.text))}
    assert len(rows) == len(names)
    # A quote keeps a spreadsheet from reading the number as a formula (or a number without its +).
    assert rows["bulk07"]["numbers released"] == "'+14155550007"
    assert rows["bulk07"]["licenses released"] == "X Series X2"
    assert rows["bulk07"]["desk phones inactivated"] == "Yealink T54W (dev-bulk-7)"
    assert rows["bulk07"]["call queues left"] == "Sales"
    [dm] = [text for text in app.dm_texts("alice") if request_id in text and "finished" in text]
    assert "21 numbers" in dm and "CSV" in dm


@pytest.fixture
def eight(slack, tmp_path, clock, eightbyeight) -> Iterator[App]:
    with serve_eightbyeight(slack, clock, tmp_path, seed(eightbyeight)) as app:
        yield app


def test_the_8x8_console_reports_what_it_released(eight):
    request_id = _delete_approved(eight, "jdoe")
    results = eight.channel_texts("C0RESULTS")[-1]
    assert "`jdoe`: deleted successfully" in results
    for fact in ("+14155550101", "X Series X4", "Poly VVX 450", "Support Tier 1", "Support Overflow"):
        assert fact in results, fact
    assert any("+14155550101" in text for text in eight.dm_texts("alice") if request_id in text)


def test_what_was_released_by_hand_is_in_the_results_too(eight):
    """A tenant whose API cannot change users: the licenses and number are released by hand, then Re-check."""
    fake = eight.console
    fake.put_unsupported = "405"
    request_id = _delete_approved(eight, "jdoe")
    jdoe = next(u["basicInfo"]["userId"] for u in fake.users() if u["basicInfo"]["userName"] == "jdoe")
    _by_hand(fake, jdoe, mapping.without_licenses)
    eight.press("bob", "Re-check")
    results = eight.channel_texts("C0RESULTS")[-1]
    assert "`jdoe`: deleted successfully" in results
    assert "+14155550101" in results and "X Series X4" in results and "Poly VVX 450" in results
    eight.command("alice", f"status {request_id}")
    assert "done by hand in the console, verified by reading the user back; numbers released, ready to reassign: " \
           "+14155550101" in eight.last_ephemeral("alice")


def test_each_stage_of_a_staged_delete_says_what_it_released(app):
    request_id = _delete_approved(app, "jdoe --grace 1d --retain 2d")
    app.clock.advance(timedelta(days=1))  # the release stage is due
    app.container.sweeper.sweep()
    app.settle()
    stage = app.channel_texts("C0RESULTS")[-1]
    assert "+14155550101" in stage and "X Series X4" in stage and "ready to reassign" in stage
    assert "Poly VVX 450" not in stage  # the phone goes with the delete, a day later
    app.clock.advance(timedelta(days=1))
    app.container.sweeper.sweep()
    app.settle()
    results = app.channel_texts("C0RESULTS")[-1]
    assert "`jdoe`: deleted successfully" in results and "+14155550101" in results and "Poly VVX 450" in results
    assert app.container.store.get(request_id).state.value == "done"
