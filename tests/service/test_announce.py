"""Sending a request for approval posts its message in the approvals channel; without that message nobody could
approve it, so a request whose message could not be posted is called off and its users are free again. (How
Slack's own refusal reaches the admin is on the wire: tests/test_secrets.py, tests/app/test_eightbyeight_flows.py.)"""

from __future__ import annotations

import pytest

from bot.domain.lifecycle import RequestState
from bot.errors import Refusal
from bot.slack.messages.refusals import refusal_text

JDOE = "u-1001"


def test_an_approvals_channel_the_bot_is_not_in_calls_the_request_off(desk):
    desk.notifier.unreachable.add("C0APPROVALS")
    draft = desk.ask("alice", "delete", "jdoe")
    with pytest.raises(Refusal) as refused:
        desk.send("alice", draft)
    assert refused.value.code == "approvals_unreachable"
    assert refused.value.facts["channel"] == "C0APPROVALS" and "not_in_channel" in refused.value.facts["failure"]
    shown = refusal_text(refused.value)
    assert "could not post the request to <#C0APPROVALS>" in shown and "not_in_channel" in shown
    assert desk.get(draft).state is RequestState.CANCELLED
    assert draft.id not in desk.notifier.messages
    assert desk.store.holders([JDOE]) == {}  # free to ask again once the bot is invited

    desk.notifier.unreachable.discard("C0APPROVALS")
    again = desk.send("alice", desk.ask("alice", "delete", "jdoe"))
    assert again.state is RequestState.AWAITING_APPROVAL
    assert desk.notifier.messages[again.id].channel == "C0APPROVALS"
