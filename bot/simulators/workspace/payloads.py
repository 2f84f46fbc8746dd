"""The pieces of the payloads Slack sends an app when a member acts: who (user, team, enterprise), the common
fields of an interaction, and the action of a button."""

from __future__ import annotations

from typing import Any

from bot.simulators.slack.fake import FakeSlack
from bot.simulators.slack.model import Channel, Member
from bot.simulators.workspace.surfaces import Button

VERIFICATION_TOKEN = "fake-verification-token"  # the legacy `token` field Slack still sends


def domain(fake: FakeSlack, member: Member) -> str:
    """The team domain Slack names for the member: the workspace's, or the stranger's own team's."""
    return fake.team_domain if member.team_id == fake.team_id else member.team_id.lower()


def user(member: Member) -> dict[str, Any]:
    return {"id": member.id, "username": member.name, "name": member.name, "team_id": member.team_id}


def team(fake: FakeSlack, member: Member) -> dict[str, Any]:
    return {"id": member.team_id, "domain": domain(fake, member)}


def enterprise(fake: FakeSlack) -> dict[str, Any] | None:
    return {"id": fake.enterprise_id, "name": fake.enterprise_id} if fake.enterprise_id else None


def common(fake: FakeSlack, kind: str, member: Member, *, api_app_id: str) -> dict[str, Any]:
    """The fields every interaction payload of this kind (block_actions, view_submission ...) starts with."""
    return {
        "type": kind,
        "user": user(member),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "team": team(fake, member),
        "enterprise": enterprise(fake),
        "is_enterprise_install": False,
    }


def action(button: Button, *, now: float) -> dict[str, Any]:
    """The `actions` entry of a click on this button at `now` (seconds since the epoch)."""
    element = button.element
    found = {
        "action_id": element.get("action_id"),
        "block_id": button.block_id,
        "text": element.get("text"),
        "type": "button",
        "action_ts": f"{now:.6f}",
    }
    for optional in ("value", "style"):
        if optional in element:
            found[optional] = element[optional]
    return found


def checkboxes_action(block_id: str | None, element: dict[str, Any], selected: list[dict[str, Any]], *,
                      now: float) -> dict[str, Any]:
    """The `actions` entry Slack sends when a member ticks or unticks a box: every box now ticked."""
    return {"type": "checkboxes", "action_id": element.get("action_id"), "block_id": block_id,
            "selected_options": selected, "action_ts": f"{now:.6f}"}


def slash_channel_name(channel: Channel) -> str:
    """The channel_name a slash command names: the channel's, or Slack's word for a DM or a private channel."""
    if channel.is_im:
        return "directmessage"
    return "privategroup" if channel.is_private else channel.name


def event_callback(fake: FakeSlack, event: dict[str, Any], *, team_id: str, api_app_id: str,
                   now: float) -> dict[str, Any]:
    """The Events API envelope Slack sends (as JSON) for one event of the workspace."""
    payload = {
        "token": VERIFICATION_TOKEN, "team_id": team_id, "api_app_id": api_app_id,
        "type": "event_callback", "event_id": f"Ev{int(now * 1000):013d}",
        "event_time": int(now), "authorizations": [{"team_id": fake.team_id, "is_bot": True}],
        "event": event,
    }
    if fake.enterprise_id:
        payload["enterprise_id"] = fake.enterprise_id
        payload["is_ext_shared_channel"] = False
    return payload


def function_executed(execution: Any, *, api_app_id: str, now: float) -> dict[str, Any]:
    """The `function_executed` event of a custom step's execution (bot/simulators/slack/functions.py)."""
    return {
        "type": "function_executed",
        "function": {"id": "Fn0OFFBOARD1", "callback_id": execution.callback_id, "title": execution.callback_id,
                     "type": "app", "app_id": api_app_id, "input_parameters": [], "output_parameters": [],
                     "date_created": int(now), "date_updated": int(now), "date_deleted": 0},
        "inputs": execution.inputs,
        "function_execution_id": execution.id,
        "workflow_execution_id": "Wx" + execution.id[2:],
        "event_ts": f"{now:.6f}",
        "bot_access_token": execution.token,
    }
