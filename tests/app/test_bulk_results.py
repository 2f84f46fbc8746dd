"""Results of requests with several or many users, as Slack shows them: failures first with a button that offers
the clicker (an admin) a retry of just those users, and the full results uploaded as a CSV file into the thread
when there are many. The rules behind them are tested against the service: tests/service/test_retry.py and
tests/service/test_results.py."""

from __future__ import annotations

import csv
import io

import pytest

from bot.domain.directory import ConsoleUser
from bot.domain.lifecycle import RequestState
from bot.domain.records import TargetOutcome
from bot.errors import ConsoleRejected
from bot.simulators.harness import text_of
from bot.simulators.slack.model import UPLOAD
from bot.slack import reports
from tests.slack.test_reports import FORMULA_STARTS, cells_a_spreadsheet_may_see

SEVERAL = ["jdoe", "pnguyen", "kwilliams", "lchen"]


def _results(app):
    """The results channel's top-level messages (a CSV file is shared as a reply in their thread)."""
    return [message for message in app.slack.messages("C0RESULTS") if message.thread_ts is None]


def _buttons(message) -> list[str]:
    return [element["text"]["text"] for block in message.blocks if block["type"] == "actions"
            for element in block["elements"] if element["type"] == "button"]


def _lines(message) -> list[str]:
    return [line for block in message.blocks if block["type"] == "section"
            for line in block["text"]["text"].splitlines()]


def _all_requests(app) -> list:
    return app.container.store.list(limit=1000)


def _delete_with_failures(app, users: list[str], failures: int) -> str:
    """Alice asks to delete users, bob approves, and the console refuses the first `failures` deletes."""
    app.command("alice", f"delete {' '.join(users)} --reason left the company")
    request_id = app.request_id()
    app.press("alice", "Request approval", offboard_checklist="box-1")
    for _ in range(failures):
        app.faults.fail_next("delete", ConsoleRejected("the user is on an active call"))
    app.press("bob", "Approve")
    return request_id


def test_the_retry_button_shows_the_failed_users_plan_to_an_admin_only(app):
    request_id = _delete_with_failures(app, SEVERAL, failures=2)
    request = app.container.store.get(request_id)
    failed = {target.plan.username for target in request.targets if target.outcome is TargetOutcome.FAILED}
    assert len(failed) == 2

    [results] = _results(app)
    marks = [line[0] for line in _lines(results) if line.startswith(("✅", "❌"))]
    assert marks == ["❌", "❌", "✅", "✅"]  # failures first
    assert _buttons(results) == ["Retry the 2 failed users"]
    assert app.slack.files() == []  # a few users: no CSV

    before = len(_all_requests(app))
    app.press("carol", "Retry the 2 failed users")  # not an admin
    assert ":no_entry:" in app.last_ephemeral("carol")
    assert len(_all_requests(app)) == before

    app.press("alice", "Retry the 2 failed users")
    draft_id = app.request_id("alice")
    assert draft_id != request_id and app.container.store.get(draft_id).state is RequestState.DRAFT
    preview = app.last_ephemeral("alice")
    assert "Plan: Delete 2 users" in preview and all(f"`{name}`" in preview for name in failed)
    assert not any(f"`{name}`" in preview for name in set(SEVERAL) - failed)
    assert not any(draft_id in text for who in ("bob", "dana", "carol") for text in app.ephemeral_texts(who))
    assert [_buttons(message) for message in _results(app)] == [["Retry the 2 failed users"]]  # nothing new there
    # the preview's button carries the new request on
    app.press("alice", "Request approval", offboard_checklist="box-1")
    assert "Sent for approval" in app.last_ephemeral("alice")


def _add_users(app, count: int) -> list[str]:
    """More console users than the demo has, named bulk00, bulk01…"""
    names = [f"bulk{n:02d}" for n in range(count)]
    for n, name in enumerate(names):
        app.console.add_user(ConsoleUser(id=f"u-9{n:03d}", username=name, email=f"{name}@example.com",
                                         first_name="Bulk", last_name=f"User {n}"))
    return names


