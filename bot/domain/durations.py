"""Parse the short durations used in the policy file: "90s", "30m", "4h", "7d", "1d12h"."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class DurationTooLong(ValueError):
    """A duration too long for a date to hold."""


def parse_duration(text: str) -> timedelta:
    """Return the timedelta written in text; raise ValueError when it is not a duration (or far too long)."""
    compact = text.strip().lower().replace(" ", "")
    if not compact or _PART.sub("", compact):
        raise ValueError(f"{text!r} is not a duration like 30m, 4h or 7d")
    total = timedelta()
    try:
        for amount, unit in _PART.findall(compact):
            total += timedelta(**{_UNITS[unit]: int(amount)})
    except OverflowError:
        raise DurationTooLong(f"{text!r} is far too long") from None
    if total <= timedelta():
        raise ValueError(f"{text!r} must be longer than zero")
    return total
