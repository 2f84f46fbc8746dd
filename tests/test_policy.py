import re

import pytest

from bot.domain.lifecycle import Action
from bot.errors import ConfigurationError
from bot.policy import Role, load_policy, parse_policy

BASE = {
    "admins": {"primary": ["alice@example.com"], "secondary": ["bob@example.com", "dana@example.com"]},
    "channels": {"approvals": "C0APPROVALS", "results": "C0RESULTS"},
}


def with_(**sections):
    return {**BASE, **sections}


def test_roles_are_matched_case_insensitively(policy):
    assert policy.role_of("Alice@Example.com") is Role.PRIMARY
    assert policy.role_of("dana@example.com") is Role.SECONDARY
    assert policy.role_of("carol@example.com") is None
    assert policy.role_of(None) is None


def test_primary_admins_are_always_protected():
    policy = parse_policy(with_(protect={"usernames": ["ceo"]}))
    assert policy.protected(username="alice", email="alice@example.com")
    assert policy.protected(username="CEO", email="x@example.com")
    assert not policy.protected(username="jdoe", email="jdoe@example.com")


def test_bulk_deletes_need_more_approvers():
    policy = parse_policy(with_(approvals={"delete": 1, "bulk_over": 3, "bulk_delete": 2}))
    assert policy.approvals_required(Action.DELETE, targets=3) == 1
    assert policy.approvals_required(Action.DELETE, targets=4) == 2
    assert policy.approvals_required(Action.DEACTIVATE, targets=40) == 0


@pytest.mark.parametrize(("data", "message"), [
    (with_(approvals={"delete": 0}), "approvals.delete"),
    (with_(approvals={"expire_after": "soon"}), "not a duration"),
    (with_(approvals={"delete": 3, "bulk_delete": 3}), "only 3 admin"),
    (with_(admins={"primary": ["alice@example.com"], "secondary": ["alice@example.com"]}), "both primary"),
    (with_(admins={"primary": ["not-an-email"]}), "not an email"),
    (with_(admins={"primary": []}), "admins.primary"),
    (with_(channels={"approvals": "#approvals", "results": "C0RESULTS"}), "channels.approvals"),
    (with_(approvals={"dlete": 1}), "approvals.dlete"),
    (with_(workflow_steps={"answer_within": "30m"}), "workflow_steps.answer_within"),
    ({"channels": BASE["channels"]}, "admins"),
])
def test_invalid_policies_are_refused_with_the_field_named(data, message):
    with pytest.raises(ConfigurationError, match=message):
        parse_policy(data)


def test_policy_file_errors(tmp_path):
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_policy(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[admins\n")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_policy(broken)


def test_the_checklist_defaults_to_the_vendors_first_step_for_a_delete():
    policy = parse_policy(BASE)
    assert policy.checklist_for(Action.DELETE) == ("The Offboarding Process has been completed",)
    for action in (Action.DEACTIVATE, Action.REACTIVATE, Action.RENAME):
        assert policy.checklist_for(action) == ()


def test_the_checklist_is_set_per_action():
    policy = parse_policy(with_(checklist={"delete": [], "rename": ["  The old  name is free "]}))
    assert policy.checklist_for(Action.DELETE) == ()
    assert policy.checklist_for(Action.RENAME) == ("The old name is free",)


@pytest.mark.parametrize(("checklist", "message"), [
    ({"delete": [""]}, "checklist.delete: Value error, a box cannot be empty"),
    ({"delete": ["Done", "Done"]}, "the same box is listed twice"),
    ({"delete": [f"box {n}" for n in range(10)]}, "at most 9 boxes per action"),
    ({"delete": ["x" * 76]}, "longer than Slack's 75 characters"),
    ({"archive": ["Done"]}, "checklist.archive"),
    ({"delete": "Done"}, "checklist.delete"),
])
def test_a_checklist_slack_could_not_show_is_refused(checklist, message):
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        parse_policy(with_(checklist=checklist))
