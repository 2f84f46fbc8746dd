"""Slack's markup: putting outside text into a message without it acting as markup, naming people, channels
and moments the way Slack shows them. Pure functions."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

_BREAKING = frozenset({"Cc", "Cf", "Zl", "Zp"})  # controls, format characters, line and paragraph separators
# asterisk operator, tilde operator, modifier letter grave accent: they look the same and are not markup
_LOOK_ALIKES = str.maketrans({"*": "\u2217", "~": "\u223c", "`": "\u02cb"})
_LOOSE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")  # an `_` not inside an ASCII word
_LOW_LINE = "\u02cd"  # modifier letter low macron
_QUOTE_MARK = "\u203a"  # single right-pointing angle quotation mark


def escape(text: str) -> str:
    """Escape &, < and > so the text cannot mention people, ping @channel or forge links in Slack."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def one_line(text: str) -> str:
    """The text on one line: every line break, control or format character (bidi overrides, zero-width ones)
    and Unicode line or paragraph separator becomes a space, runs of spaces one, none at either end."""
    text = "".join(" " if unicodedata.category(char) in _BREAKING else char for char in text)
    return " ".join(text.split())


def plain(text: str) -> str:
    """Outside text (whatever the console returns, what a requester typed) as inert mrkdwn: one line, no mention,
    link or entity of its own, and no formatting character Slack could pair with another.

    Slack's mrkdwn has no escape for `*`, `_`, `~` and the backtick, and whether one pairs depends on what stands
    next to it (zero-width spaces even help it pair). So they are replaced by look-alikes that are not markup
    (the asterisk and tilde operators, a modifier grave accent and low macron): what was bold, struck or code is
    shown as typed, and nothing pairs with the bot's own markup around it, wherever the text is put. The one
    exception is `_` between two ASCII letters or digits, as in `j_doe` or `jane_doe@example.com`: Slack never
    opens or closes italics inside a word, and keeping it keeps usernames and emails exact for an admin who copies
    them into the console. &, < and > are escaped, so `<!channel>` or a forged `<https://…|link>` shows as typed
    and `&lt;` shows as `&lt;`. A quote needs `>` first on a line; the text has no line break, so only its first
    character could be one: it becomes a single right-pointing angle quotation mark.
    """
    text = _LOOSE_UNDERSCORE.sub(_LOW_LINE, one_line(text).translate(_LOOK_ALIKES))
    if text.startswith(">"):
        text = _QUOTE_MARK + text[1:]
    return escape(text)


def quote(text: str, limit: int = 80) -> str:
    """Return text as an inline code span, escaped and shortened, for echoing input back."""
    text = one_line(text.replace("`", "'"))
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
