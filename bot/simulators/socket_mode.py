"""A local stand-in for Slack's Socket Mode WebSocket server.

`FakeSocketMode` listens on a loopback port (the `websockets` package's threaded server). Register its
`url` on the fake Slack (`slack.socket_mode_url = server.url`): the app gets it from apps.connections.open,
connects, and is greeted with `hello` as Slack does. `deliver()` sends an envelope and `wait_ack()`
returns the app's acknowledgement of it; every message either way is recorded. `disconnect()` sends
Slack's `disconnect` message (the app must fetch a new URL and reconnect); `drop()` closes the socket.

`workspace_send()` lets `bot.simulators.workspace.Workspace` drive the app through it: the requests Workspace
builds for HTTP (a slash command's form, an interaction's `payload=`) go out as the envelopes Slack sends
in Socket Mode, and the ack's payload comes back as the HTTP answer would.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from bot.simulators.workspace.driver import Send

# Slack wants an answer to these in the ack itself (a slash command's reply, a modal's response_action).
_ANSWERED_IN_ACK = {"block_suggestion", "view_submission"}


@dataclass
class Envelope:
    """One envelope sent to the app; `ack` is the app's answer, once it came."""

    envelope_id: str
    type: str
    payload: dict[str, Any]
    accepts_response_payload: bool
    sent_at: float
    ack: dict[str, Any] | None = None
    acked_at: float | None = None
    acks: int = 0  # more than one would be a bug in the app

    @property
    def ack_seconds(self) -> float | None:
        return None if self.acked_at is None else self.acked_at - self.sent_at


