"""Hostile requests at the HTTP edge (security review, issue 15, finding 5): a request whose signature cannot even
be checked (a timestamp that is not a number, a body that is not UTF-8) is refused with 401, and a signed payload
of the wrong shape with 400; never a 500, never a traceback in the log, never a change."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import quote

import pytest
from sqlmodel import select

from storage.db import session
from storage.models import AuditRow

ALICE = {"id": "U0ALICE", "team_id": "T0DEMO"}
COMMAND = (b"token=x&team_id=T0DEMO&user_id=U0ALICE&command=%2Foffboard&text=delete+jdoe"
           b"&channel_id=C0GENERAL&response_url=http%3A%2F%2F127.0.0.1%3A9%2Fr&trigger_id=1.2.3")
NOT_UTF8 = COMMAND + b"&text=%FF\xff\xfe"


def _post(app, body: bytes, headers: dict[str, str]):
    return app.http.post(f"{app.url}/slack/events", content=body, headers=headers)


def _assert_quiet_and_unchanged(app, caplog) -> None:
    """One short line in the log, no traceback anywhere, nothing recorded, nothing done."""
    app.settle()
    tracebacks = [record.getMessage() for record in caplog.records
                  if record.exc_info or record.exc_text or "Traceback" in record.getMessage()]
    assert tracebacks == []
    said = [record.getMessage() for record in caplog.records
            if record.levelno >= logging.WARNING and not record.name.startswith("httpx")]
    assert len(said) == 1 and len(said[0]) < 120, said
    with session(app.container.engine) as db:
        assert db.exec(select(AuditRow)).all() == []
    assert app.container.store.list() == []
    assert app.console.operations() == []
    assert app.slack.ephemerals() == [] and app.slack.messages("C0RESULTS") == []


@pytest.mark.parametrize("timestamp", ["abc", "1e9", "", "9" * 400, "-" + "9" * 400, "12.5", "0x10", "\u00ff"],
                         ids=["letters", "float", "empty", "400_digits", "negative_400_digits", "decimal", "hex",
                              "latin1"])
def test_a_timestamp_that_is_not_a_number_gets_401(app, caplog, timestamp):
    caplog.set_level(logging.DEBUG)
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Slack-Request-Timestamp": timestamp.encode("latin-1"),
               "X-Slack-Signature": "v0=" + "0" * 64}
    response = _post(app, COMMAND, headers)
    assert response.status_code == 401
    assert len(response.content) < 100
    _assert_quiet_and_unchanged(app, caplog)


@pytest.mark.parametrize("signature", ["v0=\u00ff", "v0=" + "\u00e9" * 64, "v1=" + "0" * 64, ""],
                         ids=["latin1", "latin1_64", "other_version", "empty"])
def test_a_signature_that_is_not_a_v0_signature_gets_401(app, caplog, signature):
    caplog.set_level(logging.DEBUG)
    headers = {**app.workspace.sign(COMMAND, int(time.time())), "X-Slack-Signature": signature.encode("latin-1")}
    response = _post(app, COMMAND, headers)
    assert response.status_code == 401
    _assert_quiet_and_unchanged(app, caplog)


@pytest.mark.parametrize("signature", ["forged", "signed_over_the_bytes"])
def test_a_body_that_is_not_utf8_gets_401(app, caplog, signature):
    caplog.set_level(logging.DEBUG)
    headers = app.workspace.sign(NOT_UTF8, int(time.time()))  # an HMAC over the raw bytes, for what it is worth
    if signature == "forged":
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
    response = _post(app, NOT_UTF8, headers)
    assert response.status_code == 401
    _assert_quiet_and_unchanged(app, caplog)


def _interaction(payload: object) -> bytes:
    return b"payload=" + quote(json.dumps(payload)).encode()


MALFORMED = {
    "payload_not_json": b"payload=notjson",
    "payload_a_list": _interaction([1, 2]),
    "payload_a_string": _interaction("block_actions"),
    "payload_null": _interaction(None),
    "view_without_type": _interaction({"type": "view_submission", "user": ALICE, "team": {"id": "T0DEMO"},
                                       "view": {"id": "V1", "callback_id": "offboard_new_request",
                                                "state": {"values": {}}}}),
    "view_a_string": _interaction({"type": "view_submission", "user": ALICE, "view": "offboard_new_request"}),
    "view_state_a_list": _interaction({"type": "view_submission", "user": ALICE,
                                       "view": {"type": "modal", "callback_id": "offboard_new_request",
                                                "state": ["values"]}}),
    "actions_a_string": _interaction({"type": "block_actions", "user": ALICE, "actions": "offboard_approve"}),
    "actions_empty": _interaction({"type": "block_actions", "user": ALICE, "actions": []}),
    "action_not_an_object": _interaction({"type": "block_actions", "user": ALICE, "actions": ["offboard_approve"]}),
    "action_id_a_number": _interaction({"type": "block_actions", "user": ALICE,
                                        "actions": [{"action_id": 7, "value": "{}"}]}),
    "user_a_string": _interaction({"type": "block_actions", "user": "U0ALICE",
                                   "actions": [{"action_id": "offboard_approve", "value": "{}"}]}),
    "user_a_list": _interaction({"type": "block_actions", "user": ["U0ALICE"],
                                 "actions": [{"action_id": "offboard_approve", "value": "{}"}]}),
    "team_a_number": _interaction({"type": "block_actions", "user": ALICE, "team": 5,
                                   "actions": [{"action_id": "offboard_approve", "value": "{}"}]}),
    "enterprise_a_number": _interaction({"type": "block_actions", "user": ALICE, "enterprise": 5,
                                         "actions": [{"action_id": "offboard_approve", "value": "{}"}]}),
    "suggestion_without_action_id": _interaction({"type": "block_suggestion", "user": ALICE, "value": "jd"}),
    "event_a_string": json.dumps({"type": "event_callback", "team_id": "T0DEMO", "event": "app_home_opened"}).encode(),
    "event_without_type": json.dumps({"type": "event_callback", "team_id": "T0DEMO",
                                      "event": {"user": "U0ALICE", "tab": "home"}}).encode(),
    "challenge_missing": json.dumps({"type": "url_verification"}).encode(),
    "json_a_list": b"[1, 2]",
    "command_fields_not_strings": json.dumps({"command": ["/offboard"], "text": 5, "user_id": {"id": "U0ALICE"},
                                              "team_id": "T0DEMO"}).encode(),
}


@pytest.mark.parametrize("body", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_signed_payload_of_the_wrong_shape_gets_400(app, caplog, body):
    caplog.set_level(logging.DEBUG)
    content_type = "application/json" if not body.startswith(b"payload=") else "application/x-www-form-urlencoded"
    headers = {**app.workspace.sign(body, int(time.time())), "Content-Type": content_type}
    response = _post(app, body, headers)
    assert response.status_code == 400
    _assert_quiet_and_unchanged(app, caplog)
    caplog.clear()
    again = _post(app, body, headers)  # its signature was not taken: the same bytes are refused for their shape again
    assert again.status_code == 400
    _assert_quiet_and_unchanged(app, caplog)


def test_what_slack_itself_sends_still_passes(app, caplog):
    """The shape check stops at the kinds the app answers: Slack's certificate check and URL verification pass."""
    ssl_check = b"ssl_check=1&token=x"
    assert _post(app, ssl_check, app.workspace.sign(ssl_check, int(time.time()))).status_code == 200
    challenge = json.dumps({"type": "url_verification", "token": "x", "challenge": "c-123"}).encode()
    answer = _post(app, challenge, {**app.workspace.sign(challenge, int(time.time())),
                                    "Content-Type": "application/json"})
    assert answer.status_code == 200 and "c-123" in answer.text
