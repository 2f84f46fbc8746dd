"""The command line, run as a newcomer or an operator would: real processes, real files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.console.local import LocalConsole
from bot.settings import DEMO_POLICY
from bot.simulators.slack.demo import populate
from bot.simulators.slack.fake import FakeSlack
from bot.simulators.workspace.driver import Workspace
from tests.processes import delete_jdoe_with_approval, free_port, wait_for

SECRET = "cli-test-signing-secret-6f1c2d"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
           "OFFBOARD_CONSOLE": "local", "OFFBOARD_LOCAL_CONSOLE": str(tmp_path / "console.db"),
           "OFFBOARD_LOG_LEVEL": "WARNING"}
    return env | extra


def _run(tmp_path, *args, **extra):
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=_env(tmp_path, **extra))


def test_db_upgrade_then_audit_verify_and_export(tmp_path):
    assert "revision 0007" in _run(tmp_path, "db", "upgrade").stdout
    assert "revision 0007" in _run(tmp_path, "db", "upgrade").stdout  # idempotent
    verify = _run(tmp_path, "audit", "verify")
    assert verify.returncode == 0 and "intact: 0 rows" in verify.stdout

    from datetime import UTC, datetime

    from bot.domain.records import AuditEntry
    from storage.db import make_engine
    from storage.request_store import RequestStore

    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    for n in range(3):
        RequestStore(engine).append_audit(AuditEntry(actor="U0ALICE", event=f"e{n}"), now=datetime.now(UTC))
    export = _run(tmp_path, "audit", "export", "--format", "csv", "--output", str(tmp_path / "audit.csv"))
    assert export.returncode == 0
    assert len((tmp_path / "audit.csv").read_text().splitlines()) == 4
    assert _run(tmp_path, "audit", "export").stdout.count("\n") == 3

    with engine.begin() as connection:  # a row inserted after the head: reported, never exported
        connection.exec_driver_sql("INSERT INTO audit_log (seq, at, actor, event, data, prev_hash, hash) VALUES "
                                   "(1000000, '2026-11-02T09:00:00+00:00', 'U0MALLORY', 'forged', '{}', '', '')")
    assert _run(tmp_path, "audit", "export").stdout.count("\n") == 3
    inserted = _run(tmp_path, "audit", "verify")
    assert inserted.returncode == 1
    assert "1 row after the head, row 1000000: inserted by someone, not by the bot" in inserted.stderr

    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit_log WHERE seq = 1000000")
        connection.exec_driver_sql("UPDATE audit_log SET event = 'nothing' WHERE seq = 2")
    broken = _run(tmp_path, "audit", "verify")
    assert broken.returncode == 1
    assert "row 2: content does not match its hash" in broken.stderr
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit_head")
    headless = _run(tmp_path, "audit", "export")
    assert headless.returncode == 1 and headless.stdout == "" and "head row is missing" in headless.stderr


AUDIT_KEY = "cli-audit-key-Hy7Wd2Qn5Ls8Tp1Vg4Rk9Bx"


def _audit_rows(tmp_path):
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT seq, event FROM audit_log ORDER BY seq")).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_audit_verify_uses_the_audit_key_and_counts_sealed_and_plain_rows(tmp_path):
    from datetime import UTC, datetime

    from pydantic import SecretStr

    from bot.domain.records import AuditEntry
    from storage.db import make_engine
    from storage.request_store import RequestStore

    _run(tmp_path, "db", "upgrade")
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    for n in range(3):  # written before the key was set
        RequestStore(engine).append_audit(AuditEntry(actor="U0ALICE", event=f"plain{n}"), now=datetime.now(UTC))
    plain = _run(tmp_path, "audit", "verify")
    assert plain.returncode == 0 and "intact: 3 rows verified (3 plain; OFFBOARD_AUDIT_KEY is not set)" in plain.stdout
    store = RequestStore(engine, audit_key=SecretStr(AUDIT_KEY))
    adopted = _run(tmp_path, "audit", "adopt-key", "--through", _named(engine, 3), OFFBOARD_AUDIT_KEY=AUDIT_KEY)
    assert adopted.returncode == 0, adopted.stderr
    assert "adopted the key: row 4 (audit.key_in_use) is sealed with OFFBOARD_AUDIT_KEY and vouches for the 3 " \
           "plain rows before it" in adopted.stdout
    store.append_audit(AuditEntry(actor="U0ALICE", event="sealed"), now=datetime.now(UTC))

    good = _run(tmp_path, "audit", "verify", OFFBOARD_AUDIT_KEY=AUDIT_KEY)
    assert good.returncode == 0, good.stderr
    assert "audit chain intact: 5 rows verified (2 sealed with the audit key, 3 plain)" in good.stdout

    keyless = _run(tmp_path, "audit", "verify")
    assert keyless.returncode == 1
    assert "audit chain NOT VERIFIED (5 rows read: 3 plain; OFFBOARD_AUDIT_KEY is not set)" in keyless.stderr
    assert "rows 4 to 5 are sealed with an audit key, or edited: set OFFBOARD_AUDIT_KEY to verify them" in (
        keyless.stderr)

    wrong = _run(tmp_path, "audit", "verify", OFFBOARD_AUDIT_KEY=AUDIT_KEY[::-1])
    assert wrong.returncode == 1 and "audit chain BROKEN" in wrong.stderr
    assert "rows 4 to 5: content does not match their hashes (edited, or sealed with another audit key)" in (
        wrong.stderr)
    assert "no row is sealed with the audit key" in wrong.stderr

    with engine.begin() as connection:  # row 5 edited and hashed again without the key; the head follows
        row = connection.exec_driver_sql("SELECT prev_hash, at, request_id FROM audit_log WHERE seq = 5").one()
        from storage.audit import _digest

        digest = _digest(row.prev_hash, 5, row.at, "U0MALLORY", "sealed", row.request_id, "{}")
        connection.exec_driver_sql(f"UPDATE audit_log SET actor = 'U0MALLORY', hash = '{digest}' WHERE seq = 5")
        connection.exec_driver_sql(f"UPDATE audit_head SET hash = '{digest}'")
    assert _run(tmp_path, "audit", "verify").stderr.count("are sealed with an audit key") == 0  # looks plain now
    rewritten = _run(tmp_path, "audit", "verify", OFFBOARD_AUDIT_KEY=AUDIT_KEY)
    assert rewritten.returncode == 1
    assert "audit chain BROKEN (5 rows read: 1 sealed with the audit key, 4 plain)" in rewritten.stderr
    assert "row 5 is not sealed with the audit key (by U0MALLORY, at " in rewritten.stderr
    assert ("written by a replica running without OFFBOARD_AUDIT_KEY, or rewritten by someone without it; review it "
            "(`offboard-bot audit export`) and, if a replica wrote it, accept it with `offboard-bot audit adopt-key "
            f"--accept-plain-rows 5-5@{digest[:16]}`") in rewritten.stderr
    engine.dispose()


def _named(engine, seq):
    """Row seq as `audit adopt-key` takes it: its number, @, and the first 16 hex characters of its hash."""
    with engine.connect() as connection:
        return f"{seq}@{connection.exec_driver_sql(f'SELECT hash FROM audit_log WHERE seq = {seq}').scalar_one()[:16]}"


def _printed_command(output):
    """The `offboard-bot audit adopt-key ...` command an output tells the person to run, as arguments."""
    [command] = re.findall(r"`offboard-bot (audit adopt-key [^`]+)`", output)
    return command.split()


@pytest.mark.parametrize(("key", "message"), [
    ("", "OFFBOARD_AUDIT_KEY is empty"),
    ("short-key-Hy7Wd2Qn5Ls8", "OFFBOARD_AUDIT_KEY is too short (at least 32 bytes)"),
    (f"changeme-{AUDIT_KEY}", "OFFBOARD_AUDIT_KEY still holds a placeholder value"),
    (f"{AUDIT_KEY[:16]} {AUDIT_KEY[16:]}", "OFFBOARD_AUDIT_KEY contains spaces or line breaks"),
], ids=["empty", "short", "placeholder", "space"])
def test_a_bad_audit_key_is_refused_by_serve_and_audit_verify(tmp_path, key, message):
    from bot.settings import load_settings

    [problem] = load_settings(offboard_audit_key=key).audit_key_problems()
    assert problem.startswith(message)
    assert problem.endswith('. Make a key with: python -c "import secrets; print(secrets.token_urlsafe(32))"')
    _run(tmp_path, "db", "upgrade")
    for command in (["serve"], ["audit", "verify"], ["audit", "adopt-key"]):
        result = _run(tmp_path, *command, OFFBOARD_AUDIT_KEY=key, SLACK_BOT_TOKEN="xoxb-cli-test-token-91b2",
                      SLACK_SIGNING_SECRET=SECRET, OFFBOARD_POLICY=str(DEMO_POLICY))
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert message in result.stderr and "secrets.token_urlsafe(32)" in result.stderr
        assert not key or key not in result.stdout + result.stderr
    assert _audit_rows(tmp_path) == []  # nothing was sealed with it


def test_a_good_audit_key_is_accepted():
    import secrets

    from bot.settings import AUDIT_KEY_MIN, load_settings

    assert load_settings().audit_key_problems() == []  # optional
    assert load_settings(offboard_audit_key=AUDIT_KEY).audit_key_problems() == []
    assert load_settings(offboard_audit_key="ü" * 16).audit_key_problems() == []  # 16 characters, 32 bytes
    [short] = load_settings(offboard_audit_key="ü" * 15 + "x").audit_key_problems()  # 16 characters, 31 bytes
    assert short.startswith("OFFBOARD_AUDIT_KEY is too short (at least 32 bytes)")
    assert len(secrets.token_urlsafe(32)) >= AUDIT_KEY_MIN  # what the refusal says to run makes a long enough key


@pytest.mark.parametrize("key", [AUDIT_KEY, "short-key"], ids=["good key", "bad key"])
def test_shell_ignores_the_audit_key(tmp_path, key):
    """The shell's scratch log is never sealed with the production key (its rows could be swapped into
    production's log), and a key unfit for sealing does not stop the demo."""
    result = subprocess.run([sys.executable, "-m", "bot", "shell", "--data-dir", str(tmp_path)],
                            input="/offboard delete jdoe\nquit\n", capture_output=True, text=True, timeout=120,
                            cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "OFFBOARD_AUDIT_KEY": key})
    assert result.returncode == 0, result.stderr
    assert key not in result.stdout + result.stderr
    assert "OFFBOARD_AUDIT_KEY is ignored here" in result.stdout
    from pydantic import SecretStr

    from storage import audit
    from storage.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'offboard.db'}")
    keyless, keyed = audit.verify(engine), audit.verify(engine, key=SecretStr(AUDIT_KEY))
    engine.dispose()
    assert keyless.ok and keyless.plain == keyless.rows >= 1, keyless.problems  # plain SHA-256 rows only
    assert keyed.keyed == 0 and keyed.problems[-1].startswith("no row is sealed with the audit key")


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
                   OFFBOARD_PORT=str(port), OFFBOARD_LOG_LEVEL="DEBUG", OFFBOARD_AUDIT_KEY=AUDIT_KEY)
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
    assert slack.bot_token not in output and SECRET not in output and AUDIT_KEY not in output
    assert "audit log: rows are sealed with OFFBOARD_AUDIT_KEY from row 1 on" in output
    rows = _audit_rows(tmp_path)
    assert rows[0] == (1, "audit.key_in_use") and ("request.done" in {event for _, event in rows})
    verify = _run(tmp_path, "audit", "verify", OFFBOARD_AUDIT_KEY=AUDIT_KEY)
    assert f"intact: {len(rows)} rows verified ({len(rows)} sealed with the audit key, 0 plain)" in verify.stdout
    assert "audit chain NOT VERIFIED" in _run(tmp_path, "audit", "verify").stderr  # not plain SHA-256


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
        unmade = _run(tmp_path, "check", **env)  # `check` makes nothing: the demo directory is made by `serve`
        assert unmade.returncode == 0, unmade.stdout
        assert (f"ok    local demo console {tmp_path / 'console.db'}: not made yet; `serve` makes it with the demo "
                "users") in unmade.stdout
        assert not (tmp_path / "console.db").exists()
        LocalConsole(tmp_path / "console.db").seed_if_empty()
        good = _run(tmp_path, "check", **env)
        assert good.returncode == 0, good.stdout
        assert "ok    Slack reachable: workspace" in good.stdout
        assert "ok    local console" in good.stdout and "19 users" in good.stdout
        assert "ok    database at revision 0007" in good.stdout
        assert "ok    the bot token has every scope the bot uses" in good.stdout
        assert ("ok    the bot token is installed on one workspace, not org-wide: the Workflow Builder step "
                "shows in that workspace only") in good.stdout
        assert "ok    approvals channel #" in good.stdout and "ok    results channel #" in good.stdout
        assert "warn  OFFBOARD_AUDIT_KEY is not set" in good.stdout  # said, without failing the check
        sealed = _run(tmp_path, "check", **(env | {"OFFBOARD_AUDIT_KEY": "check-audit-key-0123456789abcdefghij"}))
        assert sealed.returncode == 0 and "ok    audit rows are sealed with OFFBOARD_AUDIT_KEY" in sealed.stdout
        assert "warn" not in sealed.stdout and "0123456789abcdefghij" not in sealed.stdout + sealed.stderr
        slack.enterprise_id, slack.is_enterprise_install = "E0ORG", True  # an org-wide install on Enterprise Grid
        org = _run(tmp_path, "check", **env)
        assert org.returncode == 0
        assert "ok    the bot token is an org-wide install (Enterprise Grid E0ORG)" in org.stdout
        slack.enterprise_id, slack.is_enterprise_install = None, False
        slack.set_bot_membership("C0RESULTS", False)
        outside = _run(tmp_path, "check", **env)
        assert outside.returncode == 1
        assert "FAIL  results channel #" in outside.stdout and "the bot is not a member" in outside.stdout
        bad = _run(tmp_path, "check", **(env | {"SLACK_BOT_TOKEN": "xoxb-wrong-token-2"}))
        assert bad.returncode == 1
        assert "FAIL  Slack refused the bot token: invalid_auth" in bad.stdout
        assert "xoxb-wrong-token-2" not in bad.stdout + bad.stderr


