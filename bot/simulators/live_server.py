"""uvicorn serving an ASGI app on a free loopback port, in a thread: the real HTTP server for tests and benchmarks."""

from __future__ import annotations

import threading

import uvicorn


class LiveServer:
    """Start with `with LiveServer(asgi) as server:`; `server.url` is where it listens."""

    def __init__(self, asgi_app) -> None:
        config = uvicorn.Config(asgi_app, host="127.0.0.1", port=0, log_level="warning", log_config=None,
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="live-uvicorn", daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            self.thread.join(0.01)
        return self

    @property
    def url(self) -> str:
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def events_url(self) -> str:
        """Where Slack's requests go."""
        return f"{self.url}/slack/events"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
