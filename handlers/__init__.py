"""Inbound Slack only: each listener acks, parses, makes one service call and renders the answer."""

from slack_bolt import App

from bot.service import OffboardService
from handlers import actions, commands, errors, views


def register(app: App, service: OffboardService) -> None:
    """Attach every listener to the Bolt app."""
    errors.register(app, service)
    commands.register(app, service)
    actions.register(app, service)
    views.register(app, service)
