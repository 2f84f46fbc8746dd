"""The soak run's plan, drawn from the seed before anything runs: each request's kind, fate and faults, and the
weights they are drawn with (the package's docstring describes the mix)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.domain.lifecycle import RequestState
from bot.domain.plan import StepKind

ALICE, BOB, DANA = "U0ALICE", "U0BOB", "U0DANA"  # bot/simulators/slack/demo.py, bot/demo_policy.toml
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

