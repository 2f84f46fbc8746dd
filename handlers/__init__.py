"""Inbound Slack only: each listener acks, parses, makes one service call and renders the answer.

Every Slack request passes the middleware (trace id, typed actor and request ref); every listener wears the
guard (ack first, work after, errors reported once); the one error handler says what went wrong."""

from concurrent.futures import Executor

from slack_bolt import App

from bot.concurrency import InFlight
from bot.service import OffboardService
from handlers import actions, commands, errors, events, middleware, options, views
from handlers.deferral import Guard


def register(app: App, service: OffboardService, *, answers: Executor | None = None, forms: Executor | None = None,
             in_flight: InFlight | None = None) -> None:
    """Attach the middleware and every listener to the Bolt app. What listeners do after their ack runs on
    `answers`, once the requests `in_flight` were answered; forms are checked on `forms` (inline when None)."""
    reporter = errors.Reporter(service)
    middleware.register(app, answers=answers)
    errors.register(app, reporter)
    guard = Guard(reporter, answers, in_flight or InFlight())
    commands.register(app, service, guard)
    actions.register(app, service, guard)
    views.register(app, service, guard, forms=forms)
    events.register(app, service, guard)
    options.register(app, service, guard)
