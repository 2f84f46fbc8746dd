"""Slack's markup: putting outside text into a message without it acting as markup, naming people, channels
and moments the way Slack shows them. Pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def escape(text: str) -> str:
    """Escape &, < and > so the text cannot mention people, ping @channel or forge links in Slack."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quote(text: str, limit: int = 80) -> str:
    """Return text as an inline code span, escaped and shortened, for echoing input back."""
    text = text.replace("`", "'").replace("\n", " ")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"`{escape(text)}`"


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def channel(channel_id: str) -> str:
    return f"<#{channel_id}>"


def when(moment: datetime) -> str:
    """The moment in each reader's own time zone, as Slack shows dates (UTC where it cannot)."""
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def utc(moment: datetime) -> str:
    """e.g. "2026-12-01 09:00 UTC"."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def span(period: timedelta | float) -> str:
    """e.g. "7 days", "1 day 12 hours", "1 hour 30 minutes" (a number is seconds)."""
    seconds = int(period.total_seconds() if isinstance(period, timedelta) else period)
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount} {unit}{'' if amount == 1 else 's'}")
    return " ".join(parts) or "0 seconds"
