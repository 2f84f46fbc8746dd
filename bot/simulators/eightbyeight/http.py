"""The fake 8x8's HTTP server: the standard library's ``ThreadingHTTPServer`` on an ephemeral loopback port
(HTTP/1.1, keep-alive), so that a fault can really drop a TCP connection without answering. Every exchange is
recorded in arrival order, the answer in the slot taken when the request arrived."""

from __future__ import annotations

import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from bot.simulators import serving
from bot.simulators.eightbyeight.model import Recorded


class Backend(Protocol):
    """What the handler hands requests to (FakeEightByEight)."""

    def serve(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
              body: bytes) -> tuple[int | None, dict[str, str], bytes]: ...

    def connection_opened(self, connection: socket.socket) -> None: ...

    def connection_closed(self, connection: socket.socket) -> None: ...

    def open_slot(self) -> int: ...

    def record(self, slot: int, recorded: Recorded) -> None: ...


def serve_in_thread(backend: Backend) -> tuple[EightByEightHttpServer, threading.Thread]:
    """Listen on an ephemeral loopback port and serve `backend` from a daemon thread."""
    return serving.serve_in_thread(EightByEightHttpServer, _Handler, backend, name="fake-8x8", poll_interval=0.02)


class EightByEightHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    backend: Backend

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # HTTPServer's version adds a slow reverse DNS look-up
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away (or the fake stopped under it); nothing to report
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EightByEightHttpServer

    def setup(self) -> None:
        super().setup()
        # headers and body go out as two writes: without this, Nagle's algorithm and the client's
        # delayed ACK would add ~40 ms to every answer
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.backend.connection_opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.backend.connection_closed(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._exchange()

    do_PUT = do_DELETE = do_POST = do_PATCH = do_GET

    def _exchange(self) -> None:
        at = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        split = urlsplit(self.path)
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        backend = self.server.backend
        slot = backend.open_slot()
        status, response_headers, response_body = backend.serve(self.command, split.path, query, headers, body)
        backend.record(slot, Recorded(self.command, split.path, query, headers, body, at, status, response_headers,
                                    response_body))
        if status is None:
            self.close_connection = True
            return
        self.send_response(status)
        for name, value in response_headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response_body)

