"""Authority is checked again when a request starts: an approval from someone who is no longer an admin does
not count, and a requester who is no longer one cannot have it run. Nothing is changed in the console then."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.domain.lifecycle import RequestState
from bot.simulators.harness import App, U, serve_local
from bot.simulators.slack.demo import DEMO_CHANNELS
from bot.simulators.slack.fake import FakeSlack

JDOE = "u-1001"


def _scheduled_and_approved(app: App) -> str:
    app.command("alice", "delete jdoe --at in 2h --reason last day")
    app.press("alice", "Request approval")
    request_id = app.request_id()
    app.press("bob", "Approve")
    assert app.container.store.get(request_id).state is RequestState.APPROVED
    return request_id


def _run_due(app: App) -> None:
    app.clock.advance(timedelta(hours=2))
    app.container.sweeper.sweep()
    app.settle()


def test_an_approver_who_left_before_the_run_no_longer_counts(app):
    request_id = _scheduled_and_approved(app)
    app.slack.update_member(U["bob"], deleted=True)  # bob's Slack account was deactivated meanwhile
    _run_due(app)
    request = app.container.store.get(request_id)
    assert request.state is RequestState.CANCELLED
    shown = app.channel_texts("C0APPROVALS")[-1]  # the request's message says why it was called off
    assert "bob@example.com" in shown and "0 of the 1 approvals" in shown
    assert app.console.operations(user_id=JDOE) == []
    assert any("called off before it ran" in text for text in app.dm_texts("alice"))
    assert "Cancelled" in app.channel_texts("C0APPROVALS")[-1]


def test_a_requester_who_is_no_longer_an_admin_cannot_have_it_run(app):
    request_id = _scheduled_and_approved(app)
    app.slack.update_member(U["alice"], email="alice@elsewhere.example")  # no longer the admin's address
    _run_due(app)
    request = app.container.store.get(request_id)
    assert request.state is RequestState.CANCELLED and "who asked for it" in app.channel_texts("C0APPROVALS")[-1]
    assert app.console.operations(user_id=JDOE) == []


def test_a_request_whose_people_are_still_admins_runs(app):
    request_id = _scheduled_and_approved(app)
    _run_due(app)
    assert app.container.store.get(request_id).state is RequestState.DONE


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
        app.press("W0ALICE", "Request approval")
        request_id = app.request_id("W0ALICE")
        # someone of another organisation whose address matches an admin's cannot approve in a shared channel
        app.press("W0OTHERORG", "Approve")
        assert "own workspace" in app.last_ephemeral("W0OTHERORG")
        app.press("W0BOB", "Approve")
        request = app.container.store.get(request_id)
        assert request.state is RequestState.DONE
        assert [(a.approver_id, a.approver_email) for a in request.approvals] == [("W0BOB", "bob@example.com")]
