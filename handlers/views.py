"""Modal submissions: the /offboard form and the rejection reason."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextvars import copy_context

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.commands import MAX_REASON, command_from_form
from bot.errors import BadCommand, Refusal
from bot.service import OffboardService
from bot.slack import blocks
from bot.slack.blocks import clip
from bot.slack.ids import BlockId, CallbackId
from bot.slack.values import ModalOrigin, RequestRef
from handlers.errors import Guard
from handlers.payload import actor_from, doing_from, input_datetime, input_value, input_values

FIELD_ERROR_LIMIT = 2000  # Slack shows at most this much under a field
CHECK_DEADLINE = 2.0  # seconds to check a form before answering; Slack gives up on the answer after 3


def register(app: App, service: OffboardService, guard: Guard) -> None:
    checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="offboard-form")  # lives as long as the app
    @app.view(CallbackId.NEW_REQUEST.value)
    @guard
    def new_request(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        picked = " ".join(value for value in input_values(view, BlockId.PICKED_USERS.value) if value.strip())
        typed = input_value(view, BlockId.USERS.value)
        actor = actor_from(body)
        try:
            if not (picked or typed).strip():
                raise BadCommand("Pick or type at least one user.", field=BlockId.PICKED_USERS.value)
            command = command_from_form(
                action=input_value(view, BlockId.ACTION.value), users=f"{picked} {typed}".strip(),
                new_username=input_value(view, BlockId.NEW_USERNAME.value),
                reason=input_value(view, BlockId.REASON.value), at=input_datetime(view, BlockId.RUN_AT.value),
                grace=input_value(view, BlockId.GRACE.value), retain=input_value(view, BlockId.RETAIN.value))
            origin = ModalOrigin.load(view.get("private_metadata"))
            # Checked before the form closes, so what is wrong shows next to the field that has it; when the
            # console is too slow for Slack's deadline, the form closes and the answer follows privately.
            checking = checks.submit(copy_context().run, service.prepare, actor=actor, command=command,
                                     origin_channel=origin.channel)
            request = checking.result(timeout=CHECK_DEADLINE)
        except FutureTimeout:
            ack()
            request = checking.result()  # a refusal now goes to the admin privately, through the error handler
            show_privately(client, user_id=actor.user_id, channel_id=origin.channel, message=blocks.preview(request))
            return
        except Refusal as problem:
            field = getattr(problem, "field", None) or (BlockId.PICKED_USERS.value if picked else BlockId.USERS.value)
            ack(response_action="errors", errors={field: clip(problem.message, FIELD_ERROR_LIMIT)})
            service.record_refusal(actor=actor, refusal=problem, doing=doing_from(body))
            return
        ack()
        show_privately(client, user_id=actor.user_id, channel_id=origin.channel, message=blocks.preview(request))

    @app.view(CallbackId.REJECT_REASON.value)
    @guard
    def reject_reason(ack: Ack, body: dict, view: dict) -> None:
        reason = input_value(view, BlockId.REASON.value).strip()
        if not reason or len(reason) > MAX_REASON:
            problem = BadCommand(f"Say why, in at most {MAX_REASON} characters.", field=BlockId.REASON.value)
            ack(response_action="errors", errors={problem.field: problem.message})
            service.record_refusal(actor=actor_from(body), refusal=problem, doing=doing_from(body))
            return
        ack()
        request_id = RequestRef.load(view.get("private_metadata")).r
        service.reject(actor=actor_from(body), request_id=request_id, reason=reason)


def show_privately(client: WebClient, *, user_id: str, channel_id: str | None, message: dict) -> None:
    """Show a message only to user_id: as an ephemeral where they are, else in a direct message."""
    if channel_id and not channel_id.startswith("D"):
        try:
            client.chat_postEphemeral(channel=channel_id, user=user_id, **message)
            return
        except SlackApiError:
            pass  # the bot is not in that channel: fall back to a direct message
    client.chat_postMessage(channel=user_id, **message)
