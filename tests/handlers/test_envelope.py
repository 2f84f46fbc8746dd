"""The shape check of a signed payload (handlers/envelope.py, pydantic models): it names the field that is
wrong, for the log line; the payloads Slack really sends pass (the wire tests in tests/app send them through it)."""

from __future__ import annotations

import pytest

from handlers.envelope import Malformed, check

ALICE = {"id": "U0ALICE", "team_id": "T0DEMO"}
CLICK = {"type": "block_actions", "user": ALICE, "trigger_id": "1"}


@pytest.mark.parametrize(("body", "named"), [
    ([1], "JSON list"),
    ({"type": "view_submission", "user": ALICE, "view": {"callback_id": "x"}}, "view.type: Field required"),
    ({**CLICK, "actions": "x"}, "actions: Input should be a valid list"),
    ({**CLICK, "actions": []}, "actions: List should have at least 1 item"),
    ({"type": "view_submission", "user": ALICE, "view": {"type": "modal", "state": {"values": {"b": {"a": 1}}}}},
     "view.state.values.b.a: Input should be a valid dictionary"),
    ({"command": "/offboard", "user_id": "U0ALICE", "trigger_id": "1"}, "text: Field required"),
    ({"type": "event_callback", "event": {"type": "app_home_opened", "user": 5}},
     "event.user.str: Input should be a valid string"),
])
def test_the_first_wrong_field_is_named(body, named):
    with pytest.raises(Malformed, match=named):
        check(body)


@pytest.mark.parametrize("body", [
    {},  # nothing Bolt has a listener for: it says so itself
    {"ssl_check": "1", "token": "x"},
    {"type": "shortcut", "callback_id": "x", "user": ALICE},
    {"type": "block_actions", "user": ALICE, "team": None, "enterprise": None, "trigger_id": "1",
     "actions": [{"action_id": "offboard_approve", "block_id": "actions", "value": "{}"}],
     "state": {"values": {"b": {"a": {"type": "static_select", "selected_option": None}}}}},
])
def test_what_slack_sends_passes(body):
    check(body)
