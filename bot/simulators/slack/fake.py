"""`FakeSlack`: a stateful fake Slack workspace serving the Web API over real HTTP.

`FakeSlack` listens on 127.0.0.1 (ephemeral port) so that the real `slack_sdk.WebClient`
(`WebClient(token=..., base_url=fake.api_url)`) and Bolt's `respond()` talk to it exactly as
they would talk to Slack. It keeps members, channels, messages (with their edit history),
ephemeral messages, DMs, modal views, trigger ids, response URLs, the files the app uploads
(files_upload_v2's three steps) and a log of every call, and publishes every visible change
as a `SlackEvent` to subscribers (the `offboard-bot shell` prints them; tests usually read the
query helpers instead).

All state lives behind one lock (state.py). Events are queued while the lock is held and delivered, in
order, after it is released, so a subscriber may call back into the fake. The class is put together from the
package's parts: the Web API methods (api.py), modals and the App Home (views.py: `views`, `view_stack`,
`apply_view_submission_response` ...), files (files.py: `files`), response URLs (response_urls.py:
`new_response_url`); this module adds the server's lifecycle, setting up the workspace, faults, and the queries
on members, channels and messages.
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections import deque
from dataclasses import replace
from typing import Any

from bot.simulators.slack.api import WebApi
from bot.simulators.slack.functions import FunctionExecution
from bot.simulators.slack.http import SlackHttpServer, serve_in_thread
from bot.simulators.slack.model import ApiCall, Channel, Ephemeral, Fault, Member, Message, Trigger
from bot.simulators.slack.response_urls import ResponseUrls


class FakeSlack(WebApi, ResponseUrls):
    """A fake Slack workspace with a Web API server. Use `start()`/`stop()` or `with FakeSlack() as fake:`.

    Keyword arguments (all optional): team_id, team_domain, bot_token, app_token, bot_user_id, scopes,
    enterprise_id, clock (state.py `SlackState`)."""

    _server: SlackHttpServer | None = None
    _thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeSlack:
        if self._server is None:
            self._server, self._thread = serve_in_thread(self)
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
        is_restricted: bool = False,
        is_ultra_restricted: bool = False,
        email_confirmed: bool = True,
        tz: str = "UTC",
    ) -> Member:
        """Add a member; a guest has is_restricted (and, single-channel, is_ultra_restricted too), as Slack shows."""
        member = Member(
            id=user_id,
            name=name,
            email=email,
            team_id=team_id or self.team_id,
            real_name=real_name,
            is_bot=is_bot,
            deleted=deleted,
            is_stranger=is_stranger,
            is_restricted=is_restricted or is_ultra_restricted,
            is_ultra_restricted=is_ultra_restricted,
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
            self._faults.setdefault(method, deque()).append(Fault(error, status, retry_after, times))

    def withdraw_failures(self) -> dict[str, int]:
        """Take back every injected failure not met yet; return, per method, how many calls were still to fail."""
        with self._state():
            remaining = {method: sum(fault.remaining for fault in queue)
                         for method, queue in self._faults.items() if queue}
            self._faults.clear()
            return remaining

    # ---------------------------------------------------------------- driver helpers

    def issue_trigger_id(self, user_id: str) -> str:
        with self._state():
            self._member(user_id)
            trigger_id = f"{next(self._ids)}.{int(time.time())}.{secrets.token_hex(8)}"
            self._triggers[trigger_id] = Trigger(user_id=user_id, issued_at=self.clock())
            return trigger_id

    def start_function(self, callback_id: str, inputs: dict[str, Any], *,
                       required_outputs: tuple[str, ...] = ()) -> FunctionExecution:
        """A workflow reaches the app's custom step: a running execution (the driver sends the event)."""
        with self._state():
            return copy.deepcopy(self._start_function(callback_id, inputs, required_outputs))

    def time_out_function(self, execution_id: str) -> None:
        """Slack gives up on a step still running (its limit on pending steps): it can no longer be completed."""
        with self._state():
            execution = self._executions[execution_id]
            execution.state, execution.error = "failed", "timed out"

    def function_execution(self, execution_id: str) -> FunctionExecution:
        """The step execution as it stands: running, completed (with its outputs) or failed (with its error)."""
        with self._lock:
            return copy.deepcopy(self._executions[execution_id])

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

    def calls(self, method: str | None = None) -> list[ApiCall]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

