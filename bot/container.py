"""The composition root: the only place that builds clients and wires the pieces together."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from sqlalchemy import Engine

import handlers
from bot.clock import SystemClock
from bot.concurrency import FairQueue, InFlight, TrackedExecutor
from bot.console.local import LocalConsole
from bot.errors import ConfigurationError
from bot.jobs import BackgroundJobs
from bot.metrics import PrometheusMetrics
from bot.policy import Policy, load_policy
from bot.ports import Clock, Console, ConsoleCall
from bot.service import OffboardService, build_service
from bot.settings import CONSOLE_UNSET, Settings
from bot.slack.members import SlackMembers
from bot.slack.notifier import SlackNotifier
from bot.sweeper import Sweeper
from handlers.deferral import Lanes
from storage.audit import AuditBroken
from storage.db import make_engine
from storage.request_store import RequestStore

log = logging.getLogger(__name__)
LISTENER_THREADS = 32  # Bolt's listeners only ack and hand over, so a burst of clicks never queues its acks
DECISION_THREADS = 4  # the quick lane: decisions, status, list, help; database work, never behind the console
CONSOLE_THREADS = 3  # the console lane: commands naming users, one per member at a time, members taking turns
FORM_THREADS = 4  # submitted forms checked at once, within Slack's 3 s for the answer


@dataclass
class Container:
    settings: Settings
    policy: Policy
    engine: Engine
    store: RequestStore
    console: Console
    client: WebClient
    service: OffboardService
    bolt: App
    listeners: TrackedExecutor  # Bolt's listeners: they ack, and hand what follows to a lane
    decisions: TrackedExecutor  # the quick lane: what a click or command does after its ack, console aside
    answers: TrackedExecutor  # the console lane: commands that name users, fair between members
    forms: TrackedExecutor  # submitted forms, checked while Slack waits for the answer
    jobs: TrackedExecutor  # executions of approved requests
    sweeper: Sweeper  # expiries, reminders and due runs; woken by APScheduler in `serve`
    metrics: PrometheusMetrics  # this app's own registry, served as GET /metrics
    in_flight: InFlight  # the Slack requests not answered yet: the work after earlier acks lets them go first
    clock: Clock

    def seal_audit_log(self) -> None:
        """With OFFBOARD_AUDIT_KEY set, at start (once the database is migrated, before serving): seal an empty audit
        log with an `audit.key_in_use` row, or check that the log ends in a row sealed with the key. Any other log
        (written without the key, whose sealed rows were replaced, or with rows after its head) is a
        ConfigurationError, which `serve` reports with what to do (`offboard-bot audit verify`, `offboard-bot audit
        adopt-key`) before exiting: no row could be appended to it. Without a key it does nothing."""
        try:
            seq = self.store.seal_audit(now=self.clock.now())
        except AuditBroken as error:
            raise ConfigurationError(f"cannot start: {error.message}") from error
        if seq is not None:
            log.info("audit log: rows are sealed with OFFBOARD_AUDIT_KEY from row %d on", seq)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until every listener and every job they started has finished (shell and tests)."""
        return all(pool.wait_idle(timeout) for pool in self.pools)

    @property
    def pools(self) -> tuple[TrackedExecutor, ...]:
        """Every pool, in the order work flows through them."""
        return self.listeners, self.decisions, self.answers, self.forms, self.jobs

    def close(self) -> None:
        for pool in self.pools:
            pool.shutdown(wait=True)
        self.engine.dispose()
        close_console = getattr(self.console, "close", None)
        if close_console:
            close_console()


