"""The full results of a big request as a CSV file. Pure functions: the request in, text out; no Slack calls.

A results message can only list so many users before Slack's block limits cut it short, so a request with
many users also gets every row in a file that opens in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re

from bot.domain.lifecycle import Action
from bot.domain.plan import StepKind
from bot.domain.records import OffboardRequest, Target, TargetOutcome
from bot.slack.messages.notes import RELEASED_PARTS, released_by, released_cells, target_text

CSV_ABOVE_TARGETS = 20  # a request with more users than this gets its results as a CSV file too
NOT_STARTED = "not started"  # a planned step that never ran (the user failed or was stopped before it)
# A spreadsheet may run a cell that starts with = + - @ (or tab, CR: OWASP's list), and where a cell starts depends
# on how it reads the file: after any separator it may split on (, ; tab |), after a line break when it ignores
# quotes, after spaces or a quote it may trim. Wherever such a start could be, a quote goes in front of the sign.
_ARMED = re.compile(r"(^|[,;\t|\r\n])([ \"]*)(?=[=+\-@\t\r])")


def wants_csv(request: OffboardRequest) -> bool:
    """True when the request has too many users to read comfortably in a message."""
    return len(request.targets) > CSV_ABOVE_TARGETS


def csv_filename(request: OffboardRequest) -> str:
    return f"{request.id}-results.csv"


def results_csv(request: OffboardRequest) -> str:
    """One row per user, failures first like the message: who, how it ended, what its steps released (numbers to
    reassign, licenses, desk phones inactivated, queues and ring groups left, items separated by '; '), and each
    step's status.

    Step columns are the union of every user's plan steps; a step not in a user's plan is left empty.
    A rename also says the new username. Every cell is quoted and guarded against formula injection under any
    separator, since usernames, names and console error texts come from outside."""
    kinds = _step_kinds(request)
    renames = request.action is Action.RENAME
    head = ["username", "email", "display name", *(["new username"] if renames else []), "outcome", "detail",
            *(heading for heading, _, _ in RELEASED_PARTS), *(kind.value.replace("_", " ") for kind in kinds)]
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)  # a separator inside a cell stays inside, where quotes count
    writer.writerow([csv_cell(text) for text in head])
    for target in sorted(request.targets, key=lambda target: target.outcome is TargetOutcome.DONE):
        plan = target.plan
        row = [plan.username, plan.email, plan.display_name, *([plan.new_username or ""] if renames else []),
               target.outcome.value, target_text(request.action, target) if target.note else "",
               *released_cells(released_by(target)), *(_step_status(target, kind) for kind in kinds)]
        writer.writerow([csv_cell(text) for text in row])
    return out.getvalue()


def _step_kinds(request: OffboardRequest) -> list[StepKind]:
    """Every step any user's plan has, each new one placed right after the step it follows in its plan, so
    the columns read in plan order (a Contact Center step between licenses and delete)."""
    kinds: list[StepKind] = []
    for target in request.targets:
        at = 0
        for step in target.plan.steps:
            if step.kind not in kinds:
                kinds.insert(at, step.kind)
            at = kinds.index(step.kind) + 1
    return kinds


def _step_status(target: Target, kind: StepKind) -> str:
    record = target.step(kind)
    if record is not None:
        return record.status.value
    return NOT_STARTED if any(step.kind is kind for step in target.plan.steps) else ""


def csv_cell(text: str) -> str:
    """Keep a spreadsheet from running any part of the cell, however it splits the file: a formula sign at the
    start, or after a separator, line break, spaces or quotes, gets a quote in front (`Smith;'=1+1`)."""
    return _ARMED.sub(r"\1\2'", text)
