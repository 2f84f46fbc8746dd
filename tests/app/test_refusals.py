"""Refusals on the wire: a refused command or click is answered privately, audited once and changes nothing;
forged, unsigned, stale, malformed and oversized requests are refused before any listener. The rules behind the
refusals (who may ask and decide, which users a request may name, double clicks, races, expiry) are tested
against the service in tests/service."""

from __future__ import annotations

import json
import time

import pytest
from sqlmodel import select

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
    app.press("alice", "Request approval", offboard_checklist="box-1")
    return request_id


def _nothing_changed(app):
    assert app.console.operations() == []
    assert app.slack.messages("C0RESULTS") == []
    assert audit.verify(app.container.engine).ok


@pytest.mark.parametrize(("who", "text", "message", "code"), [
    ("carol", "delete jdoe", "Only account admins", "not_admin"),  # the service refuses
    ("U0STRANGER", "delete jdoe", "own workspace", "other_workspace"),  # the payload's team reaches the service
    ("alice", "delete jdoe --when now", "unknown option", "bad_command"),  # the parser refuses
    ("alice", "obliterate jdoe", "I don't know `obliterate`", "bad_command"),
])
def test_command_refusals_are_shown_and_audited_once(app, who, text, message, code):
    app.command(who, text)
    shown = app.ephemeral_texts(who)
    assert shown and message in shown[-1]
    assert [r["code"] for r in _refusals(app)] == [code]
    assert app.container.store.list() == []
    _nothing_changed(app)


def test_a_late_click_from_a_stale_client_is_answered_and_audited(app):
    _asked(app)
    app.press("bob", "Approve")
    message = app.slack.messages("C0APPROVALS")[-1]
    # The buttons are gone once decided; a late click from a stale client still reaches the app.
    late = app.workspace.block_action("U0BOB", message, "offboard_approve", json.dumps({"r": app.request_id()}))
    app.settle()
    assert late.status == 200
    assert "already approved by <@U0BOB>" in app.last_ephemeral("bob")
    assert [op.name for op in app.console.operations(user_id=JDOE)] == ["release_licenses", "delete"]
    assert [(r["code"], r["doing"]) for r in _refusals(app)] == [("already_decided", "action:offboard_approve")]


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


def test_modal_validation_errors_are_audited(app):
    app.command("alice", "")
    app.press("alice", "Show plan", action="rename", users="jdoe msmith", new_username="x.y")
    assert [r["code"] for r in _refusals(app)] == ["bad_command"]
    assert _refusals(app)[0]["doing"] == "view:offboard_new_request"

