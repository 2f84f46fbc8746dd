"""A stateful fake of 8x8's Administration API (users and operations), served over real HTTP.

It fakes an external service, so it imports nothing from ``bot``. It listens on an ephemeral
loopback port with the standard library's ``ThreadingHTTPServer`` (HTTP/1.1, keep-alive), so a
fault can really drop a TCP connection without answering. Shapes, status codes and media types
follow the official OpenAPI files (``user-api-v1.yaml``, ``operation-api-v1.yaml``).

Mutations are asynchronous, as in the real API: ``PUT``/``DELETE`` answer 202 with an operation,
and the change lands when the operation completes ``operation_delay`` seconds later. Operations
are settled lazily and deterministically: before anything reads or changes state (a request, or
one of the inspection methods), every operation whose due time has passed is completed in due
order. An operation reads ``PENDING`` for the first half of its delay, ``IN_PROGRESS`` for the
second half, then ``COMPLETED`` or ``FAILED``.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import itertools
import json
import math
import re
import secrets
import socket
import socketserver
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

BASE_PATH = "/admin-provisioning"
USERS_MEDIA_TYPE = "application/vnd.users.v1+json"
OPERATIONS_MEDIA_TYPE = "application/vnd.operations.v1+json"
CUSTOMER_ID = "0012J00042FAKE8X8A"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9.@\-_/]+$")
PERSON_NAME_PATTERN = re.compile(r"^[A-Za-z0-9.,\-_()' ]+$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
READ_ONLY_BASIC_INFO = ("userId", "createdTime", "lastUpdatedTime")

UNSUPPORTED_PUT_ERROR = {
    "status": 501,
    "title": "Not Implemented",
    "detail": "Internal operation handler configuration error for UPDATE USER",
    "errors": [{"code": "UNKNOWN", "message": "Operation not supported"}],
}

_ERROR_CODES = {
    400: "VALIDATION_ERROR",
    401: "FORBIDDEN",  # the spec's ErrorCode enum has nothing closer
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "BAD_REQUEST",
    406: "BAD_REQUEST",
    408: "REQUEST_TIMEOUT",
    409: "CONFLICT",
    415: "BAD_REQUEST",
    429: "TOO_MANY_REQUESTS",
    503: "SERVICE_UNAVAILABLE",
    504: "REQUEST_TIMEOUT",
}


# -- public data types --------------------------------------------------------------------------


@dataclass
class Limits:
    """What the fake enforces, per API key."""

    requests: int = 100  # per `period` seconds (sliding window)
    period: float = 60.0
    burst: int = 20  # per `burst_period` seconds (sliding window)
    burst_period: float = 10.0
    operations: int = 10  # operations (async mutations) not yet COMPLETED/FAILED at once


@dataclass(frozen=True)
class Recorded:
    """One exchange, as the server saw it (``status`` is None when the connection was dropped)."""

    method: str
    path: str  # full path incl. /admin-provisioning, no query
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float  # time.monotonic() on arrival
    status: int | None
    response_headers: dict[str, str]
    response_body: bytes

    def json(self) -> Any:
        """The answer's body decoded as JSON."""
        return json.loads(self.response_body)


# -- helpers ------------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _now_iso() -> str:
    return _iso(datetime.now(UTC))


def _new_id() -> str:
    """A 22-character url-safe id, like 8x8's."""
    return secrets.token_urlsafe(16)


