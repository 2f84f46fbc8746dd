"""Ambient context: the three values that travel with a piece of work instead of through arguments.

Each is a ContextVar declared here and nowhere else, so this page is the whole list:

- the **trace id**: which Slack request or background job the code runs for. Every log line carries it
  (bot.logs), and an admin who meets an error is shown it to quote.
- the **lease check**: while a job runs an offboarding request it holds that request's lease; console
  clients ask `ensure_lease_held()` right before a change goes on the wire, after any wait for the rate
  limit, so a job whose lease lapsed meanwhile never sends it.
- the **priority**: a running request is background work; where a shared limit makes callers queue (the
  console's rate limit), people waiting on a command or a click go first. A glance (the form's user picker,
  answered while Slack waits) never queues at all: it takes a free slot or does without.

Work handed to a pool runs in a copy of the submitter's context (bot.concurrency.TrackedExecutor), so all
three follow it there. Standard library only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import Enum

_trace_id: ContextVar[str | None] = ContextVar("offboard_trace_id", default=None)
_lease_held: ContextVar[Callable[[], bool] | None] = ContextVar("offboard_lease_held", default=None)


class Priority(Enum):
    GLANCE = "glance"  # answered while someone waits on a listener thread: never waits for a shared limit
    INTERACTIVE = "interactive"  # a command or click: waits, and goes first
    BACKGROUND = "background"  # a running request: waits, and lets people go first


_priority: ContextVar[Priority] = ContextVar("offboard_priority", default=Priority.INTERACTIVE)


# -- the trace id -----------------------------------------------------------------------------------------

def new_trace_id() -> str:
    """Return a fresh id for a Slack request or a background job: short enough to quote over the phone."""
    return uuid.uuid4().hex[:10]


def current_trace_id() -> str | None:
    """Return the id of the Slack request or job this code runs for, or None outside any."""
    return _trace_id.get()


@contextmanager
def trace_scope(trace_id: str | None = None) -> Iterator[str]:
    """Run the block under trace_id (a fresh one when None); yield the id in force."""
    trace_id = trace_id or new_trace_id()
    token = _trace_id.set(trace_id)
    try:
        yield trace_id
    finally:
        _trace_id.reset(token)


# -- the lease check --------------------------------------------------------------------------------------

class LeaseLost(Exception):
    """Another process took the request over (our lease lapsed): stop before touching anything more."""


@contextmanager
def holding_lease(still_held: Callable[[], bool]) -> Iterator[None]:
    """Within this block, console clients check `still_held` right before sending a change."""
    token = _lease_held.set(still_held)
    try:
        yield
    finally:
        _lease_held.reset(token)


def ensure_lease_held(what: str) -> None:
    """Raise LeaseLost when the running job's lease is gone (nothing to check outside a job)."""
    still_held = _lease_held.get()
    if still_held is not None and not still_held():
        raise LeaseLost(f"the lease was lost before {what} could be sent")


# -- the priority -----------------------------------------------------------------------------------------

@contextmanager
def _priority_scope(priority: Priority) -> Iterator[None]:
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


def background_work():
    """Mark what runs inside as background work: people waiting on a command or click go before it."""
    return _priority_scope(Priority.BACKGROUND)


def at_a_glance():
    """Mark what runs inside as a glance: where a shared limit would make it wait, it fails at once instead."""
    return _priority_scope(Priority.GLANCE)


def is_background() -> bool:
    return _priority.get() is Priority.BACKGROUND


def is_glance() -> bool:
    return _priority.get() is Priority.GLANCE
