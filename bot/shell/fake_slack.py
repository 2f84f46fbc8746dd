"""A stateful fake Slack workspace serving the Web API over real HTTP.

`FakeSlack` listens on 127.0.0.1 (ephemeral port) so that the real `slack_sdk.WebClient`
(`WebClient(token=..., base_url=fake.api_url)`) and Bolt's `respond()` talk to it exactly as
they would talk to Slack. It keeps members, channels, messages (with their edit history),
ephemeral messages, DMs, modal views, trigger ids, response URLs, the files the app uploads
(files_upload_v2's three steps) and a log of every call, and publishes every visible change
as a `SlackEvent` to subscribers (the `offboard-bot shell` prints them; tests usually read the
query helpers instead).

All state lives behind one lock. Events are queued while the lock is held and delivered, in
order, after it is released, so a subscriber may call back into the fake.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from email.parser import BytesParser
from email.policy import HTTP
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

logger = logging.getLogger(__name__)

DEFAULT_SCOPES = frozenset(
    {
        "chat:write",
        "commands",
        "users:read",
        "users:read.email",
        "channels:read",
        "groups:read",
        "im:read",
        "im:write",
        "mpim:read",
        "files:write",
    }
)
TRIGGER_TTL_SECONDS = 3.0
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_VIEW_STACK = 3
MAX_TEXT_LENGTH = 40_000
UPLOAD = "upload"  # the POST of a file's bytes to its upload URL, as calls() logs it and inject_failure names it

# The source of a response URL: an ephemeral id, or a channel message as (channel_id, ts).
Source = str | tuple[str, str] | None


# --------------------------------------------------------------------------------------------
# Public data classes (query helpers return copies of these)
# --------------------------------------------------------------------------------------------


@dataclass
class Member:
    id: str
    name: str
    email: str | None = None
    team_id: str = ""
    real_name: str = ""
    is_bot: bool = False
    deleted: bool = False
    is_stranger: bool = False
    email_confirmed: bool = True
    tz: str = "UTC"


@dataclass
class Channel:
    id: str
    name: str
    bot_is_member: bool = True
    im_user_id: str | None = None  # set for the bot's direct-message channel with that user

    @property
    def is_im(self) -> bool:
        return self.im_user_id is not None

    @property
    def is_private(self) -> bool:
        return self.id.startswith("G") or self.is_im


@dataclass(frozen=True)
class MessageVersion:
    """A previous content of an edited message; `replaced_at` is the ts-like time of the edit."""

    text: str
    blocks: list[dict[str, Any]]
    replaced_at: str


@dataclass
class Message:
    channel_id: str
    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    history: list[MessageVersion] = field(default_factory=list)  # oldest first
    deleted: bool = False
    files: list[dict[str, Any]] = field(default_factory=list)  # the files it shares: {"id", "name", "title"}


@dataclass
class UploadedFile:
    """A file the app uploads: reserved by files.getUploadURLExternal, its bytes POSTed to the upload URL,
    then shared (or kept private, without a channel) by files.completeUploadExternal."""

    id: str
    name: str
    length: int  # the size the app announced
    content: bytes | None = None  # None until the bytes arrive
    title: str = ""
    completed: bool = False
    channel_id: str | None = None  # where it was shared; None while private
    thread_ts: str | None = None
    message_ts: str | None = None  # the message that shares it
    initial_comment: str = ""

    @property
    def text(self) -> str:
        return (self.content or b"").decode("utf-8")


@dataclass
class Ephemeral:
    id: str  # a ts-like string, what chat.postEphemeral returns as message_ts
    channel_id: str
    user_id: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False


@dataclass
class View:
    id: str
    user_id: str
    callback_id: str
    private_metadata: str
    title: str
    blocks: list[dict[str, Any]]
    submit: str | None
    close: str | None
    notify_on_close: bool
    external_id: str
    hash: str
    root_view_id: str
    previous_view_id: str | None
    definition: dict[str, Any]  # the view as the app sent it, with Slack-generated block ids
    errors: dict[str, str] = field(default_factory=dict)
    is_open: bool = True


@dataclass(frozen=True)
class ApiCall:
    """One Web API call (or, as method "response_url", one POST to a response URL)."""

    method: str
    params: dict[str, Any]
    error: str | None  # None when the call succeeded


class EventKind(StrEnum):
    MESSAGE_POSTED = "message_posted"
    MESSAGE_UPDATED = "message_updated"
    MESSAGE_DELETED = "message_deleted"
    DM_POSTED = "dm_posted"
    DM_UPDATED = "dm_updated"
    DM_DELETED = "dm_deleted"
    EPHEMERAL_POSTED = "ephemeral_posted"
    EPHEMERAL_REPLACED = "ephemeral_replaced"
    EPHEMERAL_DELETED = "ephemeral_deleted"
    VIEW_OPENED = "view_opened"
    VIEW_PUSHED = "view_pushed"
    VIEW_UPDATED = "view_updated"
    VIEW_CLOSED = "view_closed"
    VIEW_ERRORS = "view_errors"


@dataclass(frozen=True)
class SlackEvent:
    """A visible change in the workspace.

    `user_id` is the person concerned: the author of a channel message, the recipient of an
    ephemeral or a DM, the owner of a modal. `author_id` is who wrote a message (usually the bot).
    Names are resolved when the event happens so that renderers stay pure.
    """

    kind: EventKind
    channel_id: str | None = None
    user_id: str | None = None
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    ts: str | None = None
    ephemeral_id: str | None = None
    view_id: str | None = None
    thread_ts: str | None = None
    author_id: str | None = None
    channel_name: str | None = None
    user_name: str | None = None
    author_name: str | None = None
    title: str = ""
    submit: str | None = None
    close: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()  # names of the files a message shares


# --------------------------------------------------------------------------------------------
# Internal records and errors
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """A Slack error answer: {"ok": false, "error": code, **extra}."""

    def __init__(self, code: str, *, status: int = 200, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(code)
        self.code = code
        self.status = status
        self.headers = headers or {}
        self.extra = extra


def _invalid(code: str, problems: list[str]) -> ApiError:
    return ApiError(code, response_metadata={"messages": problems})


@dataclass
class _Trigger:
    user_id: str
    issued_at: float
    used: bool = False


@dataclass
class _ResponseUrl:
    channel_id: str
    user_id: str
    source: Source
    created_at: float
    uses: int = 0


@dataclass
class _Fault:
    error: str
    status: int
    retry_after: int | None
    remaining: int


@dataclass(frozen=True)
class _HttpAnswer:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> _HttpAnswer:
        return cls(status, json.dumps(data).encode(), headers=headers or {})

    @classmethod
    def text(cls, text: str, status: int = 200) -> _HttpAnswer:
        return cls(status, text.encode(), content_type="text/html; charset=utf-8")


# --------------------------------------------------------------------------------------------
# Small pure helpers: params, text objects, block ids and block validation
# --------------------------------------------------------------------------------------------

_JSON_PARAMS = ("blocks", "view", "attachments", "metadata")
_KNOWN_BLOCKS = {
    "actions", "context", "divider", "file", "header", "image", "input",
    "markdown", "rich_text", "section", "table", "video",
}  # fmt: skip
_INTERACTIVE_ELEMENTS = {
    "button", "checkboxes", "datepicker", "datetimepicker", "timepicker", "overflow", "radio_buttons",
    "static_select", "external_select", "users_select", "conversations_select", "channels_select",
    "multi_static_select", "multi_external_select", "multi_users_select", "multi_conversations_select",
    "multi_channels_select", "plain_text_input", "number_input", "email_text_input", "url_text_input",
    "rich_text_input", "file_input",
}  # fmt: skip


def truthy(value: Any) -> bool:
    """Slack's reading of a boolean parameter: true/"true"/"1"."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def plain_text(obj: Any) -> str:
    """The text of a text object ({"type": ..., "text": ...}) or of a bare string."""
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return "" if obj is None else str(obj)


