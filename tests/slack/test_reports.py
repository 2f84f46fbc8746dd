"""The results CSV of a big request, read back with the csv module, and read the ways a spreadsheet may read it."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.console.demo_data import DEMO_USERS
from bot.domain.directory import ConsoleUser
from bot.domain.lifecycle import Action, RequestState
from bot.domain.notes import Note, Why
from bot.domain.plan import StepKind, build_plan
from bot.domain.records import OffboardRequest, StepRecord, StepStatus, Target, TargetOutcome
from bot.slack import reports

USERS = {user.username: user for user in DEMO_USERS}
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _request(targets: list[Target], action: Action = Action.DELETE) -> OffboardRequest:
    return OffboardRequest(id="OB-ABCDEFGH", action=action, state=RequestState.FAILED, version=3,
                           requester_id="U0ALICE", requester_email="alice@example.com", reason="left",
                           approvals_required=1, created_at=NOW, expires_at=NOW + timedelta(hours=24),
                           origin_channel="C0GENERAL", targets=tuple(targets))


def _target(position: int, user: ConsoleUser, outcome: TargetOutcome, detail: str, *steps: tuple[StepKind, StepStatus],
            action: Action = Action.DELETE, new_username: str | None = None) -> Target:
    records = tuple(StepRecord(kind, status, None, NOW, NOW) for kind, status in steps)
    note = Note(Why.TEXT, said=detail) if detail else None  # the words as stored, shown as they are
    return Target(id=position, position=position, plan=build_plan(action, user, new_username=new_username),
                  outcome=outcome, note=note, steps=records)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_one_row_per_user_failures_first_with_each_steps_status():
    release, delete = StepKind.RELEASE_LICENSES, StepKind.DELETE
    request = _request([
        _target(0, USERS["jdoe"], TargetOutcome.DONE, "deleted successfully",
                (release, StepStatus.DONE), (delete, StepStatus.DONE)),
        _target(1, USERS["pnguyen"], TargetOutcome.FAILED, "delete failed: busy",
                (release, StepStatus.DONE), (delete, StepStatus.FAILED)),
        _target(2, USERS["msmith"], TargetOutcome.ABORTED, "changed since the plan was approved"),
    ])
    text = reports.results_csv(request)
    assert text.splitlines()[0] == ('"username","email","display name","outcome","detail","numbers released",'
                                    '"licenses released","desk phones inactivated","call queues left",'
                                    '"ring groups left","release licenses","contact center","delete"')
    rows = _rows(text)
    assert [row["username"] for row in rows] == ["pnguyen", "msmith", "jdoe"]
    pnguyen, msmith, jdoe = rows
    assert (pnguyen["outcome"], pnguyen["detail"]) == ("failed", "delete failed: busy")
    assert (pnguyen["release licenses"], pnguyen["delete"], pnguyen["contact center"]) == ("done", "failed", "")
    assert (msmith["release licenses"], msmith["contact center"], msmith["delete"]) == (reports.NOT_STARTED,) * 3
    assert (jdoe["email"], jdoe["display name"], jdoe["outcome"]) == ("jdoe@example.com", USERS["jdoe"].display_name,
                                                                      "done")


def test_cells_that_a_spreadsheet_would_run_are_quoted():
    evil = ConsoleUser(id="u-666", username="=HYPERLINK(\"http://x.test\")", email="@evil.example",
                       first_name="+SUM(A1)", last_name="")
    request = _request([_target(0, evil, TargetOutcome.FAILED, "-1+1 failed\n=again"),
                        _target(1, USERS["jdoe"], TargetOutcome.DONE, "deleted, a-ok")])
    row, plain = _rows(reports.results_csv(request))
    assert row["username"] == "'=HYPERLINK(\"http://x.test\")"
    assert (row["email"], row["display name"], row["detail"]) == ("'@evil.example", "'+SUM(A1)",
                                                                "'-1+1 failed\n'=again")
    assert (plain["username"], plain["detail"]) == ("jdoe", "deleted, a-ok")  # only a leading sign counts
    assert all(not cell.startswith(("=", "+", "-", "@")) for line in csv.reader(io.StringIO(reports.results_csv(
        request))) for cell in line)


def test_a_rename_also_says_the_new_username():
    request = _request([_target(0, USERS["jdoe"], TargetOutcome.DONE, "renamed successfully",
                                (StepKind.RENAME, StepStatus.DONE), action=Action.RENAME, new_username="jdoe.old")],
                       action=Action.RENAME)
    [row] = _rows(reports.results_csv(request))
    assert (row["username"], row["new username"], row["rename"]) == ("jdoe", "jdoe.old", "done")


def test_only_requests_with_more_than_the_threshold_get_a_file():
    one = _target(0, USERS["jdoe"], TargetOutcome.DONE, "")
    at_threshold = _request([replace(one, id=n, position=n) for n in range(reports.CSV_ABOVE_TARGETS)])
    assert not reports.wants_csv(at_threshold)
    assert reports.wants_csv(replace(at_threshold, targets=(*at_threshold.targets, one)))
    assert reports.csv_filename(at_threshold) == "OB-ABCDEFGH-results.csv"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SEPARATORS = (",", ";", "\t", "|")


def cells_a_spreadsheet_may_see(text: str, separator: str) -> list[str]:
    """Every cell a spreadsheet could see in the file when it splits on `separator`: honouring quotes (the csv
    module) and naively (split lines, then split on the separator), and each with the spaces and quotes it may
    trim."""
    honoured = [cell for row in csv.reader(io.StringIO(text, newline=""), delimiter=separator) for cell in row]
    naive = [cell for line in re.split(r"\r\n|\r|\n", text) for cell in line.split(separator)]
    return [*honoured, *naive, *(cell.lstrip(' "') for cell in honoured + naive)]


@pytest.mark.parametrize(("last_name", "written"), [
    ("Smith;=1+1;", "Smith;'=1+1;"),  # the finding: a spreadsheet splitting on ; saw =1+1
    ("Lee,@SUM(A1)", "Lee,'@SUM(A1)"),
    ("Ray\t+1", "Ray\t'+1"),
    ("Ng|-2", "Ng|'-2"),
    ("Ok; =1+1", "Ok; '=1+1"),  # after spaces it may trim
    ('Oh;"=1+1', 'Oh;"\'=1+1'),  # after a quote it may drop
    ("Line\n=1+1", "Line\n'=1+1"),  # after a line break, when quotes are not honoured
    ("a\t\t=1", "a\t'\t'=1"),  # a tab is a separator and a formula sign both
    ("Smith-Jones, a+b@x", "Smith-Jones, a+b@x"),  # signs inside words stay as they are
])
def test_a_formula_after_any_separator_is_defused(last_name, written):
    user = ConsoleUser(id="u-7", username="evil", email="evil@example.com", first_name="Jo", last_name=last_name)
    text = reports.results_csv(_request([_target(0, user, TargetOutcome.DONE, "")]))
    [row] = _rows(text)
    assert row["display name"] == f"Jo {written}"
    for separator in SEPARATORS:
        assert not [cell for cell in cells_a_spreadsheet_may_see(text, separator) if cell.startswith(FORMULA_STARTS)]