class FakeSocketMode:
    """Slack's Socket Mode server, faked on 127.0.0.1. Use `with FakeSocketMode() as server:`."""

    def __init__(self, *, app_id: str = "A0OFFBOARD") -> None:
        self.app_id = app_id
        self.paths: list[str] = []  # the request path of every connection made, in order
        self.sent: list[dict[str, Any]] = []  # every message sent to the app: hello, envelopes, disconnect
        self.received: list[Any] = []  # every message the app sent, parsed when it was JSON
        self._envelopes: dict[str, Envelope] = {}
        self._open: list[ServerConnection] = []  # greeted connections still open, newest last
        self._changed = threading.Condition()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeSocketMode:
        self._server = serve(self._serve_connection, "127.0.0.1", 0, compression=None)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-socket-mode", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(10)
        self._server = self._thread = None

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """What apps.connections.open should hand out (Slack's have the same shape, on wss://)."""
        if self._server is None:
            raise RuntimeError("FakeSocketMode is not started")
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket={uuid.uuid4()}&app_id={self.app_id}"

    # ---------------------------------------------------------------- the server side of one connection

    def _serve_connection(self, connection: ServerConnection) -> None:
        with self._changed:
            self.paths.append(connection.request.path if connection.request else "")
            count = len(self._open) + 1
        self._send(connection, {
            "type": "hello", "num_connections": count, "connection_info": {"app_id": self.app_id},
            "debug_info": {"host": "fake-socket-mode", "approximate_connection_time": 18060},
        })
        with self._changed:
            self._open.append(connection)
            self._changed.notify_all()
        try:
            for raw in connection:
                self._record(raw)
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._open.remove(connection)
                self._changed.notify_all()

    def _record(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            message = raw
        with self._changed:
            self.received.append(message)
            envelope = self._envelopes.get(message.get("envelope_id", "")) if isinstance(message, dict) else None
            if envelope is not None:
                envelope.acks += 1
                if envelope.ack is None:
                    envelope.ack, envelope.acked_at = message, time.monotonic()
            self._changed.notify_all()

    def _send(self, connection: ServerConnection, message: dict[str, Any]) -> None:
        with self._changed:
            self.sent.append(message)
        connection.send(json.dumps(message))

    # ---------------------------------------------------------------- what a test does

    @property
    def connections(self) -> int:
        """How many connections are open now."""
        with self._changed:
            return len(self._open)

    def wait_connected(self, *, made: int = 1, timeout: float = 10.0) -> None:
        """Wait until the app has made `made` connections in all and has exactly one open (it closed any
        connection it replaced)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.paths) >= made and len(self._open) == 1, timeout):
                raise AssertionError(f"the app made {len(self.paths)} connection(s) in {timeout} s and has "
                                     f"{len(self._open)} open; wanted {made} made and 1 open")

    def deliver(self, type: str, payload: dict[str, Any], *, accepts_response_payload: bool | None = None,
                retry_attempt: int = 0, retry_reason: str = "") -> str:
        """Send an envelope ("slash_commands", "interactive" or "events_api") on the newest connection;
        return its envelope_id. Slack's rule decides `accepts_response_payload` unless it is given."""
        if accepts_response_payload is None:
            accepts_response_payload = type == "slash_commands" or payload.get("type") in _ANSWERED_IN_ACK
        envelope_id = str(uuid.uuid4())
        message: dict[str, Any] = {"envelope_id": envelope_id, "type": type, "payload": payload,
                                   "accepts_response_payload": accepts_response_payload}
        if type == "events_api":
            message |= {"retry_attempt": retry_attempt, "retry_reason": retry_reason}
        connection = self._newest()
        with self._changed:
            self._envelopes[envelope_id] = Envelope(envelope_id, type, payload, accepts_response_payload,
                                                    sent_at=time.monotonic())
        self._send(connection, message)
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 3.0) -> dict[str, Any]:
        """Return the app's ack of the envelope ({"envelope_id": ..., "payload"?: ...}); fail after `timeout`."""
        with self._changed:
            envelope = self._envelopes[envelope_id]
            if not self._changed.wait_for(lambda: envelope.ack is not None, timeout):
                raise AssertionError(f"no ack for {envelope.type} envelope {envelope_id} within {timeout} s")
            assert envelope.ack is not None
            return envelope.ack

    def envelope(self, envelope_id: str) -> Envelope:
        with self._changed:
            return self._envelopes[envelope_id]

    @property
    def envelopes(self) -> list[Envelope]:
        """Every envelope delivered, oldest first."""
        with self._changed:
            return list(self._envelopes.values())

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's `disconnect` message on the newest connection, as Slack does before it closes one."""
        self._send(self._newest(), {"type": "disconnect", "reason": reason,
                                    "debug_info": {"host": "fake-socket-mode"}})

    def drop(self, code: int = 1001) -> None:
        """Close the newest connection from the server's side."""
        self._newest().close(code)

    def _newest(self, timeout: float = 10.0) -> ServerConnection:
        with self._changed:
            if not self._changed.wait_for(lambda: self._open, timeout):
                raise AssertionError(f"the app has no open Socket Mode connection after {timeout} s")
            return self._open[-1]

    # ---------------------------------------------------------------- driving the app with Workspace

    def workspace_send(self, *, ack_timeout: float = 3.0) -> Send:
        """A `send` for Workspace that delivers its requests as envelopes and answers with the acks.

        The signature headers Workspace adds are dropped: Socket Mode requests are not signed.
        `ack_timeout` is Slack's own limit: an envelope not acked within 3 s fails the test."""

        def send(body: bytes, _headers: dict[str, str]) -> tuple[int, bytes]:
            text = body.decode("utf-8")
            form = dict(parse_qsl(text, keep_blank_values=True))
            if text.lstrip().startswith("{"):  # an Events API callback, sent over HTTP as JSON
                envelope_id = self.deliver("events_api", json.loads(text))
            elif "command" in form:
                envelope_id = self.deliver("slash_commands", form)
            else:
                envelope_id = self.deliver("interactive", json.loads(form["payload"]))
            payload = self.wait_ack(envelope_id, ack_timeout).get("payload")
            return 200, json.dumps(payload).encode() if payload else b""

        return send
