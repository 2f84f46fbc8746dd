"""The results of a request for many users: every user's result, one row each, in the CSV the results channel
gets (uploading it is on the wire: tests/app/test_bulk_results.py)."""

from __future__ import annotations

import csv
import io

from bot.domain.directory import ConsoleUser, UserStatus
from bot.domain.events import Finished
from bot.domain.lifecycle import RequestState
from bot.domain.notes import Note, Why
from bot.domain.plan import StepKind
from bot.domain.records import TargetOutcome
from bot.errors import ConsoleRejected
from bot.slack import reports
from tests.service.conftest import Desk


def _add_users(desk: Desk, count: int) -> list[str]:
    """More console users than the demo has, named bulk00, bulk01…; bulk00's name starts like a formula."""
    names = [f"bulk{n:02d}" for n in range(count)]
    for n, name in enumerate(names):
        first = "=HYPERLINK(\"http://evil.example\")" if n == 0 else "Bulk"
        desk.console.inner.add_user(ConsoleUser(id=f"u-9{n:03d}", username=name, email=f"{name}@example.com",
                                                first_name=first, last_name=f"User {n}"))
    return names


def test_many_users_get_every_result_in_the_csv(desk):
    names = _add_users(desk, reports.CSV_ABOVE_TARGETS + 5)
    draft = desk.ask("bob", "deactivate", *names, reason="the office closed")
    desk.console.fail_next("set_status", ConsoleRejected("-locked by the directory sync"))
    desk.send("bob", draft)  # a deactivation needs no second admin: confirming runs it
    desk.jobs.drain()
    ended = desk.get(draft)
    assert ended.state is RequestState.FAILED
    [failed] = [target for target in ended.targets if target.outcome is TargetOutcome.FAILED]
    assert failed.note == Note(Why.STEP_FAILED, step=StepKind.DEACTIVATE, cause=Why.REFUSED,
                               said="-locked by the directory sync")
    [finished] = desk.notifier.of(Finished)
    assert reports.wants_csv(finished.request)

    text = reports.results_csv(finished.request)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(row["username"] for row in rows) == names  # one row per user
    assert rows[0]["outcome"] == "failed" and "failed: -locked by the directory sync" in rows[0]["detail"]
    assert [row["outcome"] for row in rows[1:]] == ["done"] * (len(names) - 1)
    assert {row["deactivate"] for row in rows[1:]} == {"done"}
    [evil] = [row for row in rows if row["username"] == "bulk00"]
    assert evil["display name"] == "'=HYPERLINK(\"http://evil.example\") User 0"  # never run as a formula
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in csv.reader(io.StringIO(text)) for cell in row)
    statuses = [desk.console.inner.get_user(user_id=f"u-9{n:03d}").status for n in range(len(names))]
    assert statuses.count(UserStatus.INACTIVE) == len(names) - 1