def _stable_id(kind: str, name: str) -> str:
    digest = hashlib.sha1(f"{kind}:{name}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


def _error_body(status: int, title: str | None = None, *, detail: str | None = None, message: str | None = None,
                field_name: str | None = None, errors: Iterable[dict] | None = None, instance: str | None = None,
                ) -> dict:
    """An RFC 7807-like ErrorResponse as the spec defines it."""
    if title is None:
        try:
            title = HTTPStatus(status).phrase
        except ValueError:
            title = "Error"
    if errors is None:
        error: dict[str, Any] = {"code": _ERROR_CODES.get(status, "UNKNOWN"), "message": message or detail or title}
        if field_name is not None:
            error["field"] = field_name
        errors = [error]
    body: dict[str, Any] = {"status": status, "title": title}
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    body["time"] = _now_iso()
    body["errors"] = list(errors)
    return body


def _media_types(value: str | None) -> list[str]:
    if not value:
        return []
    return [part.split(";", 1)[0].strip().lower() for part in value.split(",") if part.strip()]


# -- make_user ----------------------------------------------------------------------------------


def make_user(username: str, email: str, *, first_name: str = "Test", last_name: str = "User",
              status: str = "ACTIVE", licenses: Iterable[str] = (), extensions: Iterable[dict] = (),
              ring_groups: Iterable[str] = (), call_queues: Iterable[str] = (), site: str = "Headquarters") -> dict:
    """A spec-conformant User object (without ``basicInfo.userId``: ``add_user`` assigns one).

    ``licenses`` are names, each given an id. ``extensions`` are dicts such as
    ``{"extensionNumber": "1001", "extensionType": "UC", "phoneNumbers": ["+14085551234"],
    "devices": [{"model": "Yealink T54W", "status": "ACTIVE"}]}``; phone numbers become PhoneNumber
    objects (the first is primary), devices get ids, and ``licenseId`` links the extension to the
    license named by an optional ``"license"`` key, else to the license in the same position, else
    to the first one. Other keys are passed through unchanged.
    """
    license_list = [{"id": _new_id(), "name": name, "country": "US"} for name in licenses]
    extension_list = []
    for index, spec in enumerate(extensions):
        spec = dict(spec)
        license_name = spec.pop("license", None)
        numbers = [
            number if isinstance(number, dict)
            else {"phoneNumber": number, "primary": position == 0, "country": "US", "origin": "CLAIMED"}
            for position, number in enumerate(spec.pop("phoneNumbers", []))
        ]
        devices = [
            {"id": _new_id(), "lines": 1, "port": 0, "status": "ACTIVE", **device}
            for device in spec.pop("devices", [])
        ]
        extension: dict[str, Any] = {
            "id": _new_id(),
            "extensionNumber": spec.pop("extensionNumber", str(1000 + index)),
            "extensionType": spec.pop("extensionType", "UC"),
            "phoneNumbers": numbers,
            "devices": devices,
        }
        if numbers:
            extension["primaryPhoneNumber"] = numbers[0]["phoneNumber"]
        if license_list:
            by_name = [item for item in license_list if item["name"] == license_name]
            linked = by_name[0] if by_name else license_list[min(index, len(license_list) - 1)]
            extension["licenseId"] = linked["id"]
        extension.update(spec)
        extension_list.append(extension)
    return {
        "basicInfo": {
            "customerId": CUSTOMER_ID,
            "userName": username,
            "firstName": first_name,
            "lastName": last_name,
            "status": status,
            "locale": "en-US",
            "timezone": "America/Los_Angeles",
            "primaryEmail": email,
            "site": {"id": _stable_id("site", site), "name": site, "pbxName": "fakepbx01"},
        },
        "directoryInfo": {"displayInDirectory": True, "directoryScope": "CUSTOMER"},
        "serviceInfo": {"licenses": license_list, "extensions": extension_list},
        "assignmentInfo": {
            "ringGroups": [{"id": _stable_id("ring-group", name), "name": name} for name in ring_groups],
            "ucCallQueues": [
                {"id": _stable_id("call-queue", name), "name": name, "memberType": "PRIMARY"} for name in call_queues
            ],
            "userGroups": [],
        },
    }


# -- RSQL filters and sorting -------------------------------------------------------------------

FILTER_FIELDS = {
    "basicInfo.userName": "userName",
    "basicInfo.primaryEmail": "primaryEmail",
    "basicInfo.status": "status",
    "basicInfo.firstName": "firstName",
    "basicInfo.lastName": "lastName",
}

Predicate = Callable[[dict], bool]


class _BadQuery(ValueError):
    pass


_TOKEN = re.compile(
    r"""\s*(?:(?P<punct>[();,])|(?P<op>==|!=|=[a-z]*=)|(?P<quoted>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
    r"""|(?P<word>[^\s'"();,=!~<>]+))"""
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].isspace():
            break
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise _BadQuery(f"Invalid filter syntax near position {position}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "quoted":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
        position = match.end()
    return tokens


def _wildcard(value: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in value.split("*")), re.IGNORECASE | re.DOTALL)


def parse_filter(text: str) -> Predicate:
    """Compile the RSQL subset the fake understands (``==``/``!=``, ``;`` and, ``,`` or, parentheses)."""
    tokens = _tokens(text)
    position = 0

    def peek() -> tuple[str, str] | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal position
        if position >= len(tokens):
            raise _BadQuery("Invalid filter syntax: unexpected end")
        position += 1
        return tokens[position - 1]

    def disjunction() -> Predicate:
        parts = [conjunction()]
        while peek() == ("punct", ","):
            take()
            parts.append(conjunction())
        return parts[0] if len(parts) == 1 else (lambda user: any(part(user) for part in parts))

    def conjunction() -> Predicate:
        parts = [primary()]
        while peek() == ("punct", ";"):
            take()
            parts.append(primary())
        return parts[0] if len(parts) == 1 else (lambda user: all(part(user) for part in parts))

    def primary() -> Predicate:
        if peek() == ("punct", "("):
            take()
            inner = disjunction()
            if take() != ("punct", ")"):
                raise _BadQuery("Invalid filter syntax: missing ')'")
            return inner
        kind, selector = take()
        if kind != "word":
            raise _BadQuery(f"Invalid filter syntax: expected a field, got {selector!r}")
        if selector not in FILTER_FIELDS:
            raise _BadQuery(f"Unknown filter field {selector!r}")
        kind, operator = take()
        if kind != "op" or operator not in ("==", "!="):
            raise _BadQuery(f"Unsupported filter operator {operator!r}")
        kind, value = take()
        if kind not in ("word", "quoted"):
            raise _BadQuery(f"Invalid filter syntax: expected a value, got {value!r}")
        pattern, name = _wildcard(value), FILTER_FIELDS[selector]

        def matches(user: dict) -> bool:
            actual = (user.get("basicInfo") or {}).get(name)
            hit = isinstance(actual, str) and pattern.fullmatch(actual) is not None
            return hit if operator == "==" else not hit

        return matches

    predicate = disjunction()
    if position != len(tokens):
        raise _BadQuery(f"Invalid filter syntax: unexpected {tokens[position][1]!r}")
    return predicate


def _sort_keys(text: str) -> list[tuple[str, bool]]:
    keys = []
    for part in text.split(","):
        part = part.strip()
        descending = part.startswith("-")
        name = part.lstrip("+-")
        if name not in FILTER_FIELDS:
            raise _BadQuery("Invalid sort parameter")
        keys.append((FILTER_FIELDS[name], descending))
    return keys


# -- server-side state --------------------------------------------------------------------------


@dataclass
class _Fault:
    method: str
    path: str
    remaining: int
    status: int = 503
    retry_after: float | None = None
    seconds: float = 0.0
    after_apply: bool = False
    detail: str = ""

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and path.startswith(self.path)


@dataclass
class _Operation:
    id: str
    type: str  # UPDATE | DELETE
    user_id: str
    seq: int
    created: float  # monotonic
    created_wall: datetime
    due: float  # monotonic
    payload: dict | None = None
    failure: dict | None = None  # ErrorResponse the operation is bound to end with
    outcome: str | None = None  # COMPLETED | FAILED once settled
    completed_wall: datetime | None = None
    error: dict | None = None


@dataclass
class _Listing:
    ids: list[str]
    page_size: int
    filter: str | None
    sort: str | None


@dataclass
class _Cursor:
    listing: _Listing
    offset: int
    page: int
    next_id: str | None = None


@dataclass
class _Answer:
    status: int
    body: dict
    media_type: str = USERS_MEDIA_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    counts: bool = True  # whether the request takes a slot in the rate windows
    throttled: bool = False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeEightByEight

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
    server: _Server

    def setup(self) -> None:
        super().setup()
        # headers and body go out as two writes: without this, Nagle's algorithm and the client's
        # delayed ACK would add ~40 ms to every answer
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._connection_opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._connection_closed(self.connection)

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
        fake = self.server.fake
        slot = fake._open_slot()
        status, response_headers, response_body = fake._serve(self.command, split.path, query, headers, body)
        fake._record(slot, Recorded(self.command, split.path, query, headers, body, at, status, response_headers,
                                    response_body))
        if status is None:
            self.close_connection = True
            return
        self.send_response(status)
        for name, value in response_headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response_body)


class FakeEightByEight:
    """The 8x8 Administration API's users and operations endpoints, with state, limits and faults."""

    def __init__(self, *, api_key: str = "test-key", limits: Limits | None = None, operation_delay: float = 0.05,
                 latency: float = 0.0) -> None:
        self.api_key = api_key
        self.limits = limits or Limits()
        self.operation_delay = operation_delay
        self.latency = latency
        self.put_unsupported: str | None = None
        self.bugs: list[str] = []  # tracebacks of exceptions inside the fake (answered 500)
        self._lock = threading.RLock()
        self._users: dict[str, dict] = {}
        self._operations: dict[str, _Operation] = {}
        self._pending: list[_Operation] = []
        self._seq = itertools.count()
        self._listings: dict[str, _Cursor] = {}
        self._windows: dict[str, tuple[deque[float], deque[float]]] = {}
        self._slots: list[Recorded | None] = []
        self._applied: list[tuple[str, str]] = []
        self._throttled = 0
        self._faults: dict[str, list[_Fault]] = {"fail": [], "slow": [], "drop": [], "operation": []}
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._base_url: str | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeEightByEight:
        if self._server is not None:
            raise RuntimeError("the fake is already running")
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        host, port = server.server_address[:2]
        self._base_url = f"http://{host}:{port}{BASE_PATH}"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-8x8", daemon=True)
        self._thread.start()
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
            user_id = info.get("userId") or _new_id()
            if user_id in self._users:
                raise ValueError(f"user id {user_id} already exists")
            name = str(info.get("userName", "")).lower()
            if any(str(other["basicInfo"].get("userName", "")).lower() == name for other in self._users.values()):
                raise ValueError(f"userName {info.get('userName')!r} already exists")
            now = _now_iso()
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
        self._add_fault("fail", _Fault(method.upper(), path, times, status=status, retry_after=retry_after))

    def slow_next(self, method: str, path: str = "", *, seconds: float, times: int = 1) -> None:
        """Sleep ``seconds`` before handling the next matching requests (then handle them normally)."""
        self._add_fault("slow", _Fault(method.upper(), path, times, seconds=seconds))

    def drop_next(self, method: str, path: str = "", *, after_apply: bool, times: int = 1) -> None:
        """Close the connection of the next matching requests without answering.

        With ``after_apply`` the request is processed first (its operation is created and will
        complete), and only the answer is lost.
        """
        self._add_fault("drop", _Fault(method.upper(), path, times, after_apply=after_apply))

    def fail_operations_next(self, operation_type: str, *, detail: str = "Operation failed in a downstream service",
                             status: int = 500, times: int = 1) -> None:
        """The next operations of that type (UPDATE/DELETE) end FAILED with that error and change nothing."""
        self._add_fault("operation", _Fault(operation_type.upper(), "", times, status=status, detail=detail))

    def pending_faults(self) -> int:
        """How many armed faults have not fired yet."""
        with self._lock:
            return sum(fault.remaining for faults in self._faults.values() for fault in faults)

    def reset_faults(self) -> None:
        with self._lock:
            for faults in self._faults.values():
                faults.clear()
            self.put_unsupported = None

    def _add_fault(self, kind: str, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults[kind].append(fault)

    def _take_fault(self, kind: str, method: str, path: str) -> _Fault | None:
        for fault in self._faults[kind]:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults[kind].remove(fault)
                return fault
        return None

    # -- plumbing for the handler ------------------------------------------------------------

    def _connection_opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _connection_closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _open_slot(self) -> int:
        with self._lock:
            self._slots.append(None)
            return len(self._slots) - 1

    def _record(self, slot: int, recorded: Recorded) -> None:
        with self._lock:
            self._slots[slot] = recorded

    def _serve(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               body: bytes) -> tuple[int | None, dict[str, str], bytes]:
        """Handle one request; a None status means: drop the connection without answering."""
        relative = path[len(BASE_PATH):] if path.startswith(BASE_PATH) else path
        with self._lock:
            slow = self._take_fault("slow", method, relative)
        pause = self.latency + (slow.seconds if slow else 0.0)
        if pause > 0:
            time.sleep(pause)
        with self._lock:
            now = time.monotonic()
            self._settle(now)
            drop = self._take_fault("drop", method, relative)
            if drop is not None and not drop.after_apply:
                return None, {}, b""
            try:
                answer = self._answer(method, path, relative, query, headers, body, now)
            except Exception as error:  # a bug in the fake: answer 500 and keep it for the test to see
                self.bugs.append(traceback.format_exc())
                answer = _Answer(500, _error_body(500, detail=f"fake bug: {error!r}", instance=path))
            key = headers.get("x-api-key")
            if answer.counts and key == self.api_key:
                minute, burst = self._window(key, now)
                minute.append(now)
                burst.append(now)
            if answer.throttled:
                self._throttled += 1
            if drop is not None:
                return None, {}, b""
            response_headers = {
                "content-type": answer.media_type,
                "x-response-id": str(uuid.uuid4()),
                **self._rate_headers(key, now),
                **answer.headers,
            }
            response_body = json.dumps(answer.body).encode()
            response_headers["content-length"] = str(len(response_body))
            return answer.status, response_headers, response_body

    # -- rate limiting -----------------------------------------------------------------------

    def _window(self, key: str, now: float) -> tuple[deque[float], deque[float]]:
        minute, burst = self._windows.setdefault(key, (deque(), deque()))
        while minute and minute[0] <= now - self.limits.period:
            minute.popleft()
        while burst and burst[0] <= now - self.limits.burst_period:
            burst.popleft()
        return minute, burst

    def _rate_wait(self, key: str, now: float) -> float | None:
        """Seconds until both windows have a free slot, or None when there is one now."""
        minute, burst = self._window(key, now)
        waits = []
        if len(minute) >= self.limits.requests:
            waits.append(minute[len(minute) - self.limits.requests] + self.limits.period - now)
        if len(burst) >= self.limits.burst:
            waits.append(burst[len(burst) - self.limits.burst] + self.limits.burst_period - now)
        return max(waits) if waits else None

    def _rate_headers(self, key: str | None, now: float) -> dict[str, str]:
        """x-ratelimit-* for whichever window is closer to full."""
        minute, burst = self._window(key, now) if key == self.api_key and key else (deque(), deque())
        candidates = [
            (self.limits.requests - len(minute), self.limits.requests, minute, self.limits.period),
            (self.limits.burst - len(burst), self.limits.burst, burst, self.limits.burst_period),
        ]
        remaining, limit, window, period = min(candidates, key=lambda item: item[0])
        reset = math.ceil(window[0] + period - now) if window else 0
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(0, remaining)),
            "x-ratelimit-reset": str(max(0, reset)),
        }

    @staticmethod
    def _retry_after(seconds: float) -> str:
        return str(max(1, math.ceil(seconds)))

    # -- operations --------------------------------------------------------------------------

    def _settle(self, now: float) -> None:
        """Complete, in due order, every operation whose time has come."""
        due = sorted((op for op in self._pending if op.due <= now), key=lambda op: (op.due, op.seq))
        for op in due:
            self._pending.remove(op)
            self._complete(op)

    def _complete(self, op: _Operation) -> None:
        op.completed_wall = datetime.now(UTC)
        error = op.failure
        current = self._users.get(op.user_id)
        if error is None and current is None:
            error = _error_body(404, "Not Found", message="User not found", field_name="basicInfo.userId")
        if error is None and op.type == "UPDATE":
            assert op.payload is not None
            if self._username_taken(op.payload["basicInfo"]["userName"], op.user_id):
                error = _error_body(400, "Validation error", message="userName already in use")
        if error is not None:
            op.outcome, op.error = "FAILED", error
            return
        if op.type == "UPDATE":
            assert op.payload is not None and current is not None
            record = copy.deepcopy(op.payload)
            info = record["basicInfo"]
            for name in READ_ONLY_BASIC_INFO:
                info.pop(name, None)
            info["userId"] = op.user_id
            info["createdTime"] = current["basicInfo"].get("createdTime", _iso(op.created_wall))
            info["lastUpdatedTime"] = _iso(op.completed_wall)
            info.setdefault("customerId", current["basicInfo"].get("customerId", CUSTOMER_ID))
            self._users[op.user_id] = record
        else:
            del self._users[op.user_id]
        op.outcome = "COMPLETED"
        self._applied.append((op.type, op.user_id))

    def _start_operation(self, kind: str, user_id: str, now: float, *, payload: dict | None = None,
                         failure: dict | None = None) -> _Answer:
        if len(self._pending) >= self.limits.operations:
            wait = min((op.due for op in self._pending), default=now) - now
            return _Answer(
                429,
                _error_body(429, "Too Many Requests", message="Too many operations in progress, please try again later",
                            detail=f"At most {self.limits.operations} operations may run at once"),
                headers={"retry-after": self._retry_after(wait)},
                counts=False,
                throttled=True,
            )
        if failure is None:
            fault = self._take_fault("operation", kind, "")
            if fault is not None:
                failure = _error_body(fault.status, detail=fault.detail)
        op = _Operation(
            id=f"op_{uuid.uuid4().hex}",
            type=kind,
            user_id=user_id,
            seq=next(self._seq),
            created=now,
            created_wall=datetime.now(UTC),
            due=now + max(0.0, self.operation_delay),
            payload=payload,
            failure=failure,
        )
        self._operations[op.id] = op
        self._pending.append(op)
        return _Answer(202, self._operation_json(op, now))

    def _operation_json(self, op: _Operation, now: float) -> dict:
        if op.outcome is not None:
            status = op.outcome
        elif now - op.created >= (op.due - op.created) / 2 and op.due > op.created:
            status = "IN_PROGRESS"
        else:
            status = "PENDING"
        body: dict[str, Any] = {
            "operationId": op.id,
            "status": status,
            "customerId": CUSTOMER_ID,
            "resourceType": "USER",
            "resourceId": op.user_id,
            "operationType": op.type,
            "createdTime": _iso(op.created_wall),
        }
        if op.completed_wall is not None:
            body["completedTime"] = _iso(op.completed_wall)
        if op.error is not None:
            body["error"] = copy.deepcopy(op.error)
        body["_links"] = {
            "self": {"href": f"{self.base_url}/operations/{op.id}"},
            "resource": {"href": f"{self.base_url}/users/{op.user_id}"},
        }
        return body

    # -- request handling --------------------------------------------------------------------

    def _answer(self, method: str, path: str, relative: str, query: dict[str, str], headers: dict[str, str],
                body: bytes, now: float) -> _Answer:
        segments = relative.strip("/").split("/") if relative.strip("/") else []
        family = segments[0] if segments else ""
        media_type = OPERATIONS_MEDIA_TYPE if family == "operations" else USERS_MEDIA_TYPE

        def error(status: int, title: str | None = None, **details: Any) -> _Answer:
            return _Answer(status, _error_body(status, title, instance=path, **details), media_type)

        if not path.startswith(BASE_PATH + "/") or family not in ("users", "operations") or len(segments) > 2:
            return error(404, "Not Found", message=f"No resource at {path}")
        if headers.get("x-api-key") != self.api_key:
            answer = error(401, "Unauthorized", message="Missing or invalid API key")
            answer.counts = False
            return answer
        wait = self._rate_wait(self.api_key, now)
        if wait is not None:
            answer = error(429, "Too Many Requests", message="Rate limit exceeded, please try again later")
            answer.headers["retry-after"] = self._retry_after(wait)
            answer.counts, answer.throttled = False, True
            return answer
        fault = self._take_fault("fail", method, relative)
        if fault is not None:
            answer = error(fault.status, detail="Injected fault")
            if fault.retry_after is not None:
                seconds = fault.retry_after
                answer.headers["retry-after"] = str(int(seconds)) if seconds == int(seconds) else str(seconds)
            return answer

        resource_id = unquote(segments[1]) if len(segments) == 2 else None
        allowed = {("users", False): ("GET",), ("users", True): ("GET", "PUT", "DELETE"),
                   ("operations", True): ("GET",)}.get((family, resource_id is not None))
        if allowed is None:
            return error(404, "Not Found", message=f"No resource at {path}")
        if method not in allowed:
            answer = error(405, "Method Not Allowed", message=f"{method} is not supported on {path}")
            answer.headers["allow"] = ", ".join(allowed)
            return answer
        if method == "PUT" and self.put_unsupported in ("405", "501"):
            status = int(self.put_unsupported)
            return error(status, message="Operation not supported", detail="Updating users is not supported")
        if method == "PUT" and self.put_unsupported == "500":  # as the operations spec's own 500 example words it
            return error(500, "Internal Server Error", message="An unexpected error occurred",
                         detail="Internal operation handler configuration error for UPDATE USER")

        if method == "PUT":
            content_types = _media_types(headers.get("content-type"))
            if content_types != [USERS_MEDIA_TYPE]:
                return error(415, "Unsupported Media Type",
                             message=f"Content-Type must be {USERS_MEDIA_TYPE}, not {headers.get('content-type')!r}")
        elif media_type not in _media_types(headers.get("accept")):
            return error(406, "Not Acceptable",
                         message=f"Accept must name {media_type}, not {headers.get('accept')!r}")

        if family == "operations":
            assert resource_id is not None
            op = self._operations.get(resource_id)
            if op is None:
                return error(404, "Operation not found", detail=f"Operation not found: {resource_id}")
            return _Answer(200, self._operation_json(op, now), OPERATIONS_MEDIA_TYPE)
        if resource_id is None:
            return self._list_users(query, error)
        current = self._users.get(resource_id)
        if method == "GET":
            if current is None:
                return error(404, "Not Found", message="Resource not found")
            return _Answer(200, copy.deepcopy(current))
        if method == "DELETE":
            if current is None:
                return error(404, "Not Found", message="User not found", field_name="basicInfo.userId")
            return self._start_operation("DELETE", resource_id, now)
        return self._update_user(resource_id, body, now, error)

    def _update_user(self, user_id: str, raw: bytes, now: float, error: Callable[..., _Answer]) -> _Answer:
        try:
            payload = json.loads(raw)
        except ValueError:
            return error(400, "Bad Request", message="Malformed JSON request body",
                         errors=[{"code": "BAD_REQUEST", "message": "Malformed JSON request body"}])
        if user_id not in self._users:
            return error(404, "Not Found", message="User not found", field_name="basicInfo.userId")
        info = payload.get("basicInfo") if isinstance(payload, dict) else None
        if isinstance(info, dict) and info.get("userId") not in (None, user_id):
            text = f"Mismatched userId in url vs payload: {user_id} vs {info['userId']}"
            return error(400, "Mismatched userId in url vs payload", detail=text,
                         errors=[{"code": "VALIDATION_ERROR", "field": "basicInfo.userId", "message": text}])
        problems = _validate_user(payload)
        if problems:
            return error(400, "Validation error", errors=problems)
        if self._username_taken(payload["basicInfo"]["userName"], user_id):
            return error(400, "Validation error", errors=[{"code": "VALIDATION_ERROR",
                                                           "message": "userName already in use"}])
        failure = copy.deepcopy(UNSUPPORTED_PUT_ERROR) if self.put_unsupported == "operation" else None
        return self._start_operation("UPDATE", user_id, now, payload=payload, failure=failure)

    def _username_taken(self, name: str, user_id: str) -> bool:
        return any(
            other_id != user_id and str(other["basicInfo"].get("userName", "")).lower() == name.lower()
            for other_id, other in self._users.items()
        )

    def _list_users(self, query: dict[str, str], error: Callable[..., _Answer]) -> _Answer:
        scroll_id = query.get("scrollId")
        if scroll_id is not None:
            if any(name in query for name in ("filter", "sort", "pageSize")):
                return error(400, "Conflicting query parameters",
                             errors=[{"code": "CONFLICTING_QUERY_PARAMETER",
                                      "message": "Cannot use scrollId with other first-page query parameters"}])
            cursor = self._listings.get(scroll_id)
            if cursor is None:
                return error(400, "Validation error", message="Unknown or expired scrollId", field_name="scrollId")
        else:
            try:
                page_size = int(query.get("pageSize", DEFAULT_PAGE_SIZE))
            except ValueError:
                page_size = 0
            if not 1 <= page_size <= MAX_PAGE_SIZE:
                return error(400, "Validation error", message=f"pageSize must be between 1 and {MAX_PAGE_SIZE}",
                             field_name="pageSize")
            try:
                predicate = parse_filter(query["filter"]) if "filter" in query else (lambda user: True)
            except _BadQuery as problem:
                return error(400, "Validation error", message=str(problem), field_name="filter")
            try:
                keys = _sort_keys(query["sort"]) if "sort" in query else []
            except _BadQuery as problem:
                return error(400, "Validation error", message=str(problem), field_name="sort")
            ids = [user_id for user_id, user in self._users.items() if predicate(user)]
            for name, descending in reversed(keys):
                ids.sort(key=lambda uid, name=name: str(self._users[uid]["basicInfo"].get(name) or "").lower(),
                         reverse=descending)
            cursor = _Cursor(_Listing(ids, page_size, query.get("filter"), query.get("sort")), offset=0, page=0)
        listing = cursor.listing
        end = cursor.offset + listing.page_size
        has_more = end < len(listing.ids)
        if has_more and cursor.next_id is None:
            cursor.next_id = uuid.uuid4().hex
            self._listings[cursor.next_id] = _Cursor(listing, offset=end, page=cursor.page + 1)
        data = [copy.deepcopy(self._users[uid]) for uid in listing.ids[cursor.offset:end] if uid in self._users]
        first_page = {key: value for key, value in (("filter", listing.filter), ("sort", listing.sort)) if value}
        first_page["pageSize"] = str(listing.page_size)
        self_query = urlencode({"scrollId": scroll_id} if scroll_id else first_page)
        links: dict[str, Any] = {"self": {"href": f"{self.base_url}/users?{self_query}"}}
        if has_more:
            links["next"] = {"href": f"{self.base_url}/users?{urlencode({'scrollId': cursor.next_id})}"}
        return _Answer(200, {
            "data": data,
            "pagination": {
                "pageSize": listing.page_size,
                "pageNumber": cursor.page,
                "hasMore": has_more,
                "filter": listing.filter,
                "sort": listing.sort,
                "nextScrollId": cursor.next_id if has_more else None,
            },
            "_links": links,
        })


def _validate_user(payload: Any) -> list[dict]:
    """Field errors the real service reports for a User body (an empty list when it is acceptable)."""
    def problem(field_name: str, message: str) -> dict:
        return {"code": "VALIDATION_ERROR", "field": field_name, "message": message}

    if not isinstance(payload, dict):
        return [{"code": "VALIDATION_ERROR", "message": "Request body must be a User object"}]
    info = payload.get("basicInfo")
    if not isinstance(info, dict):
        return [problem("basicInfo", "must not be null")]
    problems = []
    rules = (
        ("userName", 3, 70, USERNAME_PATTERN),
        ("firstName", 2, 128, PERSON_NAME_PATTERN),
        ("lastName", 2, 30, PERSON_NAME_PATTERN),
        ("primaryEmail", 5, 128, EMAIL_PATTERN),
    )
    for name, shortest, longest, pattern in rules:
        value = info.get(name)
        where = f"basicInfo.{name}"
        if not isinstance(value, str) or not value.strip():
            problems.append(problem(where, "must not be blank"))
        elif not shortest <= len(value) <= longest:
            problems.append(problem(where, f"size must be between {shortest} and {longest}"))
        elif not pattern.fullmatch(value):
            problems.append(problem(where, "must be a well-formed email address" if name == "primaryEmail"
                                    else f'must match "{pattern.pattern}"'))
    if info.get("status") not in (None, "ACTIVE", "INACTIVE"):
        problems.append(problem("basicInfo.status", "must be one of ACTIVE, INACTIVE"))
    for section in ("directoryInfo", "serviceInfo", "assignmentInfo"):
        if payload.get(section) is not None and not isinstance(payload[section], dict):
            problems.append(problem(section, "must be an object"))
    service = payload.get("serviceInfo")
    if isinstance(service, dict):
        for name in ("licenses", "extensions"):
            if service.get(name) is not None and not isinstance(service[name], list):
                problems.append(problem(f"serviceInfo.{name}", "must be an array"))
    return problems
