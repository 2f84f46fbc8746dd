"""manifest.yml asks for exactly what the code uses: the command, interactivity, the scopes."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.slack.ids import BOT_SCOPES, COMMAND, ActionId, CallbackId, FunctionId, ShortcutId, StepInput, StepOutput
from handlers.actions import DECISIONS

ROOT = Path(__file__).resolve().parents[1]
# Web API methods the bot calls -> the bot scope each needs (None: no scope).
SCOPES = {"chat_postMessage": "chat:write", "chat_update": "chat:write", "chat_postEphemeral": "chat:write",
          "views_open": None, "views_publish": None, "users_info": "users:read", "auth_test": None,
          "users_lookupByEmail": "users:read.email", "conversations_info": "channels:read",
          "files_upload_v2": "files:write",  # files.getUploadURLExternal and files.completeUploadExternal
          "functions_completeSuccess": None, "functions_completeError": None}  # custom workflow steps


def _manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def _called_methods() -> set[str]:
    called = set()
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")]:
        if "shell" in path.parts or "console" in path.parts:  # the shell's fake, and admin console clients
            continue
        # family_methodName, as slack_sdk spells Web API methods, with a version suffix (files_upload_v2)
        called |= set(re.findall(r"client\.([a-z]+_[A-Za-z]+(?:_v\d+)?)\b", path.read_text()))
    return called


def test_every_called_method_is_known():
    assert _called_methods() <= set(SCOPES), _called_methods() - set(SCOPES)


def test_scopes_are_the_minimal_set_used():
    needed = {SCOPES[method] for method in _called_methods()} - {None}
    needed |= {"commands", "users:read.email"}  # the slash command; admins are matched on email
    if "conversations_info" in _called_methods():
        needed.add("groups:read")  # conversations.info on a private channel
    assert set(_manifest()["oauth_config"]["scopes"]["bot"]) == needed == BOT_SCOPES


def test_slash_command_and_interactivity_point_at_the_events_endpoint():
    manifest = _manifest()
    commands = manifest["features"]["slash_commands"]
    assert [command["command"] for command in commands] == [COMMAND]
    assert commands[0]["url"].endswith("/slack/events")
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True  # outcomes arrive as DMs


def _listeners() -> dict[str, set[str]]:
    """What handlers/ registers with Bolt, read from the decorators: commands, events, actions, views, options,
    shortcuts and functions (custom workflow steps)."""
    kinds = ("command", "event", "action", "view", "options", "shortcut", "function")
    found: dict[str, set[str]] = {kind: set() for kind in kinds}
    for path in (ROOT / "handlers").glob("*.py"):
        for kind, name in re.findall(rf"@app\.({'|'.join(kinds)})\(([^)]*)\)", path.read_text()):
            found[kind].add(name.strip())
    found["action"] |= {f"ActionId.{action_id.name}" for action_id in DECISIONS}  # registered from a table
    return found


def _resolve(name: str) -> str:
    if name == "COMMAND":
        return COMMAND
    enums = {"ActionId": ActionId, "CallbackId": CallbackId, "ShortcutId": ShortcutId, "FunctionId": FunctionId}
    if name.startswith(tuple(f"{kind}." for kind in enums)):
        kind, member = name.removesuffix(".value").split(".")
        return enums[kind][member].value
    return name.strip("\"'")


def test_every_listener_is_in_the_manifest_and_every_manifest_entry_has_a_listener():
    manifest, listeners = _manifest(), _listeners()
    commands = {command["command"] for command in manifest["features"]["slash_commands"]}
    assert commands == {_resolve(name) for name in listeners["command"]}
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    # an @app.function listener is a function_executed event listener
    assert events == {_resolve(name) for name in listeners["event"]} | (
        {"function_executed"} if listeners["function"] else set())
    assert manifest["features"]["app_home"]["home_tab_enabled"] is ("app_home_opened" in events)
    options_url = manifest["settings"]["interactivity"].get("message_menu_options_url", "")
    assert bool(listeners["options"]) is options_url.endswith("/slack/events")


def test_every_action_and_callback_id_has_exactly_one_kind_of_listener():
    listeners = _listeners()
    handled = {_resolve(name) for name in listeners["action"] | listeners["options"]}
    assert handled == {member.value for member in ActionId}
    assert {_resolve(name) for name in listeners["view"]} == {member.value for member in CallbackId}


def test_every_shortcut_and_custom_step_has_its_listener_and_back():
    manifest, listeners = _manifest(), _listeners()
    shortcuts = manifest["features"]["shortcuts"]
    assert {shortcut["callback_id"] for shortcut in shortcuts} == {_resolve(name) for name in listeners["shortcut"]}
    assert {shortcut["callback_id"] for shortcut in shortcuts} == {member.value for member in ShortcutId}
    assert all(shortcut["type"] == "global" for shortcut in shortcuts)
    functions = manifest["functions"]
    assert set(functions) == {_resolve(name) for name in listeners["function"]} == {m.value for m in FunctionId}
    step = functions[FunctionId.REQUEST_OFFBOARDING.value]
    assert set(step["input_parameters"]["properties"]) == {member.value for member in StepInput}
    assert set(step["output_parameters"]["properties"]) == {member.value for member in StepOutput}
    assert set(step["output_parameters"]["required"]) == {member.value for member in StepOutput}
    assert manifest["settings"]["org_deploy_enabled"] is True  # Slack requires it for custom steps
    assert manifest["settings"]["function_runtime"] == "remote"
