"""Logging for the benchmarks: warnings and errors are counted, not printed, so the figures stay readable."""

from __future__ import annotations

import logging
from collections import Counter


class Tally(logging.Handler):
    """Counts the warnings and errors logged instead of printing them (and their tracebacks)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        first_line = (record.getMessage().splitlines() or [""])[0][:140]
        self.seen[f"{record.levelname} {record.name}: {first_line}"] += 1


def quiet_logging() -> Tally:
    tally = Tally()
    logging.basicConfig(level=logging.WARNING, handlers=[tally], force=True)
    return tally
