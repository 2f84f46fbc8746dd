"""The soak run: a few thousand mixed requests through the real app, with random faults, then a count of what
must never happen (a console operation lost or repeated, a request left in a non-final state, a broken audit
chain, a failure left unexplained).

The app is the real one (tests/app/conftest.py `serve`, as `serve_local` builds it: Bolt behind uvicorn, SQLite,
the demo policy, a ManualClock) on the local console wrapped in tests/fakes.py FaultyConsole, with the stateful
FakeSlack. Every click is a signed HTTP request (bot/shell/workspace.py). The run is sequential and settles
after every action, so given a seed the requests, their fates and the faults are the same on every run; only
which user of a multi-user request meets a fault can vary, as the executor works on several at once.

Every request names fresh console users (soak0001, soak0002, ...) added to the console just before it:

- deletes of 1 to 3 users (some licensed, so a delete is release_licenses then delete; some not), asked by
  alice and approved by bob or dana (now and then both click Approve at the same instant), and a few bulk
  deletes of 11 or 12 users, which the demo policy sends to two approvers (bob, then dana);
- deactivations, reactivations (of users created inactive) and renames, asked by any of the three admins and
  confirmed by the asker (the policy needs no approver; now and then Confirm is clicked twice at once);
- scheduled requests (`--at in 2h`: a delete, a deactivation or a rename) and staged deletes (`--grace 1d
  --retain 2d`: deactivate at once, release the licenses a day later, delete the day after); the clock is moved
  to each run time and the sweeper started, as every replica's sweeper does;
- some rejected (Reject, then the reason modal), some cancelled (from the private preview, with `/offboard
  cancel` once sent for approval, before a scheduled run or between a staged delete's stages), some left to
  expire (the clock is moved past the policy's expire_after and the sweeper run, every few dozen such
  requests).

Faults, drawn from the seed (each request meets at most one console fault and at most one Slack fault):

- console refused / console unavailable: the next call of one of the request's operations raises
  ConsoleRejected / ConsoleUnavailable before changing anything;
- answer lost: the operation lands in the console, then OutcomeUnknown (or ConsoleUnavailable) is raised;
- answer lost, read-back fails: the same, and the next three reads of the user fail too (the step cannot be
  confirmed: the bot must say so, not guess);
- read fails: the read before the first step fails;
- lookup fails: the look-up made when the command is typed fails (no request may be created);
- bug before change / bug after change: a RuntimeError in the console adapter just before the operation, or
  just after it landed; the request is left executing, and the sweeper resumes it once its lease has lapsed
  (the clock is moved past the lease), which must not repeat the operation (a run is never resumed while
  another one is running: the clock only moves when the app is idle, as the lease's own guard counts real
  time);
- slack error / slack 429: chat.update or chat.postMessage answer an error, or 429 with Retry-After: 1 (the
  bot's client waits out two; a third fails). A failed chat.postMessage of the approval message calls the
  request off (nobody could approve it): that is a legitimate cancelled.

Then the clock is moved past every expiry and lease and the sweeper run a few times, and the figures are
computed from the console's operation log (LocalConsole.operations) and the database:

- lost operations: a step recorded done (or a target recorded done) whose console operation is not in the log,
  or whose effect is not in the console (a deleted user still there, a rename not showing);
- duplicated operations: any (user, operation) applied more than once (fresh users: each is applied once);
- operations outside an approved plan: an operation on a user of a request that never ran, or one that is not
  a step of the user's plan;
- stuck requests: requests not in a final state (done, failed, rejected, expired, cancelled); no Contact
  Center user is used, so nothing legitimately waits for a manual step; and targets still pending in a
  request that ended done or failed;
- failed targets without advice: a failed or aborted target with an empty detail, or a failed one whose detail
  names no next step (check the user, ask again, start a new request...);
- the audit chain (storage.audit.verify).
"""

from __future__ import annotations

import random
import re
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.console.local import LocalConsole
from bot.domain.directory import ConsoleUser, Device, Extension, ExtensionType, UserStatus
from bot.domain.lifecycle import RequestState
from bot.domain.plan import StepKind, TargetPlan
from bot.domain.records import OffboardRequest, StepRecord, StepStatus, TargetOutcome
from bot.errors import ConsoleError, ConsoleRejected, ConsoleUnavailable, OutcomeUnknown
from bot.shell.demo import HOME_CHANNEL, populate
from bot.shell.fake_slack import Ephemeral, EventKind, FakeSlack, Message, SlackEvent
from bot.slack.ids import ActionId
from bot.slack.values import RequestRef
from storage import audit
from tests.app.conftest import App, _text, serve
from tests.fakes import FaultyConsole, run_together

ALICE, BOB, DANA = "U0ALICE", "U0BOB", "U0DANA"  # bot/shell/demo.py, bot/demo_policy.toml
NAMES = {ALICE: "alice", BOB: "bob", DANA: "dana"}
SOAK_AUDIT_KEY = "soak-audit-key-0123456789abcdefghijkl"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FINAL = frozenset({RequestState.DONE, RequestState.FAILED, RequestState.REJECTED, RequestState.EXPIRED,
                   RequestState.CANCELLED})
OPERATION_OF = {  # the console operation (LocalConsole.operations().name) each plan step sends
    StepKind.RELEASE_LICENSES: "release_licenses",
    StepKind.DEACTIVATE: "set_status",
    StepKind.REACTIVATE: "set_status",
    StepKind.RENAME: "rename",
    StepKind.DELETE: "delete",
}
EXPIRY_BATCH = 25  # requests left to expire are expired together, this many at a time (one clock jump)
BULK_USERS = (11, 12)  # a delete of more than bulk_over (10) users needs two approvers

