"""manifest.yml asks for exactly what the code uses: the command, interactivity, the scopes."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.slack.ids import COMMAND

ROOT = Path(__file__).resolve().parents[1]
# Web API methods the bot calls -> the bot scope each needs (None: no scope).
SCOPES = {"chat_postMessage": "chat:write", "chat_update": "chat:write", "chat_postEphemeral": "chat:write",
          "views_open": None, "users_info": "users:read", "auth_test": None}


def _manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def _called_methods() -> set[str]:
    called = set()
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")]:
        if "shell" in path.parts or "console" in path.parts:  # the shell's fake, and admin console clients
            continue
        called |= set(re.findall(r"client\.([a-z]+_[A-Za-z]+)\b", path.read_text()))
    return called


def test_every_called_method_is_known():
    assert _called_methods() <= set(SCOPES), _called_methods() - set(SCOPES)


def test_scopes_are_the_minimal_set_used():
    needed = {SCOPES[method] for method in _called_methods()} - {None}
    needed |= {"commands", "users:read.email"}  # the slash command; admins are matched on email
    assert set(_manifest()["oauth_config"]["scopes"]["bot"]) == needed


def test_slash_command_and_interactivity_point_at_the_events_endpoint():
    manifest = _manifest()
    commands = manifest["features"]["slash_commands"]
    assert [command["command"] for command in commands] == [COMMAND]
    assert commands[0]["url"].endswith("/slack/events")
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True  # outcomes arrive as DMs
