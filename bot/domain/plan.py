"""The plan for one target: what will be done to the user, in which order, and what it means."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from enum import StrEnum

from bot.domain.directory import ConsoleUser, Device, UserStatus
from bot.domain.lifecycle import Action
from bot.domain.schedule import span_text


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
    summary: str
    manual: bool = False  # done by a person (attested), not through the console API
    after: int = 0  # staged offboarding: seconds after the run started before this step may run


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
    removed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    new_username: str | None = None
    blockers: tuple[str, ...] = field(default=(), compare=False)

    @property
    def manual_steps(self) -> tuple[PlanStep, ...]:
        """Steps a person does by hand before approval and confirms with the attestation box."""
        return tuple(step for step in self.steps if step.manual)

    def with_blockers(self, blockers: list[str]) -> TargetPlan:
        return TargetPlan(**{**self.__dict__, "blockers": tuple(blockers)})

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("blockers")
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TargetPlan:
        data = json.loads(text)
        data["action"] = Action(data["action"])
        data["steps"] = tuple(
            PlanStep(kind=StepKind(step["kind"]), summary=step["summary"], manual=step["manual"],
                     after=step.get("after", 0))
            for step in data["steps"]
        )
        for key in ("removed", "kept", "notes"):
            data[key] = tuple(data[key])
        return cls(**data)


IN_USE_DEVICE_STATUSES = ("ACTIVE", "BINDED", "RESERVED")
REMOVED_ON_DELETE = ("voicemails", "faxes", "chat and SMS history")
KEPT_ON_DELETE = ("call recordings",)


def build_plan(action: Action, user: ConsoleUser, *, new_username: str | None = None,
               services_visible: bool = True, grace: timedelta | None = None,
               retain: timedelta | None = None) -> TargetPlan:
    """Return the plan for doing action to user, from its live console record.

    `services_visible` is False for consoles (SCIM) that show no licenses, numbers or Contact Center
    extensions: a delete then gets those steps as manual ones, confirmed by the requester.
    `retain` makes a delete staged, as the vendor recommends: deactivate at the start, release the licenses
    `grace` later (or with the delete), and delete `retain` after the start."""
    builders = {
        Action.DELETE: _delete_plan,
        Action.DEACTIVATE: _deactivate_plan,
        Action.REACTIVATE: _reactivate_plan,
        Action.RENAME: _rename_plan,
    }
    steps, removed, kept, notes = builders[action](user, new_username)
    if action is Action.DELETE and not services_visible:
        steps = [*_unseen_service_steps(), *steps]
        notes = [*notes, "This console shows no licenses, numbers or Contact Center details, so those steps are "
                 "done by hand in the admin console before approval"]
    if action is Action.DELETE and retain is not None:
        steps = _staged(steps, user, grace=grace, retain=retain)
        notes = [note for note in notes if note != "The user is already deactivated"]
    return TargetPlan(
        action=action,
        user_id=user.id,
        username=user.username,
        email=user.email,
        display_name=user.display_name,
        fingerprint=user.fingerprint(),
        steps=tuple(steps),
        removed=tuple(removed),
        kept=tuple(kept),
        notes=tuple(notes),
        new_username=new_username,
    )


def _delete_plan(user: ConsoleUser, _: str | None):
    steps = []
    if user.holds_numbers:
        held = ", ".join([*user.licenses, *user.phone_numbers])
        steps.append(PlanStep(StepKind.RELEASE_LICENSES, f"Release licenses and numbers first ({held}), then verify"))
    if user.is_contact_center_agent:
        steps.append(PlanStep(
            StepKind.CONTACT_CENTER,
            "Contact Center: remove the agent from every queue in Contact Center admin "
            "(a Contact Center admin cannot be deleted at all)",
            manual=True,
        ))
    steps.append(PlanStep(StepKind.DELETE, "Delete the user profile and its user ID (final, cannot be undone)"))
    notes = [_device_note(device) for device in user.devices]
    notes += _memberships(user, "will lose")
    if user.status is UserStatus.INACTIVE:
        notes.append("The user is already deactivated")
    return steps, REMOVED_ON_DELETE, KEPT_ON_DELETE, notes


def _staged(steps: list[PlanStep], user: ConsoleUser, *, grace: timedelta | None,
            retain: timedelta) -> list[PlanStep]:
    """Spread a delete's steps over time: deactivate now, release after the grace period, delete at the end."""
    release_after = grace if grace is not None else retain
    staged = []
    if user.status is UserStatus.ACTIVE:
        staged.append(PlanStep(StepKind.DEACTIVATE, "At the start: deactivate the user (the profile is kept)"))
    for step in steps:
        if step.manual:  # done by hand before approval (confirmed by the requester): no stage of its own
            staged.append(step)
            continue
        after = release_after if step.kind is StepKind.RELEASE_LICENSES else retain
        summary = step.summary[:1].lower() + step.summary[1:]
        staged.append(PlanStep(step.kind, f"{span_text(after)} after the start: {summary}", manual=step.manual,
                               after=int(after.total_seconds())))
    return staged


def _unseen_service_steps() -> list[PlanStep]:
    return [
        PlanStep(StepKind.RELEASE_LICENSES, "In the admin console, release the user's licenses and phone numbers "
                 "(this console's API does not show them)", manual=True),
        PlanStep(StepKind.CONTACT_CENTER, "Contact Center: if the user is an agent, remove them from every queue "
                 "in Contact Center admin (a Contact Center admin cannot be deleted at all)", manual=True),
    ]


def _device_note(device: Device) -> str:
    if device.status in IN_USE_DEVICE_STATUSES:
        return f"Desk phone {device.model} ({device.id}, {device.status}) will be inactivated"
    return f"Desk phone {device.model} ({device.id}) is {device.status} already"


def _deactivate_plan(user: ConsoleUser, _: str | None):
    steps = [PlanStep(StepKind.DEACTIVATE, "Deactivate the user (the profile is kept)")]
    notes = ["Licenses stay assigned; release them separately if they should be reused"] if user.licenses else []
    if user.devices:
        notes.append("A deactivated user with an active desk phone can still dial emergency numbers")
    return steps, (), ("the profile", "licenses and numbers", "voicemails and call recordings"), notes


def _reactivate_plan(user: ConsoleUser, _: str | None):
    steps = [PlanStep(StepKind.REACTIVATE, "Reactivate the user")]
    return steps, (), ("the profile as it is",), []


def _rename_plan(user: ConsoleUser, new_username: str | None):
    steps = [PlanStep(StepKind.RENAME, f"Change the username from {user.username} to {new_username}")]
    notes = ["The profile, its licenses and numbers stay as they are, ready to be reused"]
    return steps, (), ("the profile", "licenses and numbers"), notes


def _memberships(user: ConsoleUser, verb: str) -> list[str]:
    notes = []
    if user.call_queues:
        notes.append(f"Call queues it {verb}: {', '.join(user.call_queues)}")
    if user.ring_groups:
        notes.append(f"Ring groups it {verb}: {', '.join(user.ring_groups)}")
    return notes
