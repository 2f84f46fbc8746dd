"""How each user ended and how each step stands, in words, with what to do next: the sentences the step runner
wrote before it spoke in notes."""

from __future__ import annotations

import pytest

from bot.domain.directory import Device, Released
from bot.domain.lifecycle import Action, RequestState
from bot.domain.notes import Note, Why
from bot.domain.plan import StepKind, build_plan
from bot.domain.records import TargetOutcome
from bot.slack.messages.notes import (
    ASK_AGAIN_STAGES,
    CHECK_FIRST,
    RECHECK_HINT,
    cause_text,
    manual_instructions,
    result_text,
    step_name,
    step_note_text,
    target_text,
)
from tests.slack.builders import JDOE, target

PLAN = build_plan(Action.DELETE, JDOE)
RENAME_PLAN = build_plan(Action.RENAME, JDOE, new_username="jdoe.old")
REFUSED = "HTTP 409: the user is a Contact Center admin (console response id r-1)"
ONLY_DEACTIVATED = ("the console only deactivated user u-1001 instead of deleting it; the profile still exists "
                    "(console response id r-2)")
FAILED_TAIL = ("Earlier steps stay done and nothing after it ran. Check the user in the Admin Console, then start a "
               "new request for them.")
UNCONFIRMED_TAIL = "Check the user in the Admin Console before doing anything else; earlier steps stay done."


# -- how a user ended --------------------------------------------------------------------------------------

RESULTS = {  # every way a user can end, with its words
    Why.COMPLETED: (Note(Why.COMPLETED), "deleted successfully"),
    Why.ALREADY_DELETED: (Note(Why.ALREADY_DELETED),
                          "already deleted in the console by someone else before this stage; nothing more to do"),
    Why.UNREADABLE: (Note(Why.UNREADABLE, said="the console did not answer (HTTP 503)"),
                     "could not read the user before starting (the console did not answer (HTTP 503)); nothing was "
                     "changed. Ask again once the console answers"),
    Why.GONE: (Note(Why.GONE), "the user no longer exists in the console; nothing was done"),
    Why.CHANGED: (Note(Why.CHANGED), "the user's record changed since the plan was approved; nothing was done. Ask "
                                     "again."),
    Why.NOT_THE_SAME_PERSON: (Note(Why.NOT_THE_SAME_PERSON),
                              "the user's username or email changed since the approval, so the remaining stages were "
                              "not run. Ask again if they are still wanted."),
    Why.UNDONE: (Note(Why.UNDONE, steps=(StepKind.DEACTIVATE, StepKind.RELEASE_LICENSES)),
                 "the user no longer shows what earlier stages did (deactivate, release licenses): someone changed it "
                 "in the console since. The remaining stages were not run; ask again if they are still wanted."),
    Why.STEP_FAILED: (Note(Why.STEP_FAILED, step=StepKind.DELETE, cause=Why.REFUSED, said=REFUSED),
                      f"delete failed: {REFUSED}. {FAILED_TAIL}"),
    Why.STEP_UNCONFIRMED: (Note(Why.STEP_UNCONFIRMED, step=StepKind.DELETE, cause=Why.UNSURE,
                                said="the console did not say whether it happened (console response id r-3)"),
                           "delete was sent to the console but the console did not say whether it happened (console "
                           f"response id r-3). {UNCONFIRMED_TAIL}"),
    Why.STOPPED: (Note(Why.STOPPED), "stopped while a step waited to be done by hand; earlier steps stay done"),
    Why.GAVE_UP: (Note(Why.GAVE_UP, count=3),
                  "stopped after 3 unexpected errors on my side; steps already done stay done. Check these users in "
                  "the admin console, and tell whoever runs the bot"),
    Why.TEXT: (Note(Why.TEXT, said="delete failed: busy"), "delete failed: busy"),  # stored as words before
}
JOURNAL = {  # how a step stands in the journal
    Why.ATTESTED: (Note(Why.ATTESTED), "confirmed by the requester before approval"),
    Why.BY_HAND: (Note(Why.BY_HAND, step=StepKind.DEACTIVATE, console="8x8"),
                  "In 8x8 Admin Console, open *Users* and select John Doe (username jdoe, jdoe@example.com). Set the "
                  "status to *Inactive* and save. Then press *Re-check*: I read the user back and carry on with the "
                  "remaining steps."),
    Why.DONE_BY_HAND: (Note(Why.DONE_BY_HAND), "done by hand in the console, verified by reading the user back"),
    Why.DONE: (Note(Why.DONE, released=Released(numbers=("+14155550101",), licenses=("X Series X4",),
                                                devices=(Device("dev-1", "Poly VVX 450"),),
                                                call_queues=("Support Tier 1",), ring_groups=("Front Desk",))),
               "numbers released, ready to reassign: +14155550101; licenses released: X Series X4; desk phones "
               "inactivated: Poly VVX 450 (dev-1); call queues left: Support Tier 1; ring groups left: Front Desk"),
}
CAUSES = {  # why a step failed or could not be confirmed
    Why.REFUSED: (Note(Why.REFUSED, said=REFUSED), REFUSED),
    Why.DEACTIVATED_ONLY: (Note(Why.DEACTIVATED_ONLY, said=ONLY_DEACTIVATED),
                           f"{ONLY_DEACTIVATED}. The user was deactivated, not deleted: delete the profile in the "
                           "admin console"),
    Why.NO_CHANGE: (Note(Why.NO_CHANGE), "the console accepted the step but reading the user back shows no change"),
    Why.READ_BACK_FAILED: (Note(Why.READ_BACK_FAILED, said="timed out"),
                           "could not read the user back to confirm it (timed out)"),
    Why.UNSURE: (Note(Why.UNSURE, said="no answer in time (console response id r-4)"),
                 "no answer in time (console response id r-4)"),
}


