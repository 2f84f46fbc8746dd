"""Bad input and refusals: each gets a clear message, changes nothing, and is audited."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.domain.lifecycle import RequestState
from bot.simulators.simultaneous import run_together
from storage import audit
from storage.db import session
from storage.models import AuditRow

JDOE = "u-1001"


def _refusals(app) -> list[dict]:
    with session(app.container.engine) as db:
        rows = db.exec(select(AuditRow).where(AuditRow.event == "refused").order_by(AuditRow.seq)).all()
    return [json.loads(row.data) | {"actor": row.actor} for row in rows]


def _asked(app) -> str:
    """alice asks to delete jdoe and sends it for approval; return the request id."""
    app.command("alice", "delete jdoe")
    request_id = app.request_id()
    app.press("alice", "Request approval")
    return request_id


def _nothing_changed(app):
    assert app.console.operations() == []
    assert app.slack.messages("C0RESULTS") == []
    assert audit.verify(app.container.engine).ok


@pytest.mark.parametrize(("who", "text", "message", "code"), [
    ("carol", "delete jdoe", "Only account admins", "not_admin"),
    ("U0STRANGER", "delete jdoe", "own workspace", "other_workspace"),
    ("U0NOMAIL", "delete jdoe", "no verified email", "no_verified_email"),
    ("alice", "delete nobody", "`nobody`: no user with this username or email", "blocked"),
    ("bob", "delete alice", "`alice` is protected", "blocked"),
    ("bob", "deactivate bob", "`bob` is you", "blocked"),
    ("alice", "rename jdoe msmith", "`msmith` is already in use", "blocked"),
    ("alice", "rename jdoe bad!name", "cannot be used", "blocked"),
    ("alice", "deactivate tinactive", "already deactivated", "blocked"),
    ("alice", "delete jdoe --when now", "unknown option", "bad_command"),
    ("alice", "obliterate jdoe", "I don't know `obliterate`", "bad_command"),
    ("alice", "status OB-NOTHERE1", "There is no request OB-NOTHERE1", "not_found"),
])
def test_command_refusals(app, who, text, message, code):
    app.command(who, text)
    shown = app.ephemeral_texts(who)
    assert shown and message in shown[-1]
    assert [r["code"] for r in _refusals(app)] == [code]
    assert app.container.store.list() == []
    _nothing_changed(app)


def test_second_open_request_on_the_same_user(app):
    _asked(app)
    app.command("dana", "deactivate jdoe")
    assert "already part of open request" in app.last_ephemeral("dana")
    _nothing_changed(app)


def test_two_drafts_for_one_user_only_one_can_be_sent(app):
    app.command("alice", "delete jdoe")
    app.command("dana", "delete jdoe")
    app.press("dana", "Request approval")
    app.press("alice", "Request approval")
    assert "Another open request took these users" in app.last_ephemeral("alice")
    assert len(app.slack.messages("C0APPROVALS")) == 1


@pytest.mark.parametrize(("who", "message", "code"), [
    ("alice", "a different admin must decide", "self_approval"),
    ("carol", "Only account admins", "not_admin"),
    ("U0STRANGER", "own workspace", "other_workspace"),
])
def test_approver_must_be_a_different_admin(app, who, message, code):
    _asked(app)
    app.press(who, "Approve")
    assert message in app.last_ephemeral(who)
    assert _refusals(app)[-1]["code"] == code
    assert app.container.store.get(app.request_id()).state is RequestState.AWAITING_APPROVAL
    _nothing_changed(app)


def test_admin_removed_from_policy_cannot_approve(app):
    _asked(app)
    app.slack.update_member("U0BOB", email="bob@elsewhere.example")  # no longer matches the policy
    app.press("bob", "Approve")
    assert "Only account admins" in app.last_ephemeral("bob")
    _nothing_changed(app)


def test_double_click_gives_one_outcome(app):
    _asked(app)
    app.press("bob", "Approve")
    message = app.slack.messages("C0APPROVALS")[-1]
    # The buttons are gone once decided; a late click from a stale client still reaches the app.
    late = app.workspace.block_action("U0BOB", message, "offboard_approve", json.dumps({"r": app.request_id()}))
    app.settle()
    assert late.status == 200
    assert "already approved by <@U0BOB>" in app.last_ephemeral("bob")
    assert [op.name for op in app.console.operations(user_id=JDOE)] == ["release_licenses", "delete"]
    assert _refusals(app)[-1]["code"] == "already_decided"


def test_two_approvers_at_once_exactly_one_outcome(app):
    request_id = _asked(app)
    message = app.slack.messages("C0APPROVALS")[-1]
    value = json.dumps({"r": request_id})
    run_together(*(lambda user=user: app.workspace.block_action(user, message, "offboard_approve", value)
                   for user in ("U0BOB", "U0DANA")))
    app.settle()
    request = app.container.store.get(request_id)
    assert request.state is RequestState.DONE
    assert len(request.approvals) == 1
    assert [op.name for op in app.console.operations(user_id=JDOE)] == ["release_licenses", "delete"]
    loser = "bob" if request.approvals[0].approver_id == "U0DANA" else "dana"
    assert "already approved" in app.last_ephemeral(loser)
    assert audit.verify(app.container.engine).ok


def test_click_after_expiry(app):
    request_id = _asked(app)
    app.clock.advance(timedelta(hours=25))
    app.press("bob", "Approve")
    assert "expired" in app.last_ephemeral("bob")
    assert app.container.store.get(request_id).state is RequestState.EXPIRED
    assert "Expired" in app.channel_texts("C0APPROVALS")[-1]
    assert any("expired" in text for text in app.dm_texts("alice"))
    _nothing_changed(app)


def test_click_after_cancel(app):
    request_id = _asked(app)
    message = app.slack.messages("C0APPROVALS")[-1]
    app.command("alice", f"cancel {request_id}")
    app.workspace.block_action("U0BOB", message, "offboard_approve", json.dumps({"r": request_id}))
    app.settle()
    assert "was cancelled by <@U0ALICE>" in app.last_ephemeral("bob")
    _nothing_changed(app)


def test_forged_button_value_is_refused(app):
    _asked(app)
    message = app.slack.messages("C0APPROVALS")[-1]
    app.workspace.block_action("U0BOB", message, "offboard_approve", "OB-12345678;DROP TABLE")
    app.settle()
    assert "does not belong to a request" in app.last_ephemeral("bob")
    _nothing_changed(app)


@pytest.mark.parametrize("forgery", ["bad_signature", "unsigned", "stale", "future"])
def test_forged_unsigned_and_stale_requests_get_401(app, forgery):
    body = (b"token=x&team_id=T0DEMO&user_id=U0ALICE&command=%2Foffboard&text=delete+jdoe"
            b"&channel_id=C0GENERAL&response_url=http%3A%2F%2F127.0.0.1%3A9%2Fr&trigger_id=1.2.3")
    now = int(time.time())
    headers = {
        "bad_signature": {**app.workspace.sign(body, now), "X-Slack-Signature": "v0=" + "0" * 64},
        "unsigned": {},
        "stale": app.workspace.sign(body, now - 600),
        "future": app.workspace.sign(body, now + 600),
    }[forgery]
    response = app.http.post(f"{app.url}/slack/events", content=body,
                             headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
    app.settle()
    assert response.status_code == 401
    assert app.container.store.list() == []
    assert app.slack.ephemerals() == []
    _nothing_changed(app)


def test_health_check(app):
    response = app.http.get(f"{app.url}/healthz")
    assert response.status_code == 200 and response.json()["ok"] is True


def test_echoed_input_cannot_ping_or_link(app):
    app.command("alice", "delete <!channel> <https://evil.example|click>")
    shown = app.last_ephemeral("alice")
    assert "<!channel>" not in shown and "<https://evil" not in shown
    assert "&lt;!channel&gt;" in shown
    _nothing_changed(app)


def test_an_expired_request_stops_holding_its_user(app):
    app.command("alice", "delete jdoe")
    first = app.request_id()
    app.press("alice", "Request approval")
    app.clock.advance(timedelta(hours=25))
    app.command("dana", "list")
    assert "No open requests" in app.last_ephemeral("dana")
    assert "Expired" in app.channel_texts("C0APPROVALS")[-1]
    app.command("dana", "delete jdoe")
    assert app.request_id("dana") != first
    assert "Request approval" in app.last_ephemeral("dana")


def test_approvers_get_the_full_window_from_when_it_was_sent(app):
    app.command("alice", "delete jdoe")
    app.clock.advance(timedelta(hours=23))
    app.press("alice", "Request approval")
    app.clock.advance(timedelta(hours=23))
    app.press("bob", "Approve")
    assert app.container.store.get(app.request_id()).state is RequestState.DONE


@pytest.mark.parametrize(("body", "content_type"), [
    (b"x", "application/json"),
    (b"payload=notjson", "application/x-www-form-urlencoded"),
    (b"payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
])
def test_malformed_bodies_are_refused_cleanly(app, body, content_type):
    unsigned = app.http.post(f"{app.url}/slack/events", content=body, headers={"Content-Type": content_type})
    assert unsigned.status_code == 401
    signed = app.http.post(f"{app.url}/slack/events", content=body,
                           headers={**app.workspace.sign(body, int(time.time())), "Content-Type": content_type})
    assert signed.status_code in (400, 401, 404)  # never a 500, never a change
    _nothing_changed(app)


def test_oversized_bodies_are_refused_unread(app):
    big = b"a" * (1024 * 1024 + 1)
    assert app.http.post(f"{app.url}/slack/events", content=big).status_code == 413

    def chunks():
        for _ in range(1100):
            yield b"b" * 1024

    assert app.http.post(f"{app.url}/slack/events", content=chunks()).status_code == 413


def test_rename_to_another_users_email_is_refused(app):
    app.command("alice", "rename lchen jdoe@example.com")
    assert "is already in use" in app.last_ephemeral("alice")
    _nothing_changed(app)


def test_modal_validation_errors_are_audited(app):
    app.command("alice", "")
    app.press("alice", "Show plan", action="rename", users="jdoe msmith", new_username="x.y")
    assert [r["code"] for r in _refusals(app)] == ["bad_command"]
    assert _refusals(app)[0]["doing"] == "view:offboard_new_request"


def test_a_request_naming_more_users_than_the_cap_is_refused(app):
    names = " ".join(f"user{number}" for number in range(501))
    app.command("alice", f"delete {names}")
    assert "501 users; one request may name at most 500" in app.last_ephemeral("alice")
    assert app.container.store.list(limit=5) == []
