"""Plain-text rendering of fake-Slack events and Block Kit for the terminal.

Pure functions, deterministic output, no colours. `name_for(id)` (e.g. `FakeSlack.name_of`)
turns `<@U123>` / `<#C123>` into `@alice` / `#general`; without it the ids are shown.

    [#approvals] bot:
      Offboard *alice*?
      [ Approve ] [ Reject ]
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.simulators.slack.model import EventKind, SlackEvent
from bot.simulators.workspace.inputs import shown

NameFor = Callable[[str], str | None]
INDENT = "  "
DIVIDER = "-" * 20
_MRKDWN_TOKEN = re.compile(r"<([^<>]+)>")


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


def _name(object_id: str, name_for: NameFor | None) -> str:
    return (name_for(object_id) if name_for else None) or object_id


def _mrkdwn_token(token: str, name_for: NameFor | None) -> str:
    """Render the inside of one `<...>` mrkdwn token."""
    target, _, label = token.partition("|")
    if target.startswith("@"):
        return "@" + (label or _name(target[1:], name_for))
    if target.startswith("#"):
        return "#" + (label or _name(target[1:], name_for))
    if target.startswith("!"):
        special = target[1:].split("^")[0]
        return label or ("@" + special)
    if label and label != target.removeprefix("mailto:"):
        return f"{label} ({target})"
    return target.removeprefix("mailto:")


def render_mrkdwn(text: str, *, name_for: NameFor | None = None) -> str:
    """Make mrkdwn readable: mentions, channels and links resolved, entities unescaped; *bold* kept."""
    replaced = _MRKDWN_TOKEN.sub(lambda match: _mrkdwn_token(match.group(1), name_for), text)
    return html.unescape(replaced)


def render_text(obj: Any, *, name_for: NameFor | None = None) -> str:
    """A text object (plain_text or mrkdwn) or a bare string."""
    if isinstance(obj, dict):
        text = str(obj.get("text", ""))
        return render_mrkdwn(text, name_for=name_for) if obj.get("type") == "mrkdwn" else text
    return render_mrkdwn(str(obj or ""), name_for=name_for)


# --------------------------------------------------------------------------------------------
# Elements
# --------------------------------------------------------------------------------------------


def _option_lines(element: dict[str, Any], key: str | None) -> list[str]:
    """Checkboxes as `[ ] text (key=..., value=...)`, radio buttons as `( ) text ...`."""
    selected = {str(o.get("value")) for o in element.get("initial_options") or []}
    if element.get("initial_option"):
        selected.add(str(element["initial_option"].get("value")))
    on, off = ("[x]", "[ ]") if element.get("type") == "checkboxes" else ("(o)", "( )")
    lines = []
    for option in element.get("options") or []:
        mark = on if str(option.get("value")) in selected else off
        where = f"key={key}, value={option.get('value')}" if key else f"value={option.get('value')}"
        lines.append(f"{mark} {render_text(option.get('text'))} ({where})")
    return lines


def render_element(element: dict[str, Any], *, name_for: NameFor | None = None) -> str:
    """One interactive element on a single line: `[ Approve ]`, `[ Pick a user v ]`..."""
    kind = element.get("type", "")
    if kind == "button":
        return f"[ {render_text(element.get('text'))} ]"
    if kind == "overflow":
        return "[ ... ]"
    if kind == "image":
        return f"(image: {element.get('alt_text', '')})"
    picked = [element[key] for key in ("initial_user", "initial_conversation", "initial_channel") if element.get(key)]
    picked += [one for key in ("initial_users", "initial_conversations", "initial_channels")
               for one in element.get(key) or []]
    if picked:
        names = (("@" if str(one).startswith(("U", "W")) else "#") + _name(str(one), name_for) for one in picked)
        return f"[ {', '.join(names)} v ]"
    if kind.endswith("select"):
        initial = element.get("initial_option") or {}
        shown = render_text(initial.get("text")) if initial else render_text(element.get("placeholder")) or "select"
        return f"[ {shown} v ]"
    for initial_key in ("initial_date", "initial_time", "initial_value", "initial_date_time"):
        if element.get(initial_key) is not None:
            return f"[ {kind}: {element[initial_key]} ]"
    placeholder = render_text(element.get("placeholder"))
    return f"[ {kind}: {placeholder} ]" if placeholder else f"[ {kind} ]"


def _element_lines(element: dict[str, Any], *, name_for: NameFor | None) -> list[str]:
    """An element outside an input block; option lists get one line per option."""
    if element.get("type") in ("checkboxes", "radio_buttons"):
        return _option_lines(element, element.get("action_id"))
    return [render_element(element, name_for=name_for)]


# --------------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------------


def _section(block: dict[str, Any], name_for: NameFor | None) -> list[str]:
    lines = render_text(block["text"], name_for=name_for).splitlines() if block.get("text") else []
    for field in block.get("fields") or []:
        lines += render_text(field, name_for=name_for).splitlines()
    if isinstance(block.get("accessory"), dict):
        lines += _element_lines(block["accessory"], name_for=name_for)
    return lines


def _context(block: dict[str, Any], name_for: NameFor | None) -> list[str]:
    parts = []
    for element in block.get("elements") or []:
        if element.get("type") == "image":
            parts.append(f"(image: {element.get('alt_text', '')})")
        else:
            parts.append(render_text(element, name_for=name_for))
    return [" | ".join(parts)]


def _actions(block: dict[str, Any], name_for: NameFor | None) -> list[str]:
    inline: list[str] = []
    lines: list[str] = []
    for element in block.get("elements") or []:
        rendered = _element_lines(element, name_for=name_for)
        if len(rendered) == 1 and element.get("type") not in ("checkboxes", "radio_buttons"):
            inline.append(rendered[0])
        else:
            lines += rendered
    return ([" ".join(inline)] if inline else []) + lines


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return options


def _select_lines(element: dict[str, Any]) -> list[str]:
    """The options of a select, one a line, the preselected ones marked."""
    initial = [element["initial_option"]] if element.get("initial_option") else element.get("initial_options") or []
    chosen = {str(option.get("value")) for option in initial}
    lines = []
    for option in _options(element):
        mark = ", selected" if str(option.get("value")) in chosen else ""
        lines.append(f"- {render_text(option.get('text'))} (value={option.get('value')}{mark})")
    return lines


def _input(block: dict[str, Any], name_for: NameFor | None) -> list[str]:
    label = render_text(block.get("label"))
    optional = " (optional)" if block.get("optional") else ""
    key = block.get("block_id")
    lines = [f"{label}{optional}: (key={key})"]
    element = block.get("element") or {}
    kind = element.get("type", "")
    if kind in ("checkboxes", "radio_buttons"):
        lines += [INDENT + line for line in _option_lines(element, key)]
    elif kind in ("static_select", "multi_static_select"):
        lines += [INDENT + line for line in _select_lines(element)]
    elif element.get("initial_value") is not None:
        lines.append(INDENT + f'"{element["initial_value"]}"')
    elif element.get("initial_option") or element.get("initial_options"):  # an external select: only what is chosen
        lines += [INDENT + line for line in _select_lines({"options": _initial(element), **element})]
    else:
        lines += [INDENT + render_element(element, name_for=name_for)] if _picked(element) else []
    return lines


def _initial(element: dict[str, Any]) -> list[dict[str, Any]]:
    return [element["initial_option"]] if element.get("initial_option") else list(element.get("initial_options") or [])


def _picked(element: dict[str, Any]) -> bool:
    """Whether a picker (users, channels, date, time) shows something chosen."""
    return any(key.startswith("initial_") and element[key] not in (None, "", []) for key in element)


_RICH_STYLES = (("code", "`"), ("bold", "*"), ("italic", "_"), ("strike", "~"))


def _styled(text: str, style: dict[str, Any]) -> str:
    """Wrap styled text in mrkdwn markers, keeping surrounding spaces outside: ` *done*`."""
    core = text.strip()
    if not core:
        return text
    for name, mark in _RICH_STYLES:
        if style.get(name):
            core = f"{mark}{core}{mark}"
    start = text.index(text.strip()[0])
    return text[:start] + core + text[start + len(text.strip()) :]


def _rich_inline(element: dict[str, Any], name_for: NameFor | None) -> str:
    kind = element.get("type")
    if kind == "text":
        return _styled(str(element.get("text", "")), element.get("style") or {})
    if kind == "link":
        text, url = element.get("text"), element.get("url", "")
        return f"{text} ({url})" if text and text != url else url
    if kind == "user":
        return "@" + _name(element.get("user_id", ""), name_for)
    if kind == "channel":
        return "#" + _name(element.get("channel_id", ""), name_for)
    if kind == "usergroup":
        return "@" + str(element.get("usergroup_id", ""))
    if kind == "broadcast":
        return "@" + str(element.get("range", ""))
    if kind == "emoji":
        return f":{element.get('name', '')}:"
    return str(element.get("fallback") or element.get("text") or element.get("value") or "")


def _rich_inline_text(container: dict[str, Any], name_for: NameFor | None) -> str:
    return "".join(_rich_inline(element, name_for) for element in container.get("elements") or [])


def _rich_lines(element: dict[str, Any], name_for: NameFor | None) -> list[str]:
    kind = element.get("type")
    if kind == "rich_text_list":
        indent = INDENT * int(element.get("indent", 0))
        ordered = element.get("style") == "ordered"
        items = element.get("elements") or []
        return [
            f"{indent}{f'{n}.' if ordered else '-'} {_rich_inline_text(item, name_for)}"
            for n, item in enumerate(items, start=1)
        ]
    text = _rich_inline_text(element, name_for)
    if kind == "rich_text_quote":
        return ["> " + line for line in text.splitlines() or [""]]
    if kind == "rich_text_preformatted":
        return ["```", *text.splitlines(), "```"]
    return text.splitlines() or [""]


def _rich_text(block: dict[str, Any], name_for: NameFor | None) -> list[str]:
    return [line for element in block.get("elements") or [] for line in _rich_lines(element, name_for)]


def render_block(block: dict[str, Any], *, name_for: NameFor | None = None) -> list[str]:
    """One block as lines of text."""
    kind = block.get("type")
    if kind == "section":
        return _section(block, name_for)
    if kind == "header":
        return [f"== {render_text(block.get('text'))} =="]
    if kind == "divider":
        return [DIVIDER]
    if kind == "context":
        return _context(block, name_for)
    if kind == "actions":
        return _actions(block, name_for)
    if kind == "input":
        return _input(block, name_for)
    if kind == "rich_text":
        return _rich_text(block, name_for)
    if kind == "image":
        return [f"(image: {block.get('alt_text', '')})"]
    if kind == "markdown":
        return str(block.get("text", "")).splitlines()
    return [f"({kind} block)"]


def render_blocks(
    blocks: list[dict[str, Any]], *, name_for: NameFor | None = None, errors: Mapping[str, str] | None = None,
    state: Mapping[str, Mapping[str, dict[str, Any]]] | None = None,
) -> list[str]:
    """Blocks as lines; `errors` (block_id -> message) are shown as `! message` under their block, and `state`
    (a modal's `state.values`) shows what the user has chosen in place of the initial values."""
    lines: list[str] = []
    for block in shown(blocks, state) if state else blocks:
        lines += [part for line in render_block(block, name_for=name_for) for part in line.split("\n")]
        if errors and block.get("block_id") in errors:
            lines.append(f"! {errors[block['block_id']]}")
    return lines


# --------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------

_MESSAGE_SUFFIX = {
    EventKind.MESSAGE_POSTED: ":",
    EventKind.MESSAGE_UPDATED: " (edited):",
    EventKind.MESSAGE_DELETED: ": (message deleted)",
    EventKind.DM_POSTED: ":",
    EventKind.DM_UPDATED: " (edited):",
    EventKind.DM_DELETED: ": (message deleted)",
}
_EPHEMERAL_SUFFIX = {
    EventKind.EPHEMERAL_POSTED: "",
    EventKind.EPHEMERAL_REPLACED: " (replaced)",
    EventKind.EPHEMERAL_DELETED: " (deleted)",
}
_VIEW_SUFFIX = {
    EventKind.VIEW_OPENED: "",
    EventKind.VIEW_PUSHED: " (pushed)",
    EventKind.VIEW_UPDATED: " (updated)",
    EventKind.VIEW_CLOSED: " (closed)",
    EventKind.VIEW_ERRORS: " (errors)",
}
_NO_BODY = {EventKind.MESSAGE_DELETED, EventKind.DM_DELETED, EventKind.EPHEMERAL_DELETED, EventKind.VIEW_CLOSED}


def _who(user_id: str | None, name: str | None) -> str:
    return name or user_id or "?"


def _where(event: SlackEvent) -> str:
    return f"#{event.channel_name}" if event.channel_name else "DM"


def render_header(event: SlackEvent) -> str:
    """The first line of an event, e.g. `[#approvals] bot:` or `[ephemeral to alice in #general]`."""
    kind = event.kind
    if kind in _MESSAGE_SUFFIX:
        author = _who(event.author_id, event.author_name)
        if kind in (EventKind.DM_POSTED, EventKind.DM_UPDATED, EventKind.DM_DELETED):
            where = f"DM to {_who(event.user_id, event.user_name)}"
        else:
            where = _where(event) + (", in thread" if event.thread_ts else "")
        return f"[{where}] {author}{_MESSAGE_SUFFIX[kind]}"
    if kind in _EPHEMERAL_SUFFIX:
        return f"[ephemeral to {_who(event.user_id, event.user_name)} in {_where(event)}]{_EPHEMERAL_SUFFIX[kind]}"
    if kind in _VIEW_SUFFIX:
        return f'[modal "{event.title}" for {_who(event.user_id, event.user_name)}]{_VIEW_SUFFIX[kind]}'
    return f"[{kind}]"


def _body_lines(event: SlackEvent, name_for: NameFor | None) -> list[str]:
    if event.kind in _NO_BODY:
        return []
    if event.kind in _VIEW_SUFFIX:
        lines = render_blocks(event.blocks, name_for=name_for, errors=event.errors, state=event.state)
        footer = [f"[ {event.close or 'Cancel'} ]"] + ([f"[ {event.submit} ]"] if event.submit else [])
        return [*lines, " ".join(footer)]
    attached = [f"📎 {name}" for name in event.files]
    if event.blocks:
        return render_blocks(event.blocks, name_for=name_for) + attached
    return render_mrkdwn(event.text, name_for=name_for).splitlines() + attached


def render_event(event: SlackEvent, *, name_for: NameFor | None = None) -> str:
    """A header line followed by the content, indented."""
    lines = [render_header(event)]
    lines += [INDENT + line if line else "" for line in _body_lines(event, name_for)]
    return "\n".join(lines)
