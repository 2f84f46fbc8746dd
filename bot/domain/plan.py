"""The plan for one target: which steps, in which order, and the facts of the user they act on.

A plan holds facts, never sentences: the Slack layer (bot/slack/messages) says what each step does and what
the user will lose or keep, from the action and these facts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain.directory import ConsoleUser, Device, Released, UserStatus, no_longer_held
from bot.domain.lifecycle import Action

if TYPE_CHECKING:
    from bot.domain.problems import Problem


class StepKind(StrEnum):
    RELEASE_LICENSES = "release_licenses"
    CONTACT_CENTER = "contact_center"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    RENAME = "rename"
    DELETE = "delete"


@dataclass(frozen=True)
class PlanStep:
    kind: StepKind
    manual: bool = False  # done by a person (attested), not through the console API
    after: int = 0  # staged offboarding: seconds after the run started before this step may run


@dataclass(frozen=True)
class Wording:
    """The words a plan stored before plans held only facts: shown as they were written."""

    steps: tuple[str, ...]
    notes: tuple[str, ...]
    removed: tuple[str, ...]
    kept: tuple[str, ...]


@dataclass(frozen=True)
class TargetPlan:
    """Everything the requester and the approvers agree to for one user."""

    action: Action
    user_id: str
    username: str
    email: str
    display_name: str
    fingerprint: str
    steps: tuple[PlanStep, ...]
    new_username: str | None = None
    licenses: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    devices: tuple[Device, ...] = ()
    call_queues: tuple[str, ...] = ()
    ring_groups: tuple[str, ...] = ()
    inactive: bool = False  # the user was deactivated already when the plan was made
    services_visible: bool = True  # False: the console shows no licenses, numbers or Contact Center (SCIM)
    slack_user_id: str | None = None  # the Slack member the requester named, when named as one (a mention)
    policy_admin: bool = False  # the user's email is an admin's in the policy: they may not approve this
    wording: Wording | None = None  # a plan stored with its words by an earlier version
    blockers: tuple[Problem, ...] = field(default=(), compare=False)

    @property
    def manual_steps(self) -> tuple[PlanStep, ...]:
        """Steps a person does by hand before approval and confirms with the attestation box."""
        return tuple(step for step in self.steps if step.manual)

    @property
    def staged(self) -> bool:
        """Its steps are spread over time (a staged delete)."""
        return any(step.after for step in self.steps)

    @property
    def held(self) -> tuple[str, ...]:
        """The licenses and phone numbers the user holds, as the plan was made."""
        return (*self.licenses, *self.numbers)

    def released_by_now(self, user: ConsoleUser | None) -> Released:
        """What the user, as read now (None: deleted), no longer holds of what it held when the plan was made: for
        a step done by hand, whose console call the bot never saw."""
        held = Released(self.numbers, self.licenses, self.devices, self.call_queues, self.ring_groups)
        return no_longer_held(held, user)

    def with_blockers(self, blockers: list[Problem]) -> TargetPlan:
        return replace(self, blockers=tuple(blockers))

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("blockers")
        if self.wording is None:
            data.pop("wording")
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TargetPlan:
        data = json.loads(text)
        if "wording" not in data and any("summary" in step for step in data["steps"]):
            data["wording"] = {"steps": [step["summary"] for step in data["steps"]], "notes": data.pop("notes", []),
                               "removed": data.pop("removed", []), "kept": data.pop("kept", [])}
        data.update(
            action=Action(data["action"]),
            steps=tuple(PlanStep(kind=StepKind(step["kind"]), manual=step["manual"], after=step.get("after", 0))
                        for step in data["steps"]),
            devices=tuple(Device(**device) for device in data.get("devices", ())),
            wording=_wording(data.get("wording")),
        )
        for key in ("licenses", "numbers", "call_queues", "ring_groups"):
            data[key] = tuple(data.get(key, ()))
        return cls(**data)


def _wording(data: dict | None) -> Wording | None:
    if data is None:
        return None
    return Wording(**{key: tuple(data.get(key, ())) for key in ("steps", "notes", "removed", "kept")})


def build_plan(action: Action, user: ConsoleUser, *, new_username: str | None = None,
               services_visible: bool = True, grace: timedelta | None = None,
               retain: timedelta | None = None) -> TargetPlan:
    """Return the plan for doing action to user, from its live console record.

    `services_visible` is False for consoles (SCIM) that show no licenses, numbers or Contact Center
    extensions: a delete then gets those steps as manual ones, confirmed by the requester.
    `retain` makes a delete staged, as the vendor recommends: deactivate at the start, release the licenses
    `grace` later (or with the delete), and delete `retain` after the start."""
    steps = _STEPS[action](user)
    if action is Action.DELETE and not services_visible:
        steps = [PlanStep(StepKind.RELEASE_LICENSES, manual=True), PlanStep(StepKind.CONTACT_CENTER, manual=True),
                 *steps]
    if action is Action.DELETE and retain is not None:
        steps = _staged(steps, user, grace=grace, retain=retain)
    return TargetPlan(
        action=action, user_id=user.id, username=user.username, email=user.email, display_name=user.display_name,
        fingerprint=user.fingerprint(), steps=tuple(steps), new_username=new_username,
        licenses=user.licenses, numbers=user.phone_numbers, devices=user.devices, call_queues=user.call_queues,
        ring_groups=user.ring_groups, inactive=user.status is UserStatus.INACTIVE, services_visible=services_visible,
    )


def _delete_steps(user: ConsoleUser) -> list[PlanStep]:
    steps = [PlanStep(StepKind.RELEASE_LICENSES)] if user.holds_numbers else []
    if user.is_contact_center_agent:
        steps.append(PlanStep(StepKind.CONTACT_CENTER, manual=True))
    return [*steps, PlanStep(StepKind.DELETE)]


_STEPS = {
    Action.DELETE: _delete_steps,
    Action.DEACTIVATE: lambda user: [PlanStep(StepKind.DEACTIVATE)],
    Action.REACTIVATE: lambda user: [PlanStep(StepKind.REACTIVATE)],
    Action.RENAME: lambda user: [PlanStep(StepKind.RENAME)],
}


def _staged(steps: list[PlanStep], user: ConsoleUser, *, grace: timedelta | None,
            retain: timedelta) -> list[PlanStep]:
    """Spread a delete's steps over time: deactivate now, release after the grace period, delete at the end."""
    release_after = grace if grace is not None else retain
    staged = [PlanStep(StepKind.DEACTIVATE)] if user.status is UserStatus.ACTIVE else []
    for step in steps:
        if step.manual:  # done by hand before approval (confirmed by the requester): no stage of its own
            staged.append(step)
            continue
        after = release_after if step.kind is StepKind.RELEASE_LICENSES else retain
        staged.append(PlanStep(step.kind, after=int(after.total_seconds())))
    return staged


def device_in_use(device: Device) -> bool:
    """True for a desk phone that deleting the user inactivates (one not inactive already)."""
    return device.in_use


def stages_of(plans: list[TargetPlan]) -> tuple[timedelta | None, timedelta | None]:
    """The (grace, retain) a staged delete's plans were made with; (None, None) for a delete at once. Every plan
    of a request shares them, but only a user holding numbers has the release step that shows the grace."""
    retain = max((step.after for plan in plans for step in plan.steps if step.kind is StepKind.DELETE), default=0)
    if not retain:
        return None, None
    releases = [step.after for plan in plans for step in plan.steps
                if step.kind is StepKind.RELEASE_LICENSES and not step.manual and step.after != retain]
    return (timedelta(seconds=releases[0]) if releases else None), timedelta(seconds=retain)
