"""Where a request stands, in a sentence, and why the bot called one off."""

from __future__ import annotations

import pytest

from bot.domain.events import Lapse
from bot.domain.lifecycle import Action, RequestState
from bot.slack.messages.states import (
    PAST_TENSE,
    STATE_LABEL,
    called_off_why,
    lapse_text,
    standing,
    where_it_stands,
)
from tests.slack.builders import request

S = RequestState
STANDING = {  # (decided by someone, decided by nobody recorded)
    S.DRAFT: ("Request OB-ABCDEFGH has not been sent for approval yet.",) * 2,
    S.AWAITING_APPROVAL: ("Request OB-ABCDEFGH is still waiting for approval.",) * 2,
    S.APPROVED: ("Request OB-ABCDEFGH was already approved by <@U0BOB>.",
                 "Request OB-ABCDEFGH was already approved."),
    S.EXECUTING: ("Request OB-ABCDEFGH was already approved by <@U0BOB> and is running.",
                  "Request OB-ABCDEFGH was already approved and is running."),
    S.WAITING: ("Request OB-ABCDEFGH is waiting for a step to be done by hand in the console.",) * 2,
    S.DONE: ("Request OB-ABCDEFGH was already approved by <@U0BOB> and has finished.",
             "Request OB-ABCDEFGH was already approved and has finished."),
    S.FAILED: ("Request OB-ABCDEFGH was already approved by <@U0BOB>; it finished with failures.",
               "Request OB-ABCDEFGH was already approved; it finished with failures."),
    S.REJECTED: ("Request OB-ABCDEFGH was already rejected by <@U0BOB>.",
                 "Request OB-ABCDEFGH was already rejected."),
    S.EXPIRED: ("Request OB-ABCDEFGH expired; start a new one if it is still needed.",) * 2,
    S.CANCELLED: ("Request OB-ABCDEFGH was cancelled by <@U0BOB>.", "Request OB-ABCDEFGH was cancelled."),
}


@pytest.mark.parametrize("state", list(RequestState))
def test_where_a_request_stands_in_every_state(state):
    decided, undecided = STANDING[state]
    assert where_it_stands(request(state=state, decided_by="U0BOB")) == decided
    assert where_it_stands(request(state=state)) == undecided
    assert standing("OB-ABCDEFGH", state, None) == undecided


def test_every_state_has_a_label_and_every_action_a_past_tense():
    assert STATE_LABEL == {
        S.DRAFT: "Not sent yet", S.AWAITING_APPROVAL: "Waiting for approval", S.APPROVED: "Approved",
        S.EXECUTING: "Running", S.WAITING: "Waiting for a manual step", S.DONE: "Done",
        S.FAILED: "Finished with failures", S.REJECTED: "Rejected", S.EXPIRED: "Expired", S.CANCELLED: "Cancelled",
    }
    assert PAST_TENSE == {Action.DELETE: "deleted", Action.DEACTIVATE: "deactivated",
                          Action.REACTIVATE: "reactivated", Action.RENAME: "renamed"}


def test_a_lapse_of_the_requester():
    assert lapse_text(Lapse(requester="alice@example.com")) == (
        "alice@example.com, who asked for it, is no longer an admin")


def test_a_lapse_of_the_approvers():
    lapse = Lapse(gone=("bob@example.com", "dana@example.com"), counted=0, required=2)
    assert lapse_text(lapse) == ("the approval of bob@example.com, dana@example.com no longer counts (no longer an "
                                 "admin), so it has 0 of the 2 approvals it needs")
    one = Lapse(gone=("bob@example.com",), counted=1, required=2)
    assert lapse_text(one) == ("the approval of bob@example.com no longer counts (no longer an admin), so it has 1 "
                               "of the 2 approvals it needs")


def test_a_lapse_cannot_ping_or_link():
    assert lapse_text(Lapse(requester="<!channel>@example.com")) == (
        "&lt;!channel&gt;@example.com, who asked for it, is no longer an admin")
    assert lapse_text(Lapse(gone=("<@U0BOB>",), counted=0, required=1)).startswith("the approval of &lt;@U0BOB&gt; ")


def test_why_the_bot_called_a_request_off_from_its_stored_lapse():
    lapse = Lapse(requester="alice@example.com")
    called_off = request(state=S.CANCELLED, decision_note=lapse.to_json())
    assert called_off_why(called_off) == "alice@example.com, who asked for it, is no longer an admin"


@pytest.mark.parametrize(("note", "shown"), [
    # what an earlier version stored: the sentence itself
    ("alice@example.com, who asked for it, is no longer an admin",
     "alice@example.com, who asked for it, is no longer an admin"),
    ("the approval of <bob@example.com> no longer counts", "the approval of &lt;bob@example.com&gt; no longer counts"),
    ('{"why": "something else"}', '{"why": "something else"}'),  # JSON, but not a lapse
    ('["lapse"]', '["lapse"]'),
    ("", ""),
])
def test_why_the_bot_called_a_request_off_from_a_note_of_an_earlier_version(note, shown):
    assert called_off_why(request(state=S.CANCELLED, decision_note=note)) == shown


def test_a_lapse_gives_each_approval_that_stopped_counting_its_own_reason():
    lapse = Lapse(gone=("dana@example.com",), repeated=(" Alice@Example.com ",), offboarded=("bob@example.com",),
                  counted=0, required=1)
    assert lapse_text(lapse) == (
        "the approval of dana@example.com no longer counts (no longer an admin); the approval of "
        "Alice@Example.com does not count (the requester or an earlier approver, under another account); the "
        "approval of bob@example.com does not count (this request offboards them), so it has 0 of the 1 approvals "
        "it needs")
    assert Lapse.from_json(Lapse(gone=("bob@example.com",), counted=0, required=1).to_json()).repeated == ()
