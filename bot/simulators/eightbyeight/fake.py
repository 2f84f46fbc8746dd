"""`FakeEightByEight`: a stateful fake of 8x8's Administration API (users and operations), served over real HTTP.

It fakes an external service, so it imports nothing from ``bot`` outside this package. It listens on an
ephemeral loopback port (http.py), so a fault can really drop a TCP connection without answering. Shapes, status
codes and media types follow the official OpenAPI files (``user-api-v1.yaml``, ``operation-api-v1.yaml``);
mutations are asynchronous, as in the real API (operations.py); the limits are enforced per API key
(rate_limits.py, `Limits`); a test arms faults with `fail_next`, `slow_next`, `drop_next`,
`fail_operations_next` and `put_unsupported`. The class is put together from the package's parts: the API
(api.py) over the operations and the rate windows, over the records (state.py); this module adds the server's
lifecycle, inspection, adding users and arming faults.
"""

from __future__ import annotations

import contextlib
import copy
import socket
import threading
import time

from bot.simulators.eightbyeight.api import Api
from bot.simulators.eightbyeight.http import EightByEightHttpServer, serve_in_thread
from bot.simulators.eightbyeight.model import BASE_PATH, CUSTOMER_ID, Fault, Recorded, new_id, now_iso


class FakeEightByEight(Api):
    """The 8x8 Administration API's users and operations endpoints, with state, limits and faults.

    Keyword arguments (all optional): api_key (the one key it accepts), limits (`Limits`), operation_delay
    (seconds until an operation lands), latency (seconds added to every answer)."""

    _server: EightByEightHttpServer | None = None
    _base_url: str | None = None
    _thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeEightByEight:
        if self._server is not None:
            raise RuntimeError("the fake is already running")
        self._server, self._thread = serve_in_thread(self)
        host, port = self._server.server_address[:2]
        self._base_url = f"http://{host}:{port}{BASE_PATH}"
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeEightByEight:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/admin-provisioning`` (kept after ``stop``)."""
        if self._base_url is None:
            raise RuntimeError("start the fake first")
        return self._base_url

    # -- inspection --------------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        """Every finished exchange, in arrival order (a snapshot; exchanges still in flight are left out)."""
        with self._lock:
            return [item for item in self._slots if item is not None]

    @property
    def applied(self) -> list[tuple[str, str]]:
        """(operationType, userId) of every COMPLETED operation, in completion order (a snapshot)."""
        with self._lock:
            self._settle(time.monotonic())
            return list(self._applied)

    @property
    def throttled(self) -> int:
        """How many 429 answers the rate windows and the operation limit caused."""
        with self._lock:
            return self._throttled

    def add_user(self, user: dict) -> str:
        """Store a full User object; assigns ``basicInfo.userId`` when missing; returns the id."""
        record = copy.deepcopy(user)
        info = record.setdefault("basicInfo", {})
        with self._lock:
            self._settle(time.monotonic())
            user_id = info.get("userId") or new_id()
            if user_id in self._users:
                raise ValueError(f"user id {user_id} already exists")
            name = str(info.get("userName", "")).lower()
            if any(str(other["basicInfo"].get("userName", "")).lower() == name for other in self._users.values()):
                raise ValueError(f"userName {info.get('userName')!r} already exists")
            now = now_iso()
            info["userId"] = user_id
            info.setdefault("customerId", CUSTOMER_ID)
            info.setdefault("createdTime", now)
            info.setdefault("lastUpdatedTime", now)
            self._users[user_id] = record
        return user_id

    def user(self, user_id: str) -> dict | None:
        with self._lock:
            self._settle(time.monotonic())
            record = self._users.get(user_id)
            return copy.deepcopy(record) if record is not None else None

    def users(self) -> list[dict]:
        with self._lock:
            self._settle(time.monotonic())
            return copy.deepcopy(list(self._users.values()))

    # -- faults ------------------------------------------------------------------------------

    def fail_next(self, method: str, path: str = "", *, status: int = 503, times: int = 1,
                  retry_after: float | None = None) -> None:
        """Answer the next matching requests with an ErrorResponse of ``status``, applying nothing."""
        self._add_fault("fail", Fault(method.upper(), path, times, status=status, retry_after=retry_after))

    def slow_next(self, method: str, path: str = "", *, seconds: float, times: int = 1) -> None:
        """Sleep ``seconds`` before handling the next matching requests (then handle them normally)."""
        self._add_fault("slow", Fault(method.upper(), path, times, seconds=seconds))

    def hold_requests(self, *, until: threading.Event) -> None:
        """Keep every request waiting inside the server (counted in `held`) until the event is set."""
        self._hold = until

    def drop_next(self, method: str, path: str = "", *, after_apply: bool, times: int = 1) -> None:
        """Close the connection of the next matching requests without answering.

        With ``after_apply`` the request is processed first (its operation is created and will
        complete), and only the answer is lost.
        """
        self._add_fault("drop", Fault(method.upper(), path, times, after_apply=after_apply))

    def fail_operations_next(self, operation_type: str, *, detail: str = "Operation failed in a downstream service",
                             status: int = 500, times: int = 1) -> None:
        """The next operations of that type (UPDATE/DELETE) end FAILED with that error and change nothing."""
        self._add_fault("operation", Fault(operation_type.upper(), "", times, status=status, detail=detail))

    def pending_faults(self) -> int:
        """How many armed faults have not fired yet."""
        with self._lock:
            return sum(fault.remaining for faults in self._faults.values() for fault in faults)

    def reset_faults(self) -> None:
        with self._lock:
            for faults in self._faults.values():
                faults.clear()
            self.put_unsupported = None

    # -- plumbing for the handler ------------------------------------------------------------

    def connection_opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def connection_closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def open_slot(self) -> int:
        with self._lock:
            self._slots.append(None)
            return len(self._slots) - 1

    def record(self, slot: int, recorded: Recorded) -> None:
        with self._lock:
            self._slots[slot] = recorded

