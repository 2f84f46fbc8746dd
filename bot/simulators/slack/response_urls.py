"""Response URLs in the fake Slack: each slash command and message click carries one, usable
RESPONSE_URL_MAX_USES times within RESPONSE_URL_TTL_SECONDS, to post an ephemeral or an in-channel message, or to
replace or delete the message (or ephemeral) the click came from. `serve_response_url` is what the HTTP server
calls; every POST is logged in calls() as method "response_url".
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from bot.simulators.slack.blocks import block_problems, truthy, with_generated_ids
from bot.simulators.slack.http import HttpAnswer, response_payload
from bot.simulators.slack.model import (
    MAX_MESSAGE_BLOCKS,
    RESPONSE_URL_MAX_USES,
    RESPONSE_URL_TTL_SECONDS,
    ApiCall,
    Ephemeral,
    EventKind,
    Message,
    ResponseUrl,
    Source,
)
from bot.simulators.slack.state import SlackState


class ResponseUrls(SlackState):
    """Response URLs: handed out for the driver, answered when the app POSTs to them."""

    def new_response_url(self, *, channel_id: str, user_id: str, source: Source = None) -> str:
        """A response URL for a user's action in a channel; `source` is the message (or ephemeral) it may
        replace or delete."""
        base_url = self.base_url
        with self._state():
            token = secrets.token_urlsafe(18)
            self._response_urls[token] = ResponseUrl(channel_id, user_id, source, created_at=self.clock())
            return f"{base_url}/response/{token}"

    def serve_response_url(self, token: str, content_type: str | None, body: bytes) -> HttpAnswer:
        with self._state():
            record = self._response_urls.get(token)
            if record is None:
                return HttpAnswer.text("no_service", 404)
            if self.clock() - record.created_at > RESPONSE_URL_TTL_SECONDS:
                return HttpAnswer.text("expired_url", 404)
            if record.uses >= RESPONSE_URL_MAX_USES:
                return HttpAnswer.text("used_url", 404)
            payload = response_payload(content_type, body)
            if payload is None:
                return HttpAnswer.text("invalid_payload", 400)
            record.uses += 1
            error = self._apply_response(record, payload)
            self._calls.append(ApiCall("response_url", copy.deepcopy(payload), error))
            return HttpAnswer.text(error, 400) if error else HttpAnswer.text("ok")

    def _apply_response(self, record: ResponseUrl, payload: dict[str, Any]) -> str | None:
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

