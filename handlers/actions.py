"""Button clicks: on the private preview, the approval message, the results message and the App Home tab."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.events import Event
from bot.domain.records import Actor
from bot.service import OffboardService
from bot.slack import blocks
from bot.slack.ids import ActionId, BlockId
from bot.slack.messages.events import answer
from bot.slack.values import RequestRef
from handlers.deferral import Guard
from handlers.payload import checked
from handlers.replies import open_form, reply_privately

# The buttons whose click is one decision of the service (by name), answered privately with what it did.
DECISIONS: dict[ActionId, str] = {
    ActionId.APPROVE: "approve",
    ActionId.CANCEL_REQUEST: "cancel",
    ActionId.RECHECK: "recheck",
    ActionId.STOP_WAITING: "stop_waiting",
}


def register(app: App, service: OffboardService, guard: Guard) -> None:
    results = service.core.policy.channels.results
    decisions = service.decisions

    def decided_by(decision: Callable[..., Event]) -> Callable[..., None]:
        def decided(ack: Ack, body: dict, client: WebClient, actor: Actor, ref: RequestRef) -> None:
            ack()
            event = decision(actor=actor, request_id=ref.r)
            reply_privately(client, body, blocks.notice(answer(event, results=results)))

        decided.__name__ = decision.__name__
        return decided

    for action_id, name in DECISIONS.items():
        app.action(action_id.value)(guard.after_ack(decided_by(getattr(decisions, name))))

    @app.action(ActionId.REQUEST_APPROVAL.value)
    @app.action(ActionId.CONFIRM.value)
    @guard.after_ack
    def go_ahead(ack: Ack, body: dict, respond: Respond, actor: Actor, ref: RequestRef) -> None:
        ack()
        ticked = (checked(body, BlockId.CHECKLIST.value, ActionId.CHECKLIST.value)
                  | checked(body, BlockId.ATTESTATION.value, ActionId.ATTEST_CONTACT_CENTER.value))
        event = service.intake.submit(actor=actor, request_id=ref.r, ticked=ticked)
        respond(replace_original=True, **blocks.preview_closed(event.request, answer(event, results=results)))

    @app.action(ActionId.DISCARD.value)
    @guard.after_ack
    def discard(ack: Ack, respond: Respond, actor: Actor, ref: RequestRef) -> None:
        ack()
        event = decisions.cancel(actor=actor, request_id=ref.r)
        respond(replace_original=True, **blocks.preview_closed(event.request, answer(event, results=results)))

    @app.action(ActionId.CHECKLIST.value)
    @app.action(ActionId.ATTEST_CONTACT_CENTER.value)
    @guard
    def tick(ack: Ack) -> None:
        ack()  # the ticked boxes travel with the next button click

    @app.action(ActionId.REJECT.value)
    @guard  # opens a modal: on the listener thread, within its trigger id's 3 s
    def reject(ack: Ack, body: dict, client: WebClient, actor: Actor, ref: RequestRef) -> None:
        ack()
        request = decisions.check_can_reject(actor=actor, request_id=ref.r)
        client.views_open(trigger_id=body["trigger_id"], view=blocks.reject_modal(request))

    @app.action(ActionId.RETRY_FAILED.value)
    @guard.after_ack(console_when=lambda body: True)  # names the failed users again: the console lane
    def retry_failed(ack: Ack, body: dict, client: WebClient, actor: Actor, ref: RequestRef) -> None:
        ack()
        drafted = service.intake.retry_failed(actor=actor, request_id=ref.r)
        # The results channel is public: the new plan goes to the clicker only, and the results stay as they are.
        reply_privately(client, body, blocks.preview(drafted.request))

    _register_ways_in(app, service, guard)


def _register_ways_in(app: App, service: OffboardService, guard: Guard) -> None:
    """The buttons that start a request: a workflow's Take it, and the App Home's Open the form."""

    @app.action(ActionId.TAKE_PROPOSAL.value)
    @guard.after_ack(console_when=lambda body: True)  # makes the plan: reads the console
    def take_proposal(ack: Ack, body: dict, client: WebClient, actor: Actor, ref: RequestRef) -> None:
        ack()
        drafted = service.workflows.take(actor=actor, request_id=ref.r)
        # The approvals channel is shared: the plan and its checklist go to the admin who took it, only.
        reply_privately(client, body, blocks.preview(drafted.request))

    @app.action(ActionId.OPEN_FORM.value)
    @guard  # opens a modal: on the listener thread, within its trigger id's 3 s
    def open_form_from_home(ack: Ack, body: dict, client: WebClient, actor: Actor) -> None:
        ack()
        open_form(service, client, actor=actor, trigger_id=body["trigger_id"])
