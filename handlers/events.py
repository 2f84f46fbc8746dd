"""Events: the App Home tab, drawn for whoever opens it."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.domain.records import Actor
from bot.service import OffboardService
from bot.slack import blocks
from handlers.deferral import Guard


def register(app: App, service: OffboardService, guard: Guard) -> None:
    @app.event("app_home_opened")
    def home_opened(body: dict, event: dict, client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        actor = Actor(user_id=event.get("user", ""), team_id=body.get("team_id"),
                      enterprise_id=body.get("enterprise_id"))
        client.views_publish(user_id=actor.user_id, view=blocks.home_view(service.queries.home(actor=actor)))
