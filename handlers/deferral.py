"""Ack first, work after: the decorator every listener wears.

`@guard` runs the listener and reports its errors from inside it (a listener that raises after its ack would
otherwise lose the ack: Bolt, seen in 1.30, drops an ack already made when the listener raises, and Slack
shows a 404 three seconds later although the admin had been answered).

`@guard.after_ack` also acks at once and does the listener's work in one of two lanes (`Lanes`): Bolt runs
each listener on its listener pool, and a listener that acks and then talks to the console holds its thread,
so under a burst the next acks would queue behind earlier requests' work. The work waits (briefly) for the
Slack requests still waiting for their ack, which share the interpreter with it.

- the **quick** lane: what touches only our own records and Slack (a decision, status, list, help). It never
  waits behind console work, so a Cancel pressed before a run's time is committed before it, whatever else
  the bot is doing;
- the **console** lane: what reads the console (a command that names users, a retry), one piece per member at
  a time and members taking turns, so one admin's long lists never hold up another admin's command.

Listeners may ask for `actor` (who acts, from the signed payload) and `ref` (the request a button or modal
names), which the middleware put in the context (handlers/middleware.py)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from slack_sdk import WebClient

from bot.ambient import current_trace_id, trace_scope
from bot.concurrency import FairQueue, InFlight

log = logging.getLogger("offboard.errors")
Listener = Callable[..., None]
QUIET_WAIT = 0.5  # seconds console work after an ack may wait for the requests in flight to be acked first
QUICK_QUIET_WAIT = 0.1  # the same for the quick lane: a decision is committed well within a second
TYPED = ("actor", "ref")  # what the middleware puts in the context for listeners to ask for


@dataclass(frozen=True)
class Lanes:
    """Where the work after an ack runs (see the module's docstring)."""

    quick: Executor
    console: FairQueue


class _Acked:
    """Stands in for Bolt's ack in a listener whose ack was already sent: calling it does nothing."""

    response = "acked"

    def __call__(self, *args, **kwargs) -> None:
        return None


class Guard:
    def __init__(self, report: Callable[[Exception, dict, WebClient], None], lanes: Lanes | None,
                 in_flight: InFlight) -> None:
        self._report = report
        self._lanes = lanes
        self._in_flight = in_flight

    def __call__(self, listener: Listener) -> Listener:
        return self._wrap(listener, deferred=False)

    def after_ack(self, listener: Listener | None = None, *, inline_when: Callable[[dict], bool] | None = None,
                  console_when: Callable[[dict], bool] | None = None) -> Listener | Callable[[Listener], Listener]:
        """For listeners that always ack first thing: ack here, run the rest off Bolt's listener thread, in the
        console lane when `console_when(body)` says the work reads the console, else in the quick lane.

        `inline_when(body)` keeps a request on the listener thread: one that opens a modal must do so
        within the 3 s its trigger id lives, so it never queues behind other requests' work."""
        if listener is None:
            return lambda decorated: self.after_ack(decorated, inline_when=inline_when, console_when=console_when)
        return self._wrap(listener, deferred=self._lanes is not None, inline_when=inline_when,
                          console_when=console_when)

    def _after_acks(self, run: Callable[..., None], kwargs: dict, quiet_wait: float) -> None:
        """Run the work once the requests in flight were acked (Slack's 3 s are hard, an answer's are
        not), waiting `quiet_wait` at most, so a steady stream of requests never holds it back for long."""
        self._in_flight.wait_quiet(quiet_wait)
        run(**kwargs)

    def _hand_over(self, run: Callable[..., None], kwargs: dict, *, console: bool) -> None:
        kwargs = {**kwargs, "ack": _Acked()}
        if console:
            self._lanes.console.submit(_member(kwargs), self._after_acks, run, kwargs, QUIET_WAIT)
        else:
            self._lanes.quick.submit(self._after_acks, run, kwargs, QUICK_QUIET_WAIT)

    def _wrap(self, listener: Listener, *, deferred: bool, inline_when: Callable[[dict], bool] | None = None,
              console_when: Callable[[dict], bool] | None = None) -> Listener:
        names = list(inspect.signature(listener).parameters)
        wanted = [name for name in names if name not in TYPED]
        wanted += [name for name in ("ack", "body", "client", "context") if name not in wanted]

        def run(**kwargs) -> None:
            # Bolt runs a listener after the middleware returned: the request's trace id (the middleware's) is put
            # back here, so its log lines and the `ref` of a refusal carry it however the request came (HTTP,
            # Socket Mode, the shell).
            with trace_scope(kwargs["context"].get("trace_id") or current_trace_id()):
                try:
                    listener(**{name: _typed(name, kwargs) for name in names})
                except Exception as error:
                    if kwargs["ack"].response is None:
                        kwargs["ack"]()
                    try:
                        self._report(error, kwargs["body"], kwargs["client"])
                    except Exception:  # e.g. the database is down: never let Bolt drop the ack over it
                        log.exception("could not report an error from %s", listener.__name__)

        def guarded(**kwargs) -> None:
            if not deferred or (inline_when is not None and inline_when(kwargs["body"])):
                run(**kwargs)
                return
            kwargs["ack"]()
            self._hand_over(run, kwargs, console=console_when is not None and console_when(kwargs["body"]))

        # Bolt passes a listener the arguments its signature names (not through __wrapped__, which it unwraps).
        guarded.__signature__ = inspect.Signature(
            [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in wanted])
        guarded.__name__ = guarded.__qualname__ = listener.__name__
        return guarded


def _member(kwargs: dict) -> str:
    """Whose work it is, for the console lane's turns: the signed payload's user (the team's, failing that)."""
    context = kwargs["context"]
    return str(context.get("user_id") or context.get("team_id") or "")


def _typed(name: str, kwargs: dict):
    """A listener's argument: Bolt's own, or the actor or request ref the middleware put in the context (a
    button value the bot did not write is refused here, after the ack)."""
    if name not in TYPED:
        return kwargs[name]
    value = kwargs["context"][name]
    if isinstance(value, Exception):
        raise value
    return value
