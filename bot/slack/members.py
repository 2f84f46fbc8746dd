"""Looks up workspace members (and the workspace itself) through the Slack Web API."""

from __future__ import annotations

import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.emails import normal_email
from bot.ports import Member

EMAIL_CACHE_SECONDS = 600.0


class SlackMembers:
    """The MemberDirectory port over users.info; always asks Slack, so admin checks are current."""

    def __init__(self, *, client: WebClient) -> None:
        self._client = client
        self._team_id: str | None = None
        self._by_email: dict[str, tuple[float, Member | None]] = {}  # for showing admins, not for deciding
        self._lock = threading.Lock()

    def home_team_id(self) -> str:
        with self._lock:
            if self._team_id is None:
                self._team_id = self._client.auth_test()["team_id"]
            return self._team_id

    def find_by_email(self, *, email: str) -> Member | None:
        now = time.monotonic()
        with self._lock:
            cached = self._by_email.get(normal_email(email))
        if cached and cached[0] > now:
            return cached[1]
        try:
            user_id = self._client.users_lookupByEmail(email=email)["user"]["id"]
        except SlackApiError as error:
            if error.response.get("error") != "users_not_found":
                raise
            found = None
        else:
            found = self.member(user_id=user_id)
        with self._lock:
            self._by_email[normal_email(email)] = (now + EMAIL_CACHE_SECONDS, found)
        return found

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
            is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
            tz=user.get("tz") or "UTC",
        )