# What a request is, and how it ends, with their weights. A scheduled request (`--at in 2h`) is a delete, a
# deactivation or a rename; a staged delete (`--grace 1d --retain 2d`) deactivates at once, releases the licenses a
# day later and deletes the day after, each stage started by the sweeper once the clock has been moved on.
KINDS = {"delete": 40, "bulk delete": 2, "staged delete": 5, "deactivate": 20, "reactivate": 9, "rename": 18,
         "scheduled": 6}
FATES = {
    "delete": {"approve": 62, "approve together": 6, "reject": 10, "cancel preview": 5, "cancel sent": 7,
               "expire": 10},
    "bulk delete": {"approve": 70, "reject": 10, "cancel sent": 10, "expire": 10},
    "staged delete": {"approve": 60, "approve together": 5, "cancel between stages": 20, "reject": 5,
                      "cancel sent": 5, "expire": 5},
    "confirm": {"confirm": 80, "confirm twice": 5, "cancel preview": 10, "expire": 5},
    "scheduled": {"run": 75, "cancel before run": 25},
}
RUNS = frozenset({"approve", "approve together", "confirm", "confirm twice", "cancel between stages"})
DECIDED = frozenset({"approve", "approve together", "reject", "cancel sent", "cancel between stages",
                     "cancel before run"})  # fates that redraw the approval message when they happen
CONSOLE_FAULTS = {"console refused": 3, "console unavailable": 3, "answer lost": 4,
                  "answer lost, read-back fails": 1, "read fails": 2, "bug before change": 1,
                  "bug after change": 1}
READ_FAULTS = frozenset({"answer lost, read-back fails", "read fails"})
SLACK_FAULTS = {"slack error": 3, "slack 429": 1}
LOOKUP_FAULT_SHARE = 0.1  # of --fault-rate: how often the command's look-up fails


# -- the plan of the run, drawn from the seed before anything runs ----------------------------------------------


@dataclass(frozen=True)
class Fault:
    kind: str
    operation: str = ""  # the console operation (or Slack method) it hits
    variant: int = 0  # which error, how many times


@dataclass(frozen=True)
class Planned:
    """One request of the run, decided up front."""

    number: int
    kind: str  # a key of KINDS
    action: str  # delete, deactivate, reactivate, rename
    fate: str  # a key of its FATES table
    requester: str
    licensed: tuple[bool, ...]  # one per user
    console_fault: Fault | None = None
    slack_fault: Fault | None = None
    lookup_fault: bool = False

    @property
    def label(self) -> str:
        return f"scheduled {self.action}" if self.kind == "scheduled" else self.kind

    @property
    def options(self) -> str:
        return {"staged delete": " --grace 1d --retain 2d", "scheduled": " --at in 2h"}.get(self.kind, "")

    @property
    def runs(self) -> bool:
        """True when the request is approved (or confirmed) and its first steps run."""
        return self.fate in RUNS

    @property
    def sent(self) -> bool:
        """True when the request is sent for approval (posted in the approvals channel)."""
        return self.action == "delete" and self.fate != "cancel preview"

    @property
    def operations(self) -> list[str]:
        """The console operations this request sends if every step it gets to is done (a licensed user's
        delete releases the licenses first; a staged delete deactivates first)."""
        if self.fate == "cancel between stages":
            return ["set_status"]
        if self.action == "delete":
            staged = ["set_status"] if self.kind == "staged delete" else []
            return staged + (["release_licenses"] if any(self.licensed) else []) + ["delete"]
        return ["rename"] if self.action == "rename" else ["set_status"]


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def plan_run(requests: int, *, seed: int, fault_rate: float) -> list[Planned]:
    """Every request of the run with its fate and faults; the same list for the same arguments.

    Each kind of fault is given to the first requests it fits before kinds are drawn by weight, so that even a
    short run meets every kind."""
    rng = random.Random(seed)
    planned = []
    unused = {"console": list(CONSOLE_FAULTS), "slack": list(SLACK_FAULTS), "lookup": ["lookup fails"]}
    for number in range(requests):
        kind = _pick(rng, KINDS)
        action = {"scheduled": rng.choice(("delete", "deactivate", "rename")), "bulk delete": "delete",
                  "staged delete": "delete"}.get(kind, kind)
        fate = _pick(rng, FATES[kind if kind in FATES else "confirm"])
        if fate == "run":
            fate = "approve" if action == "delete" else "confirm"
        if kind == "bulk delete":
            users = rng.choice(BULK_USERS)
        elif action == "rename":
            users = 1
        else:
            users = rng.choice((1, 1, 1, 2, 3) if action == "delete" else (1, 1, 1, 2))
        requester = ALICE if action == "delete" else rng.choice((ALICE, BOB, DANA))
        licensed = tuple(rng.random() < 0.7 for _ in range(users))
        console_draw, slack_draw, lookup_draw = rng.random(), rng.random(), rng.random()
        console_kind, slack_kind = _pick(rng, CONSOLE_FAULTS), _pick(rng, SLACK_FAULTS)
        slack_method = rng.choice(("chat.update", "chat.postMessage"))
        variant = rng.randrange(6)
        item = Planned(number=number, kind=kind, action=action, fate=fate, requester=requester, licensed=licensed)
        operation = rng.choice(item.operations)
        # A request that does not run can meet no console fault but the look-up's; the first one drawn faulty
        # meets it, if no request did yet.
        lookup = lookup_draw < fault_rate * LOOKUP_FAULT_SHARE or (
            console_draw < fault_rate and not item.runs and bool(unused["lookup"]))
        console = slack = None
        if console_draw < fault_rate and item.runs and not lookup:
            console = Fault(_first_unused(unused["console"], console_kind), operation, variant)
        if slack_draw < fault_rate / 2 and not lookup:
            slack = _slack_fault(item, unused["slack"][0] if unused["slack"] else slack_kind, slack_method, variant)
            if slack is not None:  # else it fits no Slack call this request makes, and the kind stays unused
                _first_unused(unused["slack"], slack_kind)
        if lookup:
            _first_unused(unused["lookup"], "lookup fails")
        planned.append(Planned(number=number, kind=kind, action=action, fate=fate, requester=requester,
                               licensed=licensed, console_fault=console, slack_fault=slack, lookup_fault=lookup))
    return planned


