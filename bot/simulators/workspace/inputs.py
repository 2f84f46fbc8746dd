"""What Slack puts in `state.values` for each kind of input element, given what the user typed, and why Slack's
client would refuse to submit a modal. Pure functions."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from bot.simulators.slack.blocks import block_elements, plain_text

_TEXT_INPUTS = {"plain_text_input", "number_input", "email_text_input", "url_text_input"}
_ONE_OPTION = {"static_select", "external_select", "radio_buttons"}
_MANY_OPTIONS = {"checkboxes", "multi_static_select", "multi_external_select"}
_ONE_PICK = {  # element type -> (state key, initial key)
    "users_select": ("selected_user", "initial_user"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "channels_select": ("selected_channel", "initial_channel"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
}
_MANY_PICKS = {
    "multi_users_select": ("selected_users", "initial_users"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
}
STATEFUL_ELEMENTS = _TEXT_INPUTS | _ONE_OPTION | _MANY_OPTIONS | set(_ONE_PICK) | set(_MANY_PICKS) | {"datetimepicker"}


def _split(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return options


def _pick_option(element: dict[str, Any], wanted: str) -> dict[str, Any]:
    """The option whose value, or else whose text, equals `wanted` (text case-insensitively)."""
    options = _options(element)
    for option in options:
        if str(option.get("value")) == wanted:
            return option
    for option in options:
        if plain_text(option.get("text")).casefold() == wanted.casefold():
            return option
    if element["type"].endswith("external_select"):
        return {"text": {"type": "plain_text", "text": wanted}, "value": wanted}
    choices = ", ".join(f"{o.get('value')} ({plain_text(o.get('text'))})" for o in options)
    raise ValueError(f"no option {wanted!r} in {element.get('action_id')!r}; options: {choices}")


def element_state(element: dict[str, Any], raw: str | None) -> dict[str, Any]:
    """The state Slack reports for an element, given what the user typed (None: left as shown)."""
    kind = element["type"]
    state: dict[str, Any] = {"type": kind}
    if kind in _TEXT_INPUTS:
        state["value"] = raw if raw is not None else element.get("initial_value")
    elif kind in _ONE_OPTION:
        state["selected_option"] = _pick_option(element, raw) if raw is not None else element.get("initial_option")
    elif kind in _MANY_OPTIONS:
        chosen = [_pick_option(element, v) for v in _split(raw)] if raw is not None else None
        state["selected_options"] = chosen if chosen is not None else list(element.get("initial_options") or [])
    elif kind in _ONE_PICK:
        key, initial = _ONE_PICK[kind]
        state[key] = raw if raw is not None else element.get(initial)
    elif kind in _MANY_PICKS:
        key, initial = _MANY_PICKS[kind]
        state[key] = _split(raw) if raw is not None else list(element.get(initial) or [])
    elif kind == "datetimepicker":
        state["selected_date_time"] = int(raw) if raw else element.get("initial_date_time")
    return state


def shown(blocks: list[dict[str, Any]], values: Mapping[str, Mapping[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The blocks as the user sees them with these entries (`state.values`): each entry in its element's
    initial_* field, so that whatever draws initial values draws what the user chose."""
    drawn = copy.deepcopy(blocks)
    for block in drawn:
        for element in block_elements(block):
            state = values.get(str(block.get("block_id")), {}).get(str(element.get("action_id")))
            if state is None or state.get("type") != element.get("type"):
                continue
            for key, value in state.items():
                if key == "type":
                    continue
                initial = _INITIAL.get(key, key)
                if value in (None, "", []):
                    element.pop(initial, None)
                else:
                    element[initial] = copy.deepcopy(value)
    return drawn


_INITIAL = {"value": "initial_value", "selected_option": "initial_option", "selected_options": "initial_options",
            "selected_date_time": "initial_date_time"}
_INITIAL |= {state_key: initial for state_key, initial in (*_ONE_PICK.values(), *_MANY_PICKS.values())}


def _is_empty(state: dict[str, Any]) -> bool:
    return all(value in (None, "", []) for key, value in state.items() if key != "type")


def state_values(
    blocks: list[dict[str, Any]], inputs: Mapping[str, str], remembered: Mapping[str, str] | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    """Build `state.values` for these blocks. `inputs` keys are action ids or block ids; a key that
    matches no input element raises LookupError. `remembered` holds earlier typing (never checked)."""
    remembered = remembered or {}
    unused = set(inputs)
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for block in blocks:
        for element in block_elements(block):
            if element.get("type") not in STATEFUL_ELEMENTS:
                continue
            keys = [element.get("action_id"), block.get("block_id")]
            key = next((k for k in keys if k in inputs), None)
            unused.discard(key)
            raw = inputs[key] if key is not None else next((remembered[k] for k in keys if k in remembered), None)
            values.setdefault(block["block_id"], {})[element["action_id"]] = element_state(element, raw)
    if unused:
        known = [k for b in blocks for e in block_elements(b) if e.get("type") in STATEFUL_ELEMENTS
                 for k in (b.get("block_id"), e.get("action_id"))]  # fmt: skip
        raise UnknownInput(sorted(unused), known)
    return values


class UnknownInput(LookupError):
    """Values given for input elements that are not there."""

    def __init__(self, keys: list[str], known: list[str]) -> None:
        super().__init__(f"no input element for {keys}; input keys here: {known}")
        self.keys = keys
        self.known = known


def client_side_problems(blocks: list[dict[str, Any]], values: Mapping[str, Mapping[str, dict[str, Any]]]) -> list[str]:
    """Why Slack's client would refuse to submit: a required input left empty, a text too short or long."""
    problems = []
    for block in blocks:
        if block.get("type") != "input":
            continue
        label = plain_text(block.get("label")) or block["block_id"]
        state = next(iter(values.get(block["block_id"], {}).values()), {"type": ""})
        if _is_empty(state):
            problems += [] if block.get("optional") else [f"{label!r} is required"]
            continue
        element, text = block.get("element") or {}, state.get("value")
        if isinstance(text, str) and len(text) < int(element.get("min_length", 0)):
            problems.append(f"{label!r} needs at least {element['min_length']} characters")
        if isinstance(text, str) and len(text) > int(element.get("max_length", 3000)):
            problems.append(f"{label!r} allows at most {element.get('max_length', 3000)} characters")
    return problems

