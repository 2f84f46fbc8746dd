from dataclasses import replace
from datetime import timedelta

from bot.console.demo_data import DEMO_USERS
from bot.domain.directory import username_problem
from bot.domain.lifecycle import Action
from bot.domain.plan import StepKind, TargetPlan, Wording, build_plan, stages_of

USERS = {user.username: user for user in DEMO_USERS}


def test_delete_plan_releases_licenses_first_and_keeps_recordings():
    plan = build_plan(Action.DELETE, USERS["jdoe"])
    assert [step.kind for step in plan.steps] == [StepKind.RELEASE_LICENSES, StepKind.DELETE]
    assert "+14155550101" in plan.numbers and plan.licenses
    assert any(device.model == "Poly VVX 450" for device in plan.devices)


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
    staged = build_plan(Action.DELETE, USERS["jdoe"], grace=timedelta(days=7), retain=timedelta(days=30))
    assert TargetPlan.from_json(staged.to_json()) == staged


def test_a_plan_stored_with_its_words_by_an_earlier_version_keeps_them():
    stored = ('{"action": "delete", "user_id": "u-1", "username": "jdoe", "email": "jdoe@example.com", '
              '"display_name": "John Doe", "fingerprint": "f", "new_username": null, '
              '"steps": [{"kind": "delete", "summary": "Delete the user", "manual": false}], '
              '"notes": ["A note"], "removed": ["voicemails"], "kept": ["call recordings"]}')
    plan = TargetPlan.from_json(stored)
    assert plan.wording == Wording(steps=("Delete the user",), notes=("A note",), removed=("voicemails",),
                                   kept=("call recordings",))
    assert [step.kind for step in plan.steps] == [StepKind.DELETE]


def test_retry_keeps_the_stages_even_when_the_first_failed_user_held_no_numbers():
    staged = dict(grace=timedelta(days=7), retain=timedelta(days=30))
    plans = [build_plan(Action.DELETE, USERS[name], **staged) for name in ("tinactive", "jdoe")]
    assert not any(step.kind is StepKind.RELEASE_LICENSES for step in plans[0].steps)
    assert stages_of(plans) == (staged["grace"], staged["retain"])
    assert stages_of([build_plan(Action.DELETE, USERS["jdoe"])]) == (None, None)


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
