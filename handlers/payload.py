"""Read who is acting, and what they touched, from a signed Slack payload."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.records import Actor


def actor_from(body: dict) -> Actor:
    """Return the actor of a slash command, block action, view submission or options payload."""
    if "user_id" in body:  # slash command
        return Actor(user_id=body["user_id"], team_id=body.get("team_id"), enterprise_id=body.get("enterprise_id"))
    user = body.get("user") or {}
    team = body.get("team") or {}
    enterprise = body.get("enterprise") or {}
    return Actor(user_id=user.get("id", ""), team_id=user.get("team_id") or team.get("id"),
                 enterprise_id=enterprise.get("id") if isinstance(enterprise, dict) else None)


def doing_from(body: dict) -> str:
    """Name what the payload tried to do, for the audit log."""
    if "command" in body:
        words = (body.get("text") or "").split()
        return f"command:{words[0].lower() if words else 'modal'}"[:64]
    if body.get("type") == "block_actions":
        actions = body.get("actions") or [{}]
        return f"action:{actions[0].get('action_id', '?')}"[:64]
    if body.get("type") == "view_submission":
        return f"view:{(body.get('view') or {}).get('callback_id', '?')}"[:64]
    return str(body.get("type", "unknown"))[:64]


def input_value(view: dict, block_id: str) -> str:
    """Return the typed or selected value of one input block of a submitted modal ('' when empty)."""
    element = _element(view, block_id)
    if element.get("selected_option"):
        return element["selected_option"].get("value", "")
    return element.get("value") or ""


def input_values(view: dict, block_id: str) -> list[str]:
    """Return the values chosen in a multi-select input block of a submitted modal."""
    return [option.get("value", "") for option in _element(view, block_id).get("selected_options") or []]


def input_datetime(view: dict, block_id: str) -> datetime | None:
    """Return the moment picked in a datetimepicker input block of a submitted modal, in UTC (None when empty)."""
    seconds = _element(view, block_id).get("selected_date_time")
    if seconds is None or seconds == "":
        return None
    return datetime.fromtimestamp(int(seconds), UTC)  # a value that is not a timestamp fails loudly, never ignored


def _element(view: dict, block_id: str) -> dict:
    state = (view.get("state") or {}).get("values") or {}
    return next(iter((state.get(block_id) or {}).values()), {}) or {}


def checked(body: dict, block_id: str, action_id: str) -> set[str]:
    """Return the values ticked in a message's checkboxes, as sent with a button click."""
    values = ((body.get("state") or {}).get("values") or {}).get(block_id) or {}
    return {option.get("value") for option in (values.get(action_id) or {}).get("selected_options") or []}


def request_ref_text(body: dict) -> str | None:
    """The request a payload names, as the bot wrote it: a button's value, or a modal's private_metadata."""
    if body.get("type") == "block_actions":
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
        return first.get("value")
    if body.get("type") == "view_submission":
        view = body.get("view")
        return view.get("private_metadata") if isinstance(view, dict) else None
    return None

