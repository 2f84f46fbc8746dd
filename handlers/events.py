"""Events: the App Home tab, drawn for whoever opens it."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.domain.records import Actor
from bot.service import OffboardService
from bot.slack import blocks
from bot.slack.blocks.demo import MAX_VIEW_BLOCKS, marked
from handlers.deferral import Guard


def register(app: App, service: OffboardService, guard: Guard, *, demo: bool = False) -> None:
    """`demo`: the console is the local demo directory, and the App Home says so."""

    @app.event("app_home_opened")
    def home_opened(body: dict, event: dict, client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        actor = Actor(user_id=event.get("user", ""), team_id=body.get("team_id"),
                      enterprise_id=body.get("enterprise_id"))
        view = blocks.home_view(service.queries.home(actor=actor))
        client.views_publish(user_id=actor.user_id, view=marked(view, limit=MAX_VIEW_BLOCKS) if demo else view)
