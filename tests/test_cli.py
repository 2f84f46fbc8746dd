"""The command line, run as a newcomer or an operator would: real processes, real files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.settings import DEMO_POLICY
from bot.shell.demo import populate
from bot.shell.fake_slack import FakeSlack
from bot.shell.workspace import Workspace
from tests.processes import delete_jdoe_with_approval, free_port, wait_for

SECRET = "cli-test-signing-secret-6f1c2d"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
           "OFFBOARD_LOCAL_CONSOLE": str(tmp_path / "console.db"), "OFFBOARD_LOG_LEVEL": "WARNING"}
    return env | extra


def _run(tmp_path, *args, **extra):
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=_env(tmp_path, **extra))


def test_db_upgrade_then_audit_verify_and_export(tmp_path):
    assert "revision 0004" in _run(tmp_path, "db", "upgrade").stdout
    assert "revision 0004" in _run(tmp_path, "db", "upgrade").stdout  # idempotent
    verify = _run(tmp_path, "audit", "verify")
    assert verify.returncode == 0 and "intact: 0 rows" in verify.stdout

    from datetime import UTC, datetime

    from bot.domain.records import AuditEntry
    from storage.db import make_engine
    from storage.requests import RequestStore

    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    for n in range(3):
        RequestStore(engine).append_audit(AuditEntry(actor="U0ALICE", event=f"e{n}"), now=datetime.now(UTC))
    export = _run(tmp_path, "audit", "export", "--format", "csv", "--output", str(tmp_path / "audit.csv"))
    assert export.returncode == 0
    assert len((tmp_path / "audit.csv").read_text().splitlines()) == 4
    assert _run(tmp_path, "audit", "export").stdout.count("\n") == 3

    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_log SET event = 'nothing' WHERE seq = 2")
    broken = _run(tmp_path, "audit", "verify")
    assert broken.returncode == 1
    assert "row 2: content does not match its hash" in broken.stderr


@pytest.mark.parametrize(("env", "message"), [
    ({}, "SLACK_BOT_TOKEN is not set"),
    ({"SLACK_BOT_TOKEN": "xoxb-your-token", "SLACK_SIGNING_SECRET": "changeme"}, "placeholder"),
    ({"SLACK_BOT_TOKEN": "not-a-bot-token", "SLACK_SIGNING_SECRET": "s3cr3t-value-1"}, "should start with xoxb-"),
    ({"OFFBOARD_CONSOLE": "ldap"}, "OFFBOARD_CONSOLE"),
    ({"OFFBOARD_PORT": "99999"}, "OFFBOARD_PORT"),
])
def test_serve_refuses_bad_settings(tmp_path, env, message):
    result = _run(tmp_path, "serve", **env)
    assert result.returncode == 2
    assert message in result.stderr
    for value in env.values():
        if "secret" in value or value.startswith("xoxb-"):
            assert value not in result.stderr






def test_serve_over_http_runs_the_whole_flow_and_keeps_secrets_out_of_logs(tmp_path):
    port = free_port()
    with FakeSlack(team_id="T0DEMO", bot_token="xoxb-cli-test-token-91b2") as slack:
        populate(slack)
        env = _env(tmp_path, SLACK_BOT_TOKEN=slack.bot_token, SLACK_SIGNING_SECRET=SECRET,
                   SLACK_API_URL=slack.api_url, OFFBOARD_POLICY=str(DEMO_POLICY), OFFBOARD_HOST="127.0.0.1",
                   OFFBOARD_PORT=str(port), OFFBOARD_LOG_LEVEL="DEBUG")
        log = (tmp_path / "serve.log").open("w+")
        process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: _healthy(base))
            with httpx.Client(timeout=10) as http:
                workspace = Workspace(slack, signing_secret=SECRET, send=lambda body, headers: _post(
                    http, f"{base}/slack/events", body, headers))
                delete_jdoe_with_approval(workspace, slack, channel_id="C0GENERAL")
        finally:
            process.terminate()
            process.wait(20)
        log.seek(0)
        output = log.read()
    assert "serving HTTP" in output
    assert slack.bot_token not in output and SECRET not in output


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _post(http: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    response = http.post(url, content=body, headers=headers)
    return response.status_code, response.content


def test_check_reports_each_part(tmp_path):
    with FakeSlack(team_id="T0DEMO", bot_token="xoxb-check-token-1") as slack:
        populate(slack)
        _run(tmp_path, "db", "upgrade")
        env = dict(SLACK_BOT_TOKEN=slack.bot_token, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.api_url,
                   OFFBOARD_POLICY=str(DEMO_POLICY))
        good = _run(tmp_path, "check", **env)
        assert good.returncode == 0, good.stdout
        assert "ok    Slack reachable: workspace" in good.stdout
        assert "ok    local console" in good.stdout and "19 users" in good.stdout
        assert "ok    database at revision 0004" in good.stdout
        assert "ok    the bot token has every scope the bot uses" in good.stdout
        assert "ok    approvals channel #" in good.stdout and "ok    results channel #" in good.stdout
        slack.set_bot_membership("C0RESULTS", False)
        outside = _run(tmp_path, "check", **env)
        assert outside.returncode == 1
        assert "FAIL  results channel #" in outside.stdout and "the bot is not a member" in outside.stdout
        bad = _run(tmp_path, "check", **(env | {"SLACK_BOT_TOKEN": "xoxb-wrong-token-2"}))
        assert bad.returncode == 1
        assert "FAIL  Slack refused the bot token: invalid_auth" in bad.stdout
        assert "xoxb-wrong-token-2" not in bad.stdout + bad.stderr


def test_check_reaches_the_8x8_console_and_reports_the_keys_access(tmp_path, eightbyeight):
    with FakeSlack(team_id="T0DEMO", bot_token="xoxb-check-token-1") as slack:
        populate(slack)
        _run(tmp_path, "db", "upgrade")
        env = dict(SLACK_BOT_TOKEN=slack.bot_token, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.api_url,
                   OFFBOARD_POLICY=str(DEMO_POLICY), OFFBOARD_CONSOLE="8x8",
                   EIGHTBYEIGHT_BASE_URL=eightbyeight.base_url, EIGHTBYEIGHT_API_KEY=eightbyeight.api_key)
        good = _run(tmp_path, "check", **env)
        assert good.returncode == 0, good.stdout
        assert f"ok    8x8 API reachable at {eightbyeight.base_url}, and the API key may read users" in good.stdout
        bad = _run(tmp_path, "check", **(env | {"EIGHTBYEIGHT_API_KEY": "wrong-key-s3cr3t"}))
        assert bad.returncode == 1
        assert "FAIL  console: the 8x8 API refused the API key" in bad.stdout
        assert "s3cr3t" not in bad.stdout + bad.stderr
        missing = _run(tmp_path, "check", **(env | {"EIGHTBYEIGHT_API_KEY": ""}))
        assert "FAIL  EIGHTBYEIGHT_API_KEY is not set" in missing.stdout
