"""The Metrics port over prometheus_client, served as GET /metrics.

Each PrometheusMetrics owns its registry (the container builds one), so two apps in one process, as in
the tests, never share or double-register a counter."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.domain.lifecycle import TERMINAL, Action, RequestState
from bot.ports import ConsoleCall

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # "text/plain; version=0.0.4; charset=utf-8"
# From a quick second admin to one found the next morning, or the end of the approval window.
APPROVAL_BUCKETS = (10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200)
CONSOLE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 60)


class Pool(Protocol):
    @property
    def pending(self) -> int: ...


class PrometheusMetrics:
    """Counts requests, approvals, console calls, lease takeovers and sweeps; reads pool depths when scraped."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._requests = Counter(
            "offboard_requests", "Offboarding requests that reached a final state, by action and outcome "
            "(done, failed, rejected, expired, cancelled).", ["action", "outcome"], registry=registry)
        self._approval = Histogram(
            "offboard_approval_latency_seconds", "Time from a request's creation (the requester's "
            "/offboard command) to its last approval.",
            ["action"], buckets=APPROVAL_BUCKETS, registry=registry)
        self._calls = Counter(
            "offboard_console_calls", "HTTP requests sent to the admin console (each retry and poll counts), by "
            "backend, operation and HTTP status (none: no answer came).", ["backend", "operation", "status"],
            registry=registry)
        self._errors = Counter(
            "offboard_console_errors", "Console HTTP requests that failed, by kind: throttled (429), denied "
            "(401, 403), server_error (5xx), or the transport error when no answer came (e.g. ConnectError).",
            ["backend", "operation", "kind"], registry=registry)
        self._call_seconds = Histogram(
            "offboard_console_call_seconds", "How long one console HTTP request took.", ["backend", "operation"],
            buckets=CONSOLE_BUCKETS, registry=registry)
        self._takeovers = Counter(
            "offboard_lease_takeovers", "Runs taken over from another process whose lease had lapsed.",
            registry=registry)
        self._sweeps = Counter("offboard_sweeps", "Sweeps for due work, by outcome (ok, failed).", ["outcome"],
                               registry=registry)
        self._swept = Counter("offboard_swept_requests", "Requests a sweep expired, reminded about or started.",
                              ["kind"], registry=registry)
        self._pending = Gauge("offboard_pool_pending", "Work submitted to a thread pool and not finished yet "
                              "(jobs: request executions; listeners: Slack requests).", ["pool"], registry=registry)
        for action in Action:  # every series exists from the start, so rate() sees the first one
            for outcome in sorted(TERMINAL):
                self._requests.labels(action=action.value, outcome=outcome.value)
        for outcome in ("ok", "failed"):
            self._sweeps.labels(outcome=outcome)

    # -- the Metrics port ---------------------------------------------------------------------------

    def request_finished(self, *, action: Action, outcome: RequestState) -> None:
        self._requests.labels(action=action.value, outcome=outcome.value).inc()

    def request_approved(self, *, action: Action, waited: timedelta) -> None:
        self._approval.labels(action=action.value).observe(max(0.0, waited.total_seconds()))

    def lease_taken_over(self) -> None:
        self._takeovers.inc()

    def sweep_finished(self, *, ok: bool, expired: int = 0, reminded: int = 0, started: int = 0) -> None:
        self._sweeps.labels(outcome="ok" if ok else "failed").inc()
        for kind, count in (("expired", expired), ("reminded", reminded), ("started", started)):
            if count:
                self._swept.labels(kind=kind).inc(count)

    def console_call(self, call: ConsoleCall) -> None:
        status = str(call.status) if call.status is not None else "none"
        self._calls.labels(backend=call.backend, operation=call.operation, status=status).inc()
        self._call_seconds.labels(backend=call.backend, operation=call.operation).observe(max(0.0, call.seconds))
        kind = error_kind(call)
        if kind:
            self._errors.labels(backend=call.backend, operation=call.operation, kind=kind).inc()

    # -- wiring and scraping ------------------------------------------------------------------------

    def watch_pool(self, name: str, pool: Pool) -> None:
        """Report the pool's pending work as offboard_pool_pending{pool=name}, read at each scrape."""
        self._pending.labels(pool=name).set_function(lambda: pool.pending)

    def exposition(self) -> bytes:
        """Return every metric in the Prometheus text format (version 0.0.4)."""
        return generate_latest(self.registry)


def error_kind(call: ConsoleCall) -> str | None:
    """Return why a console call failed, or None when it was answered without trouble.

    Other 4xx answers (404 for a missing user, 409, 412) are the console's answers, not failures."""
    if call.status is None:
        return call.error or "no_answer"
    if call.status == 429:
        return "throttled"
    if call.status in (401, 403):
        return "denied"
    if call.status >= 500:
        return "server_error"
    return None