def parse_params(query: str, content_type: str | None, body: bytes) -> dict[str, Any]:
    """Merge query-string and body params the way Slack reads them."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    mime = (content_type or "").split(";")[0].strip().lower()
    if body and mime == "application/json":
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise ApiError("invalid_json") from exc
        if not isinstance(data, dict):
            raise ApiError("invalid_json")
        params.update(data)
    elif body and mime == "multipart/form-data":
        params.update(_parse_multipart(content_type or "", body))
    elif body:
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return _decode_json_params(params)


def _multipart(content_type: str, body: bytes) -> Iterator[Any]:
    """The parts of a multipart/form-data body."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    return message.iter_parts()


def _parse_multipart(content_type: str, body: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in _multipart(content_type, body):
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True) or b""
            fields[str(name)] = payload.decode("utf-8", errors="replace")
    return fields


def _decode_json_params(params: dict[str, Any]) -> dict[str, Any]:
    """Form bodies carry blocks/view as JSON strings; decode them."""
    for key in _JSON_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value.strip():
            try:
                params[key] = json.loads(value)
            except ValueError as exc:
                code = "invalid_blocks_format" if key == "blocks" else "invalid_arguments"
                raise ApiError(code) from exc
    return params


def _short_id(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:5]


def with_generated_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy blocks, filling in block_id / action_id where the app left them out, as Slack does."""
    filled = copy.deepcopy(blocks)
    for index, block in enumerate(filled):
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", _short_id(json.dumps(block, sort_keys=True) + str(index)))
        for position, element in enumerate(block_elements(block)):
            if element.get("type") in _INTERACTIVE_ELEMENTS:
                element.setdefault("action_id", _short_id(f"{block['block_id']}/{position}"))
    return filled


def block_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The interactive elements a block holds (actions elements, a section accessory, an input element)."""
    found: list[Any] = []
    if block.get("type") == "actions":
        found = list(block.get("elements") or [])
    elif block.get("type") == "section" and block.get("accessory"):
        found = [block["accessory"]]
    elif block.get("type") == "input" and block.get("element"):
        found = [block["element"]]
    return [element for element in found if isinstance(element, dict)]


def block_problems(blocks: Any, *, max_blocks: int) -> list[str]:
    """Explain why Slack would reject these blocks; an empty list when they look valid."""
    if not isinstance(blocks, list):
        return ["[ERROR] must be an array [json-pointer:/blocks]"]
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"[ERROR] no more than {max_blocks} items allowed [json-pointer:/blocks]")
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"/blocks/{index}"
        if not isinstance(block, dict) or block.get("type") not in _KNOWN_BLOCKS:
            problems.append(f"[ERROR] unknown or missing block type [json-pointer:{where}]")
            continue
        problems += _id_problems(block.get("block_id"), block_ids, f"{where}/block_id")
        problems += _one_block_problems(block, where)
        action_ids: set[str] = set()  # an action_id need only be unique within its block
        for element in block_elements(block):
            problems += _id_problems(element.get("action_id"), action_ids, f"{where}/action_id")
    return problems


def _id_problems(value: Any, seen: set[str], where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str) or not value or len(value) > 255:
        return [f"[ERROR] must be a string of 1 to 255 characters [json-pointer:{where}]"]
    if value in seen:
        return [f"[ERROR] duplicate id {value!r} [json-pointer:{where}]"]
    seen.add(value)
    return []


def _one_block_problems(block: dict[str, Any], where: str) -> list[str]:
    kind = block["type"]
    if kind == "section":
        return _section_problems(block, where)
    if kind == "header" and not 0 < len(plain_text(block.get("text"))) <= 150:
        return [f"[ERROR] header text must be 1 to 150 characters [json-pointer:{where}/text]"]
    if kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 0 < len(elements) <= 25:
            return [f"[ERROR] actions need 1 to 25 elements [json-pointer:{where}/elements]"]
        return [p for i, e in enumerate(elements) for p in _element_problems(e, f"{where}/elements/{i}")]
    if kind == "input":
        if not plain_text(block.get("label")) or not isinstance(block.get("element"), dict):
            return [f"[ERROR] input needs a label and an element [json-pointer:{where}]"]
        return _element_problems(block["element"], f"{where}/element")
    return []


def _section_problems(block: dict[str, Any], where: str) -> list[str]:
    text, fields = block.get("text"), block.get("fields")
    if text is None and not fields:
        return [f"[ERROR] section needs text or fields [json-pointer:{where}]"]
    problems = []
    if text is not None and not 0 < len(plain_text(text)) <= 3000:
        problems.append(f"[ERROR] section text must be 1 to 3000 characters [json-pointer:{where}/text]")
    if fields is not None and (not isinstance(fields, list) or len(fields) > 10):
        problems.append(f"[ERROR] no more than 10 fields allowed [json-pointer:{where}/fields]")
    if isinstance(block.get("accessory"), dict):
        problems += _element_problems(block["accessory"], f"{where}/accessory")
    return problems


