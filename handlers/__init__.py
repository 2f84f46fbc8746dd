"""Inbound Slack only: each listener acks, parses, makes one service call and renders the answer."""

from concurrent.futures import Executor

from slack_bolt import App

from bot.service import OffboardService
from handlers import actions, commands, errors, events, options, views


def register(app: App, service: OffboardService, *, answers: Executor | None = None) -> None:
    """Attach every listener to the Bolt app; what listeners do after their ack runs on `answers`."""
    guard = errors.register(app, service, answers=answers)
    commands.register(app, service, guard)
    actions.register(app, service, guard)
    views.register(app, service, guard)
    events.register(app, service, guard)
    options.register(app, service, guard)
