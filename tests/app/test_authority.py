"""Enterprise Grid on the wire: payloads carry the enterprise id and org-wide W… member ids, and the actor the
service checks is read from them (the team of whoever clicked, too). Who may act, and authority checked again
when a request starts, are tested against the service (tests/service/test_access.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.domain.lifecycle import RequestState
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
        app.press("W0ALICE", "Request approval")
        request_id = app.request_id("W0ALICE")
        # someone of another organisation whose address matches an admin's cannot approve in a shared channel
        app.press("W0OTHERORG", "Approve")
        assert "own workspace" in app.last_ephemeral("W0OTHERORG")
        app.press("W0BOB", "Approve")
        request = app.container.store.get(request_id)
        assert request.state is RequestState.DONE
        assert [(a.approver_id, a.approver_email) for a in request.approvals] == [("W0BOB", "bob@example.com")]
