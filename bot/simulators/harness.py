"""The app under test: the real Bolt app built through the composition root, behind the real ASGI server, with a
fake Slack and a console; driven as the workspace's members and looked at through Slack, the console and the
database.

`serve` builds and serves it (a fresh SQLite file unless told otherwise); `serve_local` puts it on the seeded
local console wrapped in its fault switches (FaultyConsole). Tests get them through fixtures (tests/app/conftest.py);
the soak run and the benchmarks call them directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import select

from bot.clock import ManualClock
from bot.console.local import LocalConsole
from bot.container import Container, build
from bot.server import create_asgi_app
from bot.settings import load_settings
from bot.simulators.faulty_console import FaultyConsole
from bot.simulators.live_server import LiveServer
from bot.simulators.slack.demo import HOME_CHANNEL
from bot.simulators.slack.fake import FakeSlack
from bot.simulators.workspace.driver import Delivery, Workspace
from storage import migrate
from storage.db import session
from storage.models import AuditRow

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"  # read by serve() at each call, so a test may swap it
U = {"alice": "U0ALICE", "bob": "U0BOB", "dana": "U0DANA", "carol": "U0CAROL", "jdoe": "U0JDOE"}


@dataclass
class App:
    """Everything a test needs: act as a member, then look at Slack, the console and the database."""

    slack: FakeSlack
    workspace: Workspace
    container: Container
    console: Any  # the console's own state: the LocalConsole, or the fake 8x8 server
    faults: FaultyConsole | None
    clock: ManualClock
    url: str
    http: httpx.Client

    def settle(self) -> None:
        assert self.container.wait_idle(30), "listeners or jobs still running after 30 s"

    def command(self, who: str, text: str, *, channel: str = HOME_CHANNEL) -> Delivery:
        delivery = self.workspace.slash(U.get(who, who), text, channel_id=channel)
        self.settle()
        return delivery

    def press(self, who: str, label: str, **inputs: str) -> Delivery:
        delivery = self.workspace.press(U.get(who, who), label, inputs=inputs or None)
        self.settle()
        return delivery

    def ephemeral_texts(self, who: str) -> list[str]:
        return [text_of(e) for e in self.slack.ephemerals(user_id=U.get(who, who))]

    def last_ephemeral(self, who: str) -> str:
        texts = self.ephemeral_texts(who)
        assert texts, f"{who} saw no ephemeral message"
        return texts[-1]

    def channel_texts(self, channel: str) -> list[str]:
        return [text_of(m) for m in self.slack.messages(channel)]

    def dm_texts(self, who: str) -> list[str]:
        return [text_of(m) for m in self.slack.dms(U.get(who, who))]

    def audit_events(self, request_id: str) -> list[str]:
        """The request's audit events, in order."""
        with session(self.container.engine) as db:
            rows = db.exec(select(AuditRow).where(AuditRow.request_id == request_id).order_by(AuditRow.seq)).all()
        return [row.event for row in rows]

    def request_id(self, who: str = "alice") -> str:
        for text in reversed(self.ephemeral_texts(who)):
            match = re.search(r"OB-[A-Z0-9]{8}", text)
            if match:
                return match.group(0)
        raise AssertionError(f"no request id shown to {who}")


def texts_in(node: Any) -> list[str]:
    """Every text of a Block Kit structure (a message's blocks, a modal, an App Home view), in order."""
    if isinstance(node, dict):
        return [text for key, value in node.items()
                for text in ([value] if key == "text" and isinstance(value, str) else texts_in(value))]
    if isinstance(node, list):
        return [text for value in node for text in texts_in(value)]
    return []


def text_of(item) -> str:
    """The message's fallback text plus every text in its blocks, for assertions."""
    return "\n".join([item.text or "", *texts_in(item.blocks or [])])


@contextmanager
def serve(slack: FakeSlack, clock: ManualClock, tmp_path: Path, *, console: Any = None, state: Any = None,
          faults: FaultyConsole | None = None, database_url: str | None = None, **settings: Any) -> Iterator[App]:
    """Build the app through the composition root and serve it over HTTP; `console` replaces the configured one.
    The database is a fresh SQLite file unless `database_url` names another (already emptied) one; the console is
    the local demo directory unless `console` or `offboard_console` says otherwise."""
    settings.setdefault("offboard_console", "local")
    settings = load_settings(
        slack_bot_token=slack.bot_token, slack_signing_secret=SIGNING_SECRET, slack_api_url=slack.api_url,
        database_url=database_url or f"sqlite:///{tmp_path / 'offboard.db'}",
        offboard_local_console=tmp_path / "console.db", **settings)
    container = build(settings, clock=clock, console=console)
    migrate.upgrade(container.engine)
    container.seal_audit_log()  # as `serve` does at start (nothing without OFFBOARD_AUDIT_KEY)
    asgi = create_asgi_app(container.bolt, container.engine, signing_secret=SIGNING_SECRET,
                           metrics=container.metrics, in_flight=container.in_flight)
    with LiveServer(asgi) as server, httpx.Client(timeout=10) as http:

        def send(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
            response = http.post(f"{server.url}/slack/events", content=body, headers=headers)
            return response.status_code, response.content

        workspace = Workspace(slack, signing_secret=SIGNING_SECRET, send=send)
        try:
            yield App(slack=slack, workspace=workspace, container=container, console=state or container.console,
                      faults=faults, clock=clock, url=server.url, http=http)
        finally:
            container.close()


@contextmanager
def serve_eightbyeight(slack: FakeSlack, clock: ManualClock, tmp_path: Path, fake: Any,
                       **settings: Any) -> Iterator[App]:
    """The app configured exactly as an admin would for 8x8: OFFBOARD_CONSOLE=8x8 and the fake 8x8's address and
    key (the client's limits from `settings`, e.g. eightbyeight_burst_limit)."""
    with serve(slack, clock, tmp_path, state=fake, offboard_console="8x8", eightbyeight_base_url=fake.base_url,
               eightbyeight_api_key=fake.api_key, **settings) as app:
        yield app


@contextmanager
def serve_local(slack: FakeSlack, clock: ManualClock, tmp_path: Path, **settings: Any) -> Iterator[App]:
    """The app on the seeded local console, wrapped in its fault switches."""
    faults = FaultyConsole(LocalConsole(tmp_path / "console.db"))
    faults.inner.seed_if_empty()
    with serve(slack, clock, tmp_path, console=faults, state=faults.inner, faults=faults, **settings) as app:
        yield app