def _first_unused(unused: list[str], drawn: str) -> str:
    """The first kind not given to any request yet (taken off the list), else the one drawn."""
    if unused:
        return unused.pop(0)
    return drawn


def _slack_fault(item: Planned, kind: str, method: str, variant: int) -> Fault | None:
    """A Slack fault the request is sure to meet (so none is left over for the next one), or None.

    chat.postMessage: every request sent for approval posts its approval message, and every request that runs
    posts its results and a direct message. chat.update: a request with an approval message has it redrawn when
    it is decided."""
    if method == "chat.update" and not (item.sent and item.fate in DECIDED):
        method = "chat.postMessage"
    if method == "chat.postMessage" and not (item.sent or item.runs):
        return None
    # The client waits out two 429s for one call; a third makes the call fail.
    times = 1 + variant % 3 if kind == "slack 429" else 1 + variant % 2
    return Fault(kind, method, times)


# -- the figures ------------------------------------------------------------------------------------------------


@dataclass
class SoakReport:
    requests: int = 0  # commands typed
    planned: int = 0
    created: int = 0  # requests stored
    commands_refused: int = 0  # the look-up failed: the admin was told, nothing was created
    kinds: Counter[str] = field(default_factory=Counter)
    fates: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)  # targets
    faults: Counter[str] = field(default_factory=Counter)  # injected, by kind
    faults_unfired: Counter[str] = field(default_factory=Counter)  # injected but never met (removed after)
    slack_errors_answered: int = 0  # Slack API calls the fake answered with an injected error
    resumed: int = 0  # runs interrupted by an unexpected error and resumed by a sweep
    operations: int = 0  # console operations applied
    unknown_steps: int = 0  # steps sent whose outcome could not be confirmed (the admin is told to check)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unapproved: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)  # targets still pending in a request that ended done/failed
    unexplained: list[str] = field(default_factory=list)  # failed or aborted targets with no detail
    surprises: list[str] = field(default_factory=list)  # the run could not go on as a person would see it go
    unexpected_fates: list[str] = field(default_factory=list)  # for information: ended otherwise than expected
    told: Counter[str] = field(default_factory=Counter)  # what failed and aborted targets say, users left out
    audit_ok: bool = False
    audit_rows: int = 0
    audit_problems: tuple[str, ...] = ()
    seconds: float = 0.0
    stopped_early: bool = False

    @property
    def checks(self) -> list[tuple[str, int]]:
        """The must-be-zero figures."""
        return [("lost operations", len(self.lost)), ("duplicated operations", len(self.duplicated)),
                ("requests stuck", len(self.stuck)),
                ("targets left pending in a finished request", len(self.unfinished)),
                ("operations outside an approved plan", len(self.unapproved)),
                ("failed targets without advice", len(self.unexplained)),
                ("audit chain broken", 0 if self.audit_ok else 1),
                ("driver surprises", len(self.surprises))]

    @property
    def ok(self) -> bool:
        return all(count == 0 for _, count in self.checks)

    def lines(self, *, examples: int = 5) -> list[str]:
        injected = sum(self.faults.values())
        out = [
            f"requests:                  {self.requests} typed ({self.created} created, {self.commands_refused} "
            "refused when the console look-up failed)"
            + (f"; stopped early, {self.planned} planned" if self.stopped_early else ""),
            "  kinds:                   " + _counts(self.kinds),
            "  fates:                   " + _counts(self.fates),
            "  final states:            " + _counts(self.states),
            "  targets:                 " + _counts(self.outcomes),
            f"faults injected:           {injected} (" + _counts(self.faults) + ")",
            f"  not met at all:          {sum(self.faults_unfired.values())}"
            + (f" ({_counts(self.faults_unfired)})" if self.faults_unfired else ""),
            f"  Slack calls failed:      {self.slack_errors_answered}",
            f"  runs resumed by a sweep: {self.resumed}",
            f"console operations:        {self.operations} applied, {self.unknown_steps} steps left unconfirmed "
            "(the admin is told to check the console)",
            f"lost operations:           {len(self.lost)}",
            f"duplicated operations:     {len(self.duplicated)}",
            f"requests stuck:            {len(self.stuck)}",
            f"targets left pending:      {len(self.unfinished)} (in requests that ended done or failed)",
            f"outside an approved plan:  {len(self.unapproved)}",
            f"failed without advice:     {len(self.unexplained)}",
            f"driver surprises:          {len(self.surprises)}",
            f"ended otherwise than expected: {len(self.unexpected_fates)} (information: how each fault should end, "
            "as tests/app/test_failures.py expects)",
            f"audit chain ok:            {self.audit_ok} ({self.audit_rows} rows)",
            f"elapsed seconds:           {self.seconds:.1f}",
        ]
        for title, items in (("lost", self.lost), ("duplicated", self.duplicated), ("stuck", self.stuck),
                             ("left pending", self.unfinished),
                             ("outside an approved plan", self.unapproved), ("without advice", self.unexplained),
                             ("surprises", self.surprises), ("audit", list(self.audit_problems)),
                             ("ended otherwise than expected (information)", self.unexpected_fates)):
            if items:
                out.append(f"{title}: {len(items)}, e.g.")
                out += [f"  {item}" for item in items[:examples]]
        if self.told:
            out.append("what failed and aborted users were told (most frequent first):")
            out += [f"  {count:>4} x {text}" for text, count in self.told.most_common(examples * 2)]
        return out

    def verdict(self) -> list[str]:
        return [f"{'PASS' if count == 0 else 'FAIL'}  {name}: {count}" for name, count in self.checks]


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


