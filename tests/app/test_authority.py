"""Authority is checked again when a request starts: an approval from someone who is no longer an admin does
not count, and a requester who is no longer one cannot have it run. Nothing is changed in the console then."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.requests import RequestState
from tests.app.conftest import App, U

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
    assert "bob@example.com" in request.decision_note and "0 of the 1 approvals" in request.decision_note
    assert app.console.operations(user_id=JDOE) == []
    assert any("called off before it ran" in text for text in app.dm_texts("alice"))
    assert "Cancelled" in app.channel_texts("C0APPROVALS")[-1]


def test_a_requester_who_is_no_longer_an_admin_cannot_have_it_run(app):
    request_id = _scheduled_and_approved(app)
    app.slack.update_member(U["alice"], email="alice@elsewhere.example")  # no longer the admin's address
    _run_due(app)
    request = app.container.store.get(request_id)
    assert request.state is RequestState.CANCELLED and "who asked for it" in request.decision_note
    assert app.console.operations(user_id=JDOE) == []


def test_a_request_whose_people_are_still_admins_runs(app):
    request_id = _scheduled_and_approved(app)
    _run_due(app)
    assert app.container.store.get(request_id).state is RequestState.DONE
