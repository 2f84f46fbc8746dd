"""How each user ended and how each step stands, in words, with what to do next.

The results (`result_text`, `target_text`, `cause_text`) are plain sentences, also written to the results CSV:
a Slack message puts them through markup.plain. `step_note_text` and `manual_instructions` are mrkdwn, with the
console's words already made inert."""

from __future__ import annotations

from bot.domain.directory import Device, Released
from bot.domain.lifecycle import Action, RequestState
from bot.domain.notes import Note, Why
from bot.domain.plan import StepKind, TargetPlan
from bot.domain.records import Target, TargetOutcome
from bot.slack.markup import plain
from bot.slack.messages.states import PAST_TENSE

RECHECK_HINT = "Then press *Re-check*: I read the user back and carry on with the remaining steps."
CHECK_FIRST = "Check the user in the Admin Console before doing anything else; earlier steps stay done."
ASK_AGAIN_STAGES = "The remaining stages were not run; ask again if they are still wanted."

_RESULTS = {
    Why.ALREADY_DELETED: "already deleted in the console by someone else before this stage; nothing more to do",
    Why.GONE: "the user no longer exists in the console; nothing was done",
    Why.CHANGED: "the user's record changed since the plan was approved; nothing was done. Ask again.",
    Why.NOT_THE_SAME_PERSON: ("the user's username or email changed since the approval, so the remaining stages "
                              "were not run. Ask again if they are still wanted."),
    Why.STOPPED: "stopped while a step waited to be done by hand; earlier steps stay done",
    Why.ATTESTED: "confirmed by the requester before approval",
    Why.DONE_BY_HAND: "done by hand in the console, verified by reading the user back",
    Why.NO_CHANGE: "the console accepted the step but reading the user back shows no change",
}


def step_name(kind: StepKind) -> str:
    return kind.value.replace("_", " ")


def cause_text(note: Note) -> str:
    """Why a step failed or could not be confirmed (what the journal says of that step)."""
    cause = note.cause if note.why in (Why.STEP_FAILED, Why.STEP_UNCONFIRMED) else note.why
    if cause is Why.READ_BACK_FAILED:
        return f"could not read the user back to confirm it ({note.said})"
    if cause is Why.DEACTIVATED_ONLY:
        return f"{note.said}. The user was deactivated, not deleted: delete the profile in the admin console"
    if cause is Why.NOT_THE_SAME_PERSON:
        return ("the user's username or email changed since the approval, so the rest of the plan was not run. "
                "Ask again if it is still wanted")
    if cause in _RESULTS:
        return _RESULTS[cause]
    return note.said


def result_text(action: Action, note: Note) -> str:
    """How one user ended, with what to do next."""
    if note.why is Why.COMPLETED:
        return f"{PAST_TENSE[action]} successfully"
    if note.why is Why.UNREADABLE:
        return (f"could not read the user before starting ({note.said}); nothing was changed. Ask again once the "
                "console answers")
    if note.why is Why.UNDONE:
        undone = ", ".join(step_name(kind) for kind in note.steps)
        return (f"the user no longer shows what earlier stages did ({undone}): someone changed it in the console "
                f"since. {ASK_AGAIN_STAGES}")
    if note.why is Why.STEP_UNCONFIRMED:
        return f"{step_name(note.step)} was sent to the console but {cause_text(note)}. {CHECK_FIRST}"
    if note.why is Why.STEP_FAILED:
        return (f"{step_name(note.step)} failed: {cause_text(note)}. Earlier steps stay done and nothing after it "
                "ran. Check the user in the Admin Console, then start a new request for them.")
    if note.why is Why.GAVE_UP:
        return (f"stopped after {note.count} unexpected errors on my side; steps already done stay done. Check "
                "these users in the admin console, and tell whoever runs the bot")
    return _RESULTS.get(note.why) or note.said


def released_by(target: Target) -> Released:
    """Everything the user's steps took from it, as the consoles said (the journal keeps it step by step)."""
    total = Released()
    for step in target.steps:
        if step.note is not None and step.note.released is not None:
            total += step.note.released
    return total


