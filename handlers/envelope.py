"""The shape a signed Slack payload must have before Bolt or a listener reads it.

Bolt's matchers and our readers index payloads as Slack writes them (`body["view"]["type"]`, `actions[0]`,
`user.get("id")`); a payload of another shape would fail deep inside them, as an unexpected error with a
traceback. `check` validates first, with pydantic models of the kinds this app answers (slash commands, block
actions, view submissions and closings, option suggestions, events, URL verification) and of the fields every
payload may carry, and names what is wrong; the HTTP edge answers 400. The models are strict (no text where Slack
sends an object, no number where it sends text) and keep whatever else a payload holds. Kinds the app does not
answer pass untouched: Bolt says it has no listener for them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Malformed(ValueError):
    """A signed payload that is not the shape Slack sends; the message names where (for the log)."""


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class Someone(_Shape):
    id: str
    team_id: str | None = None


class Place(_Shape):  # a team, an enterprise or a channel, when Slack sends an object for it
    id: str | None = None


class Option(_Shape):
    value: str


class ElementState(_Shape):
    type: str | None = None
    value: str | None = None
    selected_option: Option | None = None
    selected_options: list[Option] | None = None
    selected_date_time: int | None = None


class State(_Shape):
    values: dict[str, dict[str, ElementState]] = {}


class Block(_Shape):
    type: str
    block_id: str | None = None


class View(_Shape):
    type: str
    id: str | None = None
    callback_id: str | None = None
    private_metadata: str | None = None
    state: State | None = None
    blocks: list[Block] | None = None


class Action(_Shape):
    action_id: str
    block_id: str | None = None
    value: str | None = None


class WhoAndWhere(_Shape):
    """What Bolt's context builders take from a payload, its event and its authorizations."""

    team: Place | str | None = None
    enterprise: Place | str | None = None
    channel: Place | str | None = None
    user_id: str | None = None
    team_id: str | None = None
    enterprise_id: str | None = None
    channel_id: str | None = None
    is_enterprise_install: bool | str | None = None


class Event(WhoAndWhere):
    type: str
    user: str | Someone | None = None
    tab: str | None = None


class ResponseUrl(_Shape):
    response_url: str


class Payload(WhoAndWhere):
    """What our readers take, from any payload that has it."""

    type: str | None = None
    command: str | None = None
    user: Someone | None = None
    event: Event | None = None
    authorizations: list[WhoAndWhere] | None = None
    response_urls: list[ResponseUrl] | None = None
    trigger_id: str | None = None
    response_url: str | None = None
    state: State | None = None
    view: View | None = None
    container: dict[str, Any] | None = None
    message: dict[str, Any] | None = None


class SlashCommand(Payload):
    user_id: str
    text: str
    trigger_id: str


class BlockActions(Payload):
    user: Someone
    trigger_id: str
    actions: list[Action] = Field(min_length=1)


class ViewPayload(Payload):  # a submission or a closing
    user: Someone
    view: View


class Suggestion(Payload):
    user: Someone
    action_id: str
    value: str | None = None


class EventCallback(Payload):
    event: Event


class UrlVerification(Payload):
    challenge: str


KINDS: dict[str, type[Payload]] = {  # by `type`; a slash command has none, and is known by its `command`
    "command": SlashCommand, "block_actions": BlockActions, "view_submission": ViewPayload,
    "view_closed": ViewPayload, "block_suggestion": Suggestion, "event_callback": EventCallback,
    "url_verification": UrlVerification,
}


def check(body: Any) -> None:
    """Return when the payload has the shape Slack sends; raise Malformed naming the first field that has not."""
    if not isinstance(body, dict):
        raise Malformed(f"the payload is a JSON {type(body).__name__}, not an object")
    # Bolt takes any payload with a `command` for a slash command, whatever its type says.
    kinds = [KINDS[kind] for kind in ("command" if "command" in body else None, body.get("type")) if kind in KINDS]
    for model in kinds or [Payload]:
        try:
            model.model_validate(body)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "payload"
            raise Malformed(f"{model.__name__}: {where}: {first['msg']}") from None
