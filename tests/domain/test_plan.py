from dataclasses import replace

from bot.console.demo_data import DEMO_USERS
from bot.domain.directory import username_problem
from bot.domain.lifecycle import Action
from bot.domain.plan import StepKind, TargetPlan, build_plan

USERS = {user.username: user for user in DEMO_USERS}


def test_delete_plan_releases_licenses_first_and_keeps_recordings():
    plan = build_plan(Action.DELETE, USERS["jdoe"])
    assert [step.kind for step in plan.steps] == [StepKind.RELEASE_LICENSES, StepKind.DELETE]
    assert "+14155550101" in plan.steps[0].summary
    assert any("Poly VVX 450" in note for note in plan.notes)
    assert "call recordings" in plan.kept
    assert "voicemails" in plan.removed


def test_contact_center_agent_gets_the_manual_step_between_license_and_delete():
    plan = build_plan(Action.DELETE, USERS["msmith"])
    assert [step.kind for step in plan.steps] == [StepKind.RELEASE_LICENSES, StepKind.CONTACT_CENTER,
                                                  StepKind.DELETE]
    assert plan.steps[1].manual
    assert [step.kind for step in plan.manual_steps] == [StepKind.CONTACT_CENTER]


def test_unlicensed_user_is_deleted_directly():
    bare = replace(USERS["jdoe"], licenses=(), extensions=())
    assert [step.kind for step in build_plan(Action.DELETE, bare).steps] == [StepKind.DELETE]


def test_plan_survives_json_round_trip():
    plan = build_plan(Action.RENAME, USERS["msmith"], new_username="msmith.old")
    assert TargetPlan.from_json(plan.to_json()) == plan


def test_fingerprint_follows_material_changes():
    user = USERS["jdoe"]
    assert user.fingerprint() == replace(user).fingerprint()
    assert user.fingerprint() != replace(user, licenses=()).fingerprint()


def test_username_rules():
    assert username_problem("jdoe.old") is None
    assert username_problem("jd") is not None
    assert username_problem("x" * 71) is not None
    assert username_problem("john doe") is not None
    assert username_problem("jdoe\n") is not None