def test_a_log_not_ending_in_a_sealed_row_stops_serve_and_check_until_audit_adopt_key(tmp_path):
    from datetime import UTC, datetime

    from bot.domain.records import AuditEntry
    from storage.db import make_engine
    from storage.request_store import RequestStore

    def plain_rows(*events):  # what a replica without the key writes
        engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
        for event in events:
            RequestStore(engine).append_audit(AuditEntry(actor="U0ALICE", event=event), now=datetime.now(UTC))
        engine.dispose()

    with FakeSlack(team_id="T0DEMO", bot_token="xoxb-check-token-1") as slack:
        populate(slack)
        _run(tmp_path, "db", "upgrade")
        plain_rows("before.the.key.1", "before.the.key.2", "before.the.key.3")
        env = dict(SLACK_BOT_TOKEN=slack.bot_token, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.api_url,
                   OFFBOARD_POLICY=str(DEMO_POLICY), OFFBOARD_AUDIT_KEY=AUDIT_KEY)
        unsealed = ("the audit log ends in row 3, which is not sealed with OFFBOARD_AUDIT_KEY: written by a replica "
                    "running without OFFBOARD_AUDIT_KEY, or rewritten by someone without it.")
        check = _run(tmp_path, "check", **env)
        assert check.returncode == 1 and f"FAIL  {unsealed}" in check.stdout, check.stdout
        assert "Run `offboard-bot audit verify` with the key. It names the rows that are not sealed" in check.stdout
        serve = _run(tmp_path, "serve", **env)
        assert serve.returncode == 2, serve.stderr
        assert f"offboard-bot: cannot start: {unsealed}" in serve.stderr and "Traceback" not in serve.stderr
        assert len(_audit_rows(tmp_path)) == 3  # nothing sealed over the plain rows

        refused = _run(tmp_path, "audit", "adopt-key", "--accept-plain-rows", "1-3", **env)
        assert refused.returncode == 1 and "adopting the key takes --through instead" in refused.stderr
        assert _run(tmp_path, "audit", "adopt-key", **(env | {"OFFBOARD_AUDIT_KEY": ""})).returncode == 2
        review = _run(tmp_path, "audit", "verify", **env)  # how to adopt: verify, review, run what it prints
        assert review.returncode == 1 and "no row is sealed with the audit key" in review.stderr
        command = _printed_command(review.stderr)
        assert command[:3] == ["audit", "adopt-key", "--through"] and command[3].startswith("3@")
        unbound = _run(tmp_path, "audit", "adopt-key", **env)
        assert unbound.returncode == 1 and _printed_command(unbound.stderr) == command
        assert len(_audit_rows(tmp_path)) == 3
        for malformed in ("3@xyz", "3@" + command[3][2:-1], "three@" + command[3][2:]):
            assert _run(tmp_path, "audit", "adopt-key", "--through", malformed, **env).returncode == 2
        adopted = _run(tmp_path, *command, **env)
        assert adopted.returncode == 0, adopted.stderr
        assert "adopted the key: row 4 (audit.key_in_use)" in adopted.stdout
        assert "nothing to do" in _run(tmp_path, "audit", "adopt-key", **env).stdout
        assert "ok    audit rows are sealed with OFFBOARD_AUDIT_KEY" in _run(tmp_path, "check", **env).stdout

        plain_rows("rolled.back.1", "rolled.back.2")  # rows 5 and 6: a replica ran without the key
        check = _run(tmp_path, "check", **env)
        assert check.returncode == 1 and "FAIL  the audit log ends in row 6, which is not sealed" in check.stdout
        broken = _run(tmp_path, "audit", "verify", **env)
        assert broken.returncode == 1 and "audit chain BROKEN" in broken.stderr
        assert "rows 5 to 6 are not sealed with the audit key (by U0ALICE, from " in broken.stderr
        command = _printed_command(broken.stderr)
        assert command[:3] == ["audit", "adopt-key", "--accept-plain-rows"] and command[3].startswith("5-6@")
        unnamed = _run(tmp_path, "audit", "adopt-key", **env)
        assert unnamed.returncode == 1 and _printed_command(unnamed.stderr) == command
        hash_given = command[3].partition("@")[2]
        wrong = _run(tmp_path, "audit", "adopt-key", "--accept-plain-rows", f"4-6@{hash_given}", **env)
        assert wrong.returncode == 1 and "--accept-plain-rows 4-6 does not name them" in wrong.stderr
        assert _run(tmp_path, "audit", "adopt-key", "--accept-plain-rows", "five", **env).returncode == 2
        both = _run(tmp_path, "audit", "adopt-key", *command[2:], "--through", f"6@{hash_given}", **env)
        assert both.returncode == 2 and "not allowed with" in both.stderr
        mistyped = _run(tmp_path, "audit", "adopt-key", "--accept-plain-rows", f"5-6@{'0' * 16}", **env)
        assert mistyped.returncode == 1 and "row 6 is not the row you reviewed" in mistyped.stderr
        assert len(_audit_rows(tmp_path)) == 6  # nothing written by the refusals
        accepted = _run(tmp_path, *command[:3], command[3].upper(), **env)  # the hash in capitals does as well
        assert accepted.returncode == 0, accepted.stderr
        assert "accepted the plain rows 5 to 6: row 7 (audit.key_in_use) names them" in accepted.stdout
        verify = _run(tmp_path, "audit", "verify", **env)
        assert verify.returncode == 0, verify.stderr
        assert ("audit chain intact: 7 rows verified (2 sealed with the audit key, 5 plain, of which 2 after sealed "
                "ones, accepted with `audit adopt-key`)") in verify.stdout
        keyless = _run(tmp_path, "audit", "verify")
        assert keyless.returncode == 1 and "audit chain NOT VERIFIED" in keyless.stderr
    assert _audit_rows(tmp_path)[-1] == (7, "audit.key_in_use")


