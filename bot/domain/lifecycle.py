"""An offboarding request's life: its states, the allowed moves, and the verbs that make them."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    DELETE = "delete"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    RENAME = "rename"

    @property
    def past_tense(self) -> str:
        return {
            Action.DELETE: "deleted",
            Action.DEACTIVATE: "deactivated",
            Action.REACTIVATE: "reactivated",
            Action.RENAME: "renamed",
        }[self]


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
        return self in TERMINAL_STATES

    @property
    def holds_targets(self) -> bool:
        """True while the request keeps its users from being part of another request."""
        return self in {RequestState.AWAITING_APPROVAL, RequestState.APPROVED, RequestState.EXECUTING,
                        RequestState.WAITING}


TERMINAL_STATES = frozenset(
    {RequestState.DONE, RequestState.FAILED, RequestState.REJECTED, RequestState.EXPIRED, RequestState.CANCELLED}
)

S = RequestState
TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    S.DRAFT: frozenset({S.AWAITING_APPROVAL, S.APPROVED, S.CANCELLED, S.EXPIRED}),
    S.AWAITING_APPROVAL: frozenset({S.APPROVED, S.REJECTED, S.EXPIRED, S.CANCELLED}),
    S.APPROVED: frozenset({S.EXECUTING, S.CANCELLED}),
    S.EXECUTING: frozenset({S.DONE, S.FAILED, S.WAITING, S.APPROVED}),  # approved again: the next stage waits
    S.WAITING: frozenset({S.EXECUTING, S.FAILED}),
    S.DONE: frozenset(),
    S.FAILED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
    S.CANCELLED: frozenset(),
}
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
