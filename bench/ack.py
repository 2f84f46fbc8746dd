"""How fast the bot acknowledges Slack over HTTP, next to a bare Bolt app that does nothing but ack.

Slack waits 3 s for the HTTP answer to a slash command or a button click, then shows the user an error.
This process serves two apps on loopback ports, each in its own uvicorn thread, set up the same way:

- bot: the real app from the composition root (bot.container.build, bot.server.create_asgi_app) with the
  demo policy, SQLite in a temporary directory and the seeded local console;
- bare: a slack_bolt App with the same signing secret, the same listener pool size and the same ASGI
  wrapper (create_asgi_app), whose `/offboard` and Approve listeners only call ack().

A child process plays Slack: it runs the FakeSlack (bot/simulators/slack/) that serves the bot's Web
API calls and response URLs, and the client, which sends signed requests `--concurrency` at a time and
times each one. Keeping Slack's side out of the apps' process keeps its work off their GIL, as it is in
production. Both apps get the same request bodies: `/offboard` commands (help, list, status of a draft,
delete of a demo user, from the demo admins in turn) and Approve clicks on that draft (refused after the
ack, since it is not waiting for approval). The bot does its real work after each ack, in its process,
while later requests wait for their ack; that is what this measures. Rounds alternate which app goes
first, and the bot's work left after its acks is finished before the next batch is sent.

Reading the figures: each time is from sending the HTTP request to having its response (the ack).
p50 is the typical ack, p99 the slow tail, max the worst; errors counts answers other than 200 and
requests that got no answer; cpu ms/req is the CPU time of the apps' process per request, the work the
bot does after its ack included. The verdict asks, per kind, for bot p99 <= 1.25 x bare p99, and for bot
p99 within a third of Slack's 3 s with no errors and nothing over 3 s. Absolute times depend on the
machine; the ratio to the bare app, measured side by side, is the figure to watch. Two things flatter the
bot: the FakeSlack answers over loopback in about a millisecond where Slack takes tens, so its work after
an ack holds a listener thread for less time than in production, and logging is at WARNING.

Run from the repository root: `python bench/ack.py [--requests N] [--concurrency C] [--rounds R]`.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import math
import multiprocessing
import os
import platform
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib.metadata import version
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlencode

import httpx
from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy import create_engine
from tally import Tally, quiet_logging  # bench/tally.py, next to this script

from bot.concurrency import TrackedExecutor, freeze_startup_objects
from bot.container import Container, build
from bot.domain.lifecycle import RequestState
from bot.server import create_asgi_app
from bot.settings import DEMO_POLICY, load_settings
from bot.simulators.live_server import LiveServer
from bot.simulators.slack.demo import HOME_CHANNEL, populate
from bot.simulators.slack.fake import FakeSlack
from bot.slack.ids import COMMAND, ActionId, BlockId
from bot.slack.values import RequestRef
from storage import migrate

SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
SLACK_TIMEOUT = 3.0  # seconds Slack waits for the ack
TARGET_RATIO = 1.25  # bot p99 / bare p99
FAR_BELOW = SLACK_TIMEOUT / 3  # "far below 3 s": the bot's p99 within a third of Slack's budget
SETTLE_TIMEOUT = 300.0
KINDS = ("command", "click")
APPS = ("bot", "bare")
ADMINS = (("U0ALICE", "alice"), ("U0BOB", "bob"), ("U0DANA", "dana"))
DELETABLE = ("jdoe", "msmith", "rlopez", "kwilliams", "lchen")  # demo console users no policy protects
APPROVALS_CHANNEL = "C0APPROVALS"  # as in bot/demo_policy.toml
PLACEHOLDER_ID = "OB-BENCH000"  # named only if no draft could be prepared


# -- Slack's side: signed requests, and the client that times them (in the child process) ----------------


@dataclass(frozen=True)
class Signed:
    """A request body as Slack sends it, with its signature headers."""

    body: bytes
    headers: dict[str, str]


def sign(form: dict[str, str]) -> Signed:
    """Form-encode and sign like Slack: v0 HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret."""
    body = urlencode(form).encode()
    timestamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return Signed(body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
    })


def command_texts(request_id: str) -> Iterator[str]:
    """What admins type, in turn: help, list, status of a draft, delete of a demo user."""
    deletions = itertools.cycle(DELETABLE)
    while True:
        yield from ("help", "list", f"status {request_id}", f"delete {next(deletions)} --reason left")


def slash_command(fake: FakeSlack, user: tuple[str, str], text: str) -> Signed:
    """A `/offboard` slash command from `user` in #general, with a live response URL on the FakeSlack."""
    user_id, user_name = user
    return sign({
        "token": "bench-verification-token", "team_id": fake.team_id, "team_domain": fake.team_domain,
        "channel_id": HOME_CHANNEL, "channel_name": "general", "user_id": user_id, "user_name": user_name,
        "command": COMMAND, "text": text, "api_app_id": "A0OFFBOARD", "is_enterprise_install": "false",
        "response_url": fake.new_response_url(channel_id=HOME_CHANNEL, user_id=user_id),
        "trigger_id": fake.issue_trigger_id(user_id),
    })


