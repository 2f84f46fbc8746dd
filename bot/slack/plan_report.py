"""Every user's plan as a CSV file, for the approval message of a request with many users: the message can show
only so many users within Slack's block limits, and the approvers must be able to read every user's plan before
they approve. Pure functions: the request in, text out; no Slack calls."""

from __future__ import annotations

import csv
import io

from bot.domain.lifecycle import RequestState
from bot.domain.records import OffboardRequest
from bot.slack.blocks.plans import DETAILED_UP_TO
from bot.slack.messages import plans
from bot.slack.reports import csv_cell

PLANS_FILE_TITLE = "Every user's plan in {request_id}"


def wants_plans_file(request: OffboardRequest) -> bool:
    """True when the request waits for approvers and its message shows them each user on one line, not in full."""
    return request.state is RequestState.AWAITING_APPROVAL and len(request.targets) > DETAILED_UP_TO


def has_plans_file(request: OffboardRequest) -> bool:
    """True when the request's message was posted awaiting approval with every user's plan in its thread."""
    return request.approvals_required > 0 and len(request.targets) > DETAILED_UP_TO


def plans_filename(request: OffboardRequest) -> str:
    return f"{request.id}-plans.csv"


def plans_csv(request: OffboardRequest) -> str:
    """One row per user, in the order named: who, the steps done by hand and by the bot, and what they hold.
    Every cell is quoted and guarded against formula injection (names and queues come from outside)."""
    head = ["username", "email", "display name", "by hand before approval", "steps", "licenses", "numbers",
            "desk phones", "call queues", "ring groups", "notes"]
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(head)
    for target in request.targets:
        plan = target.plan
        texts = plans.step_texts(plan)
        steps = list(zip(plan.steps, texts, strict=True))
        row = [plan.username, plan.email, plan.display_name,
               "; ".join(text for step, text in steps if step.manual),
               plans.steps_line([text for step, text in steps if not step.manual]),
               "; ".join(plan.licenses), "; ".join(plan.numbers),
               "; ".join(f"{device.model} ({device.id})" for device in plan.devices),
               "; ".join(plan.call_queues), "; ".join(plan.ring_groups), "; ".join(plans.notes(plan))]
        writer.writerow([csv_cell(text) for text in row])
    return out.getvalue()
