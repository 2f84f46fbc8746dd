"""The fake 8x8's Administration API: `GET /users` (filters, sorting, paging by scrollId), `GET`, `PUT` and
`DELETE /users/{id}`, `GET /operations/{id}`.

A request is checked as the real service checks it, in this order: the path, the API key (401), the rate windows
(429 with Retry-After), an injected fault, the method (405), PUT not offered on this tenant (`put_unsupported`:
"405", "501", "500", or "operation" for a PUT whose operation fails), the media types (415, 406); then it is
handled. Shapes, status codes and media types follow the official OpenAPI files (``user-api-v1.yaml``,
``operation-api-v1.yaml``).
"""

from __future__ import annotations

import copy
import json
import time
import traceback
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode

from bot.simulators.eightbyeight.model import (
    BASE_PATH,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    OPERATIONS_MEDIA_TYPE,
    UNSUPPORTED_PUT_ERROR,
    USERS_MEDIA_TYPE,
    Answer,
    Cursor,
    Listing,
    error_body,
    media_types,
)
from bot.simulators.eightbyeight.operations import Operations
from bot.simulators.eightbyeight.rate_limits import RateWindows, retry_after
from bot.simulators.eightbyeight.rsql import BadQuery, parse_filter, sort_keys
from bot.simulators.eightbyeight.users import validate_user

# (resource family, names one resource) -> the methods it allows
_ALLOWED = {("users", False): ("GET",), ("users", True): ("GET", "PUT", "DELETE"), ("operations", True): ("GET",)}


@dataclass(frozen=True)
class _Request:
    method: str
    path: str  # full path incl. /admin-provisioning
    relative: str  # the path after /admin-provisioning
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    now: float  # time.monotonic() once the request's pauses are over

    @property
    def segments(self) -> list[str]:
        return self.relative.strip("/").split("/") if self.relative.strip("/") else []

    @property
    def family(self) -> str:
        return self.segments[0] if self.segments else ""

    @property
    def resource_id(self) -> str | None:
        return unquote(self.segments[1]) if len(self.segments) == 2 else None

    @property
    def media_type(self) -> str:
        return OPERATIONS_MEDIA_TYPE if self.family == "operations" else USERS_MEDIA_TYPE

    def error(self, status: int, title: str | None = None, **details: Any) -> Answer:
        """An ErrorResponse about this request, in the media type of its resource family."""
        return Answer(status, error_body(status, title, instance=self.path, **details), self.media_type)


