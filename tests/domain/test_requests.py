"""The request state machine: every (from, to) pair, allowed or not."""

import itertools

import pytest

from bot.domain.lifecycle import InvalidTransition, RequestState, can_move, check_move

S = RequestState
# Written out independently of the table in the code, so a slip in either is caught.
ALLOWED = {
    (S.DRAFT, S.AWAITING_APPROVAL), (S.DRAFT, S.APPROVED), (S.DRAFT, S.CANCELLED), (S.DRAFT, S.EXPIRED),
    (S.AWAITING_APPROVAL, S.APPROVED), (S.AWAITING_APPROVAL, S.REJECTED), (S.AWAITING_APPROVAL, S.EXPIRED),
    (S.AWAITING_APPROVAL, S.CANCELLED),
    (S.APPROVED, S.EXECUTING), (S.APPROVED, S.CANCELLED),
    (S.EXECUTING, S.DONE), (S.EXECUTING, S.FAILED), (S.EXECUTING, S.WAITING), (S.EXECUTING, S.APPROVED),
    (S.WAITING, S.EXECUTING), (S.WAITING, S.FAILED),
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
            assert not state.holds_targets
    assert {s for s in RequestState if s.holds_targets} == {S.AWAITING_APPROVAL, S.APPROVED, S.EXECUTING,
                                                                  S.WAITING}
