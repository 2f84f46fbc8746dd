"""The one error handler: known errors become plain words for the admin, unknown ones get an id to quote."""

from __future__ import annotations

import logging
import uuid

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.domain.text import escape
from bot.errors import OffboardError, Refusal
from bot.service import OffboardService
from bot.slack import blocks
from handlers.payload import actor_from, doing_from

log = logging.getLogger("offboard.errors")


def register(app: App, service: OffboardService) -> None:
    @app.error
    def handle(error: Exception, body: dict, client: WebClient) -> None:
        actor = actor_from(body)
        if isinstance(error, Refusal):
            service.record_refusal(actor=actor, refusal=error, doing=doing_from(body))
            message = blocks.refusal(error.message)
        elif isinstance(error, OffboardError):  # e.g. the console refused a read: its words are not ours
            log.warning("%s failed: %s", doing_from(body), error.message)
            message = blocks.refusal(escape(error.message))
        else:
            error_id = uuid.uuid4().hex[:10]
            log.error("unexpected error %s while handling %s", error_id, doing_from(body), exc_info=error)
            message = blocks.refusal(f"Something went wrong on my side (error id `{error_id}`). Whatever was "
                                     "already recorded is kept: check `/offboard list`, and quote the id to "
                                     "whoever runs the bot.")
        _reply(client, body, actor.user_id, message)


def _reply(client: WebClient, body: dict, user_id: str, message: dict) -> None:
    """Answer the actor privately: through the response URL when the payload has one, else by DM."""
    response_url = body.get("response_url")
    try:
        if response_url:
            WebhookClient(response_url).send(response_type="ephemeral", replace_original=False, **message)
        else:
            client.chat_postMessage(channel=user_id, **message)
    except (SlackApiError, OSError) as failure:
        log.warning("could not tell %s about an error: %s", user_id, failure)
