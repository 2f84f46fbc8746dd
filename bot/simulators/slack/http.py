"""The fake Slack's wire: the HTTP server, reading parameters (query, JSON, forms, multipart), and the answers.

The server routes `/api/<method>` (the Web API), `/response/<token>` (response URLs) and `/upload/v1/<token>`
(the POST of a file's bytes) to a `Backend`, which `FakeSlack` is; a Web API method refuses a call by raising
`ApiError`, which becomes Slack's `{"ok": false, "error": ...}`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from bot.simulators import serving

logger = logging.getLogger(__name__)

_JSON_PARAMS = ("blocks", "view", "attachments", "metadata", "outputs")


class ApiError(Exception):
    """A Slack error answer: {"ok": false, "error": code, **extra}."""

    def __init__(self, code: str, *, status: int = 200, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(code)
        self.code = code
        self.status = status
        self.headers = headers or {}
        self.extra = extra


def invalid(code: str, problems: list[str]) -> ApiError:
    return ApiError(code, response_metadata={"messages": problems})


def require(params: dict[str, Any], *names: str) -> None:
    """Refuse the call (invalid_arguments) when one of these parameters is missing or empty."""
    missing = [name for name in names if params.get(name) in (None, "")]
    if missing:
        raise ApiError("invalid_arguments", response_metadata={"messages": [f"missing {n}" for n in missing]})


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> HttpAnswer:
        return cls(status, json.dumps(data).encode(), headers=headers or {})

    @classmethod
    def text(cls, text: str, status: int = 200) -> HttpAnswer:
        return cls(status, text.encode(), content_type="text/html; charset=utf-8")


def parse_params(query: str, content_type: str | None, body: bytes) -> dict[str, Any]:
    """Merge query-string and body params the way Slack reads them."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    mime = (content_type or "").split(";")[0].strip().lower()
    if body and mime == "application/json":
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise ApiError("invalid_json") from exc
        if not isinstance(data, dict):
            raise ApiError("invalid_json")
        params.update(data)
    elif body and mime == "multipart/form-data":
        params.update(_parse_multipart(content_type or "", body))
    elif body:
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return _decode_json_params(params)


def multipart_parts(content_type: str, body: bytes) -> Iterator[Any]:
    """The parts of a multipart/form-data body."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    return message.iter_parts()


def _parse_multipart(content_type: str, body: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in multipart_parts(content_type, body):
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True) or b""
            fields[str(name)] = payload.decode("utf-8", errors="replace")
    return fields


def _decode_json_params(params: dict[str, Any]) -> dict[str, Any]:
    """Form bodies carry blocks/view as JSON strings; decode them."""
    for key in _JSON_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value.strip():
            try:
                params[key] = json.loads(value)
            except ValueError as exc:
                code = "invalid_blocks_format" if key == "blocks" else "invalid_arguments"
                raise ApiError(code) from exc
    return params


def upload_bytes(content_type: str | None, body: bytes) -> bytes:
    """The file's bytes from an upload POST: the body itself, or the file part of a multipart form."""
    if (content_type or "").split(";")[0].strip().lower() != "multipart/form-data":
        return body
    for part in multipart_parts(content_type or "", body):
        if part.get_filename() or part.get_param("name", header="content-disposition") in ("file", "filename"):
            return part.get_payload(decode=True) or b""
    return b""


def response_payload(content_type: str | None, body: bytes) -> dict[str, Any] | None:
    """Read a response-URL body: JSON, or a form with a JSON `payload` field."""
    try:
        if (content_type or "").startswith("application/x-www-form-urlencoded"):
            body = dict(parse_qsl(body.decode())).get("payload", "").encode()
        data = json.loads(body or b"null")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("blocks"), str):
        try:
            data["blocks"] = json.loads(data["blocks"])
        except ValueError:
            return None
    return data


class Backend(Protocol):
    """What the server hands requests to: each returns the answer to send."""

    def serve_api(self, method: str, query: str, content_type: str | None, auth: str | None,
                  body: bytes) -> HttpAnswer: ...

    def serve_response_url(self, token: str, content_type: str | None, body: bytes) -> HttpAnswer: ...

    def serve_upload(self, token: str, content_type: str | None, body: bytes) -> HttpAnswer: ...


class SlackHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    backend: Backend


def serve_in_thread(backend: Backend) -> tuple[SlackHttpServer, threading.Thread]:
    """Listen on an ephemeral loopback port and serve `backend` from a daemon thread."""
    return serving.serve_in_thread(SlackHttpServer, _RequestHandler, backend, name="fake-slack", poll_interval=0.05)


class _RequestHandler(BaseHTTPRequestHandler):
    server: SlackHttpServer
    server_version = "FakeSlack/1.0"

    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        content_type = self.headers.get("Content-Type")
        backend = self.server.backend
        try:
            if parts.path.startswith("/api/"):
                method = parts.path[len("/api/") :]
                answer = backend.serve_api(method, parts.query, content_type, self.headers.get("Authorization"), body)
            elif parts.path.startswith("/response/") and self.command == "POST":
                answer = backend.serve_response_url(parts.path[len("/response/") :], content_type, body)
            elif parts.path.startswith("/upload/v1/") and self.command == "POST":
                answer = backend.serve_upload(parts.path[len("/upload/v1/") :], content_type, body)
            else:
                answer = HttpAnswer.text("not_found", 404)
        except Exception:
            logger.exception("FakeSlack failed to serve %s", self.path)
            answer = HttpAnswer.json({"ok": False, "error": "fatal_error"}, 500)
        self._write(answer)

    def _write(self, answer: HttpAnswer) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("fake slack: " + format, *args)
