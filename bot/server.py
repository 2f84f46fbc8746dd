"""HTTP mode: an ASGI app serving Slack's requests, plus a health check and Prometheus metrics."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import anyio
from slack_bolt import App
from slack_bolt.context import BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.ambient import trace_scope
from bot.concurrency import InFlight
from bot.errors import StorageUnavailable
from bot.metrics import CONTENT_TYPE, PrometheusMetrics
from handlers import envelope
from handlers.envelope import Malformed
from handlers.middleware import STORAGE_DOWN_KEY
from storage.replays import ReplayGuard

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller; anything bigger is refused unread
TIMESTAMP = re.compile(r"[0-9]{1,15}")  # Slack's: seconds since the epoch, in ASCII digits
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")  # Slack's: a hex HMAC-SHA256


def to_bolt_request(body: bytes, *, headers: dict[str, str], query: str = "") -> BoltRequest:
    """Return the BoltRequest for a raw Slack request.

    Bolt parses any form body that merely contains the word "payload" as an interaction payload,
    so a slash command such as `/offboard delete jdoe --reason payload team` would reach no
    listener; such a body is parsed here as the plain form it is.
    """
    text = body.decode("utf-8", errors="replace")
    request = BoltRequest(body=text, query=query, headers={key: [value] for key, value in headers.items()})
    if not request.body and text and not text.lstrip().startswith("{"):
        fields = dict(parse_qsl(text, keep_blank_values=True))
        if "payload" not in fields:
            request.body = fields
            request.context = build_context(BoltContext({}), fields)
    return request


async def _read_capped(request: Request) -> bytes | None:
    """Read the body as it streams in; None as soon as it grows past MAX_BODY."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def read_request(body: bytes, *, headers: dict[str, str], query: str = "") -> BoltRequest:
    """Return the BoltRequest for a signed Slack request; raise Malformed when Bolt could not read its payload or
    its payload is not of a shape Slack sends (handlers/envelope.py), before Bolt or a listener trips over it."""
    try:
        bolt_request = to_bolt_request(body, headers=headers, query=query)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError) as error:
        raise Malformed(f"its payload could not be read ({type(error).__name__})") from None
    envelope.check(bolt_request.body)
    return bolt_request


def unverifiable(body: bytes, headers: dict[str, str]) -> str | None:
    """Why the request's signature cannot even be checked (None when it can): the verifier would fail on a
    timestamp that is not a number, a signature that is not text in ASCII, or a body that is not UTF-8."""
    timestamp, signature = headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature")
    if timestamp is None or signature is None:
        return "it is not signed"
    if not TIMESTAMP.fullmatch(timestamp):
        return "its timestamp is not a number"
    if not SIGNATURE.fullmatch(signature):
        return "its signature is not a v0 signature"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "its body is not UTF-8"
    return None


class SlackEvents:
    """POST /slack/events: the signature checked, the payload's shape checked, a replay refused, then the request
    handed to Bolt off the event loop, counted as in flight until it is answered. Whatever is refused is answered
    with one log line and changes nothing."""

    def __init__(self, bolt: App, engine: Engine, *, signing_secret: str, in_flight: InFlight) -> None:
        self._bolt = bolt
        self._verifier = SignatureVerifier(signing_secret)
        self._replays = ReplayGuard(engine)
        self._in_flight = in_flight

    async def handle(self, request: Request) -> Response:
        body = await _read_capped(request)
        if body is None:
            return Response("payload too large", status_code=413)
        headers = dict(request.headers)
        refused = unverifiable(body, headers) or (
            None if self._verifier.is_valid_request(body, headers) else "its signature is wrong or out of date")
        if refused:
            log.warning("refused a Slack request: %s", refused)
            return Response("invalid request", status_code=401)
        try:
            bolt_request = read_request(body, headers=headers, query=request.url.query)
        except Malformed as problem:
            log.warning("refused a signed Slack request: %s", problem)
            return Response("malformed request", status_code=400)
        signature = headers["x-slack-signature"]
        try:
            first = await anyio.to_thread.run_sync(
                lambda: self._replays.first_time(signature, now=datetime.now(UTC)))
        except StorageUnavailable as down:  # not known to be new: it is answered, with the reason, and does nothing
            log.warning("could not check a Slack request against the shared replay record: the database did not "
                        "answer (%s)", down.driver_error)
            first = None
        if first is False:
            log.warning("refused a replayed Slack request (its signature was taken before)")
            return Response("replayed request", status_code=401)
        if first is None:
            bolt_request.context[STORAGE_DOWN_KEY] = True
        with self._in_flight:  # a real Slack request, until answered: work after earlier acks lets it go first
            return await self._dispatch(bolt_request)

    async def _dispatch(self, bolt_request: BoltRequest) -> Response:
        with trace_scope():  # every log line of this Slack request, and the error id it may show, share it
            response = await anyio.to_thread.run_sync(self._bolt.dispatch, bolt_request)
        return Response(content=response.body, status_code=response.status,
                        headers={key: values[0] for key, values in response.headers.items() if values})


def health_check(engine: Engine):
    """GET /healthz: 200 while the database answers, 503 naming the driver's error otherwise."""

    async def healthz(_request: Request) -> Response:
        def probe() -> None:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))

        try:
            await anyio.to_thread.run_sync(probe)
        except Exception as error:  # any database failure means "not healthy"; say which
            name = error.driver_error if isinstance(error, StorageUnavailable) else type(error).__name__
            return JSONResponse({"ok": False, "database": name}, status_code=503)
        return JSONResponse({"ok": True, "database": "ok"})

    return healthz


def create_asgi_app(bolt: App, engine: Engine, *, signing_secret: str, metrics: PrometheusMetrics | None = None,
                    in_flight: InFlight | None = None) -> Starlette:
    """Return the ASGI app: POST /slack/events into Bolt (off the event loop), GET /healthz, and GET /metrics
    when given the metrics to serve. `in_flight` counts the Slack requests not answered yet, for the work
    after earlier acks to let them go first (the container's; a fresh one when nothing waits on it)."""
    routes = [
        Route("/slack/events", SlackEvents(bolt, engine, signing_secret=signing_secret,
                                           in_flight=in_flight or InFlight()).handle, methods=["POST"]),
        Route("/healthz", health_check(engine), methods=["GET"]),
    ]
    if metrics is not None:

        async def scrape(_request: Request) -> Response:
            return Response(metrics.exposition(), media_type=CONTENT_TYPE)

        routes.append(Route("/metrics", scrape, methods=["GET"]))
    return Starlette(routes=routes)
