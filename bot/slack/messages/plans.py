"""What a plan means, in words: what each step does, what the user loses and keeps, what to know first."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.lifecycle import Action
from bot.domain.plan import PlanStep, StepKind, TargetPlan, device_in_use
from bot.domain.records import OffboardRequest, StepStatus, Target, TargetOutcome
from bot.slack.markup import mention, plain, span, utc

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
STAGED_RELEASE = "Release licenses and numbers ({held}), then verify"  # a stage of its own: not "first"
REMOVED_WHEN_STAGED = "Removed at the last stage, with the delete"
ON_APPROVAL = " (when approved; the request's message then shows each stage's date)"
STAGE_DONE_TITLE = "Stage done"
NEXT_STAGES = "Still to come (each re-checked against the console first; {cancel} stops them until then):\n{stages}"
STAGE_DONE = {StepKind.DEACTIVATE: "deactivated", StepKind.RELEASE_LICENSES: "licenses and numbers released"}


def moment_text(moment: datetime, tz: str) -> str:
    """A moment in the requester's time zone and in UTC, e.g. "2026-12-11 10:00 EST (2026-12-11 15:00 UTC)"."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone)
    if local.utcoffset() == timedelta(0) and tz in ("UTC", "Etc/UTC"):
        return utc(moment)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({utc(moment)})"


def step_text(plan: TargetPlan, step: PlanStep, *, start: datetime | None = None, tz: str = "UTC") -> str:
    """What one step of the plan does (for a staged delete, when: after the start, and once `start` is known,
    its date and time in the requester's zone `tz` and in UTC)."""
    if step.manual:
        return manual_step_text(step.kind, services_visible=plan.services_visible)
    text = _STEPS[step.kind](plan)
    if plan.staged and step.kind is StepKind.RELEASE_LICENSES:
        text = STAGED_RELEASE.format(held=", ".join(plan.held))
    return _staged(plan, step, text, start=start, tz=tz)


def _staged(plan: TargetPlan, step: PlanStep, text: str, *, start: datetime | None, tz: str) -> str:
    """A step's text, said for its stage in a staged delete (with its date once `start` is known)."""
    at = f", {moment_text(start + timedelta(seconds=step.after), tz)}" if start is not None and plan.staged else ""
    if step.after:
        return f"{span(step.after)} after the start{at}: {text[:1].lower()}{text[1:]}"
    if plan.staged and step.kind is StepKind.DEACTIVATE:
        return f"At the start{at or ON_APPROVAL}: {text[:1].lower()}{text[1:]}"
    return text


def removed_label(plan: TargetPlan) -> str:
    """How the plan introduces what the user loses: a staged delete says at which stage."""
    return REMOVED_WHEN_STAGED if plan.staged and plan.wording is None else "Removed"


def stage_standing(target: Target) -> str | None:
    """What the stages done so far did to a user still waiting for the next one, e.g. "deactivated (stage 1 of 3
    done)"; None when no stage of theirs is done, or their plan is not staged."""
    plan = target.plan
    done = [step.kind for step in target.steps if step.status is StepStatus.DONE and step.kind in STAGE_DONE]
    if not plan.staged or not done or target.outcome is not TargetOutcome.PENDING:
        return None
    stages = sorted({step.after for step in plan.steps if not step.manual})
    passed = {step.after for step in plan.steps if step.kind in done and not step.manual}
    return f"{', '.join(STAGE_DONE[kind] for kind in done)} (stage {len(passed)} of {len(stages)} done)"


def next_stages(request: OffboardRequest) -> list[str]:
    """The stages still to run, with their dates, e.g. "7 days after the start, 2026-12-11 10:00 EST (…): release
    licenses and numbers"; [] when the request is not staged or has not started."""
    if request.started_at is None:
        return []
    plan = request.targets[0].plan
    done = {step.kind for target in request.targets for step in target.steps if step.status is StepStatus.DONE}
    return [any_user_step_text(plan, step, start=request.started_at, tz=request.requester_tz) for step in plan.steps
            if not step.manual and step.after and step.kind not in done]


_ANY_USER = {  # what a step the console does says for any user, in a plan for many users grouped by their steps
    StepKind.RELEASE_LICENSES: "Release licenses and numbers, then verify",
    StepKind.DELETE: "Delete the user profile and its user ID (final, cannot be undone)",
    StepKind.DEACTIVATE: "Deactivate the user (the profile is kept)",
    StepKind.REACTIVATE: "Reactivate the user",
    StepKind.RENAME: "Change the username",
}
EACH_USER = "*Each user* (what they hold, what goes with them):"
LEFT_AUTOMATICALLY = "Call queues and ring groups are left automatically when a user is deleted."


def any_user_step_text(plan: TargetPlan, step: PlanStep, *, start: datetime | None = None, tz: str = "UTC") -> str:
    """What one step does, said for every user that has it (no user's licenses or numbers in it); a staged
    delete's with its date once `start` is known."""
    if step.manual:
        return manual_step_text(step.kind, services_visible=plan.services_visible)
    text = _ANY_USER[step.kind]
    return _staged(plan, step, text, start=start, tz=tz)


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


def step_texts(plan: TargetPlan, *, start: datetime | None = None, tz: str = "UTC") -> list[str]:
    """Every step of the plan, in order (as written, for a plan stored with its words); a staged delete's with
    their dates once `start` is known."""
    if plan.wording is not None:
        return list(plan.wording.steps)
    return [step_text(plan, step, start=start, tz=tz) for step in plan.steps]


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
    when = " at the last stage, with the delete" if plan.staged else ""
    for device in plan.devices:
        if device_in_use(device):
            lines.append(f"Desk phone {device.model} ({device.id}, {device.status}) will be inactivated{when}")
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
