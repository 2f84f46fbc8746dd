"""What a plan means, in words: what each step does, what the user loses and keeps, what to know first."""

from __future__ import annotations

from bot.domain.lifecycle import Action
from bot.domain.plan import PlanStep, StepKind, TargetPlan, device_in_use
from bot.domain.records import OffboardRequest
from bot.slack.markup import mention, plain, span

REMOVED = {Action.DELETE: ("voicemails", "faxes", "chat and SMS history")}
KEPT = {
    Action.DELETE: ("call recordings",),
    Action.DEACTIVATE: ("the profile", "licenses and numbers", "voicemails and call recordings"),
    Action.REACTIVATE: ("the profile as it is",),
    Action.RENAME: ("the profile", "licenses and numbers"),
}
CONTACT_CENTER_ADMIN_CHECK = "check that they are not a Contact Center admin (8x8 cannot delete one)"
POLICY_ADMIN = "An admin in the policy: cannot approve or reject this request"
BY_HAND = "*By hand, before approval* (the bot cannot do these):"
BOT_DOES = "*Then, once approved, the bot does:*"
MANUAL_STEPS_BOX = "I did every step under _By hand, before approval_, in the admin console"
CHECKLIST_HEADING = "*Before you ask, tick every box:*"


def checklist_boxes(request: OffboardRequest) -> list[tuple[str, str]]:
    """The requester's boxes as (key, mrkdwn text): the policy's checklist, then the manual steps' box."""
    texts = [plain(box) for box in request.checklist] + ([MANUAL_STEPS_BOX] if request.needs_attestation else [])
    return list(zip(request.boxes, texts, strict=True))


def checked_by(request: OffboardRequest) -> str | None:
    """Who ticked which boxes before asking, once the request was sent (None before, or without boxes)."""
    ticked = [f"☑ {text}" for _, text in checklist_boxes(request)]
    if not request.attested_by or not ticked:
        return None
    return "\n".join([f"Checked by {mention(request.attested_by)} before asking:", *ticked])


def manual_step_text(kind: StepKind, *, services_visible: bool) -> str:
    """A step done by hand before approval, as the plan lists it."""
    if kind is StepKind.RELEASE_LICENSES:
        return ("In the admin console, release the user's licenses and phone numbers (this console's API does not "
                "show them)")
    if kind is not StepKind.CONTACT_CENTER:
        raise ValueError(f"no manual wording for {kind.value}")
    if services_visible:
        return ("In Contact Center admin: remove the agent from every Contact Center queue, and "
                f"{CONTACT_CENTER_ADMIN_CHECK}")
    return ("In Contact Center admin, if the user is an agent: remove them from every Contact Center queue, and "
            f"{CONTACT_CENTER_ADMIN_CHECK}")


_STEPS = {  # what a step the console does says, from the plan's facts
    StepKind.RELEASE_LICENSES: lambda plan: f"Release licenses and numbers first ({', '.join(plan.held)}), then verify",
    StepKind.DELETE: lambda plan: "Delete the user profile and its user ID (final, cannot be undone)",
    StepKind.DEACTIVATE: lambda plan: "Deactivate the user (the profile is kept)",
    StepKind.REACTIVATE: lambda plan: "Reactivate the user",
    StepKind.RENAME: lambda plan: f"Change the username from {plan.username} to {plan.new_username}",
}


def step_text(plan: TargetPlan, step: PlanStep) -> str:
    """What one step of the plan does (for a staged delete, when)."""
    if step.manual:
        return manual_step_text(step.kind, services_visible=plan.services_visible)
    text = _STEPS[step.kind](plan)
    if step.after:
        return f"{span(step.after)} after the start: {text[:1].lower()}{text[1:]}"
    if plan.staged and step.kind is StepKind.DEACTIVATE:
        return f"At the start: {text[:1].lower()}{text[1:]}"
    return text


_ANY_USER = {  # what a step the console does says for any user, in a plan for many users grouped by their steps
    StepKind.RELEASE_LICENSES: "Release licenses and numbers, then verify",
    StepKind.DELETE: "Delete the user profile and its user ID (final, cannot be undone)",
    StepKind.DEACTIVATE: "Deactivate the user (the profile is kept)",
    StepKind.REACTIVATE: "Reactivate the user",
    StepKind.RENAME: "Change the username",
}
EACH_USER = "*Each user* (what they hold, what goes with them):"
LEFT_AUTOMATICALLY = "Call queues and ring groups are left automatically when a user is deleted."


