"""Logging: one JSON object per line (or plain text in a terminal), each stamped with the trace id of the
Slack request or background job it belongs to (bot.ambient), the same id an admin is shown when something
goes wrong. In the JSON lines the field is called `request_id`: it names the Slack request.

Standard library only."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal, TextIO

from bot.ambient import current_trace_id

LogFormat = Literal["json", "text"]
REDACTED = "[redacted]"
_MIN_SECRET = 8  # shorter values would blank out ordinary words
# What every LogRecord has anyway; anything else on a record was passed as `extra=` and is logged as a field
# (but not uvicorn's copy of the message with terminal colours).
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id", "request_tag",
                                                           "color_message"}
HANDLER_NAME = "offboard"


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current trace id when it is made, in the thread that logs it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_trace_id()
        return True


class _Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= _MIN_SECRET}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, thread, request_id (when set), exception, and
    any `extra=` fields. Every secret passed in is replaced by [redacted] wherever it would appear."""

    def __init__(self, *, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._redact = _Redactor(secrets)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "thread": record.threadName,
        }
        request_id = getattr(record, "request_id", None) or current_trace_id()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return self._redact(json.dumps(entry, default=str, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [request id]: message` for people reading a terminal; secrets redacted too."""

    def __init__(self, *, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s")
        self._redact = _Redactor(secrets)

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None) or current_trace_id()
        record.request_tag = f" [{request_id}]" if request_id else ""
        return self._redact(super().format(record))


def make_handler(stream: TextIO, *, fmt: LogFormat, secrets: Iterable[str] = ()) -> logging.Handler:
    """Return a handler writing to stream in the given format, stamping request ids, redacting secrets."""
    handler = logging.StreamHandler(stream)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter(secrets=secrets) if fmt == "json" else TextFormatter(secrets=secrets))
    handler.addFilter(RequestIdFilter())
    return handler


def configure(*, level: str, fmt: LogFormat, secrets: Iterable[str] = (), stream: TextIO | None = None) -> None:
    """Send every log record of the process to standard error (or stream), one line each.

    Like logging.basicConfig, does nothing when something else (a test's log capture) already handles the
    root logger; replaces the handler an earlier call installed."""
    root = logging.getLogger()
    if any(handler.get_name() != HANDLER_NAME for handler in root.handlers):
        return
    for old in [handler for handler in root.handlers if handler.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(make_handler(stream or sys.stderr, fmt=fmt, secrets=secrets))
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # two lines per sweep, and start/stop, otherwise
