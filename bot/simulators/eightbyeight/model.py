"""What the fake 8x8 Administration API is made of: its constants, the limits it enforces, the exchanges it
records, the faults a test arms, the asynchronous operations, and the RFC 7807-like errors it answers with.

Like the rest of the fake, it imports nothing from ``bot``: it stands for an external service.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

BASE_PATH = "/admin-provisioning"
USERS_MEDIA_TYPE = "application/vnd.users.v1+json"
OPERATIONS_MEDIA_TYPE = "application/vnd.operations.v1+json"
CUSTOMER_ID = "0012J00042FAKE8X8A"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
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


@dataclass
class Fault:
    """An armed fault: the next `remaining` requests matching method and path (or operations of a type) meet it."""

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
class Operation:
    """A PUT or DELETE in flight: it lands (or fails) once `due` has passed."""

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
class Listing:
    """The users a first-page query matched, kept while its pages are followed by scrollId."""

    ids: list[str]
    page_size: int
    filter: str | None
    sort: str | None


@dataclass
class Cursor:
    """One page of a listing; `next_id` is the scrollId handed out for the page after it."""

    listing: Listing
    offset: int
    page: int
    next_id: str | None = None


@dataclass
class Answer:
    """What the API answers to one request, before the headers every answer gets."""

    status: int
    body: dict
    media_type: str = USERS_MEDIA_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    counts: bool = True  # whether the request takes a slot in the rate windows
    throttled: bool = False


# -- helpers ------------------------------------------------------------------------------------


def iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now_iso() -> str:
    return iso(datetime.now(UTC))


def new_id() -> str:
    """A 22-character url-safe id, like 8x8's."""
    return secrets.token_urlsafe(16)


def stable_id(kind: str, name: str) -> str:
    digest = hashlib.sha1(f"{kind}:{name}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


def error_body(status: int, title: str | None = None, *, detail: str | None = None, message: str | None = None,
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
    body["time"] = now_iso()
    body["errors"] = list(errors)
    return body


def media_types(value: str | None) -> list[str]:
    if not value:
        return []
    return [part.split(";", 1)[0].strip().lower() for part in value.split(",") if part.strip()]