def approve_click(fake: FakeSlack, user: tuple[str, str], request_id: str) -> Signed:
    """A click on Approve in the #approvals message of `request_id`, as a block_actions payload."""
    user_id, user_name = user
    now = f"{time.time():.6f}"
    payload = {
        "type": "block_actions", "api_app_id": "A0OFFBOARD", "token": "bench-verification-token",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": fake.team_id},
        "team": {"id": fake.team_id, "domain": fake.team_domain}, "enterprise": None,
        "is_enterprise_install": False, "trigger_id": fake.issue_trigger_id(user_id),
        "container": {"type": "message", "message_ts": now, "channel_id": APPROVALS_CHANNEL, "is_ephemeral": False},
        "channel": {"id": APPROVALS_CHANNEL, "name": "approvals"}, "state": {"values": {}},
        "response_url": fake.new_response_url(channel_id=APPROVALS_CHANNEL, user_id=user_id),
        "actions": [{"action_id": ActionId.APPROVE.value, "block_id": BlockId.ACTIONS.value, "type": "button",
                     "text": {"type": "plain_text", "text": "Approve"}, "style": "primary",
                     "value": RequestRef(r=request_id).dump(), "action_ts": now}],
    }
    return sign({"payload": json.dumps(payload)})


def batch(fake: FakeSlack, kind: str, count: int, request_id: str) -> list[Signed]:
    """`count` fresh signed requests of one kind, the admins taking turns."""
    admins = itertools.cycle(ADMINS)
    if kind == "command":
        texts = command_texts(request_id)
        return [slash_command(fake, next(admins), next(texts)) for _ in range(count)]
    return [approve_click(fake, next(admins), request_id) for _ in range(count)]


@dataclass(frozen=True)
class Sample:
    seconds: float
    status: int | None  # None: no HTTP answer at all
    failure: str = ""