def any_user_step_text(plan: TargetPlan, step: PlanStep) -> str:
    """What one step does, said for every user that has it (no user's licenses or numbers in it)."""
    if step.manual:
        return manual_step_text(step.kind, services_visible=plan.services_visible)
    text = _ANY_USER[step.kind]
    if step.after:
        return f"{span(step.after)} after the start: {text[:1].lower()}{text[1:]}"
    if plan.staged and step.kind is StepKind.DEACTIVATE:
        return f"At the start: {text[:1].lower()}{text[1:]}"
    return text


def steps_line(texts: list[str]) -> str:
    """Steps in order on one line: "Release licenses …, then verify → delete the user profile …"."""
    return " → ".join(text if number == 0 else text[:1].lower() + text[1:] for number, text in enumerate(texts))


def held_detail(plan: TargetPlan) -> str:
    """A user's telephony detail on one line: licenses, numbers, desk phones, call queues, ring groups."""
    parts = []
    if plan.licenses:
        parts.append("licenses " + ", ".join(plan.licenses))
    if plan.numbers:
        parts.append("numbers " + ", ".join(plan.numbers))
    for device in plan.devices:
        state = "" if device_in_use(device) else f", {device.status} already"
        parts.append(f"desk phone {device.model} ({device.id}{state})")
    if plan.call_queues:
        parts.append("call queues " + ", ".join(plan.call_queues))
    if plan.ring_groups:
        parts.append("ring groups " + ", ".join(plan.ring_groups))
    if plan.inactive and not plan.staged and plan.action is Action.DELETE:
        parts.append("already deactivated")
    if plan.policy_admin:
        parts.append(POLICY_ADMIN[:1].lower() + POLICY_ADMIN[1:])
    if not plan.services_visible:
        parts.append("licenses, numbers and Contact Center not shown by this console")
    return " · ".join(parts) or "no licenses, numbers or desk phones"


def step_texts(plan: TargetPlan) -> list[str]:
    """Every step of the plan, in order (as written, for a plan stored with its words)."""
    if plan.wording is not None:
        return list(plan.wording.steps)
    return [step_text(plan, step) for step in plan.steps]


def notes(plan: TargetPlan) -> list[str]:
    """What the approvers should know besides the steps: desk phones, queues, licenses left, and so on."""
    if plan.wording is not None:
        return list(plan.wording.notes)
    return ([POLICY_ADMIN] if plan.policy_admin else []) + _action_notes(plan)


def _action_notes(plan: TargetPlan) -> list[str]:
    if plan.action is Action.DELETE:
        return _delete_notes(plan)
    if plan.action is Action.DEACTIVATE:
        lines = ["Licenses stay assigned; release them separately if they should be reused"] if plan.licenses else []
        if plan.devices:
            lines.append("A deactivated user with an active desk phone can still dial emergency numbers")
        return lines
    if plan.action is Action.RENAME:
        return ["The profile, its licenses and numbers stay as they are, ready to be reused"]
    return []


def _delete_notes(plan: TargetPlan) -> list[str]:
    lines = []
    for device in plan.devices:
        if device_in_use(device):
            lines.append(f"Desk phone {device.model} ({device.id}, {device.status}) will be inactivated")
        else:
            lines.append(f"Desk phone {device.model} ({device.id}) is {device.status} already")
    if plan.call_queues:
        lines.append(f"Call queues it leaves automatically when deleted: {', '.join(plan.call_queues)}")
    if plan.ring_groups:
        lines.append(f"Ring groups it leaves automatically when deleted: {', '.join(plan.ring_groups)}")
    if plan.inactive and not plan.staged:
        lines.append("The user is already deactivated")
    if not plan.services_visible:
        lines.append("This console shows no licenses, numbers or Contact Center details, so those steps are done "
                     "by hand in the admin console before approval")
    return lines


def removed(plan: TargetPlan) -> tuple[str, ...]:
    """What the user loses for good."""
    return plan.wording.removed if plan.wording is not None else REMOVED.get(plan.action, ())


def kept(plan: TargetPlan) -> tuple[str, ...]:
    """What stays."""
    return plan.wording.kept if plan.wording is not None else KEPT[plan.action]
