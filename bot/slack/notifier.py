"""Posts and updates the bot's channel messages through the Slack Web API."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.domain.records import OffboardRequest
from bot.policy import Policy
from bot.ports import Home, NotificationFailed
from bot.slack import blocks


class SlackNotifier:
    """The Notifier port over slack_sdk; Slack failures become NotificationFailed."""

    def __init__(self, *, client: WebClient, policy: Policy) -> None:
        self._client = client
        self._policy = policy

    def announce(self, request: OffboardRequest, *, channel: str) -> tuple[str, str]:
        response = self._call(self._client.chat_postMessage, channel=channel, **blocks.approval_message(request))
        return response["channel"], response["ts"]

    def refresh(self, request: OffboardRequest) -> None:
        if request.message_channel and request.message_ts:
            self._call(self._client.chat_update, channel=request.message_channel, ts=request.message_ts,
                       **blocks.approval_message(request))

    def post_outcome(self, request: OffboardRequest) -> None:
        self._call(self._client.chat_postMessage, channel=self._policy.channels.results,
                   **blocks.outcome_message(request))

    def publish_home(self, home: Home) -> None:
        self._call(self._client.views_publish, user_id=home.user_id, view=blocks.home_view(home))

    def remind(self, request: OffboardRequest) -> None:
        if request.message_channel and request.message_ts:
            self._call(self._client.chat_postMessage, channel=request.message_channel,
                       thread_ts=request.message_ts, **blocks.reminder(request))

    def tell(self, user_id: str, text: str) -> None:
        self._call(self._client.chat_postMessage, channel=user_id, **blocks.notice(text))

    @staticmethod
    def _call(method, **kwargs):
        try:
            return method(**kwargs)
        except SlackApiError as error:
            raise NotificationFailed(f"Slack answered {error.response.get('error', 'an error')}") from error
        except SlackClientError as error:
            raise NotificationFailed(f"Slack could not be reached ({type(error).__name__})") from error
        except OSError as error:
            raise NotificationFailed(f"Slack could not be reached ({error})") from error
