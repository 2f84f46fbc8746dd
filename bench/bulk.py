"""How fast the bot deletes many users from 8x8 within the API's rate limit, next to an admin's plain loop.

Two runs in this one process, against one fake 8x8 Administration API server (bot/simulators/eightbyeight/:
stateful, asynchronous operations, and it answers 429 when a rate window or the operation limit is full).
The server adds `--latency` to every answer and finishes each PUT/DELETE operation `--operation-delay`
seconds after accepting it. Its limits are scaled up from 8x8's published 100 requests a minute and 20 per
10 s (`--rate`, `--burst`, `--operations`), so that a run lasts about a minute; the bot is given the same
limits through its settings (EIGHTBYEIGHT_RATE_LIMIT, EIGHTBYEIGHT_BURST_LIMIT, EIGHTBYEIGHT_MAX_OPERATIONS).
Every user has a license and an extension with a phone number, so each delete is "release licenses" (a PUT)
then "delete" (a DELETE), each an operation that is polled until it completes.

- bot: the real app (bot.container.build with OFFBOARD_CONSOLE=8x8, Bolt behind uvicorn, SQLite, the demo
  policy), a fake Slack Web API (bot/simulators/slack/), and signed Slack requests (bot/simulators/workspace/):
  alice types `/offboard delete u001 ... uN --reason bench`, presses "Request approval", bob and dana press
  "Approve" (the demo policy wants two approvers for a delete of more than 10 users, one below). The run is
  timed from the click that starts it to the request's DONE or FAILED state. OFFBOARD_WORKERS (`--workers`)
  users run side by side.
- loop: what an admin's script does, one user after the other (fresh users s001..sN): GET /users filtered on
  the username, GET the user, PUT it without licenses and poll the operation until COMPLETED, DELETE and poll
  again. It uses the bot's own HTTP client (same polling schedule) with its own throttle at the same limits,
  told of the bot run's requests the server still counts, so that the run before cannot cause it a 429.

Reading the figures:

- calls/user: the API requests the server saw, divided by the users deleted, with and without the operation
  polls (how many polls an operation takes depends on --operation-delay against the client's polling
  schedule: first after 0.25 s, then doubling). For the bot this includes the look-ups made when the command
  was typed, before the approval (shown apart in the breakdown).
- of bound: requests per second during the timed run divided by the rate-limit bound, min(rate/60,
  burst/10) per second; with the default flags the per-minute limit is the tighter one. Within the first
  minute the burst window lets a client go faster than rate/60, so a run of about a minute or less can come
  out above 1; the lines under the table compare with a client that sends evenly at the burst rate and keeps
  both windows, and give the requests per 10 s (--burst of them in one interval: the burst window was full).
- 429s: answers 429 the server gave during that run (rate windows and operation limit).
- heap peak: tracemalloc's peak of the Python memory allocated during the run and not yet freed, for the
  whole process (the fakes' threads included); started at the run's start (`--no-tracemalloc` leaves it
  off, tracing slows Python down). max RSS: the process's peak resident size so far (it never goes down, so
  the loop's figure includes the bot run's).

Targets: the bot at >= 0.9 of the bound with no 429s, and <= 5 console calls per deleted user besides polls.

Run from the repository root: `python bench/bulk.py [--users N] [--rate R] [--burst B] [--workers W] ...`
(`--help` lists every flag). With the defaults the bot's run takes about 70 s and the loop's about 140 s:
the loop cannot go faster than two polls and six round trips per user.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import select
from tally import Tally, quiet_logging  # bench/tally.py, next to this script

from bot.console.eightbyeight.client import EightByEightClient
from bot.console.eightbyeight.limits import ApiLimits, Throttle
from bot.console.eightbyeight.mapping import rsql_equals, without_licenses
from bot.container import Container, build
from bot.errors import ConfigurationError
from bot.server import create_asgi_app
from bot.settings import DEMO_POLICY, load_settings
from bot.simulators.eightbyeight.fake import FakeEightByEight
from bot.simulators.eightbyeight.model import Limits, Recorded
from bot.simulators.eightbyeight.users import make_user
from bot.simulators.live_server import LiveServer
from bot.simulators.slack.demo import HOME_CHANNEL, populate
from bot.simulators.slack.fake import FakeSlack
from bot.simulators.workspace.driver import Delivery, Workspace
from bot.slack import blocks as slack_blocks
from bot.slack.messages.notes import target_text
from storage import migrate
from storage.db import session
from storage.models import RequestRow

SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
ALICE = "U0ALICE"  # the demo admin who asks (bot/simulators/slack/demo.py, bot/demo_policy.toml) ...
APPROVERS = ("U0BOB", "U0DANA")  # ... and the ones who approve
FINAL_STATES = ("done", "failed")
STATE_POLL = 0.1  # seconds between looks at the request's state while it runs
SETTLE = 60.0  # seconds allowed for the bot's listeners to answer a command or a click
KINDS = ("lookup", "list", "get", "put", "delete", "poll", "other")
PHYSICAL_CALLS = 4  # the fewest calls a delete of one user takes: PUT without licenses, its poll, DELETE, its poll
CPU_SIZES = (50, 200, 500)  # users per run when measuring the CPU a user costs


class BenchFailed(Exception):
    """A step of the bot path did not go as a person would see it go; the message says what was seen."""


# -- logging ------------------------------------------------------------------------------------------------


# -- the fake 8x8 and its users -----------------------------------------------------------------------------


def start_fake(args: argparse.Namespace) -> FakeEightByEight:
    limits = Limits(requests=args.rate, period=60.0, burst=args.burst, burst_period=10.0,
                    operations=args.operations)
    return FakeEightByEight(api_key="bench-key", limits=limits, operation_delay=args.operation_delay,
                            latency=args.latency).start()


def seed(fake: FakeEightByEight, prefix: str, count: int, *, first_number: int) -> list[str]:
    """Add `count` UC users, each with a license and an extension holding a phone number; return their names."""
    width = max(3, len(str(count)))
    names = [f"{prefix}{index:0{width}d}" for index in range(1, count + 1)]
    for index, name in enumerate(names):
        fake.add_user(make_user(
            name, f"{name}@example.com", first_name="Bench", last_name=f"User {name}", licenses=["X Series X4"],
            extensions=[{"extensionNumber": str(first_number + index), "extensionType": "UC",
                         "phoneNumbers": [f"+1415{first_number + index:07d}"]}]))
    return names


def kind_of(recorded: Recorded, started: float = float("inf")) -> str:
    """Which kind of console call an exchange was: a filtered list call before the timed run looks names up
    ("lookup"), one during it reads users before or after their changes ("list")."""
    path = recorded.path.rstrip("/")
    if recorded.method == "GET" and path.endswith("/users"):
        if "filter" in recorded.query or "scrollId" in recorded.query:
            return "lookup" if recorded.at < started else "list"
        return "other"
    if "/operations/" in path:
        return "poll" if recorded.method == "GET" else "other"
    if "/users/" in path:
        return {"GET": "get", "PUT": "put", "DELETE": "delete"}.get(recorded.method, "other")
    return "other"


def deleted_among(fake: FakeEightByEight, names: list[str]) -> int:
    """How many of these users are gone from the console."""
    left = {user["basicInfo"]["userName"] for user in fake.users()}
    return sum(name not in left for name in names)


def licensed_left(fake: FakeEightByEight, names: list[str]) -> int:
    """How many of these users still hold a license (a delete must release them first)."""
    wanted = set(names)
    return sum(bool((user.get("serviceInfo") or {}).get("licenses")) for user in fake.users()
               if user["basicInfo"]["userName"] in wanted)


# -- measuring a run ----------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    users: int  # users named
    deleted: int
    seconds: float  # the timed run
    calls: Counter[str]  # every call of the run, look-ups before the approval included
    window_calls: int  # calls during the timed run
    per_10s: list[int]  # calls during the timed run, per 10 s from its start
    throttled: int
    heap_peak: int | None  # bytes, None when tracemalloc was off
    max_rss: int  # bytes
    notes: list[str] = field(default_factory=list)
    cpu: float = 0.0  # CPU seconds of the whole process (the fakes' threads included) during the timed run
    redraws: list[Redraw] = field(default_factory=list)  # each progress redraw, timed


@contextmanager
def traced(enabled: bool) -> Iterator[Callable[[], int | None]]:
    """Trace Python allocations inside the block; the yielded function returns the peak so far."""
    if not enabled:
        yield lambda: None
        return
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        yield lambda: tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def max_rss() -> int:
    """The process's peak resident set size so far, in bytes (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def per_10s(recorded: list[Recorded], started: float, seconds: float) -> list[int]:
    buckets = [0] * (int(seconds // 10) + 1)
    for item in recorded:
        if started <= item.at < started + seconds:
            buckets[int((item.at - started) // 10)] += 1
    return buckets


def count_calls(recorded: list[Recorded], started: float = float("inf")) -> Counter[str]:
    calls = Counter(kind_of(item, started) for item in recorded)
    calls["429"] = sum(item.status == 429 for item in recorded)
    return calls


# -- the bot path -------------------------------------------------------------------------------------------


@dataclass
class BotApp:
    container: Container
    workspace: Workspace
    slack: FakeSlack


@contextmanager
def serve_bot(fake: FakeEightByEight, args: argparse.Namespace, workdir: Path) -> Iterator[BotApp]:
    """The real app configured as an admin would for 8x8, served over HTTP, with Slack faked."""
    slack = FakeSlack(team_id="T0DEMO")
    populate(slack)
    with slack:
        settings = load_settings(
            slack_bot_token=slack.bot_token, slack_signing_secret=SIGNING_SECRET, slack_api_url=slack.api_url,
            database_url=f"sqlite:///{workdir / 'offboard.db'}", offboard_policy=DEMO_POLICY,
            offboard_log_level="WARNING", offboard_console="8x8", eightbyeight_base_url=fake.base_url,
            eightbyeight_api_key=fake.api_key, eightbyeight_rate_limit=args.rate,
            eightbyeight_burst_limit=args.burst, eightbyeight_max_operations=args.operations,
            offboard_workers=args.workers, offboard_max_users=max(500, args.users))
        container = build(settings)
        try:
            migrate.upgrade(container.engine)
            asgi = create_asgi_app(container.bolt, container.engine, signing_secret=SIGNING_SECRET,
                                   metrics=container.metrics, in_flight=container.in_flight)
            with LiveServer(asgi) as server, httpx.Client(timeout=60) as http:

                def send(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
                    response = http.post(server.events_url, content=body, headers=headers)
                    return response.status_code, response.content

                yield BotApp(container, Workspace(slack, signing_secret=SIGNING_SECRET, send=send), slack)
                container.wait_idle(args.timeout)  # the run's last messages, before the pools shut down
        finally:
            container.close()


def answered(app: BotApp, doing: str, act: Callable[[], Delivery], *, who: str) -> None:
    """Do one Slack action and wait for the listeners it started; raise BenchFailed when it did not work."""
    try:
        delivery = act()
    except LookupError as error:  # the button is not there: say what the user sees instead
        raise BenchFailed(f"{doing}: {error}. Their last ephemeral message: {last_words(app, who)}") from None
    if delivery.status != 200:
        raise BenchFailed(f"{doing}: the app answered HTTP {delivery.status}: {delivery.body[:300]!r}")
    if not all(pool.wait_idle(SETTLE) for pool in answer_pools(app.container)):
        raise BenchFailed(f"{doing}: the app was still answering after {SETTLE:.0f} s")


def answer_pools(container: Container) -> list[Any]:
    """The pools that answer a command or a click, in the order work flows through them: Bolt's listeners,
    then the pool they hand their work to when the container has one. Not the jobs that run a request."""
    return [pool for pool in (container.listeners, getattr(container, "decisions", None),
                              getattr(container, "answers", None)) if pool is not None]


def approve(app: BotApp, approver: str) -> None:
    answered(app, f"{approver} presses Approve", lambda: app.workspace.press(approver, "Approve"), who=approver)


def last_words(app: BotApp, user_id: str) -> str:
    """The newest ephemeral message the user saw, shortened, to explain a failed step."""
    seen = app.slack.ephemerals(user_id=user_id)
    return (seen[-1].text or "").strip()[:400] if seen else "(no ephemeral message)"


def request_awaiting(app: BotApp) -> tuple[str, tuple[str, ...]]:
    """The id of the request alice submitted, and the admins who will approve it (the policy says how many)."""
    requests = app.container.store.list(limit=5)
    if len(requests) != 1:
        raise BenchFailed(f"expected one request, found {len(requests)}; alice last saw: {last_words(app, ALICE)}")
    request = requests[0]
    if request.state.value != "awaiting_approval":
        raise BenchFailed(f"request {request.id} is {request.state.value}, not awaiting approval")
    if not 1 <= request.approvals_required <= len(APPROVERS):
        raise BenchFailed(f"request {request.id} needs {request.approvals_required} approvers; the demo has "
                          f"{len(APPROVERS)} besides alice")
    return request.id, APPROVERS[:request.approvals_required]


def state_of(app: BotApp, request_id: str) -> str:
    """The request's state, read with one small query (the full request holds every target and step)."""
    with session(app.container.engine) as db:
        return db.exec(select(RequestRow.state).where(RequestRow.id == request_id)).one()


def wait_final(app: BotApp, request_id: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while (state := state_of(app, request_id)) not in FINAL_STATES:
        if time.monotonic() > deadline:
            raise BenchFailed(f"request {request_id} still {state} after {timeout:.0f} s")
        time.sleep(STATE_POLL)
    return state


def outcome_notes(app: BotApp, request_id: str) -> list[str]:
    """The targets that did not end done, with what the bot said about them (a few)."""
    request = app.container.store.get(request_id)
    outcomes = Counter(target.outcome.value for target in request.targets)
    notes = [f"bot request {request_id}: " + ", ".join(f"{count} {name}" for name, count in outcomes.items())]
    for target in [t for t in request.targets if t.outcome.value != "done"][:3]:
        notes.append(f"  {target.plan.username}: {target.outcome.value}: {target_text(request.action, target)}")
    return notes


@dataclass
class Redraw:
    """One progress redraw of a running request's message: its seconds in all (Slack's answer included), and
    the bot's own part: reading the request (or its tally) from the database, and building the message."""

    total: float = 0.0
    store: float = 0.0
    build: float = 0.0

    @property
    def own(self) -> float:
        return self.store + self.build


@contextmanager
def timed_redraws(app: BotApp) -> Iterator[list[Redraw]]:
    """Time every progress redraw of the running request, and within it the store's reads and the message's
    building (the wrappers count only on the thread doing a redraw, and come off afterwards)."""
    runs, store = app.container.service.runs, app.container.store
    inside = threading.local()
    redraws: list[Redraw] = []
    undo: list[Callable[[], None]] = []

    def timing(owner: Any, name: str, part: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                redraw = getattr(inside, "redraw", None)
                if redraw is not None:
                    setattr(redraw, part, getattr(redraw, part) + time.perf_counter() - began)

        setattr(owner, name, timed)
        undo.append(lambda: setattr(owner, name, original))

    for name in ("get", "tally"):  # the request whole (before) or its tally (since counts come from the database)
        if hasattr(store, name):
            timing(store, name, "store")
    timing(slack_blocks, "approval_message", "build")
    progress = runs._progress

    def timed_progress(request: Any) -> None:
        inside.redraw = redraw = Redraw()
        began = time.perf_counter()
        try:
            progress(request)
        finally:
            redraw.total = time.perf_counter() - began
            inside.redraw = None
            redraws.append(redraw)

    runs._progress = timed_progress
    undo.append(lambda: setattr(runs, "_progress", progress))
    try:
        yield redraws
    finally:
        for step in reversed(undo):
            step()


def run_bot(fake: FakeEightByEight, args: argparse.Namespace, workdir: Path) -> Result:
    names = seed(fake, "u", args.users, first_number=2_000_000)
    with serve_bot(fake, args, workdir) as app, timed_redraws(app) as redraws:
        first, throttled = len(fake.requests), fake.throttled
        command = f"delete {' '.join(names)} --reason bench"
        answered(app, "/offboard delete", lambda: app.workspace.slash(ALICE, command, channel_id=HOME_CHANNEL),
                 who=ALICE)
        answered(app, "alice presses Request approval",
                 lambda: app.workspace.press(ALICE, "Request approval", inputs={"offboard_checklist": "box-1"}),
                 who=ALICE)
        request_id, approvers = request_awaiting(app)
        for approver in approvers[:-1]:
            approve(app, approver)
        with traced(args.tracemalloc) as peak:
            started = time.monotonic()  # from the click that starts the run
            cpu = time.process_time()
            approve(app, approvers[-1])
            state = wait_final(app, request_id, args.timeout)
            seconds = time.monotonic() - started
            cpu = time.process_time() - cpu
            heap = peak()
        recorded = fake.requests[first:]
        notes = [f"bot request ended {state}", *outcome_notes(app, request_id)]
    return Result("bot", args.users, deleted_among(fake, names), seconds, count_calls(recorded, started),
                  sum(item.at >= started for item in recorded), per_10s(recorded, started, seconds),
                  fake.throttled - throttled, heap, max_rss(), notes + unreleased(fake, names), cpu=cpu,
                  redraws=list(redraws))


def unreleased(fake: FakeEightByEight, names: list[str]) -> list[str]:
    left = licensed_left(fake, names)
    return [f"{left} users not deleted still hold a license"] if left else []


# -- the admin's loop ---------------------------------------------------------------------------------------


def primed_throttle(limits: ApiLimits, fake: FakeEightByEight) -> Throttle:
    """A throttle at the bot's limits that already counts the requests the server still counts (the bot
    run's last minute), so the loop is not answered 429 because of the run before it."""
    throttle = Throttle(limits)
    horizon = time.monotonic() - limits.period
    for item in fake.requests:
        if item.at > horizon and item.status not in (None, 401, 429):
            ticket = throttle.acquire()
            throttle.answered(ticket)
            ticket.at = item.at  # counted from when the server answered it
    return throttle


def delete_one(client: EightByEightClient, name: str) -> bool:
    """What a script does for one user; False when the user was not found."""
    found = [raw for raw in client.list_users(filter=rsql_equals("basicInfo.userName", name), page_size=20,
                                              max_pages=1)
             if raw["basicInfo"]["userName"].lower() == name.lower()]
    if len(found) != 1:
        return False
    user_id = found[0]["basicInfo"]["userId"]
    raw = client.get_user(user_id)
    client.put_user(user_id, without_licenses(raw), doing=f"release the licenses of {name}")
    client.delete_user(user_id, doing=f"delete {name}")
    return True


def run_loop(fake: FakeEightByEight, args: argparse.Namespace) -> Result:
    names = seed(fake, "s", args.users, first_number=5_000_000)
    limits = ApiLimits(requests=args.rate, burst=args.burst, operations=args.operations)
    client = EightByEightClient(fake.base_url, fake.api_key, throttle=primed_throttle(limits, fake))
    first, throttled = len(fake.requests), fake.throttled
    missing = 0
    try:
        with traced(args.tracemalloc) as peak:
            started = time.monotonic()
            for name in names:
                missing += not delete_one(client, name)
            seconds = time.monotonic() - started
            heap = peak()
    finally:
        client.close()
    recorded = fake.requests[first:]
    notes = [f"loop: {missing} users not found by the filtered GET"] if missing else []
    return Result("loop", args.users, deleted_among(fake, names), seconds, count_calls(recorded), len(recorded),
                  per_10s(recorded, started, seconds), fake.throttled - throttled, heap, max_rss(),
                  notes + unreleased(fake, names))


# -- figures ------------------------------------------------------------------------------------------------


def bound_per_second(args: argparse.Namespace) -> float:
    return min(args.rate / 60.0, args.burst / 10.0)


def window_allowance(args: argparse.Namespace, seconds: float) -> int:
    """The most requests a client pacing itself at the burst rate (one every 10/burst s) can send in `seconds`
    while keeping both sliding windows, starting from empty windows: each request goes at the earliest
    moment the pace and both windows allow."""
    times: list[float] = []
    spacing = 10.0 / args.burst
    while True:
        at = times[-1] + spacing if times else 0.0
        if len(times) >= args.rate:
            at = max(at, times[-args.rate] + 60.0)
        if len(times) >= args.burst:
            at = max(at, times[-args.burst] + 10.0)
        if at >= seconds:
            return len(times)
        times.append(at)


def physical_users_per_minute(args: argparse.Namespace) -> float:
    """The most users a minute any client can delete at these limits: the rate bound over the fewest calls a
    user takes (PUT, poll, DELETE, poll: 8x8's own API allows no fewer; finding users costs next to nothing,
    one filtered list call covers many)."""
    return bound_per_second(args) * 60.0 / PHYSICAL_CALLS


def per_user(result: Result, count: float) -> float:
    return count / result.deleted if result.deleted else float("nan")


def mib(value: int | None) -> str:
    return "off" if value is None else f"{value / 2**20:.1f}"


def print_config(args: argparse.Namespace) -> None:
    bound = bound_per_second(args)
    tighter = "the per-minute limit" if args.rate / 60.0 <= args.burst / 10.0 else "the burst limit"
    print(f"offboard-bot bulk bench: python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"users: {args.users} per run; 8x8 fake: {args.rate} requests/min, {args.burst} per 10 s, "
          f"{args.operations} operations at once, latency {args.latency * 1000:.0f} ms, operations finish after "
          f"{args.operation_delay * 1000:.0f} ms")
    print(f"bot: OFFBOARD_WORKERS={args.workers}, the same limits in EIGHTBYEIGHT_*; "
          f"rate-limit bound {bound:.2f} requests/s, set by {tighter}")
    print(f"tracemalloc: {'on' if args.tracemalloc else 'off'}\n", flush=True)


def print_table(results: list[Result], args: argparse.Namespace) -> None:
    bound = bound_per_second(args)
    physical = physical_users_per_minute(args)
    print(f"{'run':<5} {'users':>5} {'deleted':>7} {'seconds':>8} {'users/min':>9} {'of physical':>11} "
          f"{'calls/user':>10} {'w/o polls':>9} {'of bound':>8} {'429s':>5} {'heap peak MiB':>13} "
          f"{'max RSS MiB':>11}")
    for r in results:
        total = sum(r.calls[kind] for kind in KINDS)
        rate = r.window_calls / r.seconds / bound if r.seconds else float("nan")
        users_per_minute = r.deleted / r.seconds * 60
        print(f"{r.name:<5} {r.users:>5} {r.deleted:>7} {r.seconds:>8.1f} {users_per_minute:>9.1f} "
              f"{users_per_minute / physical:>11.2f} {per_user(r, total):>10.2f} "
              f"{per_user(r, total - r.calls['poll']):>9.2f} {rate:>8.2f} {r.throttled:>5} {mib(r.heap_peak):>13} "
              f"{mib(r.max_rss):>11}")
    print(f"(of physical: users a minute / {physical:.1f}, the physical bound: {bound:.2f} requests/s over the "
          f"{PHYSICAL_CALLS} calls a user takes at the least; of bound: requests per second in the timed run / "
          f"{bound:.2f}. The windows let a client go faster than that for up to a minute, so runs that short can "
          "come out above 1)")
    print()
    for r in results:
        allowed = window_allowance(args, r.seconds)
        print(f"{r.name}: {r.window_calls} requests in the {r.seconds:.1f} s timed run; a client sending evenly at "
              f"{args.burst / 10:g}/s and keeping both windows (from empty) sends {allowed} in that time "
              f"({r.window_calls / max(allowed, 1):.2f} of that)")
        print(f"  requests per 10 s: {' '.join(map(str, r.per_10s))} (the last interval is partial)")


def print_breakdown(results: list[Result]) -> None:
    print("\nconsole calls per deleted user, by kind (lookup: GET /users?filter=... before the run, list: the same "
          "during it, reading many users before and after their changes, get: GET /users/{id}, "
          "poll: GET /operations/{id}):")
    print(f"{'run':<5} " + " ".join(f"{kind:>7}" for kind in KINDS) + f" {'total':>7} {'429 answers':>11}")
    for r in results:
        total = sum(r.calls[kind] for kind in KINDS)
        print(f"{r.name:<5} " + " ".join(f"{per_user(r, r.calls[kind]):>7.2f}" for kind in KINDS)
              + f" {per_user(r, total):>7.2f} {r.calls['429']:>11}")
    for r in results:
        total = sum(r.calls[kind] for kind in KINDS)
        before = f", {total - r.window_calls} of them before the timed run" if total > r.window_calls else ""
        print(f"{r.name}: {total} calls in all{before}; " + ", ".join(
            f"{kind} {r.calls[kind]}" for kind in KINDS if r.calls[kind]))
    print("(the bot looks the named users up when the command is typed, before the approval; "
          "the loop looks each one up just before deleting it)")


def print_verdict(bot: Result, args: argparse.Namespace) -> None:
    total = sum(bot.calls[kind] for kind in KINDS)
    fraction = bot.window_calls / bot.seconds / bound_per_second(args)
    users_per_minute = bot.deleted / bot.seconds * 60
    physical = physical_users_per_minute(args)
    calls = per_user(bot, total)
    checks = (
        (f"throughput {users_per_minute:.1f} users/min, {users_per_minute / physical:.2f} of the physical bound "
         f"{physical:.1f} (target >= 0.9)", users_per_minute >= 0.9 * physical),
        (f"requests {fraction:.2f} of the rate bound (target >= 0.9)", fraction >= 0.9),
        (f"429s caused by the bot: {bot.throttled} (target 0)", bot.throttled == 0),
        (f"console calls per deleted user, polls and look-ups included: {calls:.2f} (target <= 4.3)", calls <= 4.3),
        (f"users deleted: {bot.deleted} of {bot.users}", bot.deleted == bot.users),
    )
    print()
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  bot {text}")


def print_notes(results: list[Result], tally: Tally) -> None:
    print()
    for r in results:
        for note in r.notes:
            print(note)
    print(f"log records at WARNING or above: {sum(tally.seen.values())}")
    for line, count in tally.seen.most_common(8):
        print(f"  {count:>5} x {line}")


# -- main ---------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=200, help="users deleted per run (200)")
    parser.add_argument("--rate", type=int, default=1000, help="requests per minute the API allows (1000)")
    parser.add_argument("--burst", type=int, default=200, help="requests per 10 s the API allows (200)")
    parser.add_argument("--operations", type=int, default=10, help="operations in flight at once (10)")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every answer (0.02)")
    parser.add_argument("--operation-delay", type=float, default=0.2,
                        help="seconds until a PUT or DELETE operation completes (0.2)")
    parser.add_argument("--workers", type=int, default=8, help="OFFBOARD_WORKERS: users side by side (8)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds a run may take (900)")
    parser.add_argument("--no-tracemalloc", dest="tracemalloc", action="store_false",
                        help="do not trace allocations (tracing slows Python down)")
    parser.add_argument("--cpu", action="store_true",
                        help="instead: the bot alone for each of --sizes users, CPU per user and redraw times")
    parser.add_argument("--sizes", default=",".join(map(str, CPU_SIZES)),
                        help=f"with --cpu: users per run, comma-separated ({','.join(map(str, CPU_SIZES))})")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(size) for size in args.sizes.split(",")]
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas, e.g. 50,200,500")
    if min(args.users, args.rate, args.burst, args.operations, args.workers) < 1:
        parser.error("--users, --rate, --burst, --operations and --workers must be positive")
    if args.users > 5000 or args.workers > 64:
        parser.error("the bot takes at most 5000 users in one request and 64 workers")
    if min(args.latency, args.operation_delay) < 0 or args.timeout <= 0:
        parser.error("--latency and --operation-delay must not be negative, --timeout must be positive")
    return args


def run_cpu(args: argparse.Namespace, tally: Tally) -> int:
    """The bot alone, once for each of CPU_SIZES users: the CPU a deleted user costs, and what a redraw takes."""
    results: list[Result] = []
    for users in args.sizes:
        sized = argparse.Namespace(**{**vars(args), "users": users, "tracemalloc": False})
        fake = start_fake(sized)
        try:
            with tempfile.TemporaryDirectory(prefix="offboard-bulk-") as tmp:
                print(f"bot: deleting {users} users through Slack...", flush=True)
                results.append(run_bot(fake, sized, Path(tmp)))
        finally:
            fake.stop()
    print_cpu(results)
    print_notes(results, tally)
    return 0


def print_cpu(results: list[Result]) -> None:
    print("\nCPU of the whole process (bot, fake Slack and fake 8x8) during the timed run, per deleted user. A "
          "redraw is one progress update of the request's message: 'own' is the bot's part (reading the database, "
          "building the message), 'all' adds Slack's answer (the fake Slack runs in this process):")
    print(f"{'users':>5} {'seconds':>8} {'CPU s':>7} {'CPU ms/user':>11} {'x of first':>10} {'redraws':>7} "
          f"{'own ms median':>13} {'max':>7} {'all ms median':>13} {'max':>7} {'all redraws s':>13} "
          f"{'calls/user':>10}")
    first = None
    for r in results:
        cpu = per_user(r, r.cpu) * 1000
        first = first or cpu
        own = sorted(redraw.own for redraw in r.redraws) or [0.0]
        whole = sorted(redraw.total for redraw in r.redraws) or [0.0]
        total = sum(r.calls[kind] for kind in KINDS)
        print(f"{r.users:>5} {r.seconds:>8.1f} {r.cpu:>7.1f} {cpu:>11.2f} {cpu / first:>10.2f} {len(r.redraws):>7} "
              f"{own[len(own) // 2] * 1000:>13.1f} {own[-1] * 1000:>7.1f} {whole[len(whole) // 2] * 1000:>13.1f} "
              f"{whole[-1] * 1000:>7.1f} {sum(whole):>13.2f} {per_user(r, total):>10.2f}")
    last = per_user(results[-1], results[-1].cpu) * 1000
    ok = last <= 1.2 * first
    print(f"\n{'PASS' if ok else 'FAIL'}  bot CPU per user at {results[-1].users} users is {last / first:.2f}x that at "
          f"{results[0].users} (target <= 1.2)")


def run(args: argparse.Namespace, tally: Tally) -> int:
    if args.cpu:
        return run_cpu(args, tally)
    fake = start_fake(args)
    try:
        with tempfile.TemporaryDirectory(prefix="offboard-bulk-") as tmp:
            print(f"bot: deleting {args.users} users through Slack...", flush=True)
            bot = run_bot(fake, args, Path(tmp))
        print(f"loop: deleting {args.users} users one after the other...\n", flush=True)
        loop = run_loop(fake, args)
    finally:
        fake.stop()
    print_table([bot, loop], args)
    print_breakdown([bot, loop])
    print_verdict(bot, args)
    print_notes([bot, loop], tally)
    if fake.bugs:
        print(f"the fake 8x8 server hit {len(fake.bugs)} bugs of its own (answered 500)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tally = quiet_logging()
    print_config(args)
    try:
        return run(args, tally)
    except BenchFailed as failure:
        print(f"\nthe bot path failed: {failure}")
        return 1
    except ConfigurationError as error:
        print(f"\nthe bot refused this configuration: {error}")
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
