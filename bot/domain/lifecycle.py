"""An offboarding request's life: its states, the sets of states the rules speak of, and the allowed moves.

The verbs that make the moves (submit, reject, cancel, begin a run, …) are in bot/domain/moves.py."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    DELETE = "delete"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    RENAME = "rename"


class RequestState(StrEnum):
    DRAFT = "draft"  # plan shown privately to the requester, nothing asked yet
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"  # runs when due: at once, at its --at time, or when its next stage comes
    EXECUTING = "executing"
    WAITING = "waiting"  # stopped at a step an admin must do by hand in the console, until a Re-check
    DONE = "done"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """Nothing more happens to the request."""
        return self in TERMINAL

    @property
    def is_open(self) -> bool:
        """Asked for and not finished: the request holds its users, so no other request can take them."""
        return self in OPEN

    @property
    def is_undecided(self) -> bool:
        """Nobody has approved it yet (or confirmed it); it expires when its time is up."""
        return self in UNDECIDED

    @property
    def is_cancellable(self) -> bool:
        """Its requester (or a primary admin) may call it off: a Cancel that stops a waiting request."""
        return self in CANCELLABLE

    @property
    def is_finished_run(self) -> bool:
        """It ran to its end: every user has a result."""
        return self in FINISHED_RUN


S = RequestState
TERMINAL = frozenset({S.DONE, S.FAILED, S.REJECTED, S.EXPIRED, S.CANCELLED})
OPEN = frozenset({S.AWAITING_APPROVAL, S.APPROVED, S.EXECUTING, S.WAITING})
UNDECIDED = frozenset({S.DRAFT, S.AWAITING_APPROVAL})
CANCELLABLE = frozenset({S.DRAFT, S.AWAITING_APPROVAL, S.APPROVED, S.WAITING})
FINISHED_RUN = frozenset({S.DONE, S.FAILED})

TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    S.DRAFT: frozenset({S.AWAITING_APPROVAL, S.APPROVED, S.CANCELLED, S.EXPIRED}),
    S.AWAITING_APPROVAL: frozenset({S.APPROVED, S.REJECTED, S.EXPIRED, S.CANCELLED}),
    S.APPROVED: frozenset({S.EXECUTING, S.CANCELLED}),
    # approved again: the next stage waits; cancelled: called off when it may no longer run
    S.EXECUTING: frozenset({S.DONE, S.FAILED, S.WAITING, S.APPROVED, S.CANCELLED}),
    S.WAITING: frozenset({S.EXECUTING, S.FAILED, S.CANCELLED}),
    S.DONE: frozenset(),
    S.FAILED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
    S.CANCELLED: frozenset(),
}
INTO_EXECUTION = frozenset(start for start, ends in TRANSITIONS.items() if S.EXECUTING in ends)
del S


class InvalidTransition(Exception):
    def __init__(self, current: RequestState, wanted: RequestState) -> None:
        super().__init__(f"a request that is {current.value} cannot become {wanted.value}")
        self.current = current
        self.wanted = wanted


def can_move(current: RequestState, wanted: RequestState) -> bool:
    return wanted in TRANSITIONS[current]


def check_move(current: RequestState, wanted: RequestState) -> None:
    """Raise InvalidTransition unless the table allows current -> wanted."""
    if not can_move(current, wanted):
        raise InvalidTransition(current, wanted)
