"""The fake 8x8's records behind one lock: the directory (full User objects by id), the operations, the listings
being paged, the rate windows, the armed faults and the recording of every exchange.

`EightByEightState` holds them; the rate windows (rate_limits.py), the operations (operations.py), the API
(api.py) and the `FakeEightByEight` facade (fake.py) are built on it. Its underscored methods expect the lock to
be held.
"""

from __future__ import annotations

import itertools
import socket
import threading
from collections import deque

from bot.simulators.eightbyeight.model import Cursor, Fault, Limits, Operation, Recorded


class EightByEightState:
    """The fake's records and the lock-held operations on them."""

    def __init__(self, *, api_key: str = "test-key", limits: Limits | None = None, operation_delay: float = 0.05,
                 latency: float = 0.0) -> None:
        self.api_key = api_key
        self.limits = limits or Limits()
        self.operation_delay = operation_delay
        self.latency = latency
        self.held = 0  # requests waiting inside the server for `hold_requests`' event
        self.holding: list[str] = []  # those requests: method, path and query
        self._hold: threading.Event | None = None
        self.put_unsupported: str | None = None
        self.bugs: list[str] = []  # tracebacks of exceptions inside the fake (answered 500)
        self._lock = threading.RLock()
        self._users: dict[str, dict] = {}
        self._operations: dict[str, Operation] = {}
        self._pending: list[Operation] = []
        self._seq = itertools.count()
        self._listings: dict[str, Cursor] = {}  # scrollId -> the page it leads to
        self._windows: dict[str, tuple[deque[float], deque[float]]] = {}
        self._slots: list[Recorded | None] = []
        self._applied: list[tuple[str, str]] = []
        self._throttled = 0
        self._faults: dict[str, list[Fault]] = {"fail": [], "slow": [], "drop": [], "operation": []}
        self._connections: set[socket.socket] = set()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/admin-provisioning``, once FakeEightByEight has started."""
        raise RuntimeError("start the fake first")

    def _add_fault(self, kind: str, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults[kind].append(fault)

    def _take_fault(self, kind: str, method: str, path: str) -> Fault | None:
        for fault in self._faults[kind]:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults[kind].remove(fault)
                return fault
        return None

    def _username_taken(self, name: str, user_id: str) -> bool:
        return any(
            other_id != user_id and str(other["basicInfo"].get("userName", "")).lower() == name.lower()
            for other_id, other in self._users.items()
        )