class Load:
    """`concurrency` client threads, each with its own keep-alive httpx.Client, sending batches."""

    def __init__(self, concurrency: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bench-client")
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._lock = threading.Lock()

    def _client(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(timeout=SLACK_TIMEOUT * 5)
            with self._lock:
                self._clients.append(client)
        return client

    def _send(self, url: str, request: Signed) -> Sample:
        client = self._client()
        start = time.perf_counter()
        try:
            response = client.post(url, content=request.body, headers=request.headers)
        except httpx.HTTPError as error:
            return Sample(time.perf_counter() - start, None, type(error).__name__)
        return Sample(time.perf_counter() - start, response.status_code)

    def run(self, url: str, requests: list[Signed]) -> list[Sample]:
        return list(self._pool.map(lambda request: self._send(url, request), requests))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for client in self._clients:
            client.close()


@dataclass(frozen=True)
class SlackAddress:
    """What the apps need to know of the FakeSlack running in the child."""

    api_url: str
    bot_token: str


def play_slack(conn: Connection, concurrency: int) -> None:
    """The child process: serve the FakeSlack and send the batches the parent asks for.

    Messages: ("batch", kind, count, request_id) makes the next batch; ("send", url) sends it and answers
    the samples; ("command", url, text) sends one slash command; ("stop",) answers the log tally and the
    Web API calls the FakeSlack served (response URLs included), and ends."""
    tally = quiet_logging()
    fake = FakeSlack(team_id="T0DEMO")
    populate(fake)
    load = Load(concurrency)
    current: list[Signed] = []
    with fake:
        conn.send(SlackAddress(fake.api_url, fake.bot_token))
        while (message := conn.recv())[0] != "stop":
            if message[0] == "batch":
                current = batch(fake, *message[1:])
                conn.send(len(current))
            elif message[0] == "send":
                conn.send(load.run(message[1], current))
            else:
                conn.send(load.run(message[1], [slash_command(fake, ADMINS[0], message[2])]))
        load.close()
        calls = Counter(call.method + (f" ({call.error})" if call.error else "") for call in fake.calls())
    conn.send((tally.seen, calls))


class SlackSide:
    """The parent's handle on the child process that plays Slack."""

    def __init__(self, concurrency: int) -> None:
        context = multiprocessing.get_context("spawn")  # a clean interpreter: no threads forked mid-flight
        self._conn, theirs = context.Pipe()
        self._process = context.Process(target=play_slack, args=(theirs, concurrency), name="slack-side",
                                        daemon=True)
        self._process.start()
        self.address: SlackAddress = self._ask()
        self.log_tally: Counter[str] = Counter()
        self.api_calls: Counter[str] = Counter()

    def _ask(self, *message):
        if message:
            self._conn.send(message)
        try:
            return self._conn.recv()
        except EOFError:
            raise SystemExit("the process playing Slack died; nothing to report") from None

    def make_batch(self, kind: str, count: int, request_id: str) -> None:
        self._ask("batch", kind, count, request_id)

    def send_batch(self, url: str) -> list[Sample]:
        return self._ask("send", url)

    def command(self, url: str, text: str) -> list[Sample]:
        return self._ask("command", url, text)

    def close(self) -> None:
        with suppress(OSError, SystemExit):  # already gone: nothing more to learn from it
            self.log_tally, self.api_calls = self._ask("stop")
        self._process.join(10)


# -- the apps (in this process) -------------------------------------------------------------------------


@dataclass
class Target:
    """One app under measurement: where to send, and how to wait until the work its acks left is done."""

    name: str
    url: str
    settle: Callable[[float], bool]


@contextmanager
def serve_bot(slack: SlackAddress, workdir: Path) -> Iterator[tuple[Target, Container]]:
    """The real bot, built through the composition root, on SQLite and the seeded local console."""
    settings = load_settings(
        slack_bot_token=slack.bot_token, slack_signing_secret=SIGNING_SECRET, slack_api_url=slack.api_url,
        database_url=f"sqlite:///{workdir / 'offboard.db'}", offboard_policy=DEMO_POLICY,
        offboard_console="local", offboard_local_console=workdir / "console.db", offboard_log_level="WARNING")
    container = build(settings)
    migrate.upgrade(container.engine)
    asgi = create_asgi_app(container.bolt, container.engine, signing_secret=SIGNING_SECRET,
                           metrics=container.metrics, in_flight=container.in_flight)
    try:
        with LiveServer(asgi) as server:
            yield Target("bot", server.events_url, container.wait_idle), container
            container.wait_idle(SETTLE_TIMEOUT)
    finally:
        container.close()


def bare_bolt(slack: SlackAddress, *, listener_threads: int) -> tuple[App, TrackedExecutor]:
    """A Bolt app configured like the bot's (bot/container.py) whose listeners only ack."""
    listeners = TrackedExecutor(max_workers=listener_threads, name="bare-listener")
    app = App(client=WebClient(token=slack.bot_token, base_url=slack.api_url), signing_secret=SIGNING_SECRET,
              listener_executor=listeners, token_verification_enabled=False, request_verification_enabled=True)

    @app.command(COMMAND)
    def command(ack: Ack) -> None:
        ack()

    @app.action(ActionId.APPROVE.value)
    def approve(ack: Ack) -> None:
        ack()

    return app, listeners


@contextmanager
def serve_bare(slack: SlackAddress, *, listener_threads: int) -> Iterator[Target]:
    """The bare app behind the same ASGI wrapper as the bot (its /healthz on an empty in-memory database)."""
    app, listeners = bare_bolt(slack, listener_threads=listener_threads)
    engine = create_engine("sqlite://")
    try:
        with LiveServer(create_asgi_app(app, engine, signing_secret=SIGNING_SECRET)) as server:
            yield Target("bare", server.events_url, listeners.wait_idle)
    finally:
        listeners.shutdown(wait=True)
        engine.dispose()


# -- the run --------------------------------------------------------------------------------------------


Key = tuple[str, str]  # (kind, app)


@dataclass
class Measured:
    """The samples per kind and app, the CPU time the apps' process spent on each batch (its work after the
    acks included), and how long the bot took after each of its batches to finish that work."""

    samples: dict[Key, list[Sample]] = field(default_factory=lambda: defaultdict(list))
    cpu_seconds: Counter[Key] = field(default_factory=Counter)
    drains: list[float] = field(default_factory=list)


def split(total: int, parts: int) -> list[int]:
    """`total` requests spread over `parts` rounds as evenly as possible."""
    return [total // parts + (index < total % parts) for index in range(parts)]


def prepare_draft(slack: SlackSide, bot: Target, container: Container) -> str:
    """Have alice prepare a real draft through the bot; its id is what status and Approve name."""
    slack.command(bot.url, "delete jdoe --reason bench")
    bot.settle(SETTLE_TIMEOUT)
    drafts = container.store.list(states=[RequestState.DRAFT], limit=1)
    if not drafts:
        print(f"note: no draft was prepared; status and Approve name the unknown {PLACEHOLDER_ID}")
        return PLACEHOLDER_ID
    return drafts[0].id


def measure(slack: SlackSide, targets: tuple[Target, Target], *, request_id: str, sizes: list[int]) -> Measured:
    """One batch per kind and app per round, the apps taking turns to go first; after each batch, wait until
    that app has finished the work its acks left running."""
    measured = Measured()
    for number, size in enumerate(sizes):
        order = targets if number % 2 == 0 else targets[::-1]
        for kind in KINDS:
            slack.make_batch(kind, size, request_id)
            for target in order:
                cpu = time.process_time()
                measured.samples[kind, target.name] += slack.send_batch(target.url)
                settling = time.perf_counter()
                if not target.settle(SETTLE_TIMEOUT):
                    print(f"warning: {target.name} still busy {SETTLE_TIMEOUT:.0f} s after a batch")
                if target.name == "bot":
                    measured.drains.append(time.perf_counter() - settling)
                measured.cpu_seconds[kind, target.name] += time.process_time() - cpu
    return measured


def run(args: argparse.Namespace, tally: Tally) -> Measured:
    """Start Slack's side and both apps, warm up, measure, print the figures; return what was measured."""
    slack = SlackSide(args.concurrency)
    try:
        measured = serve_and_measure(slack, args)
    finally:
        slack.close()
    report(measured, tally.seen + slack.log_tally, slack.api_calls)
    return measured


def serve_and_measure(slack: SlackSide, args: argparse.Namespace) -> Measured:
    with tempfile.TemporaryDirectory(prefix="offboard-bench-") as tmp, \
            serve_bot(slack.address, Path(tmp)) as (bot, container):
        threads = container.listeners._max_workers  # the bare app gets a listener pool of the same size
        with serve_bare(slack.address, listener_threads=threads) as bare:
            freeze_startup_objects()  # as `offboard-bot serve` does once the app is built
            request_id = prepare_draft(slack, bot, container)
            print(f"listener threads per app: {threads}; status and Approve name draft {request_id}")
            print(f"warming up ({args.warmup} requests per kind and app)...", flush=True)
            measure(slack, (bot, bare), request_id=request_id, sizes=[args.warmup])
            rounds = f"{args.rounds} round{'s' * (args.rounds != 1)}"
            print(f"measuring {args.requests} requests per kind and app in {rounds} ({args.concurrency} in "
                  "flight, the next sent as each answer comes back)...\n", flush=True)
            return measure(slack, (bot, bare), request_id=request_id, sizes=split(args.requests, args.rounds))


# -- figures --------------------------------------------------------------------------------------------


def percentile(sorted_seconds: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return sorted_seconds[max(0, math.ceil(fraction * len(sorted_seconds)) - 1)]


@dataclass(frozen=True)
class Figures:
    count: int
    p50: float
    p99: float
    max: float
    errors: int
    cpu_per_request: float  # the apps' process, its work after the ack included

    @classmethod
    def of(cls, samples: list[Sample], cpu_seconds: float) -> Figures:
        answered = sorted(sample.seconds for sample in samples if sample.status is not None)
        errors = sum(sample.status != 200 for sample in samples)
        cpu = cpu_seconds / len(samples)
        if not answered:
            return cls(len(samples), math.inf, math.inf, math.inf, errors, cpu)
        return cls(len(samples), percentile(answered, 0.50), percentile(answered, 0.99), answered[-1], errors, cpu)


def ms(seconds: float) -> str:
    return f"{'-':>8}" if math.isinf(seconds) else f"{seconds * 1000:8.1f}"


def print_table(figures: dict[Key, Figures]) -> None:
    print(f"{'kind':<8} {'app':<5} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6} "
          f"{'cpu ms/req':>10}")
    for kind in KINDS:
        for app in APPS:
            f = figures[kind, app]
            print(f"{kind:<8} {app:<5} {f.count:>5} {ms(f.p50)} {ms(f.p99)} {ms(f.max)} {f.errors:>6} "
                  f"{f.cpu_per_request * 1000:10.1f}")
    print("(cpu ms/req: CPU time of the apps' process per request, the work after the ack included)")


def verdict(figures: dict[Key, Figures]) -> bool:
    """Print the ratio and the budget lines per kind; return True when every target is met."""
    passed = True
    for kind in KINDS:
        bot, bare = figures[kind, "bot"], figures[kind, "bare"]
        ratio = bot.p99 / bare.p99 if bare.p99 > 0 else math.inf
        ratio_ok = ratio <= TARGET_RATIO
        budget_ok = bot.p99 <= FAR_BELOW and bot.max < SLACK_TIMEOUT and bot.errors == 0
        passed = passed and ratio_ok and budget_ok
        print(f"{kind:<8} bot p99 / bare p99 = {ratio:.2f}x (target <= {TARGET_RATIO}x): "
              f"{'PASS' if ratio_ok else 'FAIL'}")
        print(f"{kind:<8} bot p99 {bot.p99 * 1000:.0f} ms, max {bot.max * 1000:.0f} ms, {bot.errors} errors "
              f"(target p99 <= {FAR_BELOW * 1000:.0f} ms, max < {SLACK_TIMEOUT * 1000:.0f} ms, no errors): "
              f"{'PASS' if budget_ok else 'FAIL'}")
    print(f"\nverdict: {'PASS' if passed else 'FAIL'}")
    return passed


def report(measured: Measured, logged: Counter[str], api_calls: Counter[str]) -> None:
    figures = {key: Figures.of(samples, measured.cpu_seconds[key]) for key, samples in measured.samples.items()}
    print_table(figures)
    print(f"after a batch, the bot took up to {max(measured.drains):.1f} s more to finish the work its acks left "
          "running (not part of the ack times)")
    failures = Counter(sample.failure for samples in measured.samples.values() for sample in samples
                       if sample.failure)
    if failures:
        print("requests without an answer: " + ", ".join(f"{name} x{count}" for name, count in failures.items()))
    print("Slack calls the bot made (all runs, warm-up included): "
          + ", ".join(f"{method} x{count}" for method, count in sorted(api_calls.items())))
    print()
    verdict(figures)
    print(f"\nlog records at WARNING or above: {sum(logged.values())}")
    for line, count in logged.most_common(8):
        print(f"  {count:>5} x {line}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="measured requests per kind and app (500)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight at once (50)")
    parser.add_argument("--rounds", type=int, help="rounds, alternating which app goes first (default: batches "
                        "of twice the concurrency)")
    parser.add_argument("--warmup", type=int, help="unmeasured requests per kind and app first (default: twice "
                        "the concurrency, so every client thread has its connections open)")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or max(1, args.requests // (2 * args.concurrency))
    args.warmup = args.warmup or 2 * args.concurrency
    if min(args.requests, args.concurrency, args.rounds, args.warmup) < 1:
        parser.error("--requests, --concurrency, --rounds and --warmup must be positive")
    if args.requests // args.rounds < args.concurrency:
        parser.error("each round must send at least --concurrency requests: raise --requests or lower --rounds")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tally = quiet_logging()  # the apps' process; the child process counts its own
    print(f"offboard-bot ack bench: python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"slack_bolt {version('slack_bolt')}, uvicorn {version('uvicorn')}, starlette {version('starlette')}")
    run(args, tally)
    return 0


if __name__ == "__main__":
    sys.exit(main())
