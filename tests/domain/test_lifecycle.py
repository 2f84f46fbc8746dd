"""The request state machine: every (from, to) pair, allowed or not."""

import itertools

import pytest

from bot.domain.lifecycle import INTO_EXECUTION, InvalidTransition, RequestState, can_move, check_move

S = RequestState
# Written out independently of the table in the code, so a slip in either is caught.
ALLOWED = {
    (S.DRAFT, S.AWAITING_APPROVAL), (S.DRAFT, S.APPROVED), (S.DRAFT, S.CANCELLED), (S.DRAFT, S.EXPIRED),
    (S.AWAITING_APPROVAL, S.APPROVED), (S.AWAITING_APPROVAL, S.REJECTED), (S.AWAITING_APPROVAL, S.EXPIRED),
    (S.AWAITING_APPROVAL, S.CANCELLED),
    (S.APPROVED, S.EXECUTING), (S.APPROVED, S.CANCELLED),
    (S.EXECUTING, S.DONE), (S.EXECUTING, S.FAILED), (S.EXECUTING, S.WAITING), (S.EXECUTING, S.APPROVED),
    (S.EXECUTING, S.CANCELLED),  # called off by the execution gate: it may no longer run
    (S.WAITING, S.EXECUTING), (S.WAITING, S.FAILED), (S.WAITING, S.CANCELLED),
}


@pytest.mark.parametrize(("current", "wanted"), list(itertools.product(RequestState, RequestState)))
def test_every_pair(current, wanted):
    allowed = (current, wanted) in ALLOWED
    assert can_move(current, wanted) is allowed
    if allowed:
        check_move(current, wanted)
    else:
        with pytest.raises(InvalidTransition, match=f"{current.value} cannot become {wanted.value}"):
            check_move(current, wanted)


def test_terminal_states_go_nowhere_and_release_their_users():
    for state in RequestState:
        if state.is_terminal:
            assert not any(can_move(state, other) for other in RequestState)
            assert not state.is_open
    assert {s for s in RequestState if s.is_open} == {S.AWAITING_APPROVAL, S.APPROVED, S.EXECUTING, S.WAITING}


def test_the_state_sets_are_defined_once_on_the_state():
    assert {s for s in RequestState if s.is_undecided} == {S.DRAFT, S.AWAITING_APPROVAL}
    assert {s for s in RequestState if s.is_cancellable} == {S.DRAFT, S.AWAITING_APPROVAL, S.APPROVED, S.WAITING}
    assert {s for s in RequestState if s.is_finished_run} == {S.DONE, S.FAILED}
    assert {S.APPROVED, S.WAITING} == INTO_EXECUTION
