"""Socket Mode: Slack's envelopes over a WebSocket the bot opens, instead of HTTP requests to it.

`offboard-bot serve` uses this when SLACK_APP_TOKEN is set; the tests drive the same functions against a
fake Socket Mode server. Socket Mode requests are not signed: the WebSocket itself, opened with the
app-level token, is what proves they come from Slack, and listeners still take the actor from the payload.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import socket
import threading
from typing import TYPE_CHECKING, Any

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.errors import ConfigurationError

if TYPE_CHECKING:
    from bot.container import Container

log = logging.getLogger("offboard.socket_mode")


class AckingSocketModeHandler(SocketModeHandler):
    """Bolt's built-in Socket Mode handler, except that every envelope is acknowledged.

    Bolt (seen in 1.30) sends no ack at all when the app answers other than 200, e.g. the 404 for a click
    no listener handles, so Slack would show the user an error, or redeliver an event. Over HTTP Slack at
    least gets the 404 at once; here the envelope is acked empty and the status logged."""

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        response = self.app.dispatch(BoltRequest(mode="socket_mode", body=req.payload, headers=_retry_headers(req)))
        if response.status != 200:
            log.info("acked an envelope (%s) that the app answered with %d", req.type, response.status)
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id, payload=ack_payload(response)))

    def close(self) -> None:
        """Disconnect at once. The built-in client's own close waits for its reading thread to let go of the
        socket, which it holds in a blocking receive for up to 3 s; ending that thread's loop and shutting
        the socket first wakes it now."""
        websocket = self.client
        websocket.current_session_state.terminated = True
        sock = getattr(websocket.current_session, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        super().close()


def ack_payload(response: BoltResponse) -> dict[str, Any] | None:
    """Return what the ack carries back to Slack: the app's JSON answer, its text as a message, or None."""
    if response.status != 200 or not response.body:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    if content_type.startswith("application/json"):
        return json.loads(response.body)
    return {"text": response.body}


def _retry_headers(req: SocketModeRequest) -> dict[str, str] | None:
    """The retry headers an Events API redelivery carries over HTTP, as Bolt's own handler passes them on."""
    headers = {}
    if req.retry_attempt is not None:
        headers["x-slack-retry-num"] = str(req.retry_attempt)
    if req.retry_reason is not None:
        headers["x-slack-retry-reason"] = req.retry_reason
    return headers or None


def connect(container: Container, app_token: str, *, ping_interval: float = 10) -> SocketModeHandler:
    """Open a Socket Mode connection for the built app; return its handler (`close()` it to disconnect).

    The WebSocket URL comes from apps.connections.open on the container's client, so SLACK_API_URL applies.
    A dropped connection, or Slack's `disconnect` message, makes the handler fetch a new URL and reconnect.
    Raises ConfigurationError when Slack refuses the app-level token."""
    if not app_token:  # Bolt would read SLACK_APP_TOKEN from the environment itself
        raise ConfigurationError("SLACK_APP_TOKEN is not set")
    handler = AckingSocketModeHandler(container.bolt, app_token, web_client=container.client, logger=log,
                                      ping_interval=ping_interval)
    try:
        handler.connect()
    except SlackApiError as error:
        handler.close()
        raise ConfigurationError(f"Slack refused SLACK_APP_TOKEN for Socket Mode: {error.response.get('error')}"
                                 ) from error
    websocket = handler.client
    if not websocket.is_connected():  # the WebSocket handshake failed; the handler logged why
        log.warning("Socket Mode is not connected yet; retrying every %.0f s", ping_interval)
    return handler


def serve_forever(handler: SocketModeHandler, *, stop: threading.Event | None = None) -> None:
    """Keep the handler connected until `stop` is set, SIGTERM arrives or Ctrl-C; then close the connection."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        handler.close()
        log.info("Socket Mode connection closed")
