"""The fake Slack workspace's records behind one lock, its events, and the changes the API methods are made of.

`SlackState` holds the workspace's identity (team, tokens, scopes), its members, channels, messages,
ephemerals, modal views, App Home tabs, trigger ids, response URLs, uploaded files, armed faults and the call
log. Its underscored methods expect the lock to be held: callers wrap them in `with self._state():`, which holds
the lock and, when the outermost block ends, delivers the events queued meanwhile, in order, so that a
subscriber may call back into the fake. The Web API methods (api.py, views.py, files.py, response_urls.py) and
the `FakeSlack` facade (fake.py) are built on it.
"""

from __future__ import annotations

import copy
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bot.simulators.slack.blocks import with_generated_ids
from bot.simulators.slack.http import ApiError
from bot.simulators.slack.model import (
    DEFAULT_SCOPES,
    ApiCall,
    Channel,
    Ephemeral,
    EventKind,
    Fault,
    Member,
    Message,
    MessageVersion,
    ResponseUrl,
    SlackEvent,
    Trigger,
    UploadedFile,
    View,
)

logger = logging.getLogger(__name__)


class SlackState:
    """The workspace's records and the lock-held operations on them."""

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
        self.is_enterprise_install = False  # auth.test's answer: the token is an org-wide install on Enterprise Grid
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
        self._triggers: dict[str, Trigger] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self._files: dict[str, UploadedFile] = {}
        self._upload_tokens: dict[str, str] = {}  # the secret part of an upload URL -> file id
        self._faults: dict[str, deque[Fault]] = {}
        self._calls: list[ApiCall] = []
        self._executions: dict[str, Any] = {}  # custom workflow steps by function_execution_id (functions.py)
        self._ids = itertools.count(1)
        self._last_ts_us = 0
        self._members[bot_user_id] = Member(bot_user_id, "bot", team_id=team_id, real_name="Offboard Bot",
                                            is_bot=True)

    @property
    def base_url(self) -> str:
        """Where the fake listens (FakeSlack's server, once started)."""
        raise RuntimeError("FakeSlack is not started; call start() first")

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
                state=copy.deepcopy(view.state),
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
