"""Socket Mode end to end: the real app, connected by bot.socket_mode to a fake Socket Mode server that
the fake Slack's apps.connections.open points at; envelopes in, acks out, state checked in the fakes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import socket_mode
from bot.container import build
from bot.errors import ConfigurationError
from bot.settings import DEMO_POLICY, load_settings
from bot.simulators.harness import App
from bot.simulators.slack.demo import HOME_CHANNEL, populate
from bot.simulators.slack.fake import FakeSlack
from bot.simulators.socket_mode import FakeSocketMode
from bot.simulators.workspace.driver import Workspace
from bot.slack.ids import ActionId
from storage import migrate
from tests.processes import delete_jdoe_with_approval

JDOE = "u-1001"
NOT_THE_SIGNING_SECRET = "socket-mode-requests-carry-no-signature"  # Workspace signs with it; nobody checks


@pytest.fixture
def server() -> Iterator[FakeSocketMode]:
    with FakeSocketMode() as fake:
        yield fake


@pytest.fixture
def app(slack, server, clock, tmp_path) -> Iterator[App]:
    """The app built by the composition root and connected in Socket Mode; it serves no HTTP at all."""
    slack.socket_mode_url = server.url
    settings = load_settings(
        slack_bot_token=slack.bot_token, slack_signing_secret="the-apps-signing-secret-0123456789",
        slack_app_token=slack.app_token, slack_api_url=slack.api_url,
        database_url=f"sqlite:///{tmp_path / 'offboard.db'}", offboard_console="local",
        offboard_local_console=tmp_path / "console.db")
    container = build(settings, clock=clock)
    migrate.upgrade(container.engine)
    handler = socket_mode.connect(container, slack.app_token, ping_interval=1)
    try:
        server.wait_connected()
        workspace = Workspace(slack, signing_secret=NOT_THE_SIGNING_SECRET, send=server.workspace_send())
        yield App(slack=slack, workspace=workspace, container=container, console=container.console, faults=None,
                  clock=clock, url=server.url, http=None)  # type: ignore[arg-type]  # no HTTP in Socket Mode
    finally:
        handler.close()
        container.close()


def test_a_slash_command_envelope_is_acked_before_its_work_and_the_preview_goes_to_its_response_url(app, server):
    app.command("alice", "delete jdoe --reason left the company")

    envelope = server.envelopes[-1]
    assert envelope.type == "slash_commands" and envelope.accepts_response_payload
    assert envelope.payload["command"] == "/offboard" and envelope.payload["user_id"] == "U0ALICE"
    assert envelope.ack == {"envelope_id": envelope.envelope_id}  # acked empty: the answer follows separately
    assert envelope.acks == 1
    [answer] = app.slack.calls("response_url")
    assert envelope.acked_at < answer.at  # acked first; the plan, made after, followed on its response URL
    assert server.received == [envelope.ack]
    preview = app.last_ephemeral("alice")
    assert "jdoe" in preview and "Request approval" in app.workspace.visible_buttons("U0ALICE")
    assert [call.error for call in app.slack.calls("response_url")] == [None]
    assert [call.error for call in app.slack.calls("apps.connections.open")] == [None]


def test_interactive_envelopes_carry_the_flow_to_the_deletion(app, server):
    app.command("alice", "delete jdoe --reason left the company")
    request_id = app.request_id()
    app.press("alice", "Request approval", offboard_checklist="box-1")
    assert request_id in app.channel_texts("C0APPROVALS")[-1]
    assert app.console.get_user(user_id=JDOE) is not None

    app.press("bob", "Approve")
    assert "`jdoe`: deleted successfully" in app.channel_texts("C0RESULTS")[-1]
    assert app.console.get_user(user_id=JDOE) is None
    clicks = [e for e in server.envelopes if e.type == "interactive"]
    assert [e.payload["actions"][0]["action_id"] for e in clicks] == [ActionId.REQUEST_APPROVAL, ActionId.APPROVE]
    assert [e.accepts_response_payload for e in clicks] == [False, False]
    assert all(e.acks == 1 for e in server.envelopes)


def test_the_actor_comes_from_the_payload_even_over_the_trusted_socket(app, server):
    app.command("alice", "delete jdoe")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    approval = app.slack.messages("C0APPROVALS")[-1]

    app.workspace.block_action("U0ALICE", approval, ActionId.APPROVE)  # the requester approving her own request
    app.workspace.block_action("U0JDOE", approval, ActionId.APPROVE)  # not an admin
    app.settle()
    assert app.console.get_user(user_id=JDOE) is not None
    assert app.slack.messages("C0RESULTS") == []
    assert all(e.ack is not None for e in server.envelopes)

    app.press("bob", "Approve")
    assert app.console.get_user(user_id=JDOE) is None


def test_an_envelope_no_listener_handles_is_acked_and_changes_nothing(app, server):
    app.command("alice", "delete jdoe")
    preview = app.slack.ephemerals(user_id="U0ALICE")[-1]
    calls, ephemerals = len(app.slack.calls()), len(app.slack.ephemerals())

    app.workspace.block_action("U0ALICE", preview, "offboard_no_such_action")
    events = server.deliver("events_api", {"type": "event_callback", "team_id": "T0DEMO", "api_app_id": "A0OFFBOARD",
                                           "event": {"type": "reaction_added", "user": "U0ALICE"}})
    server.wait_ack(events)
    app.settle()
    unknown = next(e for e in server.envelopes if e.type == "interactive")
    assert unknown.ack == {"envelope_id": unknown.envelope_id} and unknown.acks == 1
    assert server.envelope(events).ack == {"envelope_id": events}
    assert len(app.slack.calls()) == calls and len(app.slack.ephemerals()) == ephemerals
    assert app.container.store.get(app.request_id()).state.value == "draft"


@pytest.mark.parametrize("how", ["disconnect message", "closed socket"])
def test_the_app_reconnects_through_a_new_url_and_keeps_serving(app, server, how):
    if how == "disconnect message":
        server.disconnect()
    else:
        server.drop()
    server.wait_connected(made=2)
    assert len(app.slack.calls("apps.connections.open")) == 2
    app.command("alice", "delete jdoe")
    assert "Request approval" in app.workspace.visible_buttons("U0ALICE")


def test_connect_refuses_a_token_slack_refuses(slack, clock, tmp_path):
    settings = load_settings(
        slack_bot_token=slack.bot_token, slack_signing_secret="the-apps-signing-secret-0123456789",
        slack_api_url=slack.api_url, database_url=f"sqlite:///{tmp_path / 'offboard.db'}",
        offboard_console="local", offboard_local_console=tmp_path / "console.db")
    container = build(settings, clock=clock)
    try:
        with pytest.raises(ConfigurationError, match="not_allowed_token_type"):
            socket_mode.connect(container, slack.bot_token)
        with pytest.raises(ConfigurationError, match="invalid_auth"):
            socket_mode.connect(container, "xapp-1-A0OFFBOARD-wrong")
    finally:
        container.close()
    assert [call.error for call in slack.calls("apps.connections.open")] == ["not_allowed_token_type", "invalid_auth"]


# -- the real `offboard-bot serve` process ----------------------------------------------------------------------


def _env(tmp_path: Path, slack: FakeSlack, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "OFFBOARD_CONSOLE": "local", "OFFBOARD_LOCAL_CONSOLE": str(tmp_path / "console.db"),
            "OFFBOARD_POLICY": str(DEMO_POLICY),
            "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": "cli-socket-signing-secret-4e8a",
            "SLACK_APP_TOKEN": slack.app_token, "SLACK_API_URL": slack.api_url, "OFFBOARD_LOG_LEVEL": "DEBUG"} | extra




def test_serve_in_socket_mode_runs_a_command_and_stops_cleanly(tmp_path, server):
    with FakeSlack(team_id="T0DEMO", bot_token="xoxb-socket-test-token-5d1e",
                   app_token="xapp-1-A0OFFBOARD-socket-test-7c3b") as slack:
        populate(slack)
        slack.socket_mode_url = server.url
        log = (tmp_path / "serve.log").open("w+")
        process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=_env(tmp_path, slack),
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            server.wait_connected(timeout=60)
            workspace = Workspace(slack, signing_secret=NOT_THE_SIGNING_SECRET, send=server.workspace_send())
            delete_jdoe_with_approval(workspace, slack, channel_id=HOME_CHANNEL)
        finally:
            process.terminate()
            returncode = process.wait(20)
        log.seek(0)
        output = log.read()
    assert returncode == 0, output
    assert "serving in Socket Mode" in output and "Socket Mode connection closed" in output
    assert all(e.acks == 1 for e in server.envelopes)
    for secret in (slack.bot_token, slack.app_token, "cli-socket-signing-secret-4e8a"):
        assert secret not in output


def test_serve_refuses_an_app_token_slack_refuses(tmp_path):
    with FakeSlack(team_id="T0DEMO", bot_token="xoxb-socket-test-token-5d1e") as slack:
        wrong = "xapp-1-A0OFFBOARD-wrong-9f2a"
        result = subprocess.run([sys.executable, "-m", "bot", "serve"], capture_output=True, text=True, timeout=120,
                                cwd=tmp_path, env=_env(tmp_path, slack, SLACK_APP_TOKEN=wrong))
    assert result.returncode == 2
    assert "Slack refused SLACK_APP_TOKEN for Socket Mode: invalid_auth" in result.stderr
    assert wrong not in result.stdout + result.stderr


def test_a_workflow_steps_delete_completes_over_the_socket_once_an_admin_took_it_and_another_approved(app, server):
    from bot.slack.ids import FunctionId, StepOutput

    execution_id, _ = app.workspace.run_step(
        FunctionId.REQUEST_OFFBOARDING.value, {"leaver": "U0JDOE", "action": "delete", "reason": "left"},
        required_outputs=tuple(member.value for member in StepOutput))
    app.settle()
    [event] = [e for e in server.envelopes if e.type == "events_api"]
    assert event.payload["event"]["type"] == "function_executed" and event.acks == 1
    app.press("carol", "Take it")  # not an admin
    assert app.slack.function_execution(execution_id).state == "running"
    app.press("alice", "Take it")
    request_id = app.request_id()
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.press("bob", "Approve")
    assert app.console.get_user(user_id=JDOE) is None
    execution = app.slack.function_execution(execution_id)
    assert execution.state == "completed"
    assert execution.outputs == {"request_id": request_id, "final_state": "Done",
                                 "summary": "jdoe: deleted successfully", "still_in_progress": False}
    assert all(e.acks == 1 for e in server.envelopes)
