"""/offboard: parse the text, call the service, answer privately."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.commands import Verb
from bot.domain.records import Actor
from bot.service import OffboardService
from bot.slack import blocks
from bot.slack.ids import COMMAND
from bot.slack.messages.events import answer
from handlers.deferral import Guard
from handlers.parsing import parse_command
from handlers.replies import open_form

NAMING_USERS = frozenset({Verb.DELETE, Verb.DEACTIVATE, Verb.REACTIVATE, Verb.RENAME})  # read the console


def names_users(body: dict) -> bool:
    """Whether the command names users, which the console is asked about (the console lane); anything else,
    a command that cannot be parsed included, only reads our records (the quick lane)."""
    try:
        return parse_command(body.get("text") or "").verb in NAMING_USERS
    except Exception:  # the listener parses it again and says what is wrong
        return False


def register(app: App, service: OffboardService, guard: Guard) -> None:
    results = service.core.policy.channels.results

    @app.command(COMMAND)
    @guard.after_ack(inline_when=lambda body: not (body.get("text") or "").strip(),  # the form: a trigger id
                     console_when=names_users)
    def offboard(ack: Ack, body: dict, respond: Respond, client: WebClient, actor: Actor) -> None:
        ack()
        command = parse_command(body.get("text") or "")
        if command.verb is Verb.HELP:
            respond(**blocks.help_message(service.core.now()))
        elif command.verb is Verb.MODAL:
            open_form(service, client, actor=actor, trigger_id=body["trigger_id"], channel=body.get("channel_id"))
        elif command.verb is Verb.STATUS:
            respond(**blocks.status_message(service.queries.status(actor=actor, request_id=command.request_id)))
        elif command.verb is Verb.LIST:
            respond(**blocks.list_message(service.queries.open_requests(actor=actor)))
        elif command.verb is Verb.CANCEL:
            event = service.decisions.cancel(actor=actor, request_id=command.request_id)
            respond(**blocks.notice(answer(event, results=results)))
        else:
            drafted = service.intake.prepare(actor=actor, command=command, origin_channel=body.get("channel_id"))
            respond(**blocks.preview(drafted.request))
