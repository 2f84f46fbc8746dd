"""Options for external selects: the form's user picker searches the admin console as the admin types."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App

from bot.domain.records import Actor
from bot.errors import OffboardError
from bot.service import OffboardService
from bot.slack import blocks
from bot.slack.ids import ActionId
from handlers.deferral import Guard

log = logging.getLogger(__name__)


def register(app: App, service: OffboardService, guard: Guard) -> None:
    @app.options(ActionId.PICK_USERS.value)
    @guard
    def pick_users(ack: Ack, body: dict, actor: Actor) -> None:
        try:
            found = service.queries.search_console(actor=actor, text=str(body.get("value") or "")[:100])
        except OffboardError:  # not an admin, or the console is away: nothing to offer (the submit explains)
            found = []
        except Exception:  # never a DM per keystroke: log it, offer nothing
            log.exception("the user picker's search failed")
            found = []
        ack(**blocks.user_options(found))
