"""The one way to answer a member privately: in the conversation they acted in when Slack allows it, else in
a direct message; and the one way to open the new-request form for an admin."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.domain.records import Actor
from bot.service import OffboardService
from bot.slack import blocks
from bot.slack.values import ModalOrigin
from handlers.payload import actor_from

log = logging.getLogger("offboard.errors")


def reply_privately(client: WebClient, body: dict, message: dict, *, channel_id: str | None = None) -> None:
    """Show message to the member who acted, and to nobody else: through the payload's response URL when it has
    one (a command, a click in a message), else as an ephemeral in `channel_id` (where the form was opened),
    else (the App Home, a DM, a channel the bot is not in) as a direct message."""
    user_id = actor_from(body).user_id
    response_url = body.get("response_url")
    if response_url:
        WebhookClient(response_url).send(response_type="ephemeral", replace_original=False, **message)
        return
    if channel_id and not channel_id.startswith("D"):
        try:
            client.chat_postEphemeral(channel=channel_id, user=user_id, **message)
            return
        except SlackApiError:
            pass  # the bot is not in that channel: fall back to a direct message
    client.chat_postMessage(channel=user_id, **message)


def reply_quietly(client: WebClient, body: dict, message: dict) -> None:
    """reply_privately for errors and refusals: Slack being away is logged, never raised."""
    try:
        reply_privately(client, body, message)
    except (SlackApiError, OSError) as failure:
        log.warning("could not tell %s about an error: %s", actor_from(body).user_id, failure)


def open_form(service: OffboardService, client: WebClient, *, actor: Actor, trigger_id: str,
              channel: str | None = None) -> None:
    """Open the new-request form for an admin (a refusal for anyone else), on the listener thread: a trigger id
    lasts 3 s. `channel` is where the form was asked for, if anywhere."""
    service.queries.ensure_admin(actor=actor)
    client.views_open(trigger_id=trigger_id, view=blocks.new_request_modal(ModalOrigin(channel=channel)))
