"""The global shortcut "Offboard someone": the /offboard form, for whoever does not remember the syntax."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.records import Actor
from bot.service import OffboardService
from bot.slack.ids import ShortcutId
from handlers.deferral import Guard
from handlers.replies import open_form


def register(app: App, service: OffboardService, guard: Guard) -> None:

    @app.shortcut(ShortcutId.OFFBOARD_SOMEONE.value)
    @guard  # opens a modal: on the listener thread, within its trigger id's 3 s
    def offboard_someone(ack: Ack, body: dict, client: WebClient, actor: Actor) -> None:
        ack()
        open_form(service, client, actor=actor, trigger_id=body["trigger_id"])
