"""What the fake Slack workspace is made of: members, channels, messages and their edits, ephemerals, modal
views, uploaded files, the call log, and the events it publishes. Query helpers hand out copies of these."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

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
    is_restricted: bool = False  # a guest: multi-channel, or (with is_ultra_restricted) single-channel
    is_ultra_restricted: bool = False
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
    # What the user has entered so far, as Slack reports it in `state.values` (block id -> action id -> state).
    # Slack keeps it when the app answers `response_action: errors`, and through an update for the inputs whose
    # block and action ids stay the same.
    state: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiCall:
    """One Web API call (or, as method "response_url", one POST to a response URL)."""

    method: str
    params: dict[str, Any]
    error: str | None  # None when the call succeeded
    at: float = field(default_factory=time.monotonic, compare=False)  # when it arrived, to order it among events


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
    state: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # a modal's entries (View.state)


# Records the fake keeps for itself (never handed out)


@dataclass
class Trigger:
    user_id: str
    issued_at: float
    used: bool = False


@dataclass
class ResponseUrl:
    channel_id: str
    user_id: str
    source: Source
    created_at: float
    uses: int = 0


@dataclass
class Fault:
    """An injected failure: the next `remaining` calls of a method answer `error` with `status`."""

    error: str
    status: int
    retry_after: int | None
    remaining: int
