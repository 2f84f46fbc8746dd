"""Tokens and API keys never appear in logs, Slack messages, exceptions or the audit log.

The bot is given distinctive secrets and driven through real flows (a delete approved by a second admin through
8x8, refusals, console and Slack faults, a wrong API key or SCIM token), then everything it showed to anyone is
gathered: every log record of the process at DEBUG (formatted by the bot's own JSON and text formatters but
*without* their redactor, so a secret that reaches any log call is found, not only one the redactor would miss),
standard output and error, every Slack Web API call and response URL post, every message, ephemeral, view and
Home tab, the HTTP answers to Slack, /metrics, every database table and the audit export, the text and traceback
of the errors raised, the repr of settings, clients and consoles, and the output of `offboard-bot check`. None of
it may hold a secret, or any 12-character piece of one, or the redactor's mark (which means a secret got as far
as a log line)."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import inspect, text
from sqlmodel import select

from bot import logs
from bot.cli import _secret_values
from bot.console.eightbyeight.client import EightByEightClient
from bot.console.scim import ScimConsole
from bot.container import build, build_console
from bot.domain.lifecycle import RequestState
from bot.domain.records import AuditEntry
from bot.errors import AccessDenied, ConfigurationError
from bot.settings import DEMO_POLICY, load_settings
from bot.simulators import harness
from bot.simulators.eightbyeight.fake import FakeEightByEight
from bot.simulators.harness import App, serve
from bot.simulators.slack.demo import populate
from bot.simulators.slack.fake import FakeSlack
from storage import audit, migrate
from storage.db import make_engine, session
from storage.models import AuditRow
from storage.request_store import RequestStore
from tests.console.eightbyeight.test_console import console_for, seed

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-SECRETBOT-7305918264-Qm4Zt8Lw2Xv6Kp9R",
    "SLACK_SIGNING_SECRET": "SECRETSIGN-3e9d1c7b5a2f8e4d6c0b",
    "SLACK_APP_TOKEN": "xapp-1-SECRETAPP-5831-Hj5Tn3Ub8Rz2",
    "EIGHTBYEIGHT_API_KEY": "SECRET8X8-KEY-Vb7Nq2Wc9Lr4Xs1Zd6",
    "EIGHTBYEIGHT_API_KEY (the wrong one)": "SECRET8X8-WRONGKEY-Gh3Jk8Mp5Tq1",
    "SCIM_TOKEN (the wrong one)": "SECRETSCIM-TOKEN-Ff4Dd9Ss2Aa7Qq1W",
    "the database password": "SECRETDBPASS-Ls6Kj3Hg8Fd2",
    "OFFBOARD_AUDIT_KEY": "SECRETAUDIT-KEY-Wq8Rt3Yp6Lm1Nz4Bx9Cv2Fj",
    "OFFBOARD_AUDIT_KEY (the wrong one)": "SECRETAUDIT-WRONGKEY-Zs4Xe7Dc2Vf5Bg8Nh",
}
BOT_TOKEN, SIGNING_SECRET, APP_TOKEN = (SECRETS[name] for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET",
                                                                    "SLACK_APP_TOKEN"))
API_KEY, WRONG_KEY = SECRETS["EIGHTBYEIGHT_API_KEY"], SECRETS["EIGHTBYEIGHT_API_KEY (the wrong one)"]
SCIM_TOKEN, DB_PASSWORD = SECRETS["SCIM_TOKEN (the wrong one)"], SECRETS["the database password"]
AUDIT_KEY, WRONG_AUDIT_KEY = SECRETS["OFFBOARD_AUDIT_KEY"], SECRETS["OFFBOARD_AUDIT_KEY (the wrong one)"]
FRAGMENT = 12  # any piece of a secret this long counts as the secret
FRAGMENTS = {secret[i:i + FRAGMENT].lower(): name
             for name, secret in SECRETS.items() for i in range(len(secret) - FRAGMENT + 1)}


# -- finding secrets --------------------------------------------------------------------------------------

def leaks(source: str, content: str) -> list[str]:
    """One line per secret found in content (a 12-character piece of it, in any case), saying where."""
    lowered = content.lower()
    first: dict[str, int] = {}
    for fragment, name in FRAGMENTS.items():
        at = lowered.find(fragment)
        if at >= 0 and at < first.get(name, len(lowered)):
            first[name] = at
    at = content.find(logs.REDACTED)
    if at >= 0:
        first["a secret the log redactor had to blank out"] = at
    return [f"{name} in {source}: …{_excerpt(content, at)}…" for name, at in sorted(first.items())]


def _excerpt(content: str, at: int, width: int = 70) -> str:
    """The text around `at`, every piece of any secret in it masked, on one line."""
    lowered, masked = content.lower(), list(content)
    for fragment in FRAGMENTS:
        start = lowered.find(fragment)
        while start >= 0:
            masked[start:start + FRAGMENT] = "•" * FRAGMENT
            start = lowered.find(fragment, start + 1)
    window = "".join(masked[max(0, at - width):at + width + FRAGMENT])
    return window.replace("\n", "⏎")


def _plain(value: object) -> object:
    """json.dumps fallback: bytes as text, anything else as its repr (so a secret inside still shows)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return repr(value)


