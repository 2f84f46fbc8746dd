"""The one error handler: known errors become plain words for the admin, unknown ones get an id to quote.

That id is the Slack request's id, which every log line of the request carries (see bot.logs)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from concurrent.futures import Executor

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.ambient import current_trace_id, new_trace_id, trace_scope
from bot.concurrency import InFlight
from bot.domain.text import escape
from bot.errors import OffboardError, Refusal, StorageUnavailable
from bot.service import OffboardService
from bot.slack import blocks
from handlers.payload import actor_from, answer_privately, doing_from

log = logging.getLogger("offboard.errors")


Listener = Callable[..., None]


QUIET_WAIT = 0.5  # seconds work after an ack may wait for the requests in flight to be acked first
STORAGE_DOWN = "offboard_storage_down"  # set in the context by the HTTP server: the replay record did not answer
NOT_TAKEN = ("My database is not answering, so I did not take this: nothing was done. Try again in a minute; if "
             "it keeps happening, tell whoever runs the bot.")


class _Acked:
    """Stands in for Bolt's ack in a listener whose ack was already sent: calling it does nothing."""

    response = "acked"

    def __call__(self, *args, **kwargs) -> None:
        return None


class Guard:
    """The decorator every listener wears: `@guard` reports the listener's errors from inside it, and
    `@guard.after_ack` also acks at once and does the listener's work on the answers pool.

    Bolt (seen in 1.30) drops an ack() already made when the listener raises afterwards, so Slack got a
    404 three seconds later although the admin had been answered. Catching here keeps the ack.

    Bolt runs each listener, ack included, on its listener pool; a listener that acks and then talks to
    the console holds its thread, so under a burst the next acks queue behind earlier requests' work.
    `after_ack` frees the thread at once: acks only ever wait for an ack, and the work runs on a small
    pool of its own, which also keeps it from crowding the acks out of the CPU."""

    def __init__(self, report: Callable[[Exception, dict, WebClient], None], answers: Executor | None,
                 in_flight: InFlight) -> None:
        self._report = report
        self._answers = answers
        self._in_flight = in_flight

    def __call__(self, listener: Listener) -> Listener:
        return self._wrap(listener, deferred=False)

    def after_ack(self, listener: Listener | None = None, *,
                  inline_when: Callable[[dict], bool] | None = None) -> Listener | Callable[[Listener], Listener]:
        """For listeners that always ack first thing: ack here, run the rest off Bolt's listener thread.

        `inline_when(body)` keeps a request on the listener thread: one that opens a modal must do so
        within the 3 s its trigger id lives, so it never queues behind other requests' work."""
        if listener is None:
            return lambda decorated: self.after_ack(decorated, inline_when=inline_when)
        return self._wrap(listener, deferred=self._answers is not None, inline_when=inline_when)

    def _after_acks(self, run: Callable[..., None], kwargs: dict) -> None:
        """Run the work once the requests in flight were acked (Slack's 3 s are hard, an answer's are
        not), waiting QUIET_WAIT at most, so a steady stream of requests never holds it back for long."""
        self._in_flight.wait_quiet(QUIET_WAIT)
        run(**kwargs)

    def _wrap(self, listener: Listener, *, deferred: bool,
              inline_when: Callable[[dict], bool] | None = None) -> Listener:
        names = list(inspect.signature(listener).parameters)
        wanted = names + [name for name in ("ack", "body", "client") if name not in names]

        def run(**kwargs) -> None:
            try:
                listener(**{name: kwargs[name] for name in names})
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
            self._answers.submit(self._after_acks, run, {**kwargs, "ack": _Acked()})

        # Bolt passes a listener the arguments its signature names (not through __wrapped__, which it unwraps).
        guarded.__signature__ = inspect.Signature(
            [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in wanted])
        guarded.__name__ = guarded.__qualname__ = listener.__name__
        return guarded


def register(app: App, service: OffboardService, *, answers: Executor | None = None,
             in_flight: InFlight | None = None) -> Guard:
    """Install the error handler and the request id; return the Guard every listener wears. Listeners
    marked `after_ack` do their work on `answers` (inline when None)."""

    @app.middleware
    def tag_request(context: BoltContext, next_: Callable[[], BoltResponse]) -> BoltResponse:
        """Give the Slack request its id (the HTTP server's, else a new one) for its log lines and error id;
        the listener's thread and the jobs it starts inherit it (TrackedExecutor copies the context)."""
        with trace_scope(current_trace_id()) as trace_id:
            context["trace_id"] = trace_id
            return next_()

    @app.middleware
    def refuse_while_storage_is_down(context: BoltContext, body: dict, client: WebClient,
                                     next_: Callable[[], BoltResponse]) -> BoltResponse:
        """A request the replay record could not be checked against is not taken (it may be a replay sent
        to another replica). It is acked, and whoever sent it is told why, in the way its kind allows."""
        if not context.get(STORAGE_DOWN):
            return next_()
        kind = body.get("type")
        if kind == "block_suggestion":  # a keystroke in a picker: no options, and no message per keystroke
            return BoltResponse(status=200, body={"options": []})
        if kind == "view_submission":  # keep the form open, with what was typed, and say why on its first field
            field = next((block.get("block_id") for block in (body.get("view") or {}).get("blocks") or []
                          if block.get("type") == "input" and block.get("block_id")), None)
            if field:
                return BoltResponse(status=200, body={"response_action": "errors", "errors": {field: NOT_TAKEN[:150]}})
        user_id = actor_from(body).user_id
        if kind in ("block_actions", None) and user_id:  # a click, or a command (which has no type)
            message = blocks.refusal(NOT_TAKEN, reference=current_trace_id())

            def reply() -> None:
                _reply(client, body, user_id, message)

            if answers is not None:
                answers.submit(reply)
            else:
                reply()
        return BoltResponse(status=200, body="")

    def report(error: Exception, body: dict, client: WebClient) -> None:
        actor = actor_from(body)
        reference = current_trace_id()  # in every answer, so an admin can quote it and we can find the logs
        if isinstance(error, Refusal):
            service.record_refusal(actor=actor, refusal=error, doing=doing_from(body))
            log.info("refused %s: %s", doing_from(body), error.code)
            message = blocks.refusal(error.message, reference=reference)
        elif isinstance(error, StorageUnavailable):
            log.warning("%s failed: the database did not answer", doing_from(body), exc_info=error)
            message = blocks.refusal(error.message, reference=reference)
        elif isinstance(error, OffboardError):  # e.g. the console refused a read: its words are not ours
            log.warning("%s failed: %s", doing_from(body), error.message)
            message = blocks.refusal(escape(error.message), reference=reference)
        else:
            error_id = current_trace_id() or new_trace_id()
            log.error("unexpected error %s while handling %s", error_id, doing_from(body), exc_info=error)
            message = blocks.refusal(f"Something went wrong on my side (error id `{error_id}`). Whatever was "
                                     "already recorded is kept: check `/offboard list`, and quote the id to "
                                     "whoever runs the bot.")
        _reply(client, body, actor.user_id, message)

    @app.error
    def handle(error: Exception, body: dict, client: WebClient, context: BoltContext) -> None:
        with trace_scope(context.get("trace_id") or current_trace_id()):
            report(error, body, client)

    return Guard(report, answers, in_flight or InFlight())


def _reply(client: WebClient, body: dict, user_id: str, message: dict) -> None:
    """Answer the actor privately: through the response URL when the payload has one, else by DM."""
    try:
        answer_privately(body, client, message)
    except (SlackApiError, OSError) as failure:
        log.warning("could not tell %s about an error: %s", user_id, failure)
