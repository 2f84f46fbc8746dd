"""Who may act, on the wire: what users.info says of the clicking member reaches the service through the real
Slack client. Enterprise Grid payloads carry the enterprise id and org-wide W… member ids, and the actor the
service checks is read from them (the team of whoever clicked, too); a guest is refused like a stranger, and an
approver made a guest before the run no longer counts. The rules themselves are tested against the service
(tests/service/test_access.py, test_gate.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.lifecycle import RequestState
from bot.settings import DEMO_POLICY
from bot.simulators.harness import serve_local
from bot.simulators.slack.demo import DEMO_CHANNELS
from bot.simulators.slack.fake import FakeSlack


@pytest.fixture
def grid_slack() -> Iterator[FakeSlack]:
    """An Enterprise Grid workspace: members have org-wide W… ids, and payloads carry the enterprise id."""
    fake = FakeSlack(team_id="T0DEMO", enterprise_id="E0GRID")
    for user_id, name in (("W0ALICE", "alice"), ("W0BOB", "bob"), ("W0DANA", "dana")):
        fake.add_member(user_id, name, f"{name}@example.com")
    fake.add_member("W0OTHERORG", "mallory", "bob@example.com", team_id="T0ELSEWHERE", is_stranger=True)
    for channel_id, name in DEMO_CHANNELS:
        fake.add_channel(channel_id, name)
    with fake:
        yield fake


def test_enterprise_grid_members_with_w_ids_can_ask_and_approve(grid_slack, clock, tmp_path):
    with serve_local(grid_slack, clock, tmp_path) as app:
        app.command("W0ALICE", "delete jdoe")
        app.press("W0ALICE", "Request approval", offboard_checklist="box-1")
        request_id = app.request_id("W0ALICE")
        # someone of another organisation whose address matches an admin's cannot approve in a shared channel
        app.press("W0OTHERORG", "Approve")
        assert "own workspace" in app.last_ephemeral("W0OTHERORG")
        app.press("W0BOB", "Approve")
        request = app.container.store.get(request_id)
        assert request.state is RequestState.DONE
        assert [(a.approver_id, a.approver_email) for a in request.approvals] == [("W0BOB", "bob@example.com")]


GUESTS = {"multi-channel guest": {"is_restricted": True},
          "single-channel guest": {"is_restricted": True, "is_ultra_restricted": True}}
JDOE = "u-1001"


@pytest.mark.parametrize("guest", GUESTS.values(), ids=GUESTS.keys())
def test_an_admin_made_a_guest_cannot_ask(app, guest):
    app.slack.update_member("U0DANA", **guest)
    app.command("dana", "delete jdoe")
    assert "Guests" in app.last_ephemeral("dana")
    assert app.container.store.list() == []


@pytest.mark.parametrize("guest", GUESTS.values(), ids=GUESTS.keys())
def test_an_admin_made_a_guest_cannot_approve(app, guest):
    app.command("alice", "delete jdoe")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    request_id = app.request_id()
    app.slack.update_member("U0DANA", **guest)
    app.press("dana", "Approve")
    assert "Guests" in app.last_ephemeral("dana")
    request = app.container.store.get(request_id)
    assert request.state is RequestState.AWAITING_APPROVAL and request.approvals == ()
    assert app.console.operations() == []


def test_an_approver_made_a_guest_before_the_run_no_longer_counts(app):
    app.command("alice", "delete jdoe --at in 2h")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    request_id = app.request_id()
    app.press("bob", "Approve")
    app.slack.update_member("U0BOB", **GUESTS["single-channel guest"])
    app.clock.advance(timedelta(hours=2))
    app.container.sweeper.sweep()
    app.settle()
    assert app.container.store.get(request_id).state is RequestState.CANCELLED
    assert app.console.operations(user_id=JDOE) == []
    assert any("bob@example.com" in text and "called off" in text for text in app.dm_texts("alice"))


# -- one person, one approval: emails compared as the policy reads them (stripped, case-folded) ----------------

def test_a_second_account_of_the_requester_cannot_approve_whatever_blanks_its_email_has(app):
    app.slack.add_member("U0ALICE2", "alice2", " alice@example.com ")  # the policy strips blanks: an admin
    app.command("alice", "delete jdoe")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    request_id = app.request_id()
    app.press("U0ALICE2", "Approve")
    assert "a different admin must decide" in app.last_ephemeral("U0ALICE2")
    request = app.container.store.get(request_id)
    assert request.state is RequestState.AWAITING_APPROVAL and request.approvals == ()
    assert app.console.operations() == []


def test_a_second_account_of_an_approver_is_not_counted_twice(slack, clock, tmp_path):
    policy = Path(DEMO_POLICY).read_text().replace("delete = 1 ", "delete = 2 ")
    (tmp_path / "policy.toml").write_text(policy)
    slack.add_member("U0BOB2", "bob2", " Bob@Example.com ")
    with serve_local(slack, clock, tmp_path, offboard_policy=tmp_path / "policy.toml") as app:
        app.command("alice", "delete jdoe")
        app.press("alice", "Request approval", offboard_checklist="box-1")
        request_id = app.request_id()
        app.press("bob", "Approve")
        assert "Approval counted; 1 more needed." in app.last_ephemeral("bob")
        app.press("U0BOB2", "Approve")
        assert "You already approved this request" in app.last_ephemeral("U0BOB2")
        assert [a.approver_id for a in app.container.store.get(request_id).approvals] == ["U0BOB"]
        app.press("dana", "Approve")
        assert app.container.store.get(request_id).state is RequestState.DONE


# -- the person offboarded never approves their own offboarding -------------------------------------------------

@pytest.mark.parametrize("named", ["bob", "<@U0BOB|bob>"], ids=["by username", "as a Slack member"])
def test_the_admin_being_deleted_cannot_approve_it(app, named):
    app.command("alice", f"delete {named}")
    assert "admin in the policy" in app.last_ephemeral("alice")  # the plan says so before anyone approves
    app.press("alice", "Request approval", offboard_checklist="box-1")
    request_id = app.request_id()
    assert "admin in the policy" in app.channel_texts("C0APPROVALS")[-1]
    app.press("bob", "Approve")
    assert "This request offboards you" in app.last_ephemeral("bob")
    request = app.container.store.get(request_id)
    assert request.state is RequestState.AWAITING_APPROVAL and request.approvals == ()
    assert app.console.operations() == []
    app.press("dana", "Approve")
    assert app.container.store.get(request_id).state is RequestState.DONE
    assert "approved by <@U0DANA>" in app.channel_texts("C0APPROVALS")[-1]


def test_an_org_wide_install_takes_a_workflow_step_from_grid_members_with_w_ids(grid_slack, clock, tmp_path):
    grid_slack.is_enterprise_install = True
    with serve_local(grid_slack, clock, tmp_path) as app:
        execution_id, delivery = app.workspace.run_step(
            "request_offboarding", {"leaver_email_or_username": "jdoe", "action": "delete", "reason": "left",
                                    "requested_by": "W0DANA"})
        app.settle()
        assert delivery.payload["enterprise_id"] == "E0GRID"
        app.press("W0OTHERORG", "Take it")  # another organisation's member, an admin's address: refused
        assert "own workspace" in app.last_ephemeral("W0OTHERORG")
        app.press("W0ALICE", "Take it")
        request_id = app.request_id("W0ALICE")
        app.press("W0ALICE", "Request approval", offboard_checklist="box-1")
        app.press("W0BOB", "Approve")
        assert app.container.store.get(request_id).requester_id == "W0ALICE"
        execution = app.slack.function_execution(execution_id)
        assert execution.state == "completed" and execution.outputs["request_id"] == request_id
