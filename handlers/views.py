"""Modal submissions: the /offboard form and the rejection reason."""

from __future__ import annotations

from concurrent.futures import Executor
from concurrent.futures import TimeoutError as FutureTimeout
from contextvars import copy_context

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.commands import MAX_REASON, Command
from bot.domain.records import Actor
from bot.errors import BadCommand, Refusal
from bot.service import OffboardService
from bot.slack import blocks
from bot.slack.blocks import clip
from bot.slack.ids import BlockId, CallbackId
from bot.slack.messages.refusals import refusal_text
from bot.slack.values import ModalOrigin, RequestRef
from handlers.deferral import Guard
from handlers.parsing import command_from_form
from handlers.payload import doing_from, input_datetime, input_value, input_values
from handlers.replies import reply_privately

FIELD_ERROR_LIMIT = 2000  # Slack shows at most this much under a field
CHECK_DEADLINE = 2.0  # seconds to check a form before answering; Slack gives up on the answer after 3


def register(app: App, service: OffboardService, guard: Guard, *, forms: Executor | None) -> None:
    """`forms`: where a submitted form is checked (against the console) while Slack waits; inline when None."""

    def command_in(view: dict) -> Command:
        picked = " ".join(value for value in input_values(view, BlockId.PICKED_USERS.value) if value.strip())
        typed = input_value(view, BlockId.USERS.value)
        if not (picked or typed).strip():
            raise BadCommand("form_pick_users", field=BlockId.PICKED_USERS.value)
        return command_from_form(
            action=input_value(view, BlockId.ACTION.value), users=f"{picked} {typed}".strip(),
            new_username=input_value(view, BlockId.NEW_USERNAME.value),
            reason=input_value(view, BlockId.REASON.value), at=input_datetime(view, BlockId.RUN_AT.value),
            grace=input_value(view, BlockId.GRACE.value), retain=input_value(view, BlockId.RETAIN.value))

    def refuse_on_the_form(ack: Ack, body: dict, view: dict, actor: Actor, problem: Refusal) -> None:
        picked = any(value.strip() for value in input_values(view, BlockId.PICKED_USERS.value))
        field = problem.field or (BlockId.PICKED_USERS.value if picked else BlockId.USERS.value)
        ack(response_action="errors", errors={field: clip(refusal_text(problem), FIELD_ERROR_LIMIT)})
        service.queries.record_refusal(actor=actor, refusal=problem, doing=doing_from(body))

    @app.view(CallbackId.NEW_REQUEST.value)
    @guard
    def new_request(ack: Ack, body: dict, view: dict, client: WebClient, actor: Actor) -> None:
        origin = ModalOrigin.load(view.get("private_metadata"))
        try:
            command = command_in(view)
            # Checked before the form closes, so what is wrong shows next to the field that has it; when the
            # console is too slow for Slack's deadline, the form closes and the answer follows privately.
            prepare = service.intake.prepare
            if forms is None:
                drafted = prepare(actor=actor, command=command, origin_channel=origin.channel)
            else:
                checking = forms.submit(copy_context().run, prepare, actor=actor, command=command,
                                        origin_channel=origin.channel)
                drafted = checking.result(timeout=CHECK_DEADLINE)
        except FutureTimeout:
            ack()
            drafted = checking.result()  # a refusal now goes to the admin privately, through the error handler
        except Refusal as problem:
            refuse_on_the_form(ack, body, view, actor, problem)
            return
        else:
            ack()
        reply_privately(client, body, blocks.preview(drafted.request), channel_id=origin.channel)

    @app.view(CallbackId.REJECT_REASON.value)
    @guard
    def reject_reason(ack: Ack, body: dict, view: dict, actor: Actor, ref: RequestRef) -> None:
        reason = input_value(view, BlockId.REASON.value).strip()
        if not reason or len(reason) > MAX_REASON:
            refuse_on_the_form(ack, body, view, actor,
                               BadCommand("reason_missing", field=BlockId.REASON.value, limit=MAX_REASON))
            return
        ack()
        service.decisions.reject(actor=actor, request_id=ref.r, reason=reason)
