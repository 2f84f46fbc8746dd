"""Serving a simulator's HTTP server from a daemon thread, on an ephemeral loopback port."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

Server = TypeVar("Server", bound=ThreadingHTTPServer)


def serve_in_thread(server_class: type[Server], handler: type[BaseHTTPRequestHandler], backend: Any, *,
                    name: str, poll_interval: float) -> tuple[Server, threading.Thread]:
    """Listen on 127.0.0.1 (a port the kernel picks) and serve `backend` (the server's `backend`) from a thread."""
    server = server_class(("127.0.0.1", 0), handler)
    server.backend = backend
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": poll_interval}, name=name,
                              daemon=True)
    thread.start()
    return server, thread