class Api(Operations, RateWindows):
    """Serves the users and operations endpoints."""

    def _wait_while_held(self, what: str) -> None:
        """Keep the request inside the server while `hold_requests` says so (at most a minute); `holding` lists
        the requests held now (method, path and query)."""
        hold = self._hold
        if hold is None or hold.is_set():
            return
        with self._lock:
            self.held += 1
            self.holding.append(what)
        try:
            hold.wait(60)
        finally:
            with self._lock:
                self.held -= 1
                self.holding.remove(what)

    def serve(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
              body: bytes) -> tuple[int | None, dict[str, str], bytes]:
        """Handle one request; a None status means: drop the connection without answering."""
        relative = path[len(BASE_PATH):] if path.startswith(BASE_PATH) else path
        with self._lock:
            slow = self._take_fault("slow", method, relative)
        pause = self.latency + (slow.seconds if slow else 0.0)
        if pause > 0:
            time.sleep(pause)
        self._wait_while_held(f"{method} {relative} {query}")
        with self._lock:
            now = time.monotonic()
            self._settle(now)
            drop = self._take_fault("drop", method, relative)
            if drop is not None and not drop.after_apply:
                return None, {}, b""
            try:
                answer = self._answer(_Request(method, path, relative, query, headers, body, now))
            except Exception as error:  # a bug in the fake: answer 500 and keep it for the test to see
                self.bugs.append(traceback.format_exc())
                answer = Answer(500, error_body(500, detail=f"fake bug: {error!r}", instance=path))
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

    # -- checks, in the order the service makes them ---------------------------------------------

    def _answer(self, request: _Request) -> Answer:
        refusal = self._access_refusal(request)
        if refusal is None:
            refusal = self._method_refusal(request)
        return refusal if refusal is not None else self._handle(request)

    def _access_refusal(self, request: _Request) -> Answer | None:
        """404 for an unknown path, 401 without the key, 429 over the rate, or an injected fault; else None."""
        path, segments = request.path, request.segments
        if not path.startswith(BASE_PATH + "/") or request.family not in ("users", "operations") or len(segments) > 2:
            return request.error(404, "Not Found", message=f"No resource at {path}")
        if request.headers.get("x-api-key") != self.api_key:
            answer = request.error(401, "Unauthorized", message="Missing or invalid API key")
            answer.counts = False
            return answer
        wait = self._rate_wait(self.api_key, request.now)
        if wait is not None:
            answer = request.error(429, "Too Many Requests", message="Rate limit exceeded, please try again later")
            answer.headers["retry-after"] = retry_after(wait)
            answer.counts, answer.throttled = False, True
            return answer
        fault = self._take_fault("fail", request.method, request.relative)
        if fault is not None:
            answer = request.error(fault.status, detail="Injected fault")
            if fault.retry_after is not None:
                seconds = fault.retry_after
                answer.headers["retry-after"] = str(int(seconds)) if seconds == int(seconds) else str(seconds)
            return answer
        return None

    def _method_refusal(self, request: _Request) -> Answer | None:
        """404 or 405 for a method the resource lacks, PUT not offered, or wrong media types (415, 406); else None."""
        method, path, error = request.method, request.path, request.error
        allowed = _ALLOWED.get((request.family, request.resource_id is not None))
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
            content_types = media_types(request.headers.get("content-type"))
            if content_types != [USERS_MEDIA_TYPE]:
                return error(415, "Unsupported Media Type", message=f"Content-Type must be {USERS_MEDIA_TYPE}, "
                                                                    f"not {request.headers.get('content-type')!r}")
        elif request.media_type not in media_types(request.headers.get("accept")):
            return error(406, "Not Acceptable",
                         message=f"Accept must name {request.media_type}, not {request.headers.get('accept')!r}")
        return None

    # -- the resources ---------------------------------------------------------------------------

    def _handle(self, request: _Request) -> Answer:
        method, resource_id, error = request.method, request.resource_id, request.error
        if request.family == "operations":
            assert resource_id is not None
            op = self._operations.get(resource_id)
            if op is None:
                return error(404, "Operation not found", detail=f"Operation not found: {resource_id}")
            return Answer(200, self._operation_json(op, request.now), OPERATIONS_MEDIA_TYPE)
        if resource_id is None:
            return self._list_users(request)
        current = self._users.get(resource_id)
        if method == "GET":
            if current is None:
                return error(404, "Not Found", message="Resource not found")
            return Answer(200, copy.deepcopy(current))
        if method == "DELETE":
            if current is None:
                return error(404, "Not Found", message="User not found", field_name="basicInfo.userId")
            return self._start_operation("DELETE", resource_id, request.now)
        return self._update_user(resource_id, request)

    def _update_user(self, user_id: str, request: _Request) -> Answer:
        error = request.error
        try:
            payload = json.loads(request.body)
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
        problems = validate_user(payload)
        if problems:
            return error(400, "Validation error", errors=problems)
        if self._username_taken(payload["basicInfo"]["userName"], user_id):
            return error(400, "Validation error", errors=[{"code": "VALIDATION_ERROR",
                                                           "message": "userName already in use"}])
        failure = copy.deepcopy(UNSUPPORTED_PUT_ERROR) if self.put_unsupported == "operation" else None
        return self._start_operation("UPDATE", user_id, request.now, payload=payload, failure=failure)

    # -- listing, by pages -----------------------------------------------------------------------

    def _list_users(self, request: _Request) -> Answer:
        query, scroll_id = request.query, request.query.get("scrollId")
        if scroll_id is not None:
            if any(name in query for name in ("filter", "sort", "pageSize")):
                return request.error(400, "Conflicting query parameters",
                                     errors=[{"code": "CONFLICTING_QUERY_PARAMETER",
                                              "message": "Cannot use scrollId with other first-page query "
                                                         "parameters"}])
            cursor = self._listings.get(scroll_id)
            if cursor is None:
                return request.error(400, "Validation error", message="Unknown or expired scrollId",
                                     field_name="scrollId")
        else:
            first = self._first_page(request)
            if isinstance(first, Answer):
                return first
            cursor = first
        return Answer(200, self._page(cursor, scroll_id))

    def _first_page(self, request: _Request) -> Cursor | Answer:
        """The listing a first-page query asks for (filtered, sorted), or why it is refused."""
        query, error = request.query, request.error
        try:
            page_size = int(query.get("pageSize", DEFAULT_PAGE_SIZE))
        except ValueError:
            page_size = 0
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            return error(400, "Validation error", message=f"pageSize must be between 1 and {MAX_PAGE_SIZE}",
                         field_name="pageSize")
        try:
            predicate = parse_filter(query["filter"]) if "filter" in query else (lambda user: True)
        except BadQuery as problem:
            return error(400, "Validation error", message=str(problem), field_name="filter")
        try:
            keys = sort_keys(query["sort"]) if "sort" in query else []
        except BadQuery as problem:
            return error(400, "Validation error", message=str(problem), field_name="sort")
        ids = [user_id for user_id, user in self._users.items() if predicate(user)]
        for name, descending in reversed(keys):
            ids.sort(key=lambda uid, name=name: str(self._users[uid]["basicInfo"].get(name) or "").lower(),
                     reverse=descending)
        return Cursor(Listing(ids, page_size, query.get("filter"), query.get("sort")), offset=0, page=0)

    def _page(self, cursor: Cursor, scroll_id: str | None) -> dict:
        """The page's body; hands out a scrollId for the next page while there is one."""
        listing = cursor.listing
        end = cursor.offset + listing.page_size
        has_more = end < len(listing.ids)
        if has_more and cursor.next_id is None:
            cursor.next_id = uuid.uuid4().hex
            self._listings[cursor.next_id] = Cursor(listing, offset=end, page=cursor.page + 1)
        data = [copy.deepcopy(self._users[uid]) for uid in listing.ids[cursor.offset:end] if uid in self._users]
        first_page = {key: value for key, value in (("filter", listing.filter), ("sort", listing.sort)) if value}
        first_page["pageSize"] = str(listing.page_size)
        self_query = urlencode({"scrollId": scroll_id} if scroll_id else first_page)
        links: dict[str, Any] = {"self": {"href": f"{self.base_url}/users?{self_query}"}}
        if has_more:
            links["next"] = {"href": f"{self.base_url}/users?{urlencode({'scrollId': cursor.next_id})}"}
        return {
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
        }
