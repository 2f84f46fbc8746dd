"""What a member has entered, as Slack keeps it: what they typed or chose in a modal (Slack's servers keep it, and
hand it to the fake as the view's state), and the boxes they ticked on a message (Slack's client keeps them, until
the message changes). Entries are kept as typed, `key=value` style (keys: action id or block id; several values
comma-separated); `inputs.state_values` turns them into `state.values`."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.simulators.slack.blocks import plain_text
from bot.simulators.workspace.inputs import element_state
from bot.simulators.workspace.surfaces import Place, checkboxes

Entered = dict[str, str]


class Entries:
    """Every member's entries, on modals (by view id) and on messages (by member and message)."""

    def __init__(self) -> None:
        self._views: dict[str, Entered] = {}
        self._messages: dict[tuple[str, str], tuple[list[dict[str, Any]], Entered]] = {}
        self._lock = threading.Lock()

    def on(self, user_id: str, place: Place) -> Entered:
        """What the user entered on this place and still sees (a copy)."""
        with self._lock:
            if place.view is not None:
                return dict(self._views.get(place.view.id, {}))
            blocks, entered = self._messages.get((user_id, _message_key(place)), ([], {}))
            return dict(entered) if blocks == place.blocks else {}  # a message redrawn shows its boxes afresh

    def add(self, user_id: str, place: Place, updates: Mapping[str, str]) -> Entered:
        """Note new entries on a place, over what was entered before; return every entry on it."""
        with self._lock:
            if place.view is not None:
                entered = self._views[place.view.id] = {**self._views.get(place.view.id, {}), **updates}
            else:
                key = (user_id, _message_key(place))
                blocks, before = self._messages.get(key, ([], {}))
                entered = {**(before if blocks == place.blocks else {}), **updates}
                self._messages[key] = (place.blocks, entered)
            return dict(entered)


@dataclass(frozen=True)
class Ticking:
    """The boxes to tick on a place: the entries that say so, the texts of the boxes newly ticked, and for each
    checkboxes element that changed, its block, itself and every option now ticked (for Slack's action)."""

    updates: Entered
    ticked: list[str]
    changed: list[tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]]


def ticking(place: Place, entered: Mapping[str, str], words: str) -> Ticking:
    """Tick every box on the place (`words` "all") or those whose text holds every word of `words`
    (case-insensitive), keeping those ticked already; LookupError when no box has those words."""
    wanted = [] if words.strip().casefold() == "all" else words.casefold().split()
    updates: Entered = {}
    ticked: list[str] = []
    matched = 0
    changed = []
    for block, element in checkboxes(place):
        keys = (element["action_id"], block.get("block_id"))
        before = element_state(element, next((entered[k] for k in keys if k in entered), None))["selected_options"]
        chosen = {str(option.get("value")) for option in before}
        for option in element.get("options") or []:
            if not all(word in plain_text(option.get("text")).casefold() for word in wanted):
                continue
            matched += 1
            if str(option.get("value")) not in chosen:
                chosen.add(str(option.get("value")))
                ticked.append(plain_text(option.get("text")))
        now = [option for option in element.get("options") or [] if str(option.get("value")) in chosen]
        updates[element["action_id"]] = ",".join(str(option.get("value")) for option in now)
        if len(now) != len(before):
            changed.append((block, element, now))
    if not matched:
        boxes = "; ".join(plain_text(o.get("text")) for _, e in checkboxes(place) for o in e.get("options") or [])
        raise LookupError(f"no box with {words!r} here; the boxes: {boxes}")
    return Ticking(updates, ticked, changed)


def _message_key(place: Place) -> str:
    channel_id, ts = place.location()
    return f"{place.kind}:{channel_id}:{ts}"
