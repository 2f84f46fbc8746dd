"""Button clicks: on the private preview, the approval message, the results message and the App Home tab."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.lifecycle import RequestState
from bot.service import Decision, OffboardService
from bot.slack import blocks
from bot.slack.ids import ActionId, BlockId
from bot.slack.values import RequestRef
from handlers.errors import Guard
from handlers.payload import actor_from, answer_privately, checked


def _ref(body: dict) -> str:
    return RequestRef.load((body.get("actions") or [{}])[0].get("value")).r


def _decide(body: dict, client: WebClient, decide: Callable[..., Decision]) -> None:
    """Make the clicked decision on the request the button names, and tell the clicker how it went."""
    decision = decide(actor=actor_from(body), request_id=_ref(body))
    answer_privately(body, client, blocks.notice(decision.message))


def register(app: App, service: OffboardService, guard: Guard) -> None:
    @app.action(ActionId.REQUEST_APPROVAL.value)
    @app.action(ActionId.CONFIRM.value)
    @guard.after_ack
    def go_ahead(ack: Ack, body: dict, respond: Respond) -> None:
        ack()
        attested = "attested" in checked(body, BlockId.ATTESTATION.value, ActionId.ATTEST_CONTACT_CENTER.value)
        request = service.submit(actor=actor_from(body), request_id=_ref(body), attested=attested)
        if request.state is RequestState.AWAITING_APPROVAL:
            where = f" in <#{request.message_channel}>" if request.message_channel else ""
            note = f"Sent for approval{where}. I will tell you how it ends."
        else:
            note = "Confirmed. It is running now; I will send you the outcome."
        respond(replace_original=True, **blocks.preview_closed(request, note))

    @app.action(ActionId.CANCEL_REQUEST.value)
    @guard.after_ack
    def cancel(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        _decide(body, client, service.cancel)

    @app.action(ActionId.DISCARD.value)
    @guard.after_ack
    def discard(ack: Ack, body: dict, respond: Respond) -> None:
        ack()
        decision = service.cancel(actor=actor_from(body), request_id=_ref(body))
        respond(replace_original=True, **blocks.preview_closed(decision.request, decision.message))

    @app.action(ActionId.ATTEST_CONTACT_CENTER.value)
    @guard
    def attest(ack: Ack) -> None:
        ack()  # the ticked box travels with the next button click

    @app.action(ActionId.APPROVE.value)
    @guard.after_ack
    def approve(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        _decide(body, client, service.approve)

    @app.action(ActionId.REJECT.value)
    @guard  # opens a modal: on the listener thread, within its trigger id's 3 s
    def reject(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        request = service.check_can_reject(actor=actor_from(body), request_id=_ref(body))
        client.views_open(trigger_id=body["trigger_id"], view=blocks.reject_modal(request))

    @app.action(ActionId.RECHECK.value)
    @guard.after_ack
    def recheck(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        _decide(body, client, service.recheck)

    @app.action(ActionId.STOP_WAITING.value)
    @guard.after_ack
    def stop_waiting(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        _decide(body, client, service.stop_waiting)

    @app.action(ActionId.RETRY_FAILED.value)
    @guard.after_ack
    def retry_failed(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        draft = service.retry_failed(actor=actor_from(body), request_id=_ref(body))
        # The results channel is public: the new plan goes to the clicker only, and the results stay as they are.
        answer_privately(body, client, blocks.preview(draft))
