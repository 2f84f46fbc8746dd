"""The app under test (bot/simulators/harness.py): the real Bolt app behind the real ASGI server, a fake Slack, the
local console."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.simulators.harness import App, serve_local
from bot.simulators.slack.demo import populate
from bot.simulators.slack.fake import FakeSlack


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(team_id="T0DEMO")
    populate(fake)
    fake.add_member("U0STRANGER", "eve", "eve@partner.example", team_id="T0OTHER", is_stranger=True)
    fake.add_member("U0NOMAIL", "nomail", None)
    with fake:
        yield fake


@pytest.fixture
def app(slack, tmp_path, clock) -> Iterator[App]:
    with serve_local(slack, clock, tmp_path) as app:
        yield app
