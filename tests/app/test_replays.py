"""A signed Slack request is taken once: the same bytes sent again, within the five minutes their signature is
accepted, are refused with 401 and change nothing, on every replica (the signatures are in the database)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.simulators.harness import U
from storage.replays import KEEP_FOR, ReplayGuard


def _command_body(text: str) -> bytes:
    return (f"token=x&team_id=T0DEMO&user_id={U['alice']}&command=%2Foffboard&text={text}"
            "&channel_id=C0GENERAL&response_url=http%3A%2F%2F127.0.0.1%3A9%2Fr&trigger_id=1.2.3").encode()


def test_a_replayed_command_is_refused_and_changes_nothing(app):
    body = _command_body("delete+jdoe")
    headers = app.workspace.sign(body, int(time.time()))
    first = app.http.post(f"{app.url}/slack/events", content=body, headers=headers)
    app.settle()
    assert first.status_code == 200
    drafts = app.container.store.list()
    assert len(drafts) == 1
    again = app.http.post(f"{app.url}/slack/events", content=body, headers=headers)
    app.settle()
    assert again.status_code == 401 and again.text == "replayed request"
    assert app.container.store.list() == drafts  # no second draft


def test_a_replayed_approval_click_is_refused(app):
    app.command("alice", "delete jdoe")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    sent = []
    original = app.workspace.send

    def keep(body, headers):
        sent.append((body, headers))
        return original(body, headers)

    app.workspace.send = keep
    app.press("bob", "Approve")
    body, headers = sent[-1]
    replay = app.http.post(f"{app.url}/slack/events", content=body, headers=headers)
    assert replay.status_code == 401
    app.settle()
    assert [a.approver_email for a in app.container.store.list()[0].approvals] == ["bob@example.com"]


def test_signatures_are_forgotten_once_slack_would_refuse_them_anyway(any_engine):
    guard = ReplayGuard(any_engine)
    now = datetime.now(UTC)
    assert guard.first_time("v0=abc", now=now)
    assert not guard.first_time("v0=abc", now=now + timedelta(minutes=4))
    assert guard.first_time("v0=def", now=now + KEEP_FOR + timedelta(minutes=2))  # sweeps the old one away
    assert guard.first_time("v0=abc", now=now + KEEP_FOR + timedelta(minutes=3))


@pytest.mark.postgres
def test_replicas_share_what_they_took(postgres_url):
    from storage.db import make_engine
    from tests.conftest import _fresh_schema

    engine = make_engine(postgres_url)
    try:
        _fresh_schema(engine)
        now = datetime.now(UTC)
        first, second = ReplayGuard(engine), ReplayGuard(engine)  # two replicas, one database
        assert first.first_time("v0=shared", now=now)
        assert not second.first_time("v0=shared", now=now + timedelta(seconds=1))
        assert second.first_time("v0=other", now=now + timedelta(seconds=1))
    finally:
        engine.dispose()
