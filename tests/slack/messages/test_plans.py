"""What a plan means, in words: each step, what the approvers should know, what the user loses and keeps; and a
plan an earlier version stored with its words, shown as it was written."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.directory import Device, UserStatus
from bot.domain.lifecycle import Action
from bot.domain.plan import PlanStep, StepKind, TargetPlan, Wording, build_plan
from bot.slack.messages.plans import (
    CONTACT_CENTER_ADMIN_CHECK,
    KEPT,
    POLICY_ADMIN,
    REMOVED,
    kept,
    manual_step_text,
    notes,
    removed,
    step_text,
    step_texts,
)
from tests.slack.builders import AGENT, BARE, JDOE, desk_user, user

RELEASE_JDOE = "Release licenses and numbers first (X Series X4, +14155550101), then verify"
DELETE = "Delete the user profile and its user ID (final, cannot be undone)"
DEACTIVATE = "Deactivate the user (the profile is kept)"
CONTACT_CENTER = ("In Contact Center admin: remove the agent from every Contact Center queue, and check that they "
                  "are not a Contact Center admin (8x8 cannot delete one)")
RELEASE_BY_HAND = ("In the admin console, release the user's licenses and phone numbers (this console's API does not "
                   "show them)")
CONTACT_CENTER_BY_HAND = ("In Contact Center admin, if the user is an agent: remove them from every Contact Center "
                          "queue, and check that they are not a Contact Center admin (8x8 cannot delete one)")
UNSEEN = ("This console shows no licenses, numbers or Contact Center details, so those steps are done by hand in the "
          "admin console before approval")
QUEUES_JDOE = "Call queues it leaves automatically when deleted: Support Tier 1"
GROUPS_JDOE = "Ring groups it leaves automatically when deleted: Support Overflow"
STAGE_ONE = ("At the start (when approved; the request's message then shows each stage's date): deactivate the user "
             "(the profile is kept)")
WEEK, MONTH = timedelta(days=7), timedelta(days=30)


def _texts(plan: TargetPlan) -> list[str]:
    assert step_texts(plan) == [step_text(plan, step) for step in plan.steps]
    return step_texts(plan)


# -- each step -------------------------------------------------------------------------------------------

STEP_WORDS = {  # every kind of step as a plan made now has it, at once
    StepKind.RELEASE_LICENSES: (build_plan(Action.DELETE, JDOE), RELEASE_JDOE),
    StepKind.CONTACT_CENTER: (build_plan(Action.DELETE, AGENT), CONTACT_CENTER),
    StepKind.DEACTIVATE: (build_plan(Action.DEACTIVATE, JDOE), DEACTIVATE),
    StepKind.REACTIVATE: (build_plan(Action.REACTIVATE, user("tinactive")), "Reactivate the user"),
    StepKind.RENAME: (build_plan(Action.RENAME, JDOE, new_username="jdoe.old"),
                      "Change the username from jdoe to jdoe.old"),
    StepKind.DELETE: (build_plan(Action.DELETE, BARE), DELETE),
}


@pytest.mark.parametrize("kind", list(StepKind))
def test_every_kind_of_step_in_words(kind):
    plan, words = STEP_WORDS[kind]
    [step] = [step for step in plan.steps if step.kind is kind]
    assert step_text(plan, step) == words


def test_a_delete_releases_first_and_asks_for_the_contact_center_by_hand():
    assert _texts(build_plan(Action.DELETE, JDOE)) == [RELEASE_JDOE, DELETE]
    assert _texts(build_plan(Action.DELETE, AGENT)) == [
        "Release licenses and numbers first (X Series X6, Contact Center Agent, +14155550102), then verify",
        CONTACT_CENTER, DELETE]
    assert _texts(build_plan(Action.DELETE, BARE)) == [DELETE]


def test_a_console_that_shows_no_services_has_them_done_by_hand():
    assert _texts(build_plan(Action.DELETE, BARE, services_visible=False)) == [
        RELEASE_BY_HAND, CONTACT_CENTER_BY_HAND, DELETE]


@pytest.mark.parametrize(("kind", "visible", "words"), [
    (StepKind.RELEASE_LICENSES, False, RELEASE_BY_HAND),
    (StepKind.RELEASE_LICENSES, True, RELEASE_BY_HAND),
    (StepKind.CONTACT_CENTER, True, CONTACT_CENTER),
    (StepKind.CONTACT_CENTER, False, CONTACT_CENTER_BY_HAND),
])
def test_manual_steps_in_words(kind, visible, words):
    assert manual_step_text(kind, services_visible=visible) == words
    assert (CONTACT_CENTER_ADMIN_CHECK in words) is (kind is StepKind.CONTACT_CENTER)


def test_a_staged_delete_says_when_each_stage_runs():
    plan = build_plan(Action.DELETE, JDOE, grace=WEEK, retain=MONTH)
    assert _texts(plan) == [
        STAGE_ONE,
        "7 days after the start: release licenses and numbers (X Series X4, +14155550101), then verify",
        "30 days after the start: delete the user profile and its user ID (final, cannot be undone)",
    ]


def test_a_staged_delete_that_started_says_each_stages_date_in_the_requesters_zone_and_utc():
    plan = build_plan(Action.DELETE, JDOE, grace=WEEK, retain=MONTH)
    start = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    assert step_texts(plan, start=start, tz="Europe/Paris") == [
        "At the start, 2026-12-04 16:00 CET (2026-12-04 15:00 UTC): deactivate the user (the profile is kept)",
        "7 days after the start, 2026-12-11 16:00 CET (2026-12-11 15:00 UTC): release licenses and numbers "
        "(X Series X4, +14155550101), then verify",
        "30 days after the start, 2027-01-03 16:00 CET (2027-01-03 15:00 UTC): delete the user profile and its user "
        "ID (final, cannot be undone)",
    ]
    assert step_texts(plan, start=start)[0] == (
        "At the start, 2026-12-04 15:00 UTC: deactivate the user (the profile is kept)")
    assert notes(plan)[0] == ("Desk phone Poly VVX 450 (dev-jdoe-1, ACTIVE) will be inactivated at the last stage, "
                              "with the delete")


def test_a_staged_delete_without_a_grace_period_releases_with_the_delete():
    plan = build_plan(Action.DELETE, JDOE, retain=timedelta(hours=36))
    assert _texts(plan) == [
        STAGE_ONE,
        "1 day 12 hours after the start: release licenses and numbers (X Series X4, +14155550101), then verify",
        "1 day 12 hours after the start: delete the user profile and its user ID (final, cannot be undone)",
    ]


def test_a_staged_delete_keeps_its_manual_steps_before_approval():
    assert _texts(build_plan(Action.DELETE, AGENT, grace=WEEK, retain=MONTH)) == [
        STAGE_ONE,
        "7 days after the start: release licenses and numbers (X Series X6, Contact Center Agent, "
        "+14155550102), then verify",
        CONTACT_CENTER,
        "30 days after the start: delete the user profile and its user ID (final, cannot be undone)",
    ]
    assert _texts(build_plan(Action.DELETE, BARE, services_visible=False, retain=MONTH)) == [
        STAGE_ONE, RELEASE_BY_HAND, CONTACT_CENTER_BY_HAND,
        "30 days after the start: delete the user profile and its user ID (final, cannot be undone)",
    ]


def test_a_staged_delete_of_a_deactivated_user_has_no_first_stage():
    assert _texts(build_plan(Action.DELETE, user("tinactive"), retain=MONTH)) == [
        "30 days after the start: delete the user profile and its user ID (final, cannot be undone)"]


def test_a_step_that_waits_says_how_long_even_in_a_plan_made_by_hand():
    plan = build_plan(Action.DELETE, BARE)
    assert step_text(plan, PlanStep(StepKind.DELETE, after=90)) == (
        "1 minute 30 seconds after the start: delete the user profile and its user ID (final, cannot be undone)")


# -- what the approvers should know, what goes, what stays ------------------------------------------------

def test_what_a_delete_means():
    plan = build_plan(Action.DELETE, JDOE)
    assert notes(plan) == ["Desk phone Poly VVX 450 (dev-jdoe-1, ACTIVE) will be inactivated",
                           QUEUES_JDOE, GROUPS_JDOE]
    assert removed(plan) == ("voicemails", "faxes", "chat and SMS history")
    assert kept(plan) == ("call recordings",)


def test_a_plan_says_first_when_its_user_is_an_admin_in_the_policy():
    plan = replace(build_plan(Action.DEACTIVATE, BARE), policy_admin=True)
    assert notes(plan) == [POLICY_ADMIN] == ["An admin in the policy: cannot approve or reject this request"]
    assert notes(replace(plan, policy_admin=False)) == []


def test_a_delete_says_which_desk_phones_it_inactivates():
    phones = desk_user(Device("dev-1", "Poly VVX 450", "BINDED"), Device("dev-2", "Yealink T54W", "RESERVED"),
                       Device("dev-3", "Yealink W73H", "INACTIVE"), Device("dev-4", "Poly VVX 250", "UNASSIGNED"))
    assert notes(build_plan(Action.DELETE, phones)) == [
        "Desk phone Poly VVX 450 (dev-1, BINDED) will be inactivated",
        "Desk phone Yealink T54W (dev-2, RESERVED) will be inactivated",
        "Desk phone Yealink W73H (dev-3) is INACTIVE already",
        "Desk phone Poly VVX 250 (dev-4) is UNASSIGNED already",
    ]


def test_a_delete_of_a_user_with_several_queues_and_groups():
    assert notes(build_plan(Action.DELETE, AGENT))[1:] == [
        "Call queues it leaves automatically when deleted: Support Tier 1, Support Tier 2"]
    assert notes(build_plan(Action.DELETE, user("kwilliams")))[1:] == [
        "Ring groups it leaves automatically when deleted: Front Desk, Sales East, Sales West, After Hours"]


def test_a_delete_of_a_deactivated_user_says_so_unless_staged():
    inactive = user("tinactive")
    assert notes(build_plan(Action.DELETE, inactive)) == ["The user is already deactivated"]
    assert notes(build_plan(Action.DELETE, inactive, retain=MONTH)) == []


def test_a_delete_on_a_console_that_shows_no_services_says_what_is_done_by_hand():
    scim_user = user("jdoe", status=UserStatus.INACTIVE)
    assert notes(build_plan(Action.DELETE, scim_user, services_visible=False)) == [
        "Desk phone Poly VVX 450 (dev-jdoe-1, ACTIVE) will be inactivated",
        QUEUES_JDOE, GROUPS_JDOE,
        "The user is already deactivated", UNSEEN]
    assert notes(build_plan(Action.DELETE, BARE, services_visible=False)) == [UNSEEN]


def test_what_a_deactivation_means():
    plan = build_plan(Action.DEACTIVATE, JDOE)
    assert notes(plan) == ["Licenses stay assigned; release them separately if they should be reused",
                           "A deactivated user with an active desk phone can still dial emergency numbers"]
    assert removed(plan) == ()
    assert kept(plan) == ("the profile", "licenses and numbers", "voicemails and call recordings")
    assert notes(build_plan(Action.DEACTIVATE, BARE)) == []
    assert notes(build_plan(Action.DEACTIVATE, user("o.brien"))) == [  # a phone, no license
        "A deactivated user with an active desk phone can still dial emergency numbers"]
    assert notes(build_plan(Action.DEACTIVATE, user("lchen", licenses=("X Series X2",)))) == [
        "Licenses stay assigned; release them separately if they should be reused"]


def test_what_a_reactivation_means():
    plan = build_plan(Action.REACTIVATE, user("tinactive"))
    assert (notes(plan), removed(plan), kept(plan)) == ([], (), ("the profile as it is",))


def test_what_a_rename_means():
    plan = build_plan(Action.RENAME, JDOE, new_username="jdoe.old")
    assert notes(plan) == ["The profile, its licenses and numbers stay as they are, ready to be reused"]
    assert (removed(plan), kept(plan)) == ((), ("the profile", "licenses and numbers"))


def test_every_action_says_what_stays():
    assert set(KEPT) == set(Action)
    assert set(REMOVED) == {Action.DELETE}


# -- a plan stored with its words by an earlier version ----------------------------------------------------

OLD_PLAN = {  # TargetPlan.to_json() of the version whose plans held their sentences
    "action": "delete", "user_id": "u-1001", "username": "jdoe", "email": "jdoe@example.com",
    "display_name": "John Doe", "fingerprint": "0123456789abcdef", "new_username": None,
    "steps": [
        {"kind": "deactivate", "summary": STAGE_ONE, "manual": False,
         "after": 0},
        {"kind": "release_licenses", "summary": "7 days after the start: release licenses and numbers first "
         "(X Series X4, +14155550101), then verify", "manual": False, "after": 604800},
        {"kind": "contact_center", "summary": "Contact Center: remove the agent from every queue", "manual": True,
         "after": 0},
        {"kind": "delete", "summary": "30 days after the start: delete the user profile", "manual": False,
         "after": 2592000},
    ],
    "removed": ["voicemails", "faxes"], "kept": ["call recordings"],
    "notes": ["Desk phone Poly VVX 450 (dev-jdoe-1, ACTIVE) will be inactivated"],
}


def test_a_plan_stored_with_its_words_is_shown_as_it_was_written():
    plan = TargetPlan.from_json(json.dumps(OLD_PLAN))
    assert plan.wording is not None
    assert step_texts(plan) == [step["summary"] for step in OLD_PLAN["steps"]]
    assert notes(plan) == ["Desk phone Poly VVX 450 (dev-jdoe-1, ACTIVE) will be inactivated"]
    assert removed(plan) == ("voicemails", "faxes")
    assert kept(plan) == ("call recordings",)
    again = TargetPlan.from_json(plan.to_json())  # stored again: still its own words
    assert (step_texts(again), notes(again), removed(again), kept(again)) == (
        step_texts(plan), notes(plan), removed(plan), kept(plan))


def test_a_stored_plan_that_said_nothing_stays_silent():
    plan = TargetPlan.from_json(json.dumps({**OLD_PLAN, "notes": [], "removed": [], "kept": []}))
    assert (notes(plan), removed(plan), kept(plan)) == ([], (), ())


def test_a_plan_with_words_of_its_own_keeps_them_whatever_its_action():
    wording = Wording(steps=("Deactivate them, the old way",), notes=("a note",), removed=("x",), kept=("y",))
    plan = replace(build_plan(Action.DEACTIVATE, JDOE), wording=wording)
    assert (step_texts(plan), notes(plan), removed(plan), kept(plan)) == (
        ["Deactivate them, the old way"], ["a note"], ("x",), ("y",))
