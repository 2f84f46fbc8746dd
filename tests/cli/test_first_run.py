"""The command line as a newcomer meets it (issue 16, items 12 to 17): every command run for real, in an empty
folder, with only the settings each case names; what it prints, its exit code, and that it made nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.settings import DEMO_POLICY, Settings
from bot.simulators.slack.demo import populate
from bot.simulators.slack.fake import FakeSlack
from bot.simulators.workspace.driver import Workspace
from bot.slack.messages.demo import DEMO_CONSOLE
from tests.processes import free_port, wait_for

SECRET = "first-run-signing-secret-8d2f1a"
RUN_FIRST = "run `offboard-bot db upgrade` first"


def _run(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`offboard-bot ARGS` in `folder`, with no setting but `env` (and PATH)."""
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=120,
                          cwd=folder, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env})


def _files(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


# -- 12: the audit commands before `db upgrade` -------------------------------------------------------------------

@pytest.mark.parametrize("command", [["audit", "verify"], ["audit", "export"], ["audit", "export", "--format", "csv"],
                                     ["audit", "adopt-key"]])
def test_an_audit_command_before_db_upgrade_says_to_run_it_and_makes_no_file(tmp_path, command):
    key = {"OFFBOARD_AUDIT_KEY": "first-run-audit-key-Hy7Wd2Qn5Ls8Tp1Vg4"} if "adopt-key" in command else {}
    result = _run(tmp_path, *command, **key)  # the default database, sqlite:///offboard.db, in an empty folder
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"offboard-bot: there is no database at offboard.db yet: {RUN_FIRST}\n"
    assert result.stdout == ""
    assert _files(tmp_path) == []


def test_an_audit_command_on_a_database_without_the_schema_says_to_run_db_upgrade(tmp_path):
    import sqlite3

    sqlite3.connect(tmp_path / "offboard.db").close()  # an empty file, as the old commands left behind
    for command in (["audit", "verify"], ["audit", "export"]):
        result = _run(tmp_path, *command)
        assert result.returncode == 2
        assert result.stderr == f"offboard-bot: the database has no schema yet: {RUN_FIRST}\n"
        assert "Traceback" not in result.stderr and "audit_head" not in result.stderr
    assert "revision" in _run(tmp_path, "db", "upgrade").stdout
    assert _run(tmp_path, "audit", "verify").returncode == 0


# -- 13: a SQLite file in a folder that does not exist ---------------------------------------------------------------

def test_db_upgrade_and_serve_name_the_missing_folder_of_the_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'data' / 'bot.db'}"
    upgrade = _run(tmp_path, "db", "upgrade", DATABASE_URL=url)
    assert upgrade.returncode == 2
    assert upgrade.stderr == (f"offboard-bot: the folder {tmp_path / 'data'} of the SQLite database bot.db does not "
                              "exist: create it, or point DATABASE_URL elsewhere\n")
    serve = _run(tmp_path, "serve", DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-first-run-1", SLACK_SIGNING_SECRET=SECRET,
                 OFFBOARD_POLICY=str(DEMO_POLICY), OFFBOARD_CONSOLE="local",
                 OFFBOARD_LOCAL_CONSOLE=str(tmp_path / "console.db"))
    assert serve.returncode == 2
    assert f"cannot serve: the folder {tmp_path / 'data'} of the SQLite database bot.db does not exist" in serve.stderr
    assert "not answering" not in upgrade.stderr + serve.stderr
    check = _run(tmp_path, "check", DATABASE_URL=url)
    assert f"FAIL  the folder {tmp_path / 'data'} of the SQLite database bot.db does not exist" in check.stdout
    assert _files(tmp_path) == []
    (tmp_path / "data").mkdir()
    assert _run(tmp_path, "db", "upgrade", DATABASE_URL=url).returncode == 0


def test_a_database_that_does_not_answer_is_one_line_not_a_traceback(tmp_path):
    result = _run(tmp_path, "db", "upgrade", DATABASE_URL="postgresql+psycopg://offboard:pw@127.0.0.1:9/offboard")
    assert result.returncode == 1
    assert result.stderr == ("offboard-bot: the database did not answer (OperationalError): check DATABASE_URL, and "
                             "that the database is up\n")


# -- 14: `check` with nothing configured ---------------------------------------------------------------------------

@pytest.mark.parametrize("console", [None, "local", "8x8", "scim"])
def test_check_says_each_fact_once_and_writes_nothing(tmp_path, console):
    result = _run(tmp_path, "check", **({"OFFBOARD_CONSOLE": console} if console else {}))
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert len(lines) == len(set(lines)), lines
    facts = [re.sub(r"^(ok|FAIL|warn) +", "", line) for line in lines]
    for setting in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "OFFBOARD_POLICY", "EIGHTBYEIGHT_API_KEY",
                    "SCIM_TOKEN", "SCIM_BASE_URL", "OFFBOARD_CONSOLE"):
        assert sum(setting in fact for fact in facts) <= 1, (setting, lines)
    assert "FAIL  OFFBOARD_POLICY is not set: write a policy file for your workspace" in lines
    assert not any("demo_policy.toml" in line for line in lines)  # the policy it does not use is not checked
    assert f"FAIL  there is no database at offboard.db yet: {RUN_FIRST}" in lines
    expected = {None: "FAIL  OFFBOARD_CONSOLE is not set", "8x8": "FAIL  EIGHTBYEIGHT_API_KEY is not set",
                "scim": "FAIL  SCIM_TOKEN is not set",
                "local": "ok    local demo console offboard-console.db: not made yet; `serve` makes it"}[console]
    assert any(line.startswith(expected) for line in lines), lines
    assert _files(tmp_path) == []


