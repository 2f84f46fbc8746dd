"""What every Slack request passes before its listener: its trace id, the refusal of a request that could not
be checked against the replay record, and the typed actor and request ref listeners receive."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient

from bot.ambient import current_trace_id, trace_scope
from bot.errors import BadCommand
from bot.slack import blocks
from bot.slack.values import RequestRef
from handlers.payload import actor_from, request_ref_text
from handlers.replies import reply_quietly

STORAGE_DOWN_KEY = "offboard_storage_down"  # set in the context by the HTTP server: the replay record did not answer
NOT_TAKEN = ("My database is not answering, so I did not take this: nothing was done. Try again in a minute; if "
             "it keeps happening, tell whoever runs the bot.")


def register(app: App, *, quick: Executor | None) -> None:
    @app.middleware
    def tag_request(context: BoltContext, next_: Callable[[], BoltResponse]) -> BoltResponse:
        """Give the Slack request its trace id (the HTTP server's, else a new one) for its log lines and error
        id; the listener's thread and the jobs it starts inherit it (TrackedExecutor copies the context)."""
        with trace_scope(current_trace_id()) as trace_id:
            context["trace_id"] = trace_id
            return next_()

    @app.middleware
    def refuse_while_storage_is_down(context: BoltContext, body: dict, client: WebClient,
                                     next_: Callable[[], BoltResponse]) -> BoltResponse:
        """A request the replay record could not be checked against is not taken (it may be a replay sent
        to another replica). It is acked, and whoever sent it is told why, in the way its kind allows."""
        if not context.get(STORAGE_DOWN_KEY):
            return next_()
        kind = body.get("type")
        if kind == "block_suggestion":  # a keystroke in a picker: no options, and no message per keystroke
            return BoltResponse(status=200, body={"options": []})
        if kind == "view_submission":  # keep the form open, with what was typed, and say why on its first field
            field = next((block.get("block_id") for block in (body.get("view") or {}).get("blocks") or []
                          if block.get("type") == "input" and block.get("block_id")), None)
            if field:
                return BoltResponse(status=200, body={"response_action": "errors", "errors": {field: NOT_TAKEN[:150]}})
        if kind in ("block_actions", None) and actor_from(body).user_id:  # a click, or a command (no type)
            message = blocks.refusal(NOT_TAKEN, reference=current_trace_id())

            if quick is not None:
                quick.submit(reply_quietly, client, body, message)
            else:
                reply_quietly(client, body, message)
        return BoltResponse(status=200, body="")

    @app.middleware
    def typed_context(context: BoltContext, body: dict, next_: Callable[[], BoltResponse]) -> BoltResponse:
        """Who acts (from the signed payload only) and which request the button or modal names (a value the bot
        did not write becomes the refusal the listener raises after its ack)."""
        context["actor"] = actor_from(body)
        text = request_ref_text(body)
        try:
            context["ref"] = RequestRef.load(text) if text is not None else None
        except BadCommand as refusal:
            context["ref"] = refusal
        return next_()
