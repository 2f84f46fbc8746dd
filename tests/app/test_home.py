"""The App Home tab and the form's user picker, through the real app: events, clicks from the Home tab
(which carry no response URL), the picker's options request and the form's fields. What each member's App Home
lists, and whom the picker answers, are tested against the service (tests/service/test_homes.py,
test_queries.py)."""

from __future__ import annotations

import json

from bot.domain.lifecycle import RequestState
from bot.simulators.harness import App

S = RequestState


def _home_text(app: App, who: str) -> str:
    home = app.slack.home(who) or {}
    return json.dumps(home.get("blocks") or [])


def _asked(app: App) -> str:
    app.command("alice", "delete jdoe --reason left the company")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    return app.request_id()


def test_a_member_who_is_not_an_admin_sees_who_to_ask(app):
    app.workspace.open_home("U0JDOE")
    app.settle()
    text = _home_text(app, "U0JDOE")
    assert "Only account admins can use it" in text
    assert "<@U0ALICE>" in text and "<@U0BOB>" in text
    assert app.workspace.home_buttons("U0JDOE") == []


def test_an_admin_can_approve_from_the_home_tab(app):
    request_id = _asked(app)
    # Bob never opened the tab: it is kept up to date for every admin as requests change.
    assert request_id in _home_text(app, "U0BOB")
    assert app.workspace.home_buttons("U0BOB") == ["Open the form", "Approve", "Reject"]
    app.workspace.press_home("U0BOB", "Approve")
    app.settle()
    assert app.container.store.get(request_id).state is S.DONE
    assert "Approved" in app.dm_texts("bob")[-1]  # no response URL on the Home tab: the answer comes by DM
    assert app.workspace.home_buttons("U0BOB") == ["Open the form"]


def test_refusals_from_the_home_tab_reach_the_clicker(app):
    request_id = _asked(app)
    app.workspace.open_home("U0ALICE")
    app.settle()
    app.slack.update_member("U0BOB", email="bob@elsewhere.example")  # no longer an admin
    app.workspace.press_home("U0BOB", "Approve")
    app.settle()
    assert "Only account admins" in app.dm_texts("bob")[-1]
    assert app.container.store.get(request_id).state is S.AWAITING_APPROVAL


def test_the_requester_can_cancel_from_the_home_tab_and_reject_opens_the_form(app):
    request_id = _asked(app)
    app.workspace.press_home("U0BOB", "Reject")
    app.settle()
    assert app.slack.views(user_id="U0BOB")[-1].callback_id == "offboard_reject_reason"
    app.workspace.press_home("U0ALICE", "Cancel")
    app.settle()
    assert app.container.store.get(request_id).state is S.CANCELLED
    assert "cancelled" in app.dm_texts("alice")[-1]


def test_the_user_picker_answers_with_options_and_the_form_is_for_admins_only(app):
    app.command("alice", "")
    delivery = app.workspace.suggest("U0ALICE", "offboard_pick_users", "doe")
    values = [option["value"] for option in delivery.json["options"]]
    assert "jdoe@example.com" in values
    app.command("jdoe", "")  # not an admin: the form does not even open
    assert "Only account admins" in app.last_ephemeral("jdoe")
    assert app.slack.views(user_id="U0JDOE") == []


def test_the_form_takes_picked_users_and_shows_problems_next_to_the_field(app):
    app.command("alice", "")
    app.press("alice", "Show plan", action="delete", picked_users="alice@example.com")
    view = app.slack.views(user_id="U0ALICE")[-1]
    assert "protected" in view.errors["picked_users"]  # the form stays open with the reason under the field
    assert app.container.store.list(limit=5) == []
    app.press("alice", "Show plan", action="delete", picked_users="jdoe@example.com")
    assert "Plan: Delete jdoe" in app.last_ephemeral("alice")


def test_picked_and_typed_users_are_one_request_and_those_with_problems_are_left_out(app):
    app.command("alice", "")
    app.press("alice", "Show plan", action="delete", picked_users="alice@example.com",
              users="nobody-here jdoe")
    preview = app.last_ephemeral("alice")
    assert "Left out: 2 of the users named" in preview
    assert "protected" in preview and "nobody-here" in preview
    [draft] = app.container.store.list(limit=5)
    assert [target.plan.username for target in draft.targets] == ["jdoe"]
    assert len(draft.left_out) == 2


def test_a_slow_console_closes_the_form_in_time_and_the_answer_follows(app):
    import time

    app.command("alice", "")
    app.faults.before("find_user", lambda: time.sleep(2.5))  # past the form's deadline, within Slack's wait
    delivery = app.press("alice", "Show plan", action="delete", picked_users="jdoe@example.com")
    assert delivery.status == 200 and app.slack.views(user_id="U0ALICE") == []  # closed without errors
    assert "Plan: Delete jdoe" in app.last_ephemeral("alice")
    assert len(app.container.store.list(limit=5)) == 1

