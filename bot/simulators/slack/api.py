"""The fake Slack's Web API: which methods it knows, the token and scope each needs, and the methods for auth,
apps, users, conversations and chat (views.* are in views.py, files.* in files.py).

A call is checked as Slack checks it: the token (the bot token, or the app-level token for
apps.connections.open), the method, an injected fault, then the scopes. `serve_api` logs every call (calls())
and answers with Slack's `x-oauth-scopes` headers.
"""

from __future__ import annotations

import copy
from typing import Any

from bot.simulators.slack.blocks import block_problems
from bot.simulators.slack.files import FileMethods
from bot.simulators.slack.functions import FunctionMethods
from bot.simulators.slack.http import ApiError, HttpAnswer, invalid, parse_params, require
from bot.simulators.slack.model import MAX_MESSAGE_BLOCKS, MAX_TEXT_LENGTH, ApiCall, Channel, Member, Message
from bot.simulators.slack.views import ViewMethods

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
    "functions.completeSuccess": ("_api_functions_complete_success", ()),
    "functions.completeError": ("_api_functions_complete_error", ()),
}


class WebApi(ViewMethods, FileMethods, FunctionMethods):
    """Serves /api/<method>: checks the call, then runs the method's `_api_` handler with the state lock held."""

    def serve_api(self, method: str, query: str, content_type: str | None, auth: str | None,
                  body: bytes) -> HttpAnswer:
        params: dict[str, Any] = {}
        with self._state():
            try:
                params = parse_params(query, content_type, body)
                result = self._call_api(method, params, auth)
            except ApiError as failure:
                self._calls.append(ApiCall(method, copy.deepcopy(params), failure.code))
                data = {"ok": False, "error": failure.code, **failure.extra}
                return HttpAnswer.json(data, failure.status, {**self._scope_headers(method), **failure.headers})
            self._calls.append(ApiCall(method, copy.deepcopy(params), None))
            return HttpAnswer.json({"ok": True, **result}, headers=self._scope_headers(method))

    def _scope_headers(self, method: str) -> dict[str, str]:
        accepted = _API_METHODS.get(method, ("", ()))[1]
        return {"x-oauth-scopes": ",".join(sorted(self.scopes)), "x-accepted-oauth-scopes": ",".join(accepted)}

    def _call_api(self, method: str, params: dict[str, Any], auth: str | None) -> dict[str, Any]:
        token = auth[len("Bearer ") :] if auth and auth.startswith("Bearer ") else params.pop("token", None)
        params.pop("token", None)
        if method not in _APP_TOKEN_METHODS and token in self._running_function_tokens():
            token = self.bot_token  # a running step's just-in-time token acts as the bot's
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

    # ---------------------------------------------------------------- Web API methods (lock held)

    def _api_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        result = {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_domain,
            "user": self._members[self.bot_user_id].name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": self.is_enterprise_install,
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
            "is_restricted": member.is_restricted,
            "is_ultra_restricted": member.is_ultra_restricted,
            "tz": member.tz,
            "is_email_confirmed": member.email_confirmed,
            "profile": profile,
        }

    def _api_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        require(params, "user")
        member = self._members.get(str(params["user"]))
        if member is None:
            raise ApiError("user_not_found")
        return {"user": self._user_json(member)}

    def _api_users_lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        require(params, "email")
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
        require(params, "channel")
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

    @staticmethod
    def _content(params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        text = str(params.get("text") or "")
        blocks = params.get("blocks") or []
        if len(text) > MAX_TEXT_LENGTH:
            raise ApiError("msg_too_long")
        problems = block_problems(blocks, max_blocks=MAX_MESSAGE_BLOCKS)
        if problems:
            raise invalid("invalid_blocks", problems)
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
        require(params, "channel", "ts")
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
        require(params, "channel", "user")
        channel = self._resolve_channel(params.get("channel"))
        user_id = str(params["user"])
        if user_id not in self._members:
            raise ApiError("user_not_found")
        text, blocks = self._content(params)
        if not text and not blocks:
            raise ApiError("no_text")
        ephemeral = self._post_ephemeral(channel.id, user_id, text, blocks)
        return {"message_ts": ephemeral.id}