def test_every_why_has_words_here():
    assert {*RESULTS, *JOURNAL, *CAUSES} == set(Why)
    assert not set(RESULTS) & set(JOURNAL) and not set(RESULTS) & set(CAUSES) and not set(JOURNAL) & set(CAUSES)


@pytest.mark.parametrize("why", list(RESULTS))
def test_how_a_user_ended_in_words(why):
    note, words = RESULTS[why]
    assert result_text(Action.DELETE, note) == words
    assert result_text(Action.DELETE, Note.from_json(note.to_json())) == words  # as stored


@pytest.mark.parametrize(("action", "words"), [
    (Action.DELETE, "deleted successfully"), (Action.DEACTIVATE, "deactivated successfully"),
    (Action.REACTIVATE, "reactivated successfully"), (Action.RENAME, "renamed successfully"),
])
def test_a_completed_user_in_the_past_tense_of_its_action(action, words):
    assert result_text(action, Note(Why.COMPLETED)) == words


@pytest.mark.parametrize(("cause", "said", "words"), [
    (Why.REFUSED, REFUSED, f"{REFUSED}"),
    (Why.DEACTIVATED_ONLY, ONLY_DEACTIVATED,
     f"{ONLY_DEACTIVATED}. The user was deactivated, not deleted: delete the profile in the admin console"),
    (Why.NO_CHANGE, "", "the console accepted the step but reading the user back shows no change"),
    (Why.NOT_THE_SAME_PERSON, "", "the user's username or email changed since the approval, so the rest of the "
                                  "plan was not run. Ask again if it is still wanted"),
])
def test_a_failed_step_says_what_failed_why_and_what_to_do(cause, said, words):
    note = Note(Why.STEP_FAILED, step=StepKind.DELETE, cause=cause, said=said)
    assert result_text(Action.DELETE, note) == f"delete failed: {words}. {FAILED_TAIL}"


def test_a_step_sent_but_not_confirmed_says_to_check_first():
    note = Note(Why.STEP_UNCONFIRMED, step=StepKind.RENAME, cause=Why.READ_BACK_FAILED, said="timed out")
    assert result_text(Action.RENAME, note) == (
        "rename was sent to the console but could not read the user back to confirm it (timed out). Check the user "
        "in the Admin Console before doing anything else; earlier steps stay done.")
    release = Note(Why.STEP_FAILED, step=StepKind.RELEASE_LICENSES, cause=Why.NO_CHANGE)
    assert result_text(Action.DELETE, release).startswith("release licenses failed: the console accepted the step")


def test_the_shared_tails():
    assert CHECK_FIRST == UNCONFIRMED_TAIL
    assert ASK_AGAIN_STAGES == "The remaining stages were not run; ask again if they are still wanted."
    assert RECHECK_HINT == "Then press *Re-check*: I read the user back and carry on with the remaining steps."


