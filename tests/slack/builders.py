"""Requests, plans and users as the Slack layer receives them, built in memory for the tests of its words and of
the notifier (no database, no service)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.console.demo_data import DEMO_USERS
from bot.domain.directory import ConsoleUser, Device, Extension, ExtensionType
from bot.domain.lifecycle import Action, RequestState
from bot.domain.notes import Note
from bot.domain.plan import TargetPlan, build_plan
from bot.domain.records import Approval, OffboardRequest, StepRecord, Target, TargetOutcome

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
REQUEST_ID = "OB-ABCDEFGH"
REQUESTER = "U0ALICE"
USERS = {user.username: user for user in DEMO_USERS}

# A user holding a license, a number and a desk phone, in a call queue and a ring group (8x8's jdoe).
JDOE = USERS["jdoe"]
# A user with nothing to release: no license, no number, no phone, no queue.
BARE = ConsoleUser(id="u-2000", username="bare", email="bare@example.com", first_name="Bea", last_name="Bare")
# A Contact Center agent, with a license and a number.
AGENT = USERS["msmith"]


def user(username: str = "jdoe", **changes: object) -> ConsoleUser:
    """A demo user, changed as told."""
    return replace(USERS[username], **changes) if changes else USERS[username]


def desk_user(*devices: Device, **changes: object) -> ConsoleUser:
    """A licensed user whose extension holds a number and these desk phones."""
    extension = Extension(number="1099", type=ExtensionType.UC, phone_numbers=("+14155550199",), devices=devices)
    return replace(BARE, licenses=("X Series X4",), extensions=(extension,), **changes)


def target(plan: TargetPlan, *, outcome: TargetOutcome = TargetOutcome.PENDING, note: Note | None = None,
           steps: tuple[StepRecord, ...] = (), position: int = 0) -> Target:
    return Target(id=position, position=position, plan=plan, outcome=outcome, note=note, steps=steps)


def request(*targets: Target, action: Action | None = None, state: RequestState = RequestState.AWAITING_APPROVAL,
            **changes: object) -> OffboardRequest:
    """A request for the targets (one pending delete of jdoe when none), as it stands in `state`."""
    targets = targets or (target(build_plan(Action.DELETE, JDOE)),)
    action = action or targets[0].plan.action
    targets = tuple(replace(one, id=position, position=position) for position, one in enumerate(targets))
    made = OffboardRequest(id=REQUEST_ID, action=action, state=state, version=1, requester_id=REQUESTER,
                           requester_email="alice@example.com", reason="left the company", approvals_required=1,
                           created_at=NOW, expires_at=NOW + timedelta(hours=24), origin_channel="C0GENERAL",
                           targets=targets)
    return replace(made, **changes)


def of_users(*usernames: str, action: Action = Action.DELETE, outcome: TargetOutcome = TargetOutcome.PENDING,
             note: Note | None = None, **changes: object) -> OffboardRequest:
    """A request naming the demo users, each with the same outcome and note."""
    targets = tuple(target(build_plan(action, USERS[name]), outcome=outcome, note=note) for name in usernames)
    return request(*targets, action=action, **changes)


def approved_by(*user_ids: str) -> tuple[Approval, ...]:
    return tuple(Approval(user_id, f"{user_id.lower()}@example.com", NOW) for user_id in user_ids)