class _TokenNotice(logging.Filter):
    """Drops Bolt's "As you gave `client` as well, `token` will be unused": Bolt reads SLACK_BOT_TOKEN from the
    environment itself, whatever it is given, and the client it is given carries that very token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def _quiet_bolts_token_notice() -> None:
    bolts = logging.getLogger("slack_bolt.App")  # the logger Bolt's App warns on (slack_bolt.logger.get_bolt_logger)
    if not any(isinstance(known, _TokenNotice) for known in bolts.filters):
        bolts.addFilter(_TokenNotice())


def build_console(settings: Settings, *, on_call: Callable[[ConsoleCall], None] | None = None) -> Console:
    """Return the configured admin console client; `on_call` is told of each HTTP request it sends. Without
    OFFBOARD_CONSOLE it raises ConfigurationError: the demo directory is served only when asked for by name."""
    if settings.offboard_console is None:
        raise ConfigurationError(CONSOLE_UNSET)
    if settings.offboard_console == "local":
        console = LocalConsole(settings.offboard_local_console)
        seeded = console.seed_if_empty()
        if seeded:
            log.info("seeded the local console with %d demo users", seeded)
        return console
    problems = settings.console_problems()
    if problems:
        raise ConfigurationError(f"OFFBOARD_CONSOLE={settings.offboard_console}: " + "; ".join(problems))
    if settings.offboard_console == "8x8":
        from bot.console.eightbyeight.client import EightByEightClient
        from bot.console.eightbyeight.console import EightByEightConsole
        from bot.console.eightbyeight.limits import ApiLimits, Throttle

        limits = ApiLimits(requests=settings.eightbyeight_rate_limit, burst=settings.eightbyeight_burst_limit,
                           operations=settings.eightbyeight_max_operations)
        return EightByEightConsole(EightByEightClient(settings.eightbyeight_base_url,
                                                      settings.eightbyeight_api_key.get_secret_value(),
                                                      throttle=Throttle(limits), on_call=on_call))
    from bot.console.scim import ScimConsole

    return ScimConsole(settings.scim_base_url, settings.scim_token.get_secret_value(), on_call=on_call)


def build(settings: Settings, *, clock: Clock | None = None, console: Console | None = None,
          demo: bool = False) -> Container:
    """Build every client and the Bolt app from settings. Call once, at start-up. `demo`: the console is the local
    demo directory, served to a real workspace (`serve`), and the admins are told so in Slack."""
    if settings.slack_bot_token is None or settings.slack_signing_secret is None:
        raise ConfigurationError("SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET must be set")
    audit_key_problems = settings.audit_key_problems()
    if audit_key_problems:  # never seal a row with a key that is not fit for it: rows stay tied to their key
        raise ConfigurationError("; ".join(audit_key_problems))
    policy = load_policy(settings.policy_path)
    clock = clock or SystemClock()
    engine = make_engine(settings.database_url)
    store = RequestStore(engine, audit_key=settings.offboard_audit_key)
    metrics = PrometheusMetrics()
    console = console or build_console(settings, on_call=metrics.console_call)
    # A bulk run redraws its message about once a second; when Slack answers 429, wait as it says, once or twice.
    client = WebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url,
                       retry_handlers=[ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=2)])
    listeners = TrackedExecutor(max_workers=LISTENER_THREADS, name="listener")
    decisions = TrackedExecutor(max_workers=DECISION_THREADS, name="decision")
    answers = TrackedExecutor(max_workers=CONSOLE_THREADS, name="answer")
    forms = TrackedExecutor(max_workers=FORM_THREADS, name="form")
    jobs = TrackedExecutor(max_workers=4, name="job")
    metrics.watch_pool("jobs", jobs)
    metrics.watch_pool("listeners", listeners)
    metrics.watch_pool("decisions", decisions)
    metrics.watch_pool("answers", answers)
    metrics.watch_pool("forms", forms)
    service = build_service(store=store, console=console, members=SlackMembers(client=client), policy=policy,
                            notifier=SlackNotifier(client=client, policy=policy, demo=demo), jobs=BackgroundJobs(jobs),
                            clock=clock, lease_ttl=timedelta(seconds=settings.offboard_lease_seconds),
                            metrics=metrics, max_users=settings.offboard_max_users, workers=settings.offboard_workers)
    _quiet_bolts_token_notice()
    bolt = App(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        listener_executor=listeners,
        token_verification_enabled=False,
        request_verification_enabled=True,
    )
    in_flight = InFlight()
    handlers.register(bolt, service, lanes=Lanes(quick=decisions, console=FairQueue(answers)), forms=forms,
                      in_flight=in_flight, demo=demo)
    return Container(settings=settings, policy=policy, engine=engine, store=store, console=console, client=client,
                     service=service, bolt=bolt, listeners=listeners, decisions=decisions, answers=answers,
                     forms=forms, jobs=jobs,
                     sweeper=Sweeper(service.timers, metrics=metrics), metrics=metrics, in_flight=in_flight,
                     clock=clock)