class LogCapture(logging.Handler):
    """Every record of the process, at DEBUG, formatted in full by the bot's JSON and text formatters (message
    with its args, `extra=` fields, traceback, stack), given no secrets to redact."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.formatters = {"json": logs.JsonFormatter(), "text": logs.TextFormatter()}
        self.lines: dict[str, list[str]] = {name: [] for name in self.formatters}
        self.loggers: set[str] = set()
        self._saved: dict[str, tuple[int, bool, bool]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.loggers.add(record.name)
        for name, formatter in self.formatters.items():
            try:
                line = formatter.format(record)
            except Exception as error:  # still keep what the record holds
                line = f"unformattable record ({error!r}): {record.name} {record.msg!r} {record.args!r}"
            self.lines[name].append(line)

    def open_up(self) -> None:
        """Let every logger that exists now (uvicorn's, once it has configured them) send everything to the
        root; call again after something sets levels. Undone by close()."""
        root = logging.getLogger()
        if "" not in self._saved:
            self._saved[""] = (root.level, root.propagate, root.disabled)
            root.addHandler(self)
        root.setLevel(logging.DEBUG)
        for name, logger in list(logging.root.manager.loggerDict.items()):
            if isinstance(logger, logging.Logger):
                self._saved.setdefault(name, (logger.level, logger.propagate, logger.disabled))
                logger.setLevel(logging.NOTSET)
                logger.propagate, logger.disabled = True, False

    def close(self) -> None:
        logging.getLogger().removeHandler(self)
        for name, (level, propagate, disabled) in self._saved.items():
            logger = logging.getLogger(name or None)
            logger.setLevel(level)
            logger.propagate, logger.disabled = propagate, disabled
        super().close()


class Exposure:
    """Everything the bot showed to anyone, by where it was seen."""

    def __init__(self, log: LogCapture, capfd: pytest.CaptureFixture[str]) -> None:
        self.log = log
        self._capfd = capfd
        self._seen: list[tuple[str, str]] = []
        self._output = ("", "")  # standard output and error of the process (file descriptors 1 and 2)

    def add(self, source: str, content: object) -> None:
        """Keep content (text, or anything json.dumps can write with _plain's help) as seen in source."""
        if not isinstance(content, str):
            content = json.dumps(content, default=_plain, ensure_ascii=False, sort_keys=True)
        self._seen.append((source, content))

    def add_error(self, source: str, error: BaseException) -> None:
        """An exception as any reporter would show it: str, repr, attributes, and the traceback it prints."""
        self.add(f"{source}: str and repr", f"{error}\n{error!r}")
        self.add(f"{source}: attributes", vars(error))
        self.add(f"{source}: traceback", "".join(traceback.format_exception(error)))

    def add_slack(self, slack: FakeSlack) -> None:
        """Every Web API call and response URL post the fake Slack received, and all it shows anyone."""
        self.add("Slack Web API calls and response URL posts", [dataclasses.asdict(c) for c in slack.calls()])
        for channel in slack.channels(include_ims=True):
            self.add(f"Slack messages in {channel.id} (edits and deletions included)",
                     slack.messages(channel.id, include_deleted=True))
        self.add("Slack ephemerals", slack.ephemerals(include_deleted=True))
        self.add("Slack views", slack.views(open_only=False))
        self.add("Slack Home tabs", {member.id: slack.home(member.id) for member in slack.members()})
        self.add("Slack files", slack.files())

    def record_answers(self, app: App) -> None:
        """From now on, keep every HTTP answer the app gives Slack (acks, view_submission responses)."""
        send = app.workspace.send

        def recording(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
            status, answer = send(body, headers)
            self.add(f"the app's HTTP answer to Slack (status {status})", answer)
            return status, answer

        app.workspace.send = recording

    def add_app(self, app: App) -> None:
        """The app's Slack traffic and state, its HTTP endpoints, its database and its objects' repr."""
        self.add_slack(app.slack)
        for path in ("/metrics", "/healthz"):
            self.add(f"GET {path}", app.http.get(f"{app.url}{path}").text)
        self.add_database(app.container.engine)
        settings = app.container.settings
        self.add("repr and str of Settings", f"{settings!r}\n{settings}")
        self.add("Settings.model_dump_json()", settings.model_dump_json())
        self.add("repr of the container (settings, clients, console, service)", repr(app.container))
        console = app.container.console
        self.add("repr and str of the console and its client",
                 f"{console!r}\n{console}\n{getattr(console, 'client', '')!r}\n{getattr(console, 'client', '')}")

    def add_database(self, engine) -> None:
        self.add("audit log rows", [row.model_dump() for row in _audit_rows(engine)])
        for fmt in ("jsonl", "csv"):
            out = _StringOut()
            audit.export(engine, out, fmt=fmt)
            self.add(f"audit export ({fmt})", out.text)
        with engine.connect() as connection:
            for table in inspect(engine).get_table_names():
                rows = connection.execute(text(f'SELECT * FROM "{table}"')).mappings().all()
                self.add(f"database table {table}", [dict(row) for row in rows])

    def sources(self) -> Iterator[tuple[str, str]]:
        yield from self._seen
        for fmt, lines in self.log.lines.items():
            yield f"the log ({fmt} format, unredacted)", "\n".join(lines)
        out, err = self._capfd.readouterr()  # what was written since the last call
        self._output = (self._output[0] + out, self._output[1] + err)
        yield "standard output", self._output[0]
        yield "standard error", self._output[1]

    def assert_no_secret(self) -> None:
        found = [line for source, content in self.sources() for line in leaks(source, content)]
        assert not found, "secrets exposed:\n" + "\n".join(found)


def _audit_rows(engine) -> list[AuditRow]:
    with session(engine) as db:
        return list(db.exec(select(AuditRow).order_by(AuditRow.seq)).all())


class _StringOut:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, part: str) -> int:
        self.parts.append(part)
        return len(part)

    @property
    def text(self) -> str:
        return "".join(self.parts)


# -- fixtures ---------------------------------------------------------------------------------------------

@pytest.fixture
def exposure(capfd) -> Iterator[Exposure]:
    capture = LogCapture()
    capture.open_up()
    try:
        yield Exposure(capture, capfd)
    finally:
        capture.close()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """The demo workspace; only our bot token (and app token) open its Web API."""
    fake = FakeSlack(team_id="T0DEMO", bot_token=BOT_TOKEN, app_token=APP_TOKEN)
    populate(fake)
    with fake:
        yield fake


@pytest.fixture
def eightbyeight() -> Iterator[FakeEightByEight]:
    """The fake 8x8 API, seeded, answering only our API key (401 to any other)."""
    fake = seed(FakeEightByEight(api_key=API_KEY, operation_delay=0.02)).start()
    yield fake
    fake.stop()
    assert not fake.bugs, "the 8x8 fake failed inside:\n" + "\n".join(fake.bugs)


@pytest.fixture(autouse=True)
def _sign_with_our_secret(monkeypatch) -> None:
    """serve() configures the app with, and signs Slack's requests with, the harness's SIGNING_SECRET: use ours."""
    monkeypatch.setattr(harness, "SIGNING_SECRET", SIGNING_SECRET)


# -- the flows --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Setup:
    """How the app under test reaches its console."""

    name: str
    settings: Callable[[FakeEightByEight, pytest.FixtureRequest], dict]
    fast_console: bool = False  # the built 8x8 console, with retries shortened so faults resolve quickly


EIGHT_BY_EIGHT = Setup("8x8", lambda fake, _: dict(
    offboard_console="8x8", eightbyeight_base_url=fake.base_url, eightbyeight_api_key=API_KEY))
EIGHT_BY_EIGHT_FAST = dataclasses.replace(EIGHT_BY_EIGHT, name="8x8, quick retries", fast_console=True)
WRONG_KEY_8X8 = Setup("8x8 with a wrong API key", lambda fake, _: dict(
    offboard_console="8x8", eightbyeight_base_url=fake.base_url, eightbyeight_api_key=WRONG_KEY))
WRONG_TOKEN_SCIM = Setup("SCIM with a wrong token", lambda _, request: dict(
    offboard_console="scim", scim_base_url=request.getfixturevalue("scim").base_url, scim_token=SCIM_TOKEN))


def _id(fake: FakeEightByEight, username: str) -> str:
    return next(u["basicInfo"]["userId"] for u in fake.users() if u["basicInfo"]["userName"] == username)


def _results(app: App) -> str:
    return "\n".join(app.channel_texts("C0RESULTS"))


def delete_approved_by_a_second_admin(app: App, fake: FakeEightByEight, exposure: Exposure) -> None:
    jdoe = _id(fake, "jdoe")
    app.command("alice", "delete jdoe --reason left the company")
    assert "Release licenses and numbers first" in app.last_ephemeral("alice")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    request_id = app.request_id()
    app.press("bob", "Approve")
    assert app.container.store.get(request_id).state is RequestState.DONE
    assert fake.applied == [("UPDATE", jdoe), ("DELETE", jdoe)]  # released, then deleted
    assert "deleted successfully" in _results(app)
    assert {"request.approved", "request.done"} <= {row.event for row in _audit_rows(app.container.engine)}
    for command in (f"status {request_id}", "list", "help"):
        app.command("alice", command)
    app.workspace.open_home("U0BOB")
    app.settle()


def refusals(app: App, fake: FakeEightByEight, exposure: Exposure) -> None:
    app.command("carol", "delete msmith")
    assert "Only account admins" in app.last_ephemeral("carol")
    app.command("alice", "delete jdoe")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.press("alice", "Approve")  # her own request
    assert "a different admin must decide" in app.last_ephemeral("alice")
    app.press("bob", "Reject")  # opens the form asking why
    app.press("bob", "Reject", reason="still needed")
    assert app.container.store.get(app.request_id()).state is RequestState.REJECTED
    assert fake.applied == []


def console_and_slack_faults(app: App, fake: FakeEightByEight, exposure: Exposure) -> None:
    fake.fail_next("GET", "/users", status=500, times=3)  # every try of a read: the admin is told
    app.command("alice", "delete jdoe")
    assert "answered 500, 3 times in a row" in app.last_ephemeral("alice")

    fake.fail_next("PUT", f"/users/{_id(fake, 'jdoe')}", status=500)  # a change that may or may not have happened
    fake.fail_operations_next("UPDATE", detail="License service unavailable", status=500)
    app.command("alice", "deactivate jdoe jdoe2")
    app.press("alice", "Confirm")
    assert "may or may not have been made" in _results(app) and "License service unavailable" in _results(app)

    app.slack.inject_failure("users.info", error="fatal_error")  # not a known error: logged with its traceback
    app.command("alice", "delete msmith")
    assert "Something went wrong on my side" in app.last_ephemeral("alice")

    app.command("alice", "delete msmith")
    app.slack.inject_failure("chat.postMessage", error="not_in_channel")  # the approvals channel
    app.press("alice", "Request approval", offboard_checklist="box-1,attested")
    assert "(Slack answered not_in_channel)" in app.last_ephemeral("alice")


def wrong_credentials(app: App, fake: FakeEightByEight, exposure: Exposure) -> None:
    app.command("alice", "delete jdoe")
    assert "refused" in app.last_ephemeral("alice")
    assert app.container.store.list(limit=5) == []
    console = app.container.console
    with pytest.raises(AccessDenied) as lookup:
        console.find_user(reference="jdoe")
    exposure.add_error("the error of a lookup with the wrong credentials", lookup.value)
    with pytest.raises(AccessDenied) as check:
        console.check()
    exposure.add_error("the error of the console check with the wrong credentials", check.value)


@pytest.mark.parametrize(("setup", "flow"), [
    (EIGHT_BY_EIGHT, delete_approved_by_a_second_admin),
    (EIGHT_BY_EIGHT, refusals),
    (EIGHT_BY_EIGHT_FAST, console_and_slack_faults),
    (WRONG_KEY_8X8, wrong_credentials),
    (WRONG_TOKEN_SCIM, wrong_credentials),
], ids=lambda value: value.name if isinstance(value, Setup) else value.__name__)
def test_a_flow_exposes_no_secret(setup, flow, exposure, slack, eightbyeight, clock, tmp_path, request):
    console = console_for(eightbyeight) if setup.fast_console else None
    with serve(slack, clock, tmp_path, console=console, slack_app_token=APP_TOKEN, offboard_audit_key=AUDIT_KEY,
               **setup.settings(eightbyeight, request)) as app:
        assert app.container.settings.slack_signing_secret.get_secret_value() == SIGNING_SECRET
        app.container.seal_audit_log()  # as `offboard-bot serve` does at start
        exposure.log.open_up()  # uvicorn has just set its loggers' levels
        exposure.record_answers(app)
        flow(app, eightbyeight, exposure)
        app.settle()
        exposure.add_app(app)
        sealed = audit.verify(app.container.engine, key=SecretStr(AUDIT_KEY))
        assert sealed.ok and sealed.keyed == sealed.rows > 0, sealed  # the flow's rows were sealed with the key
        assert audit.verify(app.container.engine).unverified == sealed.rows  # with it, not plain SHA-256
        exposure.add("audit verification with the key, and without", [sealed, audit.verify(app.container.engine)])
    assert {"slack_sdk.web.base_client", "httpx", "httpcore.http11", "uvicorn.access"} <= exposure.log.loggers
    assert any(name.startswith(("bot.", "handlers.", "storage.")) for name in exposure.log.loggers)
    exposure.assert_no_secret()


# -- settings, clients, configuration errors --------------------------------------------------------------

ALL_SETTINGS = dict(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_app_token=APP_TOKEN,
                    offboard_console="8x8", eightbyeight_api_key=API_KEY, scim_token=SCIM_TOKEN,
                    offboard_audit_key=AUDIT_KEY,
                    scim_base_url="https://scim.example.com/scim/v2",
                    database_url=f"postgresql+psycopg://offboard:{DB_PASSWORD}@db.example.com/offboard")


def test_settings_clients_and_consoles_show_no_secret(exposure):
    settings = load_settings(**ALL_SETTINGS)
    assert settings.problems_for_serving() == ["OFFBOARD_POLICY is not set: write a policy file for your workspace"]
    exposure.add("repr and str of Settings", f"{settings!r}\n{settings}")
    exposure.add("Settings.model_dump_json()", settings.model_dump_json())
    console = build_console(settings.model_copy(update={"eightbyeight_base_url": "https://8x8.example.com"}))
    exposure.add("repr and str of the 8x8 console and client",
                 f"{console!r}\n{console}\n{console.client!r}\n{console.client}")
    client = EightByEightClient("https://8x8.example.com/admin-provisioning", API_KEY)
    scim = ScimConsole(f"https://offboard:{SCIM_TOKEN}@scim.example.com/scim/v2?token={SCIM_TOKEN}", SCIM_TOKEN)
    exposure.add("repr and str of an 8x8 client and a SCIM console", f"{client!r}\n{client}\n{scim!r}\n{scim}")
    for closable in (console, client, scim):
        closable.close()
    exposure.assert_no_secret()


def test_every_secret_setting_is_given_to_the_log_redactor():
    settings = load_settings(**ALL_SETTINGS)
    assert sorted(_secret_values(settings)) == sorted([BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, API_KEY, SCIM_TOKEN,
                                                       AUDIT_KEY, DB_PASSWORD])


CONFIGURATION_MISTAKES = {
    "a placeholder bot token": dict(slack_bot_token=f"xoxb-your-{BOT_TOKEN}", slack_signing_secret=SIGNING_SECRET),
    "a signing secret with a space": dict(slack_bot_token=BOT_TOKEN,
                                          slack_signing_secret=f"{SIGNING_SECRET[:14]} {SIGNING_SECRET[14:]}"),
    "a bot token without xoxb-": dict(slack_bot_token=BOT_TOKEN[5:], slack_signing_secret=SIGNING_SECRET),
    "the bot token as the app token": dict(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                                           slack_app_token=BOT_TOKEN),
    "a placeholder 8x8 key": dict(offboard_console="8x8", eightbyeight_api_key=f"changeme-{API_KEY}"),
    "an 8x8 key with a line break": dict(offboard_console="8x8", eightbyeight_api_key=f"{API_KEY}\n"),
    "the 8x8 key as its address": dict(offboard_console="8x8", eightbyeight_api_key=API_KEY,
                                       eightbyeight_base_url=API_KEY),
    "a SCIM token with a space": dict(offboard_console="scim", scim_base_url="https://scim.example.com/v2",
                                      scim_token=f"Bearer {SCIM_TOKEN}"),
    "the key as the port": dict(offboard_port=API_KEY),
    "the token as the console": dict(offboard_console=BOT_TOKEN),
    "the key as a rate limit": dict(eightbyeight_rate_limit=API_KEY),
    "a short audit key": dict(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                              offboard_audit_key=AUDIT_KEY[:24]),
    "a placeholder audit key": dict(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                                    offboard_audit_key=f"changeme-{AUDIT_KEY}"),
    "an audit key with a line break": dict(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                                           offboard_audit_key=f"{AUDIT_KEY}\n"),
    "the audit key as the port": dict(offboard_port=AUDIT_KEY),
}


@pytest.mark.parametrize("mistake", CONFIGURATION_MISTAKES)
def test_a_configuration_error_shows_no_secret(mistake, exposure):
    overrides = CONFIGURATION_MISTAKES[mistake]
    try:
        settings = load_settings(**overrides)
    except ConfigurationError as error:  # unreadable settings
        exposure.add_error("the error of load_settings", error)
    else:
        problems = settings.problems_for_serving()
        assert problems, f"{mistake} should be reported"
        exposure.add("the problems reported for serving", problems)
        if settings.offboard_console != "local":
            with pytest.raises(ConfigurationError) as building:
                build_console(settings)
            exposure.add_error("the error of build_console", building.value)
        if settings.offboard_console == "scim":
            with pytest.raises(ConfigurationError) as constructing:
                ScimConsole(settings.scim_base_url, settings.scim_token.get_secret_value())
            exposure.add_error("the error of ScimConsole()", constructing.value)
        if settings.offboard_audit_key is not None:
            assert any(problem.startswith("OFFBOARD_AUDIT_KEY") for problem in problems), problems
            with pytest.raises(ConfigurationError, match="OFFBOARD_AUDIT_KEY") as building:
                build(settings)
            exposure.add_error("the error of building the app", building.value)
    exposure.assert_no_secret()


# -- the command line --------------------------------------------------------------------------------------

def _start(tmp_path: Path, command: str, env: dict[str, str]) -> subprocess.Popen:
    """Start `offboard-bot command` at DEBUG with env; the runs of a test go side by side (each takes seconds)."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "OFFBOARD_LOCAL_CONSOLE": str(tmp_path / "console.db"), "OFFBOARD_LOG_LEVEL": "DEBUG"}
    return subprocess.Popen([sys.executable, "-m", "bot", *command.split()], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=base | env)


def test_check_and_serve_print_no_secret(tmp_path, exposure, slack, eightbyeight, request, clock):
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    migrate.upgrade(engine)
    store = RequestStore(engine, audit_key=SecretStr(AUDIT_KEY))  # rows for `audit verify` to check
    store.seal_audit(now=clock.now())
    store.append_audit(AuditEntry(actor="U0ALICE", event="request.drafted"), now=clock.now())
    engine.dispose()
    env = dict(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_APP_TOKEN=APP_TOKEN,
               SLACK_API_URL=slack.api_url, OFFBOARD_POLICY=str(DEMO_POLICY), OFFBOARD_CONSOLE="8x8",
               EIGHTBYEIGHT_BASE_URL=eightbyeight.base_url, EIGHTBYEIGHT_API_KEY=API_KEY,
               OFFBOARD_AUDIT_KEY=AUDIT_KEY)
    runs = {  # what to run -> (its settings, what it must say)
        "check": (env, ["ok    Slack reachable", "ok    database at revision", "ok    8x8 API reachable"]),
        "check with wrong credentials and an unreachable database": (env | {
            "SLACK_BOT_TOKEN": BOT_TOKEN[:-4] + "XXXX", "EIGHTBYEIGHT_API_KEY": WRONG_KEY,
            "DATABASE_URL": f"postgresql+psycopg://offboard:{DB_PASSWORD}@127.0.0.1:9/offboard"},
            ["FAIL  Slack refused the bot token", "FAIL  console: the 8x8 API refused the API key",
             "FAIL  database unreachable"]),
        "check with a wrong SCIM token": (env | {"OFFBOARD_CONSOLE": "scim", "SCIM_TOKEN": SCIM_TOKEN,
                                                 "SCIM_BASE_URL": request.getfixturevalue("scim").base_url},
                                          ["FAIL  console: the SCIM token was refused"]),
        "serve with a placeholder": (env | {"SLACK_SIGNING_SECRET": f"changeme-{SIGNING_SECRET}"},
                                     ["still holds a placeholder value"]),
        "serve with a short audit key": (env | {"OFFBOARD_AUDIT_KEY": AUDIT_KEY[:24]},
                                         ["OFFBOARD_AUDIT_KEY is too short"]),
        "audit verify": (env, ["audit chain intact: 2 rows verified (2 sealed with the audit key, 0 plain)"]),
        "audit verify with the wrong audit key": (env | {"OFFBOARD_AUDIT_KEY": WRONG_AUDIT_KEY},
                                                  ["audit chain BROKEN", "sealed with another audit key"]),
    }
    started = {name: _start(tmp_path, name.split(" with ")[0], run_env) for name, (run_env, _) in runs.items()}
    for name, process in started.items():
        out, err = process.communicate(timeout=120)
        for expected in runs[name][1]:
            assert expected in out + err, f"`offboard-bot {name}` did not say {expected!r}:\n{out}\n{err}"
        exposure.add(f"`offboard-bot {name}` standard output", out)
        exposure.add(f"`offboard-bot {name}` standard error", err)
    exposure.assert_no_secret()


# -- the test can fail --------------------------------------------------------------------------------------

def test_the_search_finds_a_piece_of_a_secret_and_masks_it():
    piece = API_KEY[3:3 + FRAGMENT]
    found = leaks("somewhere", f"prefix {piece.upper()} suffix")
    assert found == ["EIGHTBYEIGHT_API_KEY in somewhere: …prefix •••••••••••• suffix…"]
    assert leaks("somewhere", f"{BOT_TOKEN[:FRAGMENT - 1]} and {logs.REDACTED}") == [
        f"a secret the log redactor had to blank out in somewhere: …{BOT_TOKEN[:FRAGMENT - 1]} and [redacted]…"]
    assert leaks("somewhere", "nothing here") == []


def test_a_secret_logged_anywhere_is_caught(exposure):
    logging.getLogger("offboard.test.leak").debug("token %s", BOT_TOKEN)
    with pytest.raises(AssertionError, match=r"SLACK_BOT_TOKEN in the log \(json format, unredacted\)"):
        exposure.assert_no_secret()
