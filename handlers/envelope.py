"""The shape a signed Slack payload must have before Bolt or a listener reads it.

Bolt's matchers and our readers index payloads as Slack writes them (`body["view"]["type"]`, `actions[0]`,
`user.get("id")`); a payload of another shape would fail deep inside them, as an unexpected error with a
traceback. `check` looks first, at the kinds this app answers (slash commands, block actions, view submissions
and closings, option suggestions, events, URL verification) and at the fields every payload may carry, and names
what is wrong; the HTTP edge answers 400. Kinds the app does not answer pass untouched: Bolt says it has no
listener for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import NoneType
from typing import Any


class Malformed(ValueError):
    """A signed payload that is not the shape Slack sends; the message names where (for the log)."""


@dataclass(frozen=True)
class Obj:
    """A JSON object; the named fields, when present, have their rule's shape; `required` ones must be present."""

    fields: Mapping[str, Rule] = field(default_factory=dict)
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListOf:
    """A JSON array whose items all have one shape; at least one item when `filled`."""

    item: Rule
    filled: bool = False


@dataclass(frozen=True)
class MapOf:
    """A JSON object whose values (under any key) all have one shape."""

    value: Rule


Rule = tuple[type | Obj | ListOf | MapOf, ...]  # the alternatives: the value has one of these shapes

TEXT: Rule = (str,)
MAYBE_TEXT: Rule = (str, NoneType)
SOMEONE: Rule = (Obj({"id": TEXT, "team_id": MAYBE_TEXT}),)
PLACE: Rule = (Obj({"id": MAYBE_TEXT}), str, NoneType)  # a team, enterprise or channel: an object, an id, or null
OPTION: Rule = (Obj({"value": TEXT}),)
ELEMENT_STATE: Rule = (Obj({"type": TEXT, "value": MAYBE_TEXT, "selected_option": (*OPTION, NoneType),
                            "selected_options": (ListOf(OPTION),), "selected_date_time": (int, NoneType)}),)
STATE: Rule = (Obj({"values": (MapOf((MapOf(ELEMENT_STATE),)),)}),)
VIEW: Rule = (Obj({"id": TEXT, "type": TEXT, "callback_id": TEXT, "private_metadata": MAYBE_TEXT, "state": STATE,
                   "blocks": (ListOf((Obj({"type": TEXT, "block_id": MAYBE_TEXT}),)),)},
                  required=("type",)),)
ACTION: Rule = (Obj({"action_id": TEXT, "block_id": MAYBE_TEXT, "value": MAYBE_TEXT}, required=("action_id",)),)

WHO_AND_WHERE = {  # what Bolt's context builders take from a payload, its event, and its authorizations
    "team": PLACE, "enterprise": PLACE, "channel": PLACE, "user_id": TEXT, "team_id": MAYBE_TEXT,
    "enterprise_id": MAYBE_TEXT, "channel_id": TEXT, "is_enterprise_install": (bool, str, NoneType),
}
EVENT: Rule = (Obj({**WHO_AND_WHERE, "type": TEXT, "user": (str, *SOMEONE), "tab": TEXT}, required=("type",)),)
ANY_PAYLOAD = Obj({  # ... and what our readers take, from any payload that has them
    **WHO_AND_WHERE, "type": TEXT, "command": TEXT, "user": SOMEONE, "event": EVENT,
    "authorizations": (ListOf((Obj(WHO_AND_WHERE),)),), "response_urls": (ListOf((Obj({"response_url": TEXT}),)),),
    "trigger_id": TEXT, "response_url": TEXT, "state": STATE, "view": VIEW, "container": (Obj(),),
    "message": (Obj(),),
})
KINDS = {  # by `type`; a slash command has none, and is known by its `command`
    "command": Obj({"text": TEXT}, required=("user_id", "text", "trigger_id")),
    "block_actions": Obj({"actions": (ListOf(ACTION, filled=True),)}, required=("user", "actions", "trigger_id")),
    "view_submission": Obj(required=("user", "view")),
    "view_closed": Obj(required=("user", "view")),
    "block_suggestion": Obj({"action_id": TEXT, "value": TEXT}, required=("user", "action_id")),
    "event_callback": Obj(required=("event",)),
    "url_verification": Obj({"challenge": TEXT}, required=("challenge",)),
}


def check(body: Any) -> None:
    """Return when the payload has the shape Slack sends; raise Malformed naming the first field that has not."""
    if not isinstance(body, dict):
        raise Malformed(f"the payload is a JSON {type(body).__name__}, not an object")
    _fits(body, (ANY_PAYLOAD,), "payload")
    # Bolt takes any payload with a `command` for a slash command, whatever its type says.
    for kind in ("command" if "command" in body else None, body.get("type")):
        if kind in KINDS:
            _fits(body, (KINDS[kind],), kind)


def _fits(value: Any, rule: Rule, where: str) -> None:
    for shape in rule:
        if isinstance(shape, type):
            if isinstance(value, shape):
                return
        elif isinstance(value, list if isinstance(shape, ListOf) else dict):
            _inside(value, shape, where)
            return
    raise Malformed(f"{where} is a {type(value).__name__}")


def _inside(value: Any, shape: Obj | ListOf | MapOf, where: str) -> None:
    if isinstance(shape, Obj):
        missing = [name for name in shape.required if name not in value]
        if missing:
            raise Malformed(f"{where} has no {missing[0]}")
        for name, rule in shape.fields.items():
            if name in value:
                _fits(value[name], rule, f"{where}.{name}")
    elif isinstance(shape, ListOf):
        if shape.filled and not value:
            raise Malformed(f"{where} is empty")
        for index, item in enumerate(value):
            _fits(item, shape.item, f"{where}[{index}]")
    else:
        for key, item in value.items():
            _fits(item, shape.value, f"{where}.{key[:40]}")