def phone_text(device: Device) -> str:
    return f"{device.model} ({device.id})" if device.id else device.model


RELEASED_PARTS = (  # (heading, what of Released, how one item reads): the CSV's columns, the results' phrases
    ("numbers released", lambda released: released.numbers, str),
    ("licenses released", lambda released: released.licenses, str),
    ("desk phones inactivated", lambda released: released.devices, phone_text),
    ("call queues left", lambda released: released.call_queues, str),
    ("ring groups left", lambda released: released.ring_groups, str),
)


def released_cells(released: Released) -> list[str]:
    """One text per RELEASED_PARTS heading, items separated by '; ' (a CSV row's cells)."""
    return ["; ".join(show(item) for item in part(released)) for _, part, show in RELEASED_PARTS]


def released_text(released: Released) -> str:
    """What a user's steps released, in one plain sentence ('' when nothing): what an admin acts on next."""
    phrases = []
    for heading, part, show in RELEASED_PARTS:
        if part(released):
            heading = "numbers released, ready to reassign" if heading == "numbers released" else heading
            phrases.append(f"{heading}: {', '.join(show(item) for item in part(released))}")
    return "; ".join(phrases)


def released_count(released: Released) -> str:
    """How much was released in all, e.g. '21 numbers, 21 licenses, 4 desk phones' ('' when nothing)."""
    counts = [(len(released.numbers), "number"), (len(released.licenses), "license"),
              (len(released.devices), "desk phone")]
    return ", ".join(f"{count} {noun}{'s' if count != 1 else ''}" for count, noun in counts if count)


NOT_STARTED = "not started"  # a user of a request that ended (cancelled, rejected, expired…) before it ran
NOT_CARRIED_ON = "not carried on: the request ended before its remaining steps; the steps done stay done"


def target_text(action: Action, target: Target, state: RequestState | None = None) -> str:
    """How the user stands: its result, or its outcome while it has none; a user still pending in a request that
    ended (`state` terminal) never will run: it says so instead of "pending"."""
    if target.note is not None:
        return result_text(action, target.note)
    if target.outcome is TargetOutcome.PENDING and state is not None and state.is_terminal:
        return NOT_CARRIED_ON if target.steps else NOT_STARTED
    return target.outcome.value


def step_note_text(plan: TargetPlan, note: Note | None) -> str:
    """What the journal says of one step ('' when nothing), as mrkdwn."""
    if note is None:
        return ""
    if note.why is Why.BY_HAND:
        return manual_instructions(plan, note)
    if note.why is Why.DONE:
        return plain(released_text(note.released or Released()))
    if note.why is Why.DONE_BY_HAND and note.released:
        return plain(f"{cause_text(note)}; {released_text(note.released)}")
    return plain(cause_text(note))


def manual_instructions(plan: TargetPlan, note: Note) -> str:
    """Exact instructions for doing one step in the console's own admin pages, then Re-check (mrkdwn)."""
    where = "8x8 Admin Console" if note.console == "8x8" else f"{plain(note.console)} admin console"
    opening = (f"In {where}, open *Users* and select {plain(plan.display_name)} (username {plain(plan.username)}, "
               f"{plain(plan.email)}).")
    kind = note.step
    if kind is StepKind.RELEASE_LICENSES:
        held = plain(", ".join(note.held)) or "all"
        what = (f"Remove every license and the extensions holding phone numbers ({held}), save, and wait until the "
                "console shows the user without them.")
    elif kind is StepKind.DEACTIVATE:
        what = "Set the status to *Inactive* and save."
    elif kind is StepKind.REACTIVATE:
        what = "Set the status to *Active* and save."
    elif kind is StepKind.RENAME:
        what = f"Change the user name from {plain(plan.username)} to {plain(plan.new_username or '')} and save."
    elif kind is StepKind.DELETE:
        what = "Delete the user (this removes the profile and its user ID for good)."
    else:
        what = "Do this step as the plan describes it."
    return f"{opening} {what} {RECHECK_HINT}"
