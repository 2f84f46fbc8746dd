"""Inbound Slack only: each listener acks, parses, makes one service call and renders the answer."""

from concurrent.futures import Executor

from slack_bolt import App

from bot.concurrency import InFlight
from bot.service import OffboardService
from handlers import actions, commands, errors, events, options, views


def register(app: App, service: OffboardService, *, answers: Executor | None = None,
             in_flight: InFlight | None = None) -> None:
    """Attach every listener to the Bolt app; what listeners do after their ack runs on `answers`, once the
    requests `in_flight` were answered."""
    guard = errors.register(app, service, answers=answers, in_flight=in_flight)
    commands.register(app, service, guard)
    actions.register(app, service, guard)
    views.register(app, service, guard)
    events.register(app, service, guard)
    options.register(app, service, guard)
