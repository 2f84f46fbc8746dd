"""Putting text someone typed (or a console returned) into a message without it acting as markup."""

from __future__ import annotations


def escape(text: str) -> str:
    """Escape &, < and > so the text cannot mention people, ping @channel or forge links in Slack."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quote(text: str, limit: int = 80) -> str:
    """Return text as an inline code span, escaped and shortened, for echoing input back."""
    text = text.replace("`", "'").replace("\n", " ")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"`{escape(text)}`"
