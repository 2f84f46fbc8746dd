"""Block Kit as Slack reads it: text objects, the ids Slack fills in, and why Slack would reject blocks or a modal.

Pure functions; the fake Web API refuses what `block_problems` / `view_problems` find, with Slack's error codes.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from bot.simulators.slack.model import MAX_VIEW_BLOCKS

_KNOWN_BLOCKS = {
    "actions", "context", "divider", "file", "header", "image", "input",
    "markdown", "rich_text", "section", "table", "video",
}  # fmt: skip
_INTERACTIVE_ELEMENTS = {
    "button", "checkboxes", "datepicker", "datetimepicker", "timepicker", "overflow", "radio_buttons",
    "static_select", "external_select", "users_select", "conversations_select", "channels_select",
    "multi_static_select", "multi_external_select", "multi_users_select", "multi_conversations_select",
    "multi_channels_select", "plain_text_input", "number_input", "email_text_input", "url_text_input",
    "rich_text_input", "file_input",
}  # fmt: skip


def truthy(value: Any) -> bool:
    """Slack's reading of a boolean parameter: true/"true"/"1"."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def plain_text(obj: Any) -> str:
    """The text of a text object ({"type": ..., "text": ...}) or of a bare string."""
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return "" if obj is None else str(obj)


def _short_id(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:5]


def with_generated_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy blocks, filling in block_id / action_id where the app left them out, as Slack does."""
    filled = copy.deepcopy(blocks)
    for index, block in enumerate(filled):
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", _short_id(json.dumps(block, sort_keys=True) + str(index)))
        for position, element in enumerate(block_elements(block)):
            if element.get("type") in _INTERACTIVE_ELEMENTS:
                element.setdefault("action_id", _short_id(f"{block['block_id']}/{position}"))
    return filled


def block_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The interactive elements a block holds (actions elements, a section accessory, an input element)."""
    found: list[Any] = []
    if block.get("type") == "actions":
        found = list(block.get("elements") or [])
    elif block.get("type") == "section" and block.get("accessory"):
        found = [block["accessory"]]
    elif block.get("type") == "input" and block.get("element"):
        found = [block["element"]]
    return [element for element in found if isinstance(element, dict)]


def block_problems(blocks: Any, *, max_blocks: int) -> list[str]:
    """Explain why Slack would reject these blocks; an empty list when they look valid."""
    if not isinstance(blocks, list):
        return ["[ERROR] must be an array [json-pointer:/blocks]"]
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"[ERROR] no more than {max_blocks} items allowed [json-pointer:/blocks]")
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"/blocks/{index}"
        if not isinstance(block, dict) or block.get("type") not in _KNOWN_BLOCKS:
            problems.append(f"[ERROR] unknown or missing block type [json-pointer:{where}]")
            continue
        problems += _id_problems(block.get("block_id"), block_ids, f"{where}/block_id")
        problems += _one_block_problems(block, where)
        action_ids: set[str] = set()  # an action_id need only be unique within its block
        for element in block_elements(block):
            problems += _id_problems(element.get("action_id"), action_ids, f"{where}/action_id")
    return problems


def _id_problems(value: Any, seen: set[str], where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str) or not value or len(value) > 255:
        return [f"[ERROR] must be a string of 1 to 255 characters [json-pointer:{where}]"]
    if value in seen:
        return [f"[ERROR] duplicate id {value!r} [json-pointer:{where}]"]
    seen.add(value)
    return []


def _one_block_problems(block: dict[str, Any], where: str) -> list[str]:
    kind = block["type"]
    if kind == "section":
        return _section_problems(block, where)
    if kind == "header" and not 0 < len(plain_text(block.get("text"))) <= 150:
        return [f"[ERROR] header text must be 1 to 150 characters [json-pointer:{where}/text]"]
    if kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 0 < len(elements) <= 25:
            return [f"[ERROR] actions need 1 to 25 elements [json-pointer:{where}/elements]"]
        return [p for i, e in enumerate(elements) for p in _element_problems(e, f"{where}/elements/{i}")]
    if kind == "input":
        if not plain_text(block.get("label")) or not isinstance(block.get("element"), dict):
            return [f"[ERROR] input needs a label and an element [json-pointer:{where}]"]
        return _element_problems(block["element"], f"{where}/element")
    return []


def _section_problems(block: dict[str, Any], where: str) -> list[str]:
    text, fields = block.get("text"), block.get("fields")
    if text is None and not fields:
        return [f"[ERROR] section needs text or fields [json-pointer:{where}]"]
    problems = []
    if text is not None and not 0 < len(plain_text(text)) <= 3000:
        problems.append(f"[ERROR] section text must be 1 to 3000 characters [json-pointer:{where}/text]")
    if fields is not None and (not isinstance(fields, list) or len(fields) > 10):
        problems.append(f"[ERROR] no more than 10 fields allowed [json-pointer:{where}/fields]")
    if isinstance(block.get("accessory"), dict):
        problems += _element_problems(block["accessory"], f"{where}/accessory")
    return problems


def _element_problems(element: Any, where: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [f"[ERROR] element needs a type [json-pointer:{where}]"]
    if element["type"] == "button":
        if not 0 < len(plain_text(element.get("text"))) <= 75:
            return [f"[ERROR] button text must be 1 to 75 characters [json-pointer:{where}/text]"]
        if len(str(element.get("value", ""))) > 2000:
            return [f"[ERROR] button value must be at most 2000 characters [json-pointer:{where}/value]"]
    return []


def view_problems(view: Any) -> list[str]:
    """Explain why Slack would reject this modal view; an empty list when it looks valid."""
    if not isinstance(view, dict):
        return ["[ERROR] view must be an object [json-pointer:/view]"]
    if view.get("type") != "modal":
        return ["[ERROR] only modal views are supported [json-pointer:/view/type]"]
    problems = []
    if not 0 < len(plain_text(view.get("title"))) <= 24:
        problems.append("[ERROR] title must be 1 to 24 characters [json-pointer:/view/title]")
    for key in ("submit", "close"):
        if key in view and not 0 < len(plain_text(view[key])) <= 24:
            problems.append(f"[ERROR] {key} must be 1 to 24 characters [json-pointer:/view/{key}]")
    blocks = view.get("blocks")
    problems += [p.replace("/blocks", "/view/blocks") for p in block_problems(blocks, max_blocks=MAX_VIEW_BLOCKS)]
    has_inputs = isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if has_inputs and "submit" not in view:
        problems.append("[ERROR] must provide a submit property when using input blocks [json-pointer:/view]")
    if len(str(view.get("private_metadata", ""))) > 3000:
        problems.append("[ERROR] private_metadata must be at most 3000 characters [json-pointer:/view]")
    if len(str(view.get("callback_id", ""))) > 255:
        problems.append("[ERROR] callback_id must be at most 255 characters [json-pointer:/view]")
    return problems