def test_a_user_without_a_result_shows_its_outcome():
    assert target_text(Action.DELETE, target(PLAN)) == "pending"
    assert target_text(Action.DELETE, target(PLAN), RequestState.AWAITING_APPROVAL) == "pending"
    assert target_text(Action.DELETE, target(PLAN), RequestState.CANCELLED) == "not started"
    assert target_text(Action.DELETE, target(PLAN, outcome=TargetOutcome.FAILED)) == "failed"
    done = target(PLAN, outcome=TargetOutcome.DONE, note=Note(Why.COMPLETED))
    assert target_text(Action.DELETE, done) == "deleted successfully"


# -- how a step stands -------------------------------------------------------------------------------------

@pytest.mark.parametrize("why", list(JOURNAL))
def test_how_a_step_stands_in_words(why):
    note, words = JOURNAL[why]
    assert step_note_text(PLAN, note) == words


@pytest.mark.parametrize("why", list(CAUSES))
def test_why_a_step_failed_in_the_journal(why):
    note, words = CAUSES[why]
    assert cause_text(note) == words
    assert step_note_text(PLAN, note) == words


def test_a_step_with_no_note_says_nothing():
    assert step_note_text(PLAN, None) == ""
    assert step_note_text(PLAN, Note(Why.DONE)) == ""  # done, and it released nothing


def test_what_a_step_released_survives_the_journal():
    note = JOURNAL[Why.DONE][0]
    assert Note.from_json(note.to_json()) == note


def test_a_step_that_failed_because_it_was_someone_else_now():
    assert step_note_text(PLAN, Note(Why.NOT_THE_SAME_PERSON)) == (
        "the user's username or email changed since the approval, so the rest of the plan was not run. Ask again "
        "if it is still wanted")


def test_a_step_note_of_an_earlier_version_is_shown_as_written():
    legacy = Note.from_json("could not read the user back to confirm it (timeout)")
    assert legacy == Note(Why.TEXT, said="could not read the user back to confirm it (timeout)")
    assert step_note_text(PLAN, legacy) == "could not read the user back to confirm it (timeout)"
    assert result_text(Action.DELETE, Note.from_json("deleted successfully")) == "deleted successfully"


def test_every_step_has_a_name():
    assert {kind: step_name(kind) for kind in StepKind} == {
        StepKind.RELEASE_LICENSES: "release licenses", StepKind.CONTACT_CENTER: "contact center",
        StepKind.DEACTIVATE: "deactivate", StepKind.REACTIVATE: "reactivate", StepKind.RENAME: "rename",
        StepKind.DELETE: "delete"}


# -- doing a step by hand ----------------------------------------------------------------------------------

OPENING = "open *Users* and select John Doe (username jdoe, jdoe@example.com)."
BY_HAND = {  # what to do in the console's own pages, for every kind of step
    StepKind.RELEASE_LICENSES: ("Remove every license and the extensions holding phone numbers (X Series X4, "
                                "+14155550101), save, and wait until the console shows the user without them."),
    StepKind.CONTACT_CENTER: "Do this step as the plan describes it.",
    StepKind.DEACTIVATE: "Set the status to *Inactive* and save.",
    StepKind.REACTIVATE: "Set the status to *Active* and save.",
    StepKind.RENAME: "Change the user name from jdoe to jdoe.old and save.",
    StepKind.DELETE: "Delete the user (this removes the profile and its user ID for good).",
}


@pytest.mark.parametrize("kind", list(StepKind))
@pytest.mark.parametrize(("console", "where"), [("8x8", "8x8 Admin Console"), ("SCIM", "SCIM admin console"),
                                                ("local", "local admin console")])
def test_instructions_for_doing_every_kind_of_step_by_hand(kind, console, where):
    note = Note(Why.BY_HAND, step=kind, console=console, held=("X Series X4", "+14155550101"))
    words = f"In {where}, {OPENING} {BY_HAND[kind]} {RECHECK_HINT}"
    assert manual_instructions(RENAME_PLAN, note) == words
    assert step_note_text(RENAME_PLAN, Note.from_json(note.to_json())) == words


def test_releasing_by_hand_with_nothing_read_says_all():
    note = Note(Why.BY_HAND, step=StepKind.RELEASE_LICENSES, console="8x8")
    assert manual_instructions(PLAN, note) == (
        f"In 8x8 Admin Console, {OPENING} Remove every license and the extensions holding phone numbers (all), save, "
        f"and wait until the console shows the user without them. {RECHECK_HINT}")