# -- 15 and 16: `serve` is told its console, listens where it is told, and says when it serves the demo ----------

def _serve_env(tmp_path: Path, slack: FakeSlack, **extra: str) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.api_url, "OFFBOARD_POLICY": str(DEMO_POLICY),
            "OFFBOARD_LOCAL_CONSOLE": str(tmp_path / "console.db"), **extra}


def test_serve_without_offboard_console_refuses_and_touches_nothing(tmp_path):
    with FakeSlack(team_id="T0DEMO", bot_token="xoxb-first-run-serve-1") as slack:
        result = _run(tmp_path, "serve", **_serve_env(tmp_path, slack))
    assert result.returncode == 2
    assert result.stderr == ("offboard-bot: cannot serve:\n  OFFBOARD_CONSOLE is not set: say which admin console to "
                             "offboard from: 8x8, scim, or local (the demo directory on this machine, where nothing "
                             "real is changed)\n")
    assert _files(tmp_path) == []


def test_the_container_builds_no_console_unless_told_which():
    from bot.container import build, build_console
    from bot.errors import ConfigurationError
    from bot.settings import load_settings

    settings = load_settings(slack_bot_token="xoxb-first-run-2", slack_signing_secret=SECRET)
    assert settings.offboard_console is None  # nothing set: no console is assumed
    with pytest.raises(ConfigurationError, match="OFFBOARD_CONSOLE is not set"):
        build_console(settings)
    with pytest.raises(ConfigurationError, match="OFFBOARD_CONSOLE is not set"):
        build(settings)


