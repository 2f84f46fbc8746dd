"""Refusals in words, for tests that check what an admin is told (bot/slack/messages says it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bot.errors import Refusal
from bot.slack.messages.refusals import refusal_text


@contextmanager
def raises_saying(kind: type[Refusal], pattern: str) -> Iterator[pytest.ExceptionInfo]:
    """Like pytest.raises(kind), and the refusal, in words, matches the regular expression `pattern`."""
    with pytest.raises(kind) as raised:
        yield raised
    said = refusal_text(raised.value)
    assert re.search(pattern, said), f"{said!r} does not match {pattern!r}"