def _element_problems(element: Any, where: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [f"[ERROR] element needs a type [json-pointer:{where}]"]
    if element["type"] == "button":
        if not 0 < len(plain_text(element.get("text"))) <= 75:
            return [f"[ERROR] button text must be 1 to 75 characters [json-pointer:{where}/text]"]
        if len(str(element.get("value", ""))) > 2000:
            return [f"[ERROR] button value must be at most 2000 characters [json-pointer:{where}/value]"]
    return []


def view_problems(view: Any) -> list[str]:
    """Explain why Slack would reject this modal view; an empty list when it looks valid."""
    if not isinstance(view, dict):
        return ["[ERROR] view must be an object [json-pointer:/view]"]
    if view.get("type") != "modal":
        return ["[ERROR] only modal views are supported [json-pointer:/view/type]"]
    problems = []
    if not 0 < len(plain_text(view.get("title"))) <= 24:
        problems.append("[ERROR] title must be 1 to 24 characters [json-pointer:/view/title]")
    for key in ("submit", "close"):
        if key in view and not 0 < len(plain_text(view[key])) <= 24:
            problems.append(f"[ERROR] {key} must be 1 to 24 characters [json-pointer:/view/{key}]")
    blocks = view.get("blocks")
    problems += [p.replace("/blocks", "/view/blocks") for p in block_problems(blocks, max_blocks=MAX_VIEW_BLOCKS)]
    has_inputs = isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if has_inputs and "submit" not in view:
        problems.append("[ERROR] must provide a submit property when using input blocks [json-pointer:/view]")
    if len(str(view.get("private_metadata", ""))) > 3000:
        problems.append("[ERROR] private_metadata must be at most 3000 characters [json-pointer:/view]")
    if len(str(view.get("callback_id", ""))) > 255:
        problems.append("[ERROR] callback_id must be at most 255 characters [json-pointer:/view]")
    return problems


def _require(params: dict[str, Any], *names: str) -> None:
    missing = [name for name in names if params.get(name) in (None, "")]
    if missing:
        raise ApiError("invalid_arguments", response_metadata={"messages": [f"missing {n}" for n in missing]})


# --------------------------------------------------------------------------------------------
# The fake workspace
# --------------------------------------------------------------------------------------------

_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})  # these take the app-level token (xapp-), no other
# method -> (handler name, scopes of which one is needed)
_API_METHODS: dict[str, tuple[str, tuple[str, ...]]] = {
    "auth.test": ("_api_auth_test", ()),
    "apps.connections.open": ("_api_apps_connections_open", ()),  # scope connections:write, on the app token
    "users.info": ("_api_users_info", ("users:read",)),
    "users.lookupByEmail": ("_api_users_lookup_by_email", ("users:read.email",)),
    "conversations.info": ("_api_conversations_info", ("channels:read", "groups:read", "im:read", "mpim:read")),
    "conversations.open": ("_api_conversations_open", ("im:write",)),
    "chat.postMessage": ("_api_chat_post_message", ("chat:write",)),
    "chat.update": ("_api_chat_update", ("chat:write",)),
    "chat.delete": ("_api_chat_delete", ("chat:write",)),
    "chat.postEphemeral": ("_api_chat_post_ephemeral", ("chat:write",)),
    "views.open": ("_api_views_open", ()),
    "views.push": ("_api_views_push", ()),
    "views.update": ("_api_views_update", ()),
    "views.publish": ("_api_views_publish", ()),
    "files.getUploadURLExternal": ("_api_files_get_upload_url_external", ("files:write",)),
    "files.completeUploadExternal": ("_api_files_complete_upload_external", ("files:write",)),
}


