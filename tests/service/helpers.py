"""Small helpers for the service's rule tests: members who are not plain admins, clicks at the same instant, the
words of a Block Kit message, and "nothing changed"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.domain.records import Actor
from bot.ports import Member
from bot.simulators.harness import texts_in
from bot.simulators.simultaneous import run_together
from storage import audit
from tests.service.conftest import Desk
from tests.service.fakes import TEAM

JDOE = "u-1001"
OTHER_TEAM = "T0OTHER"


def add_outsiders(desk: Desk) -> None:
    """The members who are not admins here in the ways the app's tests name them: someone of another workspace
    (as a shared channel shows them) and a member with no email on their profile."""
    desk.members.add(Member(user_id="U0STRANGER", team_id=OTHER_TEAM, name="eve", email="eve@partner.example",
                            is_stranger=True))
    desk.members.add(Member(user_id="U0NOMAIL", team_id=TEAM, name="nomail", email=None))


def actor_of(desk: Desk, who: str) -> Actor:
    """The actor as a signed Slack payload names them: with the team their member record shows."""
    actor = desk.actor(who)
    member = desk.members.member(user_id=actor.user_id)
    return actor if member is None else Actor(user_id=actor.user_id, team_id=member.team_id)


def all_at_once(*calls: Callable[[], object]) -> list[object]:
    """Start every call at the same instant on its own thread; return what each returned or raised."""

    def caught(call: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            try:
                return call()
            except BaseException as raised:  # the test looks at what each one got
                return raised

        return run

    return run_together(*(caught(call) for call in calls))


def ops(desk: Desk, user_id: str | None = None) -> list[str]:
    """The changes the console applied, oldest first (for one user, or all)."""
    return [op.name for op in desk.console.inner.operations(user_id=user_id)]


def nothing_changed(desk: Desk) -> None:
    """The console was not touched, nothing was posted or published, and the audit chain holds."""
    assert ops(desk) == []
    assert desk.notifier.events == []
    assert audit.verify(desk.engine).ok


def text_of(message: Any) -> str:
    """Every text in a Block Kit message, modal or App Home view (dicts and lists all the way down)."""
    return "\n".join(texts_in(message))


def buttons_of(message: Any) -> list[str]:
    """The labels of the buttons in a Block Kit message or view, top to bottom."""
    return [element["text"]["text"] for block in message.get("blocks") or [] if block.get("type") == "actions"
            for element in block.get("elements") or [] if element.get("type") == "button"]
