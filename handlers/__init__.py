"""Inbound Slack only: each listener acks, parses, makes one service call and renders the answer.

Every Slack request passes the middleware (trace id, typed actor and request ref); every listener wears the
guard (ack first, work after, errors reported once); the one error handler says what went wrong."""

from concurrent.futures import Executor

from slack_bolt import App

from bot.concurrency import InFlight
from bot.service import OffboardService
from handlers import actions, commands, errors, events, functions, middleware, options, shortcuts, views
from handlers.deferral import Guard, Lanes


def register(app: App, service: OffboardService, *, lanes: Lanes | None = None, forms: Executor | None = None,
             in_flight: InFlight | None = None, demo: bool = False) -> None:
    """Attach the middleware and every listener to the Bolt app. What listeners do after their ack runs in
    `lanes` (inline when None), once the requests `in_flight` were answered; forms are checked on `forms`.
    `demo`: the console is the local demo directory, which the App Home says."""
    reporter = errors.Reporter(service)
    middleware.register(app, quick=lanes.quick if lanes else None)
    errors.register(app, reporter)
    guard = Guard(reporter, lanes, in_flight or InFlight())
    commands.register(app, service, guard)
    actions.register(app, service, guard)
    views.register(app, service, guard, forms=forms)
    events.register(app, service, guard, demo=demo)
    options.register(app, service, guard)
    shortcuts.register(app, service, guard)
    functions.register(app, service, guard)