def _deactivate_many(app, names: list[str], *, failures: int = 0) -> str:
    app.command("bob", f"deactivate {' '.join(names)} --reason the office closed")
    request_id = app.request_id("bob")
    for _ in range(failures):
        app.faults.fail_next("set_status", ConsoleRejected("-locked by the directory sync"))
    app.press("bob", "Confirm")
    return request_id


def test_many_users_get_their_results_as_a_csv_in_the_thread(app):
    names = _add_users(app, reports.CSV_ABOVE_TARGETS + 1)
    request_id = _deactivate_many(app, names, failures=1)
    request = app.container.store.get(request_id)
    assert request.state is RequestState.FAILED

    [results] = _results(app)
    assert "CSV file in this message's thread" in text_of(results)
    assert _buttons(results) == ["Retry the failed user"]
    [shared] = app.slack.files("C0RESULTS")
    assert (shared.name, shared.thread_ts) == (f"{request_id}-results.csv", results.ts)
    assert shared.title == f"Results of {request_id}" and request_id in shared.initial_comment
    [reply] = [message for message in app.slack.messages("C0RESULTS") if message.thread_ts == results.ts]
    assert reply.files[0]["id"] == shared.id
    # Every row, as tests/service/test_results.py reads them, reached Slack as they are.
    assert shared.text == reports.results_csv(request)
    assert len(list(csv.DictReader(io.StringIO(shared.text)))) == len(names)


@pytest.mark.parametrize("step", ["files.getUploadURLExternal", UPLOAD, "files.completeUploadExternal"])
def test_results_stand_when_the_csv_cannot_be_attached(app, step):
    names = _add_users(app, reports.CSV_ABOVE_TARGETS + 1)
    app.slack.inject_failure(step, error="internal_error", status=500 if step == UPLOAD else 200)
    request_id = _deactivate_many(app, names)
    assert app.container.store.get(request_id).state is RequestState.DONE
    [results] = _results(app)
    text = text_of(results)
    assert f"{len(names)}/{len(names)} deactivated successfully" in text
    assert "could not be attached" in text and f"/offboard status {request_id}" in text
    assert "CSV file in this message's thread" not in text
    assert app.slack.files("C0RESULTS") == []
    assert [call.error for call in app.slack.calls(step)] == ["internal_error"]
    assert any(request_id in dm for dm in app.dm_texts("bob"))  # the run carried on to tell the requester


HOSTILE_NAMES = [("Jane", "Smith;=1+1;"), ("=cmd|' /C calc'!A0", "Doe"), ("Ann", "Lee,@SUM(A1)"),
                 ("Bo", "Ray\t+HYPERLINK(\"http://x.test\")"), ("Cy", "Ng|-2+3"), ("Di", "Ok; =1+1"),
                 ("Ed", "Oh;\"=1+1"), ("Flo", "Line\n=1+1")]


def test_names_from_the_console_cannot_become_formulas_in_the_csv(app):
    """Security review, issue 15, finding 6: `Smith;=1+1;` gave `=1+1` to a spreadsheet splitting on `;`."""
    names = _add_users(app, reports.CSV_ABOVE_TARGETS + 1)
    for n, (first, last) in enumerate(HOSTILE_NAMES):
        app.console.add_user(ConsoleUser(id=f"u-8{n:03d}", username=f"evil{n}", email=f"evil{n}@example.com",
                                         first_name=first, last_name=last))
    evil = [f"evil{n}" for n in range(len(HOSTILE_NAMES))]
    app.faults.fail_next("set_status", ConsoleRejected("locked;@SUM(1) by the sync"))  # its words are a cell too
    _deactivate_many(app, [*evil, *names])
    [shared] = app.slack.files("C0RESULTS")
    text = shared.content.decode("utf-8")
    assert "Smith;" in text and "evil0" in text and "locked;" in text  # all there, only defused
    for separator in (",", ";", "\t", "|"):
        armed = [cell for cell in cells_a_spreadsheet_may_see(text, separator) if cell.startswith(FORMULA_STARTS)]
        assert armed == [], f"split on {separator!r}"
