"""What a member of the fake workspace can see and click: the places showing blocks (channel messages and DMs,
ephemerals, the top modal) newest first, and the buttons on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from bot.simulators.slack.blocks import block_elements, plain_text
from bot.simulators.slack.fake import FakeSlack
from bot.simulators.slack.model import Ephemeral, Message, View


@dataclass(frozen=True)
class Place:
    """A surface showing blocks to the user: a channel message or DM, an ephemeral, or a modal."""

    kind: Literal["message", "ephemeral", "view"]
    blocks: list[dict[str, Any]]
    message: Message | None = None
    ephemeral: Ephemeral | None = None
    view: View | None = None

    def location(self) -> tuple[str, str]:
        """(channel id, ts) of a message or ephemeral."""
        if self.ephemeral is not None:
            return self.ephemeral.channel_id, self.ephemeral.id
        if self.message is not None:
            return self.message.channel_id, self.message.ts
        raise ValueError("a modal has no channel location")


@dataclass(frozen=True)
class Button:
    """A button a user can press: one in the blocks (role "action"), or a modal's submit or close button."""

    place: Place
    label: str
    role: Literal["action", "submit", "close"] = "action"
    block_id: str | None = None
    element: dict[str, Any] = field(default_factory=dict)


def _ts_key(ts: str) -> tuple[int, ...]:
    return tuple(int(part) for part in ts.split("."))


def buttons(place: Place) -> list[Button]:
    """The buttons on a place, top to bottom; a modal also has its submit and close buttons."""
    found = [
        Button(place, plain_text(element.get("text")), block_id=block.get("block_id"), element=element)
        for block in place.blocks
        for element in block_elements(block)
        if element.get("type") == "button"
    ]
    if place.view is not None:
        if place.view.submit:
            found.append(Button(place, place.view.submit, role="submit"))
        found.append(Button(place, place.view.close or "Cancel", role="close"))
    return found


def checkboxes(place: Place) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The checkboxes elements on a place, top to bottom, each with its block."""
    return [(block, element) for block in place.blocks for element in block_elements(block)
            if element.get("type") == "checkboxes"]


def places(fake: FakeSlack, user_id: str, channel_id: str | None) -> list[Place]:
    """Everything the user sees, newest first; their top modal (if any) comes first of all."""
    found: list[tuple[tuple[int, ...], Place]] = []
    im_channel = fake.im_channel(user_id)
    for channel in fake.channels(include_ims=True):
        if (channel.is_im and channel.id != im_channel) or channel_id not in (None, channel.id):
            continue
        for message in fake.messages(channel.id):
            found.append((_ts_key(message.ts), Place("message", message.blocks, message=message)))
    for ephemeral in fake.ephemerals(user_id=user_id, channel_id=channel_id):
        found.append((_ts_key(ephemeral.id), Place("ephemeral", ephemeral.blocks, ephemeral=ephemeral)))
    ordered = [place for _, place in sorted(found, key=lambda item: item[0], reverse=True)]
    stack = fake.view_stack(user_id)
    if stack and channel_id is None:
        ordered.insert(0, Place("view", stack[-1].blocks, view=stack[-1]))
    return ordered


def visible_buttons(fake: FakeSlack, user_id: str, *, channel_id: str | None = None) -> list[str]:
    """Labels of the buttons the user can see, newest place first (modal buttons marked)."""
    labels: list[str] = []
    for place in places(fake, user_id, channel_id):
        for button in buttons(place):
            label = f"{button.label} (modal)" if place.view is not None else button.label
            if label not in labels:
                labels.append(label)
    return labels


def find_button(fake: FakeSlack, user_id: str, label: str, *, channel_id: str | None, value: str | None) -> Button:
    """The newest button labelled `label` (case-insensitive) the user sees, with that value if one is given."""
    wanted = label.strip().casefold()
    for place in places(fake, user_id, channel_id):
        for button in buttons(place):
            if button.label.strip().casefold() != wanted:
                continue
            if value is None or button.element.get("value") == value:
                return button
    visible = ", ".join(visible_buttons(fake, user_id, channel_id=channel_id)) or "none"
    who = fake.name_of(user_id) or user_id
    raise LookupError(f"no button {label!r} visible to {who}; visible buttons: {visible}")