def test_audit_verify_with_the_key_refuses_an_empty_log(tmp_path):
    _run(tmp_path, "db", "upgrade")
    empty = _run(tmp_path, "audit", "verify", OFFBOARD_AUDIT_KEY=AUDIT_KEY)
    assert empty.returncode == 1 and "the log is empty although a key is given" in empty.stderr
    assert _run(tmp_path, "audit", "verify").returncode == 0  # without a key, an empty log is all it can be


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


class _Trap:
    """A plain-http server on 127.0.0.1 that writes down every request it gets (and answers 404)."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def _note(self) -> None:
                seen.append((self.command, self.path, dict(self.headers)))
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _note

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __enter__(self) -> _Trap:
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


PLAIN_HTTP_ELSEWHERE = [  # plain http that does not stay on this machine, or carries credentials in the URL
    "http://localhost.evil.example/admin-provisioning", "http://127.0.0.1.nip.io/scim/v2",
    "http://127.0.0.1@evil.example/api/", "http://evil.example/api/", "http://localhost@127.0.0.1:{trap}/api/",
    "https://user:pass@api.8x8.com/admin-provisioning", "http://127.0.0.1\\@evil.example/", "http://0.0.0.0:9/",
]


@pytest.mark.parametrize("console", ["8x8", "scim"])
@pytest.mark.parametrize("url", PLAIN_HTTP_ELSEWHERE)
def test_check_refuses_a_console_or_slack_url_that_would_send_secrets_in_clear(tmp_path, console, url):
    """Security review, issue 15, finding 11: the plain-http check was a prefix test."""
    with _Trap() as trap:
        url = url.format(trap=trap.port)
        env = {"SLACK_BOT_TOKEN": "xoxb-url-check-token-1", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": url,
               "OFFBOARD_POLICY": str(DEMO_POLICY), "OFFBOARD_CONSOLE": console}
        env |= ({"EIGHTBYEIGHT_BASE_URL": url, "EIGHTBYEIGHT_API_KEY": "url-check-8x8-key"} if console == "8x8"
                else {"SCIM_BASE_URL": url, "SCIM_TOKEN": "url-check-scim-token"})
        check = _run(tmp_path, "check", **env)
    named = "EIGHTBYEIGHT_BASE_URL" if console == "8x8" else "SCIM_BASE_URL"
    assert f"FAIL  {named} " in check.stdout and "FAIL  SLACK_API_URL " in check.stdout, check.stdout
    assert check.returncode == 1
    assert trap.seen == []  # neither the bot token nor the console's key went anywhere


def test_serve_refuses_a_url_that_would_send_secrets_in_clear(tmp_path):
    with _Trap() as trap:
        url = f"http://localhost@127.0.0.1:{trap.port}/api/"  # passed the prefix test; the host is 127.0.0.1
        serve = _run(tmp_path, "serve", SLACK_BOT_TOKEN="xoxb-url-check-token-1", SLACK_SIGNING_SECRET=SECRET,
                     SLACK_API_URL=url, OFFBOARD_POLICY=str(DEMO_POLICY), OFFBOARD_CONSOLE="8x8",
                     EIGHTBYEIGHT_BASE_URL=url, EIGHTBYEIGHT_API_KEY="url-check-8x8-key")
    assert serve.returncode == 2
    assert "SLACK_API_URL must not hold a user name" in serve.stderr
    assert "EIGHTBYEIGHT_BASE_URL must not hold a user name" in serve.stderr
    assert trap.seen == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:9",
                                 "http://127.8.9.10:9/scim/v2", "HTTP://LOCALHOST:9/",
                                 "https://api.8x8.com/admin-provisioning"])
def test_check_takes_https_and_plain_http_on_this_machine(tmp_path, url):
    env = {"OFFBOARD_POLICY": str(DEMO_POLICY), "OFFBOARD_CONSOLE": "8x8", "EIGHTBYEIGHT_BASE_URL": url,
           "EIGHTBYEIGHT_API_KEY": "url-check-8x8-key"}
    check = _run(tmp_path, "check", **env)
    assert "EIGHTBYEIGHT_BASE_URL" not in check.stdout, check.stdout
    assert "FAIL  console:" in check.stdout  # it was tried: nothing answers there in this test