class FakeSlack:
    """A fake Slack workspace with a Web API server. Use `start()`/`stop()` or `with FakeSlack() as fake:`."""

    def __init__(
        self,
        *,
        team_id: str = "T0DEMO",
        team_domain: str = "demo",
        bot_token: str = "xoxb-fake",
        app_token: str = "xapp-1-A0OFFBOARD-fake",
        bot_user_id: str = "U0BOT",
        scopes: frozenset[str] = DEFAULT_SCOPES,
        enterprise_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_token = bot_token
        self.app_token = app_token
        self.socket_mode_url: str | None = None  # what apps.connections.open hands out: a test's Socket Mode server
        self.bot_user_id = bot_user_id
        self.bot_id = "B" + bot_user_id[1:]
        self.scopes = frozenset(scopes)
        self.enterprise_id = enterprise_id
        self.clock = clock

        self._lock = threading.RLock()
        self._dispatch_lock = threading.RLock()
        self._local = threading.local()
        self._pending_events: deque[SlackEvent] = deque()
        self._subscribers: list[Callable[[SlackEvent], None]] = []

        self._members: dict[str, Member] = {}
        self._channels: dict[str, Channel] = {}
        self._messages: dict[str, list[Message]] = {}
        self._ephemerals: dict[str, Ephemeral] = {}
        self._views: dict[str, View] = {}
        self._stacks: dict[str, list[str]] = {}  # user id -> open view ids, top last
        self._homes: dict[str, dict[str, Any]] = {}  # user id -> the App Home view the app published
        self._triggers: dict[str, _Trigger] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._files: dict[str, UploadedFile] = {}
        self._upload_tokens: dict[str, str] = {}  # the secret part of an upload URL -> file id
        self._faults: dict[str, deque[_Fault]] = {}
        self._calls: list[ApiCall] = []
        self._ids = itertools.count(1)
        self._last_ts_us = 0

        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.add_member(bot_user_id, "bot", real_name="Offboard Bot", is_bot=True)

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeSlack:
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _RequestHandler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started; call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    # ---------------------------------------------------------------- setup

    def add_member(
        self,
        user_id: str,
        name: str,
        email: str | None = None,
        *,
        team_id: str | None = None,
        real_name: str = "",
        is_bot: bool = False,
        deleted: bool = False,
        is_stranger: bool = False,
        email_confirmed: bool = True,
        tz: str = "UTC",
    ) -> Member:
        member = Member(
            id=user_id,
            name=name,
            email=email,
            team_id=team_id or self.team_id,
            real_name=real_name,
            is_bot=is_bot,
            deleted=deleted,
            is_stranger=is_stranger,
            email_confirmed=email_confirmed,
            tz=tz,
        )
        with self._state():
            self._members[user_id] = member
            return copy.deepcopy(member)

    def update_member(self, user_id: str, **changes: Any) -> Member:
        """Change fields of a member, e.g. `update_member("U1", deleted=True)`."""
        with self._state():
            member = replace(self._member(user_id), **changes)
            self._members[user_id] = member
            return copy.deepcopy(member)

    def add_channel(self, channel_id: str, name: str, *, bot_is_member: bool = True) -> Channel:
        with self._state():
            channel = Channel(id=channel_id, name=name.lstrip("#"), bot_is_member=bot_is_member)
            self._channels[channel_id] = channel
            self._messages.setdefault(channel_id, [])
            return copy.deepcopy(channel)

    def set_bot_membership(self, channel_id: str, is_member: bool) -> None:
        with self._state():
            self._channel(channel_id).bot_is_member = is_member

    def post_as(
        self,
        user_id: str,
        channel_id: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> Message:
        """A member writes a message in a channel (or, given a user id, in that user's DM with the bot)."""
        with self._state():
            self._member(user_id)
            channel = self._channel_or_im(channel_id)
            return copy.deepcopy(self._post_message(channel.id, user_id, text, blocks or [], thread_ts))

    def im_channel(self, user_id: str) -> str:
        """The id of the bot's direct-message channel with this member (created on first use)."""
        with self._state():
            return self._im_channel(user_id).id

    def inject_failure(
        self,
        method: str,
        *,
        error: str = "internal_error",
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail. With retry_after (or status 429) answer
        HTTP 429 `{"ok": false, "error": "ratelimited"}` with a Retry-After header, like Slack.
        `method` may be UPLOAD ("upload"): the POST of a file's bytes, answered with the error as text
        and the status (500 when left at 200)."""
        if retry_after is not None or status == 429:
            status, error = 429, "ratelimited"
        with self._state():
            self._faults.setdefault(method, deque()).append(_Fault(error, status, retry_after, times))

    # ---------------------------------------------------------------- driver helpers

    def issue_trigger_id(self, user_id: str) -> str:
        with self._state():
            self._member(user_id)
            trigger_id = f"{next(self._ids)}.{int(time.time())}.{secrets.token_hex(8)}"
            self._triggers[trigger_id] = _Trigger(user_id=user_id, issued_at=self.clock())
            return trigger_id

    def new_response_url(self, *, channel_id: str, user_id: str, source: Source = None) -> str:
        base_url = self.base_url
        with self._state():
            token = secrets.token_urlsafe(18)
            self._response_urls[token] = _ResponseUrl(channel_id, user_id, source, created_at=self.clock())
            return f"{base_url}/response/{token}"

    def record_ack_response(self, *, channel_id: str, user_id: str, body: dict[str, Any]) -> None:
        """Show a slash command's HTTP ack body (text/blocks) as Slack does."""
        text, blocks = str(body.get("text") or ""), body.get("blocks") or []
        if not text and not blocks:
            return
        with self._state():
            channel = self._channel_or_im(channel_id)
            if body.get("response_type") == "in_channel":
                self._post_message(channel.id, self.bot_user_id, text, blocks)
            else:
                self._post_ephemeral(channel.id, user_id, text, blocks)

    def apply_view_submission_response(self, view_id: str, response: dict[str, Any] | None) -> None:
        """Apply the app's ack to a view_submission: errors / update / push / clear, or close the view.

        Raises ValueError when the app answered with a view Slack would reject.
        """
        response = response or {}
        action = response.get("response_action")
        if action not in (None, "", "errors", "update", "push", "clear"):
            raise ValueError(f"unknown response_action {action!r}")
        with self._state():
            view = self._open_view(view_id)
            if action in ("update", "push"):
                definition = self._checked_view(response.get("view"))
            view.errors = {}
            if action == "errors":
                view.errors = {str(k): str(v) for k, v in (response.get("errors") or {}).items()}
                self._emit_view(EventKind.VIEW_ERRORS, view)
            elif action == "update":
                self._replace_view_definition(view, definition)
            elif action == "push":
                if len(self._stacks.get(view.user_id, [])) >= MAX_VIEW_STACK:
                    raise ValueError("cannot push a fourth modal (push_limit_reached)")
                self._push_view(view.user_id, definition)
            elif action == "clear":
                self._close_stack_from(view.user_id, 0)
            else:
                self._close_view(view)

    def close_view(self, view_id: str) -> None:
        """Close a view (and any view pushed above it), as the user's close button does."""
        with self._state():
            self._close_view(self._open_view(view_id))

    # ---------------------------------------------------------------- queries (return copies)

    def member(self, user_id: str) -> Member:
        with self._lock:
            return copy.deepcopy(self._member(user_id))

    def members(self) -> list[Member]:
        with self._lock:
            return copy.deepcopy(list(self._members.values()))

    def channel(self, channel_id: str) -> Channel:
        with self._lock:
            return copy.deepcopy(self._channel(channel_id))

    def channels(self, *, include_ims: bool = False) -> list[Channel]:
        with self._lock:
            found = [c for c in self._channels.values() if include_ims or not c.is_im]
            return copy.deepcopy(found)

    def name_of(self, object_id: str) -> str | None:
        """The name of a member or a channel, or None."""
        with self._lock:
            return self._name_of(object_id)

    def messages(self, channel_id: str, *, include_deleted: bool = False) -> list[Message]:
        with self._lock:
            found = [m for m in self._messages.get(channel_id, []) if include_deleted or not m.deleted]
            return copy.deepcopy(found)

    def message(self, channel_id: str, ts: str) -> Message:
        with self._lock:
            return copy.deepcopy(self._message(channel_id, ts))

    def message_json(self, channel_id: str, ts: str) -> dict[str, Any]:
        """The message as Slack's APIs and payloads show it."""
        with self._lock:
            return self._message_json(self._message(channel_id, ts))

    def dms(self, user_id: str, *, include_deleted: bool = False) -> list[Message]:
        with self._lock:
            channel = next((c for c in self._channels.values() if c.im_user_id == user_id), None)
            return [] if channel is None else self.messages(channel.id, include_deleted=include_deleted)

    def ephemerals(
        self, user_id: str | None = None, channel_id: str | None = None, include_deleted: bool = False
    ) -> list[Ephemeral]:
        with self._lock:
            found = [
                e
                for e in self._ephemerals.values()
                if (user_id is None or e.user_id == user_id)
                and (channel_id is None or e.channel_id == channel_id)
                and (include_deleted or not e.deleted)
            ]
            return copy.deepcopy(found)

    def views(self, user_id: str | None = None, open_only: bool = True) -> list[View]:
        with self._lock:
            found = [
                v
                for v in self._views.values()
                if (user_id is None or v.user_id == user_id) and (v.is_open or not open_only)
            ]
            return copy.deepcopy(found)

    def view(self, view_id: str) -> View:
        with self._lock:
            if view_id not in self._views:
                raise LookupError(f"no view {view_id!r}")
            return copy.deepcopy(self._views[view_id])

    def home(self, user_id: str) -> dict[str, Any] | None:
        """The App Home tab the app last published for the user (with its view id), or None."""
        with self._lock:
            return copy.deepcopy(self._homes.get(user_id))

    def view_stack(self, user_id: str) -> list[View]:
        """The user's open modals, the visible (top) one last."""
        with self._lock:
            return copy.deepcopy([self._views[v] for v in self._stacks.get(user_id, [])])

    def view_json(self, view_id: str) -> dict[str, Any]:
        """The view as Slack's APIs and payloads show it (state is left empty)."""
        with self._lock:
            return self._view_json(self.view(view_id))

    def files(self, channel_id: str | None = None) -> list[UploadedFile]:
        """The files shared in a channel (thread replies included), or, without one, every file the app
        reserved, uploaded or shared."""
        with self._lock:
            found = [f for f in self._files.values() if channel_id is None or f.channel_id == channel_id]
            return copy.deepcopy(found)

    def calls(self, method: str | None = None) -> list[ApiCall]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    # ---------------------------------------------------------------- events

    def subscribe(self, callback: Callable[[SlackEvent], None]) -> Callable[[], None]:
        """Call `callback(event)` for every visible change, in order. Returns an unsubscribe function."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    @contextmanager
    def _state(self) -> Iterator[None]:
        """Hold the state lock; when the outermost block ends, deliver the events it queued."""
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        try:
            with self._lock:
                yield
        finally:
            self._local.depth = depth
            if depth == 0:
                self._flush_events()

    def _emit(self, event: SlackEvent) -> None:
        self._pending_events.append(event)

    def _flush_events(self) -> None:
        with self._dispatch_lock:
            while True:
                with self._lock:
                    if not self._pending_events:
                        return
                    event = self._pending_events.popleft()
                    callbacks = list(self._subscribers)
                for callback in callbacks:
                    try:
                        callback(event)
                    except Exception:
                        logger.exception("FakeSlack event subscriber failed on %s", event.kind)

    def _emit_message(self, kind: EventKind, message: Message) -> None:
        channel = self._channels[message.channel_id]
        if channel.is_im:
            kind = {
                EventKind.MESSAGE_POSTED: EventKind.DM_POSTED,
                EventKind.MESSAGE_UPDATED: EventKind.DM_UPDATED,
                EventKind.MESSAGE_DELETED: EventKind.DM_DELETED,
            }[kind]
        user_id = channel.im_user_id if channel.is_im else message.user
        self._emit(
            SlackEvent(
                kind=kind,
                channel_id=channel.id,
                channel_name=None if channel.is_im else channel.name,
                user_id=user_id,
                user_name=self._name_of(user_id or ""),
                author_id=message.user,
                author_name=self._name_of(message.user),
                text=message.text,
                blocks=copy.deepcopy(message.blocks),
                ts=message.ts,
                thread_ts=message.thread_ts,
                files=tuple(str(f.get("name", "")) for f in message.files),
            )
        )

    def _emit_ephemeral(self, kind: EventKind, ephemeral: Ephemeral) -> None:
        channel = self._channels.get(ephemeral.channel_id)
        self._emit(
            SlackEvent(
                kind=kind,
                channel_id=ephemeral.channel_id,
                channel_name=channel.name if channel and not channel.is_im else None,
                user_id=ephemeral.user_id,
                user_name=self._name_of(ephemeral.user_id),
                author_id=self.bot_user_id,
                author_name=self._name_of(self.bot_user_id),
                text=ephemeral.text,
                blocks=copy.deepcopy(ephemeral.blocks),
                ephemeral_id=ephemeral.id,
            )
        )

    def _emit_view(self, kind: EventKind, view: View) -> None:
        self._emit(
            SlackEvent(
                kind=kind,
                user_id=view.user_id,
                user_name=self._name_of(view.user_id),
                view_id=view.id,
                title=view.title,
                blocks=copy.deepcopy(view.blocks),
                submit=view.submit,
                close=view.close,
                errors=dict(view.errors),
            )
        )

    # ---------------------------------------------------------------- state helpers (lock held)

    def _member(self, user_id: str) -> Member:
        if user_id not in self._members:
            raise LookupError(f"no member {user_id!r}")
        return self._members[user_id]

    def _channel(self, channel_id: str) -> Channel:
        if channel_id not in self._channels:
            raise LookupError(f"no channel {channel_id!r}")
        return self._channels[channel_id]

    def _channel_or_im(self, channel_id: str) -> Channel:
        if channel_id.startswith(("U", "W")):
            return self._im_channel(channel_id)
        return self._channel(channel_id)

    def _im_channel(self, user_id: str) -> Channel:
        self._member(user_id)
        channel_id = "D" + user_id
        if channel_id not in self._channels:
            self._channels[channel_id] = Channel(id=channel_id, name=channel_id, im_user_id=user_id)
            self._messages[channel_id] = []
        return self._channels[channel_id]

    def _name_of(self, object_id: str) -> str | None:
        if object_id in self._members:
            return self._members[object_id].name
        channel = self._channels.get(object_id)
        return channel.name if channel is not None and not channel.is_im else None

    def _message(self, channel_id: str, ts: str) -> Message:
        for message in self._messages.get(channel_id, []):
            if message.ts == ts:
                return message
        raise LookupError(f"no message {ts!r} in {channel_id!r}")

    def _next_ts(self) -> str:
        """A unique, increasing Slack timestamp ("seconds.micros")."""
        now_us = int(time.time() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        seconds, micros = divmod(self._last_ts_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def _post_message(
        self,
        channel_id: str,
        user: str,
        text: str,
        blocks: list[dict[str, Any]],
        thread_ts: str | None = None,
        files: list[dict[str, Any]] | None = None,
    ) -> Message:
        message = Message(channel_id, self._next_ts(), user, text, with_generated_ids(blocks), thread_ts=thread_ts,
                          files=files or [])
        self._messages[channel_id].append(message)
        self._emit_message(EventKind.MESSAGE_POSTED, message)
        return message

    def _edit_message(self, message: Message, text: str, blocks: list[dict[str, Any]]) -> None:
        message.history.append(MessageVersion(message.text, message.blocks, replaced_at=self._next_ts()))
        message.text, message.blocks = text, with_generated_ids(blocks)
        self._emit_message(EventKind.MESSAGE_UPDATED, message)

    def _delete_message(self, message: Message) -> None:
        message.deleted = True
        self._emit_message(EventKind.MESSAGE_DELETED, message)

    def _post_ephemeral(self, channel_id: str, user_id: str, text: str, blocks: list[dict[str, Any]]) -> Ephemeral:
        ephemeral = Ephemeral(self._next_ts(), channel_id, user_id, text, with_generated_ids(blocks))
        self._ephemerals[ephemeral.id] = ephemeral
        self._emit_ephemeral(EventKind.EPHEMERAL_POSTED, ephemeral)
        return ephemeral

    def _message_json(self, message: Message) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "message",
            "user": message.user,
            "text": message.text,
            "ts": message.ts,
            "team": self.team_id,
            "blocks": copy.deepcopy(message.blocks),
        }
        if message.user == self.bot_user_id:
            data["bot_id"] = self.bot_id
        if message.thread_ts:
            data["thread_ts"] = message.thread_ts
        if message.history:
            data["edited"] = {"user": message.user, "ts": message.history[-1].replaced_at}
        if message.files:
            data["files"] = copy.deepcopy(message.files)
        return data

    # ---------------------------------------------------------------- views (lock held)

    def _checked_view(self, definition: Any) -> dict[str, Any]:
        problems = view_problems(definition)
        if problems:
            raise ValueError("invalid view: " + "; ".join(problems))
        return definition

    def _new_view(self, user_id: str, definition: dict[str, Any], *, root: str | None, previous: str | None) -> View:
        view_id = f"V{next(self._ids):09d}"
        view = self._build_view(view_id, user_id, definition, root_view_id=root or view_id, previous=previous)
        self._views[view_id] = view
        return view

    def _build_view(
        self, view_id: str, user_id: str, definition: dict[str, Any], *, root_view_id: str, previous: str | None
    ) -> View:
        definition = copy.deepcopy(definition)
        definition["blocks"] = with_generated_ids(definition.get("blocks") or [])
        return View(
            id=view_id,
            user_id=user_id,
            callback_id=str(definition.get("callback_id", "")),
            private_metadata=str(definition.get("private_metadata", "")),
            title=plain_text(definition.get("title")),
            blocks=definition["blocks"],
            submit=plain_text(definition["submit"]) if definition.get("submit") else None,
            close=plain_text(definition["close"]) if definition.get("close") else None,
            notify_on_close=truthy(definition.get("notify_on_close", False)),
            external_id=str(definition.get("external_id", "")),
            hash=f"{int(time.time())}.{secrets.token_hex(4)}",
            root_view_id=root_view_id,
            previous_view_id=previous,
            definition=definition,
        )

    def _open_root_view(self, user_id: str, definition: dict[str, Any]) -> View:
        self._close_stack_from(user_id, 0)
        view = self._new_view(user_id, definition, root=None, previous=None)
        self._stacks[user_id] = [view.id]
        self._emit_view(EventKind.VIEW_OPENED, view)
        return view

    def _push_view(self, user_id: str, definition: dict[str, Any]) -> View:
        stack = self._stacks.setdefault(user_id, [])
        if not stack:
            return self._open_root_view(user_id, definition)
        if len(stack) >= MAX_VIEW_STACK:
            raise ApiError("push_limit_reached")
        view = self._new_view(user_id, definition, root=stack[0], previous=stack[-1])
        stack.append(view.id)
        self._emit_view(EventKind.VIEW_PUSHED, view)
        return view

    def _replace_view_definition(self, view: View, definition: dict[str, Any]) -> None:
        updated = self._build_view(
            view.id, view.user_id, definition, root_view_id=view.root_view_id, previous=view.previous_view_id
        )
        self._views[view.id] = updated
        self._emit_view(EventKind.VIEW_UPDATED, updated)

    def _open_view(self, view_id: str) -> View:
        view = self._views.get(view_id)
        if view is None or not view.is_open:
            raise LookupError(f"no open view {view_id!r}")
        return view

    def _close_view(self, view: View) -> None:
        stack = self._stacks.get(view.user_id, [])
        self._close_stack_from(view.user_id, stack.index(view.id))

    def _close_stack_from(self, user_id: str, index: int) -> None:
        stack = self._stacks.get(user_id, [])
        while len(stack) > index:
            closed = self._views[stack.pop()]
            closed.is_open = False
            self._emit_view(EventKind.VIEW_CLOSED, closed)

    def _view_json(self, view: View) -> dict[str, Any]:
        data = copy.deepcopy(view.definition)
        data.update(
            id=view.id,
            team_id=self.team_id,
            type="modal",
            blocks=copy.deepcopy(view.blocks),
            private_metadata=view.private_metadata,
            callback_id=view.callback_id,
            external_id=view.external_id,
            state={"values": {}},
            hash=view.hash,
            clear_on_close=truthy(data.get("clear_on_close", False)),
            notify_on_close=view.notify_on_close,
            root_view_id=view.root_view_id,
            previous_view_id=view.previous_view_id,
            app_installed_team_id=self.team_id,
            bot_id=self.bot_id,
        )
        data.setdefault("close", {"type": "plain_text", "text": "Cancel", "emoji": True})
        return data

    # ---------------------------------------------------------------- HTTP entry points

    def _serve_api(self, method: str, query: str, content_type: str | None, auth: str | None, body: bytes):
        params: dict[str, Any] = {}
        with self._state():
            try:
                params = parse_params(query, content_type, body)
                result = self._call_api(method, params, auth)
            except ApiError as failure:
                self._calls.append(ApiCall(method, copy.deepcopy(params), failure.code))
                data = {"ok": False, "error": failure.code, **failure.extra}
                return _HttpAnswer.json(data, failure.status, {**self._scope_headers(method), **failure.headers})
            self._calls.append(ApiCall(method, copy.deepcopy(params), None))
            return _HttpAnswer.json({"ok": True, **result}, headers=self._scope_headers(method))

    def _scope_headers(self, method: str) -> dict[str, str]:
        accepted = _API_METHODS.get(method, ("", ()))[1]
        return {"x-oauth-scopes": ",".join(sorted(self.scopes)), "x-accepted-oauth-scopes": ",".join(accepted)}

    def _call_api(self, method: str, params: dict[str, Any], auth: str | None) -> dict[str, Any]:
        token = auth[len("Bearer ") :] if auth and auth.startswith("Bearer ") else params.pop("token", None)
        params.pop("token", None)
        if token != (self.app_token if method in _APP_TOKEN_METHODS else self.bot_token):
            # Like Slack: a known token of the wrong kind (a bot token for Socket Mode, or the reverse)
            raise ApiError("not_allowed_token_type" if token in (self.bot_token, self.app_token) else "invalid_auth")
        if method not in _API_METHODS:
            raise ApiError("unknown_method")
        self._raise_injected_fault(method)
        handler_name, needed = _API_METHODS[method]
        if needed and not self.scopes.intersection(needed):
            raise ApiError("missing_scope", needed=",".join(needed), provided=",".join(sorted(self.scopes)))
        return getattr(self, handler_name)(params)

    def _raise_injected_fault(self, method: str) -> None:
        faults = self._faults.get(method)
        if not faults:
            return
        fault = faults[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.popleft()
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        raise ApiError(fault.error, status=fault.status, headers=headers)

    # ---------------------------------------------------------------- Web API methods (lock held)

    def _api_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        result = {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_domain,
            "user": self._members[self.bot_user_id].name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }
        if self.enterprise_id:
            result["enterprise_id"] = self.enterprise_id
        return result

    def _api_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.socket_mode_url:
            raise ApiError("internal_error", response_metadata={"messages": [
                "no Socket Mode server: set FakeSlack.socket_mode_url to a WebSocket URL first"]})
        return {"url": self.socket_mode_url}

    def _user_json(self, member: Member) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "real_name": member.real_name,
            "display_name": member.name,
            "team": member.team_id,
        }
        if member.email and "users:read.email" in self.scopes and not member.is_stranger:
            profile["email"] = member.email
        return {
            "id": member.id,
            "team_id": member.team_id,
            "name": member.name,
            "real_name": member.real_name,
            "deleted": member.deleted,
            "is_bot": member.is_bot,
            "is_app_user": False,
            "is_stranger": member.is_stranger,
            "tz": member.tz,
            "is_email_confirmed": member.email_confirmed,
            "profile": profile,
        }

    def _api_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        _require(params, "user")
        member = self._members.get(str(params["user"]))
        if member is None:
            raise ApiError("user_not_found")
        return {"user": self._user_json(member)}

    def _api_users_lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        _require(params, "email")
        wanted = str(params["email"]).strip().lower()
        for member in self._members.values():
            if member.email and member.email.lower() == wanted and not member.is_stranger:
                return {"user": self._user_json(member)}
        raise ApiError("users_not_found")

    def _channel_json(self, channel: Channel) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": channel.id,
            "name": channel.name,
            "is_channel": channel.id.startswith("C"),
            "is_group": channel.id.startswith("G"),
            "is_im": channel.is_im,
            "is_private": channel.is_private,
            "is_archived": False,
            "is_member": channel.bot_is_member,
        }
        if channel.is_im:
            data["user"] = channel.im_user_id
        return data

    def _api_conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        _require(params, "channel")
        channel = self._channels.get(str(params["channel"]))
        if channel is None or (channel.id.startswith("G") and not channel.bot_is_member):
            raise ApiError("channel_not_found")
        return {"channel": self._channel_json(channel)}

    def _api_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise ApiError("invalid_arguments", response_metadata={"messages": ["only single-user IMs are faked"]})
        if users[0] not in self._members:
            raise ApiError("user_not_found")
        return {"channel": self._channel_json(self._im_channel(users[0]))}

    def _resolve_channel(self, target: Any) -> Channel:
        """A channel the bot may write to: a channel id or #name, or a user id meaning their DM."""
        target = str(target or "")
        if target.startswith(("U", "W")) and target in self._members:
            return self._im_channel(target)
        channel = self._channels.get(target) or next(
            (c for c in self._channels.values() if not c.is_im and c.name == target.lstrip("#")), None
        )
        if channel is None:
            raise ApiError("channel_not_found")
        if not channel.bot_is_member:
            raise ApiError("channel_not_found" if channel.id.startswith("G") else "not_in_channel")
        return channel

    @staticmethod
    def _content(params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        text = str(params.get("text") or "")
        blocks = params.get("blocks") or []
        if len(text) > MAX_TEXT_LENGTH:
            raise ApiError("msg_too_long")
        problems = block_problems(blocks, max_blocks=MAX_MESSAGE_BLOCKS)
        if problems:
            raise _invalid("invalid_blocks", problems)
        return text, blocks

    def _api_chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(params.get("channel"))
        text, blocks = self._content(params)
        if not text and not blocks:
            raise ApiError("no_text")
        thread_ts = str(params["thread_ts"]) if params.get("thread_ts") else None
        message = self._post_message(channel.id, self.bot_user_id, text, blocks, thread_ts)
        return {"channel": channel.id, "ts": message.ts, "message": self._message_json(message)}

    def _own_message(self, params: dict[str, Any], refusal: str) -> Message:
        _require(params, "channel", "ts")
        channel_id = str(params["channel"])
        if channel_id.startswith(("U", "W")) and channel_id in self._members:
            channel_id = self._im_channel(channel_id).id
        try:
            message = self._message(channel_id, str(params["ts"]))
        except LookupError:
            raise ApiError("message_not_found") from None
        if message.deleted:
            raise ApiError("message_not_found")
        if message.user != self.bot_user_id:
            raise ApiError(refusal)
        return message

    def _api_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._own_message(params, "cant_update_message")
        text, blocks = self._content(params)
        if not text and not blocks:
            raise ApiError("no_text")
        # Like Slack: leaving out "blocks" keeps the old blocks; [] removes them.
        new_blocks = blocks if "blocks" in params else message.blocks
        self._edit_message(message, text or message.text, new_blocks)
        return {
            "channel": message.channel_id,
            "ts": message.ts,
            "text": message.text,
            "message": self._message_json(message),
        }

    def _api_chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._own_message(params, "cant_delete_message")
        self._delete_message(message)
        return {"channel": message.channel_id, "ts": message.ts}

    def _api_chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        _require(params, "channel", "user")
        channel = self._resolve_channel(params.get("channel"))
        user_id = str(params["user"])
        if user_id not in self._members:
            raise ApiError("user_not_found")
        text, blocks = self._content(params)
        if not text and not blocks:
            raise ApiError("no_text")
        ephemeral = self._post_ephemeral(channel.id, user_id, text, blocks)
        return {"message_ts": ephemeral.id}

    def _use_trigger(self, params: dict[str, Any]) -> str:
        trigger_id = str(params.get("trigger_id") or params.get("interactivity_pointer") or "")
        trigger = self._triggers.get(trigger_id)
        if trigger is None or trigger.used:
            raise ApiError("invalid_trigger_id")
        if self.clock() - trigger.issued_at > TRIGGER_TTL_SECONDS:
            raise ApiError("expired_trigger_id")
        return trigger_id

    @staticmethod
    def _view_param(params: dict[str, Any]) -> dict[str, Any]:
        _require(params, "view")
        problems = view_problems(params["view"])
        if problems:
            raise _invalid("invalid_arguments", problems)
        return params["view"]

    def _api_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._show_view_by_trigger(params, self._open_root_view)

    def _api_views_push(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._show_view_by_trigger(params, self._push_view)

    def _show_view_by_trigger(self, params: dict[str, Any], show: Callable[[str, dict[str, Any]], View]) -> dict:
        """views.open / views.push: spend the trigger id, then show the view to the trigger's user."""
        trigger_id = self._use_trigger(params)
        definition = self._view_param(params)
        trigger = self._triggers[trigger_id]
        view = show(trigger.user_id, definition)
        trigger.used = True
        return {"view": self._view_json(view)}

    def _api_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        """Publish a user's App Home tab (needs no trigger; a home view has no title, submit or close)."""
        _require(params, "user_id", "view")
        user_id = params["user_id"]
        if user_id not in self._members:
            raise ApiError("user_not_found")
        definition = params["view"]
        if not isinstance(definition, dict) or definition.get("type") != "home":
            raise _invalid("invalid_arguments", ["[ERROR] views.publish takes a home view [json-pointer:/view/type]"])
        problems = block_problems(definition.get("blocks"), max_blocks=100)
        if problems:
            raise _invalid("invalid_arguments", [p.replace("/blocks", "/view/blocks") for p in problems])
        previous = self._homes.get(user_id)
        view = {**definition, "id": previous["id"] if previous else f"V{next(self._ids):09d}",
                "team_id": self.team_id, "bot_id": self.bot_id}
        self._homes[user_id] = view
        return {"view": copy.deepcopy(view)}

    def _api_views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view = self._view_for_update(params)
        definition = self._view_param(params)
        if params.get("hash") and params["hash"] != view.hash:
            raise ApiError("hash_conflict")
        self._replace_view_definition(view, definition)
        return {"view": self._view_json(self._views[view.id])}

    def _view_for_update(self, params: dict[str, Any]) -> View:
        view_id, external_id = params.get("view_id"), params.get("external_id")
        if not view_id and not external_id:
            raise ApiError("invalid_arguments", response_metadata={"messages": ["view_id or external_id required"]})
        for view in self._views.values():
            if view.is_open and (view.id == view_id or (external_id and view.external_id == external_id)):
                return view
        raise ApiError("not_found")

    # ---------------------------------------------------------------- files (files_upload_v2's three steps)

    def _api_files_get_upload_url_external(self, params: dict[str, Any]) -> dict[str, Any]:
        """Reserve a file and hand out the URL its bytes go to."""
        _require(params, "filename")
        try:
            length = int(params.get("length") or 0)
        except (TypeError, ValueError):
            raise ApiError("invalid_arguments", response_metadata={"messages": ["length must be an integer"]}) from None
        if length <= 0:
            raise ApiError("missing_argument")  # Slack's answer to a length of 0
        record = UploadedFile(id=f"F{next(self._ids):09d}", name=str(params["filename"]), length=length)
        token = secrets.token_urlsafe(18)
        self._files[record.id] = record
        self._upload_tokens[token] = record.id
        return {"upload_url": f"{self.base_url}/upload/v1/{token}", "file_id": record.id}

    def _api_files_complete_upload_external(self, params: dict[str, Any]) -> dict[str, Any]:
        """Finish uploads: share the files in one message of channel_id (in thread_ts), or keep them private.
        Everything is checked before anything changes; a file can be completed once."""
        records = [(self._uploaded_file(entry), entry) for entry in _file_entries(params.get("files"))]
        channel = self._share_channel(params)
        thread_ts = str(params["thread_ts"]) if params.get("thread_ts") else None
        if thread_ts and channel is None:
            raise ApiError("invalid_arguments", response_metadata={"messages": ["thread_ts needs channel_id"]})
        for record, entry in records:
            record.title = str(entry.get("title") or record.name)
            record.completed = True
        shared = [{"id": r.id, "name": r.name, "title": r.title} for r, _ in records]
        if channel is not None:
            comment = str(params.get("initial_comment") or "")
            message = self._post_message(channel.id, self.bot_user_id, comment, [], thread_ts, files=shared)
            for record, _ in records:
                record.channel_id, record.thread_ts, record.message_ts = channel.id, thread_ts, message.ts
                record.initial_comment = comment
        return {"files": copy.deepcopy(shared)}

    def _uploaded_file(self, entry: dict[str, Any]) -> UploadedFile:
        record = self._files.get(str(entry.get("id") or ""))
        if record is None or record.completed or record.content is None:
            raise ApiError("file_not_found")  # unknown, already completed, or its bytes never arrived
        return record

    def _share_channel(self, params: dict[str, Any]) -> Channel | None:
        wanted = [c for c in [params.get("channel_id"), *str(params.get("channels") or "").split(",")] if c]
        if not wanted:
            return None
        if len(set(wanted)) > 1:
            raise ApiError("invalid_arguments", response_metadata={"messages": ["the fake shares into one channel"]})
        return self._resolve_channel(wanted[0])

    def _serve_upload(self, token: str, content_type: str | None, body: bytes) -> _HttpAnswer:
        """The POST of a file's bytes (raw, or the file part of a multipart form) to its upload URL."""
        with self._state():
            try:
                self._raise_injected_fault(UPLOAD)
            except ApiError as failure:
                self._calls.append(ApiCall(UPLOAD, {"length": len(body)}, failure.code))
                status = failure.status if failure.status >= 400 else 500
                return _HttpAnswer(status, failure.code.encode(), "text/plain; charset=utf-8", failure.headers)
            record = self._files.get(self._upload_tokens.get(token, ""))
            if record is None or record.completed:
                self._calls.append(ApiCall(UPLOAD, {"length": len(body)}, "not_found"))
                return _HttpAnswer.text("not_found", 404)
            record.content = _upload_bytes(content_type, body)
            self._calls.append(ApiCall(UPLOAD, {"file_id": record.id, "length": len(record.content)}, None))
            return _HttpAnswer(200, f"OK - {len(record.content)}".encode(), "text/plain; charset=utf-8")

    # ---------------------------------------------------------------- response URLs

    def _serve_response_url(self, token: str, content_type: str | None, body: bytes) -> _HttpAnswer:
        with self._state():
            record = self._response_urls.get(token)
            if record is None:
                return _HttpAnswer.text("no_service", 404)
            if self.clock() - record.created_at > RESPONSE_URL_TTL_SECONDS:
                return _HttpAnswer.text("expired_url", 404)
            if record.uses >= RESPONSE_URL_MAX_USES:
                return _HttpAnswer.text("used_url", 404)
            payload = _response_payload(content_type, body)
            if payload is None:
                return _HttpAnswer.text("invalid_payload", 400)
            record.uses += 1
            error = self._apply_response(record, payload)
            self._calls.append(ApiCall("response_url", copy.deepcopy(payload), error))
            return _HttpAnswer.text(error, 400) if error else _HttpAnswer.text("ok")

    def _apply_response(self, record: _ResponseUrl, payload: dict[str, Any]) -> str | None:
        """Apply one response-URL message; returns an error code or None."""
        text, blocks = str(payload.get("text") or ""), payload.get("blocks") or []
        if block_problems(blocks, max_blocks=MAX_MESSAGE_BLOCKS):
            return "invalid_blocks"
        source = self._live_source(record.source)
        if truthy(payload.get("delete_original")):
            if source is not None:
                self._delete_source(source)
            return None
        if not text and not blocks:
            return "no_text"
        if truthy(payload.get("replace_original")) and source is not None:
            self._replace_source(source, text, blocks)
        elif payload.get("response_type") == "in_channel":
            if record.channel_id not in self._messages:
                return "channel_not_found"
            self._post_message(record.channel_id, self.bot_user_id, text, blocks, payload.get("thread_ts"))
        else:
            self._post_ephemeral(record.channel_id, record.user_id, text, blocks)
        return None

    def _live_source(self, source: Source) -> Message | Ephemeral | None:
        if isinstance(source, str):
            ephemeral = self._ephemerals.get(source)
            return ephemeral if ephemeral is not None and not ephemeral.deleted else None
        if isinstance(source, tuple):
            try:
                message = self._message(*source)
            except LookupError:
                return None
            return None if message.deleted else message
        return None

    def _delete_source(self, source: Message | Ephemeral) -> None:
        if isinstance(source, Message):
            self._delete_message(source)
        else:
            source.deleted = True
            self._emit_ephemeral(EventKind.EPHEMERAL_DELETED, source)

    def _replace_source(self, source: Message | Ephemeral, text: str, blocks: list[dict[str, Any]]) -> None:
        if isinstance(source, Message):
            self._edit_message(source, text, blocks)
        else:
            source.text, source.blocks = text, with_generated_ids(blocks)
            self._emit_ephemeral(EventKind.EPHEMERAL_REPLACED, source)


def _file_entries(value: Any) -> list[dict[str, Any]]:
    """files.completeUploadExternal's `files`: a JSON array (a string in a form body) of {"id", "title"}."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ApiError("invalid_arguments") from None
    if not isinstance(value, list) or not value or not all(isinstance(entry, dict) for entry in value):
        raise ApiError("invalid_arguments", response_metadata={"messages": ["files must be an array of {id, title}"]})
    return value


def _upload_bytes(content_type: str | None, body: bytes) -> bytes:
    """The file's bytes from an upload POST: the body itself, or the file part of a multipart form."""
    if (content_type or "").split(";")[0].strip().lower() != "multipart/form-data":
        return body
    for part in _multipart(content_type or "", body):
        if part.get_filename() or part.get_param("name", header="content-disposition") in ("file", "filename"):
            return part.get_payload(decode=True) or b""
    return b""


def _response_payload(content_type: str | None, body: bytes) -> dict[str, Any] | None:
    """Read a response-URL body: JSON, or a form with a JSON `payload` field."""
    try:
        if (content_type or "").startswith("application/x-www-form-urlencoded"):
            body = dict(parse_qsl(body.decode())).get("payload", "").encode()
        data = json.loads(body or b"null")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("blocks"), str):
        try:
            data["blocks"] = json.loads(data["blocks"])
        except ValueError:
            return None
    return data


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSlack


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "FakeSlack/1.0"

    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        content_type = self.headers.get("Content-Type")
        fake = self.server.fake
        try:
            if parts.path.startswith("/api/"):
                method = parts.path[len("/api/") :]
                answer = fake._serve_api(method, parts.query, content_type, self.headers.get("Authorization"), body)
            elif parts.path.startswith("/response/") and self.command == "POST":
                answer = fake._serve_response_url(parts.path[len("/response/") :], content_type, body)
            elif parts.path.startswith("/upload/v1/") and self.command == "POST":
                answer = fake._serve_upload(parts.path[len("/upload/v1/") :], content_type, body)
            else:
                answer = _HttpAnswer.text("not_found", 404)
        except Exception:
            logger.exception("FakeSlack failed to serve %s", self.path)
            answer = _HttpAnswer.json({"ok": False, "error": "fatal_error"}, 500)
        self._write(answer)

    def _write(self, answer: _HttpAnswer) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("fake slack: " + format, *args)
