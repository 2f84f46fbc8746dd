"""Looks up workspace members (and the workspace itself) through the Slack Web API."""

from __future__ import annotations

import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.ports import Member


class SlackMembers:
    """The MemberDirectory port over users.info; always asks Slack, so admin checks are current."""

    def __init__(self, *, client: WebClient) -> None:
        self._client = client
        self._team_id: str | None = None
        self._lock = threading.Lock()

    def home_team_id(self) -> str:
        with self._lock:
            if self._team_id is None:
                self._team_id = self._client.auth_test()["team_id"]
            return self._team_id

    def member(self, *, user_id: str) -> Member | None:
        try:
            user = self._client.users_info(user=user_id)["user"]
        except SlackApiError as error:
            if error.response.get("error") in ("user_not_found", "users_not_found"):
                return None
            raise
        profile = user.get("profile") or {}
        return Member(
            user_id=user["id"],
            team_id=user.get("team_id", ""),
            name=user.get("name", ""),
            email=profile.get("email"),
            email_verified=bool(user.get("is_email_confirmed", False)),  # unknown counts as unverified
            is_bot=bool(user.get("is_bot")),
            deleted=bool(user.get("deleted")),
            is_stranger=bool(user.get("is_stranger")),
            tz=user.get("tz") or "UTC",
        )
