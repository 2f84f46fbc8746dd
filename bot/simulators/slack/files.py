"""Files in the fake Slack, as files_upload_v2 sends them in three steps: files.getUploadURLExternal reserves a
file and hands out an upload URL, the bytes are POSTed to it (`serve_upload`), and files.completeUploadExternal
shares the files in one message of a channel (or a thread), or keeps them private.

`inject_failure(UPLOAD)` makes the POST of the bytes fail. Methods whose name starts with `_api_` are Web API
methods (api.py routes to them); `serve_upload` is what the HTTP server calls.
"""

from __future__ import annotations

import copy
import json
import secrets
from typing import Any

from bot.simulators.slack.http import ApiError, HttpAnswer, require, upload_bytes
from bot.simulators.slack.model import UPLOAD, ApiCall, Channel, UploadedFile
from bot.simulators.slack.state import SlackState


class FileMethods(SlackState):
    """files.getUploadURLExternal, the upload URL, files.completeUploadExternal, and what was uploaded."""

    def files(self, channel_id: str | None = None) -> list[UploadedFile]:
        """The files shared in a channel (thread replies included), or, without one, every file the app
        reserved, uploaded or shared."""
        with self._lock:
            found = [f for f in self._files.values() if channel_id is None or f.channel_id == channel_id]
            return copy.deepcopy(found)

    def _api_files_get_upload_url_external(self, params: dict[str, Any]) -> dict[str, Any]:
        """Reserve a file and hand out the URL its bytes go to."""
        require(params, "filename")
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

    def serve_upload(self, token: str, content_type: str | None, body: bytes) -> HttpAnswer:
        """The POST of a file's bytes (raw, or the file part of a multipart form) to its upload URL."""
        with self._state():
            try:
                self._raise_injected_fault(UPLOAD)
            except ApiError as failure:
                self._calls.append(ApiCall(UPLOAD, {"length": len(body)}, failure.code))
                status = failure.status if failure.status >= 400 else 500
                return HttpAnswer(status, failure.code.encode(), "text/plain; charset=utf-8", failure.headers)
            record = self._files.get(self._upload_tokens.get(token, ""))
            if record is None or record.completed:
                self._calls.append(ApiCall(UPLOAD, {"length": len(body)}, "not_found"))
                return HttpAnswer.text("not_found", 404)
            record.content = upload_bytes(content_type, body)
            self._calls.append(ApiCall(UPLOAD, {"file_id": record.id, "length": len(record.content)}, None))
            return HttpAnswer(200, f"OK - {len(record.content)}".encode(), "text/plain; charset=utf-8")


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