# -- driving the app --------------------------------------------------------------------------------------------


class Screens:
    """The newest ephemeral each member was shown, kept from FakeSlack's events, so that a click needs no scan
    of everything the workspace ever showed (which grows with every request)."""

    def __init__(self, slack: FakeSlack) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, Ephemeral] = {}
        self._count: Counter[str] = Counter()
        self.unsubscribe = slack.subscribe(self._seen)

    def _seen(self, event: SlackEvent) -> None:
        if event.kind not in (EventKind.EPHEMERAL_POSTED, EventKind.EPHEMERAL_REPLACED) or not event.user_id:
            return
        with self._lock:
            self._last[event.user_id] = Ephemeral(id=event.ephemeral_id or "", channel_id=event.channel_id or "",
                                                  user_id=event.user_id, text=event.text, blocks=event.blocks)
            self._count[event.user_id] += 1

    def seen(self, user_id: str) -> int:
        with self._lock:
            return self._count[user_id]

    def last(self, user_id: str) -> Ephemeral | None:
        with self._lock:
            return self._last.get(user_id)


def _button_value(blocks: list[dict[str, Any]], action_id: ActionId) -> str | None:
    for block in blocks:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("action_id") == action_id.value:
                return element.get("value")
    return None


class Driver:
    """Acts as the admins through signed HTTP, one action at a time, and remembers what it meant to happen."""

    def __init__(self, app: App, report: SoakReport) -> None:
        self.app = app
        self.report = report
        self.screens = Screens(app.slack)
        self.next_user = 1
        self.to_expire: list[tuple[str, Planned]] = []
        self.intended: dict[str, Planned] = {}  # request id -> its plan
        self.lease = timedelta(seconds=app.container.settings.offboard_lease_seconds + 1)
        self.expire_after = app.container.policy.approvals.expire_after + timedelta(minutes=1)

    # -- users ----------------------------------------------------------------------------------------------

    def new_users(self, item: Planned) -> list[str]:
        names = []
        for licensed in item.licensed:
            number = self.next_user
            self.next_user += 1
            name = f"soak{number:04d}"
            extension = (Extension(number=str(20000 + number), type=ExtensionType.UC,
                                   phone_numbers=(f"+1415{3000000 + number:07d}",),
                                   devices=(Device(id=f"dev-{name}", model="Poly VVX 450"),))
                         if licensed else Extension(number=str(20000 + number), type=ExtensionType.UC))
            self.app.console.add_user(ConsoleUser(
                id=f"s-{number:06d}", username=name, email=f"{name}@example.com", first_name="Soak",
                last_name=f"User {number}", licenses=("X Series X4",) if licensed else (), extensions=(extension,),
                status=UserStatus.INACTIVE if item.action == "reactivate" else UserStatus.ACTIVE, site="Remote"))
            names.append(name)
        return names

    # -- actions --------------------------------------------------------------------------------------------

    def settle(self) -> None:
        self.app.settle()

    def command(self, who: str, text: str) -> Ephemeral | None:
        """Type /offboard; return the private answer it got (None when nothing new was shown)."""
        before = self.screens.seen(who)
        delivery = self.app.workspace.slash(who, text, channel_id=HOME_CHANNEL)
        self.settle()
        if delivery.status != 200:
            self.surprise(f"/offboard {text[:60]}: HTTP {delivery.status}")
        return self.screens.last(who) if self.screens.seen(who) > before else None

    def click(self, who: str, place: Ephemeral | Message, action_id: ActionId, doing: str) -> bool:
        """Click a button the member sees; False (and a surprise) when it is not there."""
        if _button_value(place.blocks, action_id) is None:
            self.surprise(f"{doing}: no {action_id.value} button on what {NAMES.get(who, who)} sees: "
                          f"{_text(place)[:200]}")
            return False
        delivery = self.app.workspace.block_action(who, place, action_id.value)
        self.settle()
        if delivery.status != 200:
            self.surprise(f"{doing}: HTTP {delivery.status}")
            return False
        return True

    def approval_message(self, request_id: str) -> Message | None:
        request = self.app.container.store.get(request_id)
        if request is None or not request.message_ts or not request.message_channel:
            return None
        return self.app.slack.message(request.message_channel, request.message_ts)

    def reject(self, request_id: str, who: str) -> None:
        message = self.approval_message(request_id)
        if message is None:
            self.surprise(f"{request_id}: no approval message to reject from")
            return
        if not self.click(who, message, ActionId.REJECT, f"{request_id}: Reject"):
            return
        stack = self.app.slack.view_stack(who)
        if not stack:
            self.surprise(f"{request_id}: Reject opened no modal")
            return
        delivery = self.app.workspace.press(who, "Reject", inputs={"reason": "soak: not yet"})
        self.settle()
        if delivery.status != 200:
            self.surprise(f"{request_id}: the reason modal answered HTTP {delivery.status}")

    def surprise(self, text: str) -> None:
        self.report.surprises.append(text)

    # -- faults ---------------------------------------------------------------------------------------------

    def inject_console(self, fault: Fault) -> None:
        faults = self.app.faults
        assert faults is not None
        self.report.faults[fault.kind] += 1
        operation, variant = fault.operation, fault.variant
        if fault.kind == "console refused":
            faults.fail_next(operation, ConsoleRejected(f"soak: {operation} refused by the console"))
        elif fault.kind == "console unavailable":
            faults.fail_next(operation, ConsoleUnavailable(f"soak: console unreachable during {operation}"))
        elif fault.kind == "answer lost":
            error = (OutcomeUnknown("soak: the answer was lost") if variant % 2 else
                     ConsoleUnavailable("soak: connection dropped"))
            faults.fail_next(operation, error, after_applying=True)
        elif fault.kind == "answer lost, read-back fails":
            faults.fail_next(operation, OutcomeUnknown("soak: the answer was lost"), after_applying=True)
            faults.after(operation, lambda: [faults.fail_next("get_user", ConsoleUnavailable("soak: read timeout"))
                                             for _ in range(3)])
        elif fault.kind == "read fails":
            faults.fail_next("get_user", ConsoleUnavailable("soak: read timeout"))
        elif fault.kind in ("bug before change", "bug after change"):
            def bug() -> None:
                raise RuntimeError("soak: a bug in the console adapter")

            (faults.before if fault.kind == "bug before change" else faults.after)(operation, bug)
        else:
            raise ValueError(fault.kind)

    def inject_slack(self, fault: Fault) -> None:
        self.report.faults[fault.kind] += 1
        if fault.kind == "slack 429":
            self.app.slack.inject_failure(fault.operation, retry_after=1, times=fault.variant)
        else:
            self.app.slack.inject_failure(fault.operation, error="internal_error", times=fault.variant)

    def drain(self, item: Planned) -> None:
        """Take out the faults the request did not meet, so that none hits the next request, and count the
        faults not met at all (a fault met in part, such as one of two Slack errors, counts as met)."""
        faults = self.app.faults
        assert faults is not None
        console = item.console_fault or (Fault("lookup fails", "find_user") if item.lookup_fault else None)
        console_left, console_unmet = _console_left_over(faults, console)
        slack_left, slack_unmet = _slack_left_over(self.app.slack, item.slack_fault)
        for fault, left, unmet in ((console, console_left, console_unmet), (item.slack_fault, slack_left,
                                                                             slack_unmet)):
            if fault is not None and unmet:
                self.report.faults_unfired[fault.kind] += 1
            elif fault is None and left:
                self.surprise(f"request {item.number}: faults left over without one injected: {left}")

    # -- one request ----------------------------------------------------------------------------------------

    def run_one(self, item: Planned) -> None:
        self.report.requests += 1
        self.report.kinds[item.label] += 1
        names = self.new_users(item)
        text = f"rename {names[0]} {names[0]}.old" if item.action == "rename" else f"{item.action} {' '.join(names)}"
        text += f"{item.options} --reason soak {item.number}"
        if item.lookup_fault:
            self.report.faults["lookup fails"] += 1
            self.app.faults.fail_next("find_user", ConsoleUnavailable("soak: the console did not answer"))
        shown = self.command(item.requester, text)
        if item.lookup_fault:
            self.report.fates["refused (look-up failed)"] += 1
            self.report.commands_refused += 1
            if shown is None or _button_value(shown.blocks, ActionId.REQUEST_APPROVAL) or _button_value(
                    shown.blocks, ActionId.CONFIRM):
                self.surprise(f"request {item.number}: the look-up failed but a plan was shown (or nothing)")
            return
        go = ActionId.REQUEST_APPROVAL if item.action == "delete" else ActionId.CONFIRM
        value = _button_value(shown.blocks, go) if shown is not None else None
        if shown is None or value is None:
            self.surprise(f"request {item.number}: no plan with {go.value} after `/offboard {text}`: "
                          f"{_text(shown)[:200] if shown else 'nothing shown'}")
            return
        request_id = RequestRef.load(value).r
        self.intended[request_id] = item
        if item.fate == "cancel preview":
            self.report.fates["cancelled from the preview"] += 1
            self.click(item.requester, shown, ActionId.DISCARD, f"{request_id}: Cancel")
            return
        if item.fate == "expire" and not item.sent:
            self.report.fates["left as a draft to expire"] += 1
            self.to_expire.append((request_id, item))
            return
        if item.slack_fault is not None and item.slack_fault.operation == "chat.postMessage":
            self.inject_slack(item.slack_fault)
        if item.action != "delete":
            self.confirm(request_id, item, shown)
            return
        if not self.click(item.requester, shown, go, f"{request_id}: Request approval"):
            return
        request = self.app.container.store.get(request_id)
        if request.state is RequestState.CANCELLED:  # the approval message could not be posted
            self.report.fates["called off: approval message not posted"] += 1
            return
        if request.state is not RequestState.AWAITING_APPROVAL:
            self.surprise(f"{request_id}: {request.state.value} after Request approval")
            return
        if item.slack_fault is not None and item.slack_fault.operation == "chat.update":
            self.inject_slack(item.slack_fault)
        self.decide(request_id, item, request)

    def confirm(self, request_id: str, item: Planned, shown: Ephemeral) -> None:
        """A request the policy lets run without an approver: the asker presses Confirm (twice at the same
        instant, for a double click)."""
        if item.console_fault is not None:
            self.inject_console(item.console_fault)
        if item.fate == "confirm twice":
            self.report.fates["confirmed twice at once"] += 1
            results = run_together(*(lambda: self.app.workspace.block_action(item.requester, shown,
                                                                             ActionId.CONFIRM.value)
                                     for _ in range(2)))
            self.settle()
            if any(delivery.status != 200 for delivery in results):
                self.surprise(f"{request_id}: a double Confirm answered HTTP "
                              f"{[delivery.status for delivery in results]}")
        else:
            self.report.fates["confirmed"] += 1
            if not self.click(item.requester, shown, ActionId.CONFIRM, f"{request_id}: Confirm"):
                return
        self.follow(request_id, item)

    def decide(self, request_id: str, item: Planned, request: OffboardRequest) -> None:
        """The approvers decide (or nobody does, or the asker cancels)."""
        if item.fate == "expire":
            self.report.fates["left to expire"] += 1
            self.to_expire.append((request_id, item))
            return
        if item.fate == "cancel sent":
            self.report.fates["cancelled once sent"] += 1
            self.command(item.requester, f"cancel {request_id}")
            return
        if item.fate == "reject":
            self.report.fates["rejected"] += 1
            self.reject(request_id, BOB if item.number % 2 else DANA)
            return
        if request.approvals_required > 2:
            self.surprise(f"{request_id} needs {request.approvals_required} approvers; the demo has two")
            return
        if item.console_fault is not None:
            self.inject_console(item.console_fault)
        message = self.approval_message(request_id)
        if message is None:
            self.surprise(f"{request_id}: no approval message")
            return
        if item.fate == "approve together":
            self.report.fates["approved by two at once"] += 1
            results = run_together(*(lambda who=who: self.app.workspace.block_action(who, message,
                                                                                     ActionId.APPROVE.value)
                                     for who in (BOB, DANA)))
            self.settle()
            if any(delivery.status != 200 for delivery in results):
                self.surprise(f"{request_id}: a simultaneous Approve answered HTTP "
                              f"{[delivery.status for delivery in results]}")
        else:
            self.report.fates["approved"] += 1
            approvers = [BOB, DANA] if request.approvals_required == 2 else [BOB if item.number % 2 else DANA]
            for approver in approvers:
                message = self.approval_message(request_id)
                if message is None or not self.click(approver, message, ActionId.APPROVE, f"{request_id}: Approve"):
                    return
        self.follow(request_id, item)

    def follow(self, request_id: str, item: Planned) -> None:
        """Once approved: move the clock on to whatever the request waits for, and sweep, as every replica's
        sweeper does, until it has ended (or is cancelled, when that is its fate).

        A run interrupted by an unexpected error stays executing and is taken over once its lease has lapsed
        (never sooner, so a bug cannot spin); a scheduled run or a staged delete's next stage waits for its
        time (or, when its fate says so, is cancelled first)."""
        cancelled = False
        for _ in range(12):
            request = self.app.container.store.get(request_id)
            waiting = request.state is RequestState.APPROVED and request.run_at is not None
            if waiting and not cancelled and item.fate in ("cancel between stages", "cancel before run"):
                self.report.fates["then cancelled " + item.fate.removeprefix("cancel ")] += 1
                self.command(item.requester, f"cancel {request_id}")
                cancelled = True
                continue
            if request.state is RequestState.EXECUTING:
                self.app.clock.advance(self.lease)
            elif waiting:
                self.app.clock.advance(max(request.run_at - self.app.clock.now(), timedelta(0)) + timedelta(seconds=1))
            else:
                return
            started = self.app.container.sweeper.sweep().started
            self.settle()
            if request_id in started and request.state is RequestState.EXECUTING:
                self.report.resumed += 1
        self.surprise(f"{request_id}: still {self.app.container.store.get(request_id).state.value} after "
                      "following it through 12 sweeps")

    def expire_waiting(self) -> None:
        """Move the clock past the expiry of the requests left undecided, and sweep until they are expired."""
        if not self.to_expire:
            return
        self.app.clock.advance(self.expire_after)
        for _ in range(1 + len(self.to_expire) // 50):
            self.app.container.sweeper.sweep()
            self.settle()
        for request_id, _item in self.to_expire:
            state = self.app.container.store.get(request_id).state
            if state is not RequestState.EXPIRED:
                self.surprise(f"{request_id}: {state.value}, not expired, after the clock passed its expiry")
        self.to_expire.clear()

    def finish(self) -> None:
        """After the last request: expire what waits, then let every lease lapse and sweep, a few times."""
        self.expire_waiting()
        for _ in range(3):
            self.app.clock.advance(self.lease)
            self.app.container.sweeper.sweep()
            self.settle()


def _console_left_over(faults: FaultyConsole, fault: Fault | None) -> tuple[list[str], bool]:
    """The console faults still waiting for their call, removed; and whether `fault` itself was never met."""
    # FaultyConsole keeps its schedule in private fields and has no way to take a fault back.
    unmet = False
    if fault is not None:
        operation = "get_user" if fault.kind == "read fails" else fault.operation
        if fault.kind == "bug before change":
            unmet = operation in faults._before
        elif fault.kind == "bug after change":
            unmet = operation in faults._after
        else:
            unmet = bool(faults._faults.get(operation))
    left = [f"{operation} x{len(queue)}" for operation, queue in faults._faults.items() if queue]
    left += [f"before {operation}" for operation in faults._before]
    left += [f"after {operation}" for operation in faults._after]
    for queue in faults._faults.values():
        queue.clear()
    faults._before.clear()
    faults._after.clear()
    return left, unmet


def _slack_left_over(slack: FakeSlack, fault: Fault | None) -> tuple[list[str], bool]:
    """The Slack faults still waiting for their call, removed; and whether `fault` was never met at all."""
    # FakeSlack.inject_failure has no counterpart to take a fault back; its queue is a private field.
    with slack._lock:
        remaining = {method: sum(entry.remaining for entry in queue) for method, queue in slack._faults.items()
                     if queue}
        for queue in slack._faults.values():
            queue.clear()
    unmet = fault is not None and remaining.get(fault.operation, 0) >= fault.variant
    return [f"{method} x{count}" for method, count in remaining.items()], unmet


# -- the checks -------------------------------------------------------------------------------------------------


def check(app: App, driver: Driver, report: SoakReport) -> None:
    """Compare what the database says happened with the console's own log of operations."""
    console: LocalConsole = app.console
    log: dict[str, list[str]] = defaultdict(list)
    for operation in console.operations():
        log[operation.user_id].append(operation.name)
    report.operations = sum(len(names) for names in log.values())
    requests = app.container.store.list(limit=10**7)
    report.created = len(requests)
    allowed: dict[str, set[str]] = defaultdict(set)
    lost: dict[tuple[str, str, StepKind], str] = {}  # one per (request, user, step), however it shows
    for request in requests:
        report.states[request.state.value] += 1
        if request.state not in FINAL:
            report.stuck.append(f"{request.id} ({request.action.value}, {len(request.targets)} users) is "
                                f"{request.state.value}")
        ran = any(target.steps for target in request.targets)
        for target in request.targets:
            report.outcomes[target.outcome.value] += 1
            user_id, plan = target.plan.user_id, target.plan
            if ran:
                allowed[user_id] |= {OPERATION_OF[step.kind] for step in plan.steps if not step.manual}
            if request.state in (RequestState.DONE, RequestState.FAILED) and target.outcome is TargetOutcome.PENDING:
                report.unfinished.append(f"{request.id} {plan.username}: pending, the request is {request.state.value}")
            if target.outcome in (TargetOutcome.FAILED, TargetOutcome.ABORTED):
                report.told[f"{target.outcome.value}: {_shape(target.detail)}"[:300]] += 1
                if not target.detail.strip():
                    report.unexplained.append(f"{request.id} {plan.username}: {target.outcome.value} with no detail")
                elif target.outcome is TargetOutcome.FAILED and not NEXT_STEP.search(target.detail):
                    report.unexplained.append(f"{request.id} {plan.username}: failed, and the detail says nothing "
                                              f"to do next: {target.detail}")
            for step in target.steps:
                if step.status is StepStatus.STARTED:
                    report.unknown_steps += 1
                if step.status is StepStatus.DONE and step.kind in OPERATION_OF \
                        and OPERATION_OF[step.kind] not in log[user_id]:
                    lost.setdefault((request.id, user_id, step.kind), f"{request.id} {plan.username} ({user_id}): "
                                    f"{step.kind.value} recorded done, but the console log for the user holds "
                                    f"{log[user_id]}")
            if target.outcome is TargetOutcome.DONE:
                for kind, text in _effects_missing(console, request, plan, {s.kind: s for s in target.steps}):
                    lost.setdefault((request.id, user_id, kind), text)
    report.lost = list(lost.values())
    for user_id, names in sorted(log.items()):
        for name, count in sorted(Counter(names).items()):
            if count > 1:
                report.duplicated.append(f"{user_id}: {name} applied {count} times (log: {names})")
        outside = [name for name in names if name not in allowed.get(user_id, set())]
        if outside:
            report.unapproved.append(f"{user_id}: {outside} applied, but no request that ran planned them")
    verification = audit.verify(app.container.engine, key=app.container.settings.offboard_audit_key)
    report.audit_ok, report.audit_rows, report.audit_problems = (verification.ok, verification.rows,
                                                                 verification.problems)
    report.slack_errors_answered = sum(1 for call in app.slack.calls()
                                       if call.error in ("internal_error", "ratelimited"))
    for request in requests:
        item = driver.intended.get(request.id)
        expected = _expected_state(item) if item else None
        if expected and request.state is not expected:
            faults = [fault.kind for fault in (item.console_fault, item.slack_fault) if fault]
            details = "; ".join(f"{t.plan.username}: {t.outcome.value}: {t.detail}" for t in request.targets)
            report.unexpected_fates.append(f"{request.id} {item.label}/{item.fate} ended {request.state.value}, not "
                                           f"{expected.value}; faults {faults or 'none'}: {details}"[:400])


NEXT_STEP = re.compile(r"\b(check|ask again|start a new request|try again|retry|tell)\b", re.IGNORECASE)


def _shape(detail: str) -> str:
    """A detail with the names of users, ids and requests taken out, so that alike ones count together."""
    return re.sub(r"soak\d+(\.old)?|s-\d{6}|OB-[A-Z0-9]{8}", "…", detail)


def _effects_missing(console: LocalConsole, request: OffboardRequest, plan: TargetPlan,
                     steps: dict[StepKind, StepRecord]) -> list[tuple[StepKind, str]]:
    """A target recorded done: every step of its plan must be journalled done, and the last one's effect must
    show in the console (a deleted user gone, a renamed one under the new name...)."""
    missing = []
    for step in plan.steps:
        record = steps.get(step.kind)
        if not step.manual and (record is None or record.status is not StepStatus.DONE):
            missing.append((step.kind, f"{request.id} {plan.username}: target done, but its {step.kind.value} step "
                                       f"is {record.status.value if record else 'not journalled'}"))
    user = console.get_user(user_id=plan.user_id)
    action = request.action.value
    wrong = (
        (action == "delete" and user is not None)
        or (action != "delete" and user is None)
        or (action == "deactivate" and user is not None and user.status is not UserStatus.INACTIVE)
        or (action == "reactivate" and user is not None and user.status is not UserStatus.ACTIVE)
        or (action == "rename" and user is not None and user.username != plan.new_username)
    )
    if wrong:
        shown = "gone" if user is None else f"{user.username}, {user.status.value}"
        missing.append((plan.steps[-1].kind, f"{request.id} {plan.username}: {action} recorded done, but the "
                                             f"console shows {shown}"))
    return missing


def _expected_state(item: Planned) -> RequestState | None:
    """How the request should end, given its fate and faults (None: it depends on which user of several met
    a read fault, or the request was never created)."""
    if item.lookup_fault:
        return None
    slack = item.slack_fault
    if item.sent and slack is not None and slack.operation == "chat.postMessage" and (
            slack.kind == "slack error" or slack.variant > 2):  # the approval message could not be posted
        return RequestState.CANCELLED
    if item.fate == "reject":
        return RequestState.REJECTED
    if item.fate in ("cancel preview", "cancel sent", "cancel before run"):
        return RequestState.CANCELLED
    if item.fate == "expire":
        return RequestState.EXPIRED
    fault = item.console_fault
    single = len(item.licensed) == 1
    if fault is not None and fault.kind in READ_FAULTS and not single:
        return None  # a read fault may meet another user's read, which is tried again
    failing = fault is not None and fault.kind in ("console refused", "console unavailable", *READ_FAULTS)
    if item.fate == "cancel between stages":  # the other users' stages wait for their time, and are cancelled
        return RequestState.FAILED if failing and single else RequestState.CANCELLED
    # A lost answer is read back; an interrupted run is resumed.
    return RequestState.FAILED if failing else RequestState.DONE


# -- the run ----------------------------------------------------------------------------------------------------


def run_soak(requests: int, *, seed: int = 1, fault_rate: float = 0.3, max_seconds: float | None = None,
             workers: int | None = None, workdir: Path | None = None,
             progress: Callable[[int, int, float], None] | None = None) -> SoakReport:
    """Drive `requests` requests through the real app with random faults (seeded), then check; see the module's
    docstring. Stops starting new requests after `max_seconds` (the checks still run)."""
    report = SoakReport()
    planned = plan_run(requests, seed=seed, fault_rate=fault_rate)
    report.planned = len(planned)
    started = time.monotonic()
    with ExitStack() as stack:
        tmp = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="offboard-soak-")))
        slack = FakeSlack(team_id="T0DEMO")
        populate(slack)
        stack.enter_context(slack)
        faults = FaultyConsole(LocalConsole(tmp / "console.db"))
        faults.inner.seed_if_empty()
        settings: dict[str, Any] = {"offboard_audit_key": SOAK_AUDIT_KEY}  # every row sealed, and verified so
        if workers is not None:
            settings["offboard_workers"] = workers
        app = stack.enter_context(serve(slack, ManualClock(START), tmp, console=faults, state=faults.inner,
                                        faults=faults, **settings))
        _no_pause_between_read_backs(app)
        driver = Driver(app, report)
        for item in planned:
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                report.stopped_early = True
                break
            try:
                driver.run_one(item)
            except ConsoleError as error:  # the driver's own console calls (adding users) must not fail
                driver.surprise(f"request {item.number}: {error}")
            driver.drain(item)
            if len(driver.to_expire) >= EXPIRY_BATCH:
                driver.expire_waiting()
            if progress:
                progress(item.number + 1, len(planned), time.monotonic() - started)
        driver.finish()
        driver.screens.unsubscribe()
        check(app, driver, report)
    report.seconds = time.monotonic() - started
    return report


def _no_pause_between_read_backs(app: App) -> None:
    """The executor pauses 0.5 s and 2 s between failed reads of a user (real time); the soak skips the
    pauses, as tests/app/test_failures.py does, so that a read fault costs no wall time."""
    executor = getattr(app.container.service, "_executor", None)
    if executor is not None and hasattr(executor, "_sleep"):
        executor._sleep = lambda _seconds: None