class _Served:
    """A running `offboard-bot serve ARGS` and everything it logged."""

    def __init__(self, tmp_path: Path, args: list[str], env: dict[str, str], name: str) -> None:
        self.log_path = tmp_path / f"{name}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "serve", *args], cwd=tmp_path,
                                        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
                                        stdout=self._log, stderr=subprocess.STDOUT)

    def wait_serving(self, port: int) -> None:
        """Wait until it says it serves HTTP and /healthz answers on `port` (its own words first: another
        program on this machine could answer on a port it was meant to take)."""
        wait_for(lambda: "serving HTTP on" in self.log_path.read_text(), what="serve to say where it listens")
        wait_for(lambda: _healthy(port), what=f"serve to answer on port {port}")

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(20)
        self._log.close()
        return self.log_path.read_text()


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_on_the_demo_console_says_so_in_the_log_and_in_slack_and_listens_on_port(tmp_path):
    port = free_port()
    with FakeSlack(team_id="T0DEMO", bot_token="xoxb-first-run-demo-3") as slack:
        populate(slack)
        # PORT, as a container platform sets it; no OFFBOARD_PORT, no --port
        served = _Served(tmp_path, [], _serve_env(tmp_path, slack, OFFBOARD_CONSOLE="local", PORT=str(port),
                                                  OFFBOARD_HOST="127.0.0.1"), "demo")
        try:
            served.wait_serving(port)
            with httpx.Client(timeout=10) as http:
                def send(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
                    answer = http.post(f"http://127.0.0.1:{port}/slack/events", content=body, headers=headers)
                    return answer.status_code, answer.content

                workspace = Workspace(slack, signing_secret=SECRET, send=send)
                workspace.slash("U0ALICE", "delete jdoe --reason moved on", channel_id="C0GENERAL")
                wait_for(lambda: "Request approval" in workspace.visible_buttons("U0ALICE"), what="the plan")
                workspace.press("U0ALICE", "Request approval", inputs={"offboard_checklist": "box-1"})
                wait_for(lambda: slack.messages("C0APPROVALS"), what="the approval message")
                workspace.open_home("U0BOB")
                wait_for(lambda: slack.home("U0BOB"), what="Bob's App Home")
        finally:
            output = served.stop()
    [approval] = slack.messages("C0APPROVALS")
    assert approval.blocks[1]["type"] == "context" and approval.blocks[1]["elements"][0]["text"] == DEMO_CONSOLE
    assert approval.text.startswith("(Demo console) ")
    assert slack.home("U0BOB")["blocks"][1]["elements"][0]["text"] == DEMO_CONSOLE
    warnings = [line for line in output.splitlines() if '"level": "WARNING"' in line]
    assert any("OFFBOARD_CONSOLE=local: serving the DEMO directory" in line for line in warnings), output
    assert f"serving HTTP on 127.0.0.1:{port}" in output
    assert "will be unused" not in output  # Bolt's notice about the token it read from the environment itself


def test_serve_takes_host_and_port_before_offboard_port_before_port(tmp_path):
    flag, offboard, platform = free_port(), free_port(), free_port()
    with FakeSlack(team_id="T0DEMO", bot_token="xoxb-first-run-ports-4") as slack:
        env = _serve_env(tmp_path, slack, OFFBOARD_CONSOLE="local", OFFBOARD_HOST="0.0.0.0",
                         OFFBOARD_PORT=str(offboard), PORT=str(platform))
        by_flag = _Served(tmp_path, ["--host", "127.0.0.1", "--port", str(flag)], env, "flag")
        try:
            by_flag.wait_serving(flag)
        finally:
            flagged = by_flag.stop()
        by_setting = _Served(tmp_path, [], env, "setting")
        try:
            by_setting.wait_serving(offboard)
        finally:
            set_by_env = by_setting.stop()
    assert f"serving HTTP on 127.0.0.1:{flag}" in flagged
    assert f"serving HTTP on 0.0.0.0:{offboard}" in set_by_env
    bad = _run(tmp_path, "serve", "--port", "70000")
    assert bad.returncode == 2 and "'70000' is not a port (1 to 65535)" in bad.stderr


# -- 17: each command's --help names the settings it reads ------------------------------------------------------

def _settings_listed(help_text: str) -> set[str]:
    _, _, listed = help_text.partition("settings it reads (environment variables):")
    return set(re.findall(r"^  ([A-Z0-9_]+) ", listed, flags=re.MULTILINE))


ALL_SETTINGS = {name.upper() for name in Settings.model_fields}


@pytest.mark.parametrize(("command", "reads", "not_read"), [
    (["serve"], ALL_SETTINGS, set()),
    (["check"], {"SLACK_BOT_TOKEN", "DATABASE_URL", "OFFBOARD_POLICY", "OFFBOARD_CONSOLE", "EIGHTBYEIGHT_API_KEY",
                 "SCIM_TOKEN", "OFFBOARD_AUDIT_KEY"}, {"OFFBOARD_PORT", "PORT", "OFFBOARD_WORKERS"}),
    (["shell"], {"OFFBOARD_LOG_LEVEL"}, {"SLACK_BOT_TOKEN", "DATABASE_URL", "OFFBOARD_CONSOLE", "OFFBOARD_AUDIT_KEY"}),
    (["db", "upgrade"], {"DATABASE_URL", "OFFBOARD_LOG_LEVEL"}, {"SLACK_BOT_TOKEN", "OFFBOARD_AUDIT_KEY"}),
    (["audit", "verify"], {"DATABASE_URL", "OFFBOARD_AUDIT_KEY"}, {"SLACK_BOT_TOKEN", "OFFBOARD_CONSOLE"}),
    (["audit", "adopt-key"], {"DATABASE_URL", "OFFBOARD_AUDIT_KEY"}, {"SLACK_BOT_TOKEN"}),
    (["audit", "export"], {"DATABASE_URL"}, {"SLACK_BOT_TOKEN", "OFFBOARD_AUDIT_KEY"}),
], ids=lambda value: " ".join(value) if isinstance(value, list) else None)
def test_each_commands_help_lists_the_settings_it_reads(tmp_path, command, reads, not_read):
    result = _run(tmp_path, *command, "--help")
    assert result.returncode == 0, result.stderr
    listed = _settings_listed(result.stdout)
    assert reads <= listed, reads - listed
    assert not listed & not_read
    assert listed <= ALL_SETTINGS  # only settings that exist
    assert _files(tmp_path) == []


def test_audit_export_help_says_what_each_format_writes(tmp_path):
    from storage.audit import EXPORT_FIELDS

    text = " ".join(_run(tmp_path, "audit", "export", "--help").stdout.split())
    assert "jsonl (the default): one JSON object a line" in text and "csv: the same columns under a header" in text
    assert all(field in text for field in EXPORT_FIELDS)


def test_building_the_app_says_nothing_of_the_token_bolt_reads_from_the_environment(monkeypatch, caplog, tmp_path):
    import logging

    from bot.container import build
    from bot.settings import load_settings

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-first-run-env-5")  # as `serve` runs: Bolt reads it itself
    settings = load_settings(slack_signing_secret=SECRET, database_url=f"sqlite:///{tmp_path / 'bot.db'}",
                             offboard_console="local", offboard_local_console=tmp_path / "console.db")
    with caplog.at_level(logging.INFO):
        build(settings).close()
    assert [record.getMessage() for record in caplog.records if record.name.startswith("slack_bolt")] == []


def test_the_shell_needs_no_setting_and_leaves_the_folder_it_runs_in_as_it_was(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bot", "shell"], input="/offboard delete jdoe\nquit\n",
                            capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    assert result.returncode == 0, result.stderr
    assert "Request approval" in result.stdout  # the demo console's plan for jdoe
    assert _files(tmp_path) == []
