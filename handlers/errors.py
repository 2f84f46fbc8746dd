"""The one error handler: known errors become plain words for the admin, unknown ones get an id to quote.

That id is the Slack request's trace id, which every log line of the request carries (bot.ambient)."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.ambient import current_trace_id, new_trace_id, trace_scope
from bot.errors import OffboardError, Refusal, StorageUnavailable
from bot.service import OffboardService
from bot.slack import blocks
from bot.slack.markup import escape
from bot.slack.messages.refusals import STORAGE_DOWN, refusal_text
from handlers.payload import actor_from, doing_from
from handlers.replies import reply_quietly

log = logging.getLogger("offboard.errors")


class Reporter:
    """Tells the admin what went wrong, privately; audits refusals; logs the rest for whoever runs the bot."""

    def __init__(self, service: OffboardService) -> None:
        self._service = service

    def __call__(self, error: Exception, body: dict, client: WebClient) -> None:
        reference = current_trace_id()  # in every answer, so an admin can quote it and we can find the logs
        doing = doing_from(body)
        if isinstance(error, Refusal):
            self._service.queries.record_refusal(actor=actor_from(body), refusal=error, doing=doing)
            log.info("refused %s: %s", doing, error.code)
            message = blocks.refusal(refusal_text(error), reference=reference)
        elif isinstance(error, StorageUnavailable):
            log.warning("%s failed: the database did not answer", doing, exc_info=error)
            message = blocks.refusal(STORAGE_DOWN, reference=reference)
        elif isinstance(error, OffboardError):  # e.g. the console refused a read: its words are not ours
            log.warning("%s failed: %s", doing, error.message)
            message = blocks.refusal(escape(error.message), reference=reference)
        else:
            error_id = reference or new_trace_id()
            log.error("unexpected error %s while handling %s", error_id, doing, exc_info=error)
            message = blocks.refusal(f"Something went wrong on my side (error id `{error_id}`). Whatever was "
                                     "already recorded is kept: check `/offboard list`, and quote the id to "
                                     "whoever runs the bot.")
        reply_quietly(client, body, message)


def register(app: App, reporter: Reporter) -> None:
    """Install the one error handler, for what listeners did not report themselves."""

    @app.error
    def handle(error: Exception, body: dict, client: WebClient, context: BoltContext) -> None:
        with trace_scope(context.get("trace_id") or current_trace_id()):
            reporter(error, body, client)
