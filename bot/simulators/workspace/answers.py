"""What the workspace hands back for a member's action: the app's answer (`Delivery`), what ticking did
(`Ticked`), and `UnknownCommand` for a slash command Slack's client would refuse."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.simulators.workspace.surfaces import Place


class UnknownCommand(LookupError):
    """A slash command the app never registered: Slack's client refuses it and sends the app nothing."""

    def __init__(self, command: str, known: Iterable[str]) -> None:
        super().__init__(f"{command} is not a valid command")
        self.command = command
        self.known = sorted(known)


@dataclass(frozen=True)
class Ticked:
    """What `Workspace.tick` did: the place whose boxes were ticked, the texts of the boxes ticked now, and the
    `block_actions` Slack sent the app for it (None when the boxes are in an input block, which sends nothing)."""

    place: Place
    boxes: list[str]
    delivery: Delivery | None
    state: dict[str, Any]  # the place's entries now, as `state.values` reports them


@dataclass(frozen=True)
class Delivery:
    """The app's HTTP answer. `payload` is what was sent (None when nothing was sent to the app)."""

    status: int
    body: bytes
    json: Any | None
    payload: dict[str, Any] | None = None


def json_or_none(body: bytes) -> Any | None:
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        return None


def ack_message(delivery: Delivery) -> dict[str, Any] | None:
    """What Slack shows for a slash command's HTTP answer: a JSON message, or plain text."""
    if delivery.status != 200 or not delivery.body.strip():
        return None
    if isinstance(delivery.json, dict):
        return delivery.json
    return {"text": delivery.body.decode("utf-8", errors="replace")}
