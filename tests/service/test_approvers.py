"""Who counts as an approver: one person approves once, and never the requester. Emails are compared as the policy
reads them (bot.domain.emails: stripped, case-folded), so a second Slack account whose address differs only in
blanks or capitals is the same person; and the answer to an approval says what was really counted."""

from __future__ import annotations

import pytest

from bot.domain.events import ApprovalCounted, Approved
from bot.domain.lifecycle import RequestState
from bot.domain.records import AlreadyDecided
from bot.errors import Refusal
from bot.ports import Member
from bot.slack.messages.events import answer
from bot.slack.messages.refusals import refusal_text
from tests.service.conftest import make_desk
from tests.service.fakes import TEAM
from tests.service.helpers import ops

S = RequestState
LOOKALIKES = [" alice@example.com ", "ALICE@Example.com", "\talice@example.com\n"]


@pytest.fixture
def two_needed(sqlite_engine, console, policy, clock):
    """The demo policy, but a delete needs two approvers."""
    stricter = policy.model_copy(update={"approvals": policy.approvals.model_copy(update={"delete": 2})})
    return make_desk(sqlite_engine, console, stricter, clock)


@pytest.mark.parametrize("email", LOOKALIKES, ids=repr)
def test_a_second_account_of_the_requester_is_refused_whatever_blanks_or_capitals(desk, email):
    desk.members.add(Member(user_id="U0ALICE2", team_id=TEAM, name="alice2", email=email))
    request = desk.send("alice", desk.ask("alice", "delete", "jdoe"))
    with pytest.raises(Refusal) as raised:
        desk.approve("U0ALICE2", request)
    assert raised.value.code == "self_approval" and "a different admin must decide" in refusal_text(raised.value)
    assert desk.get(request).state is S.AWAITING_APPROVAL and desk.get(request).approvals == ()
    desk.jobs.drain()
    assert ops(desk) == []


def test_a_second_account_of_an_approver_is_told_they_approved_already(two_needed):
    desk = two_needed
    desk.members.add(Member(user_id="U0BOB2", team_id=TEAM, name="bob2", email=" Bob@Example.com "))
    request = desk.send("alice", desk.ask("alice", "delete", "jdoe"))
    counted = desk.service.decisions.approve(actor=desk.actor("bob"), request_id=request.id)
    assert isinstance(counted, ApprovalCounted) and counted.missing == 1
    assert answer(counted, results="C0RESULTS") == "Approval counted; 1 more needed."
    with pytest.raises(AlreadyDecided) as raised:
        desk.approve("U0BOB2", request)
    assert raised.value.you_approved and "You already approved" in refusal_text(raised.value)
    assert [approval.approver_id for approval in desk.get(request).approvals] == ["U0BOB"]
    assert desk.get(request).approvals_missing == 1
    assert isinstance(desk.service.decisions.approve(actor=desk.actor("dana"), request_id=request.id), Approved)
    desk.jobs.drain()
    assert desk.get(request).state is S.DONE


def test_every_approval_is_stored_with_the_address_as_compared(two_needed):
    desk = two_needed
    desk.members.update("U0BOB", email=" Bob@Example.com ")
    request = desk.send("alice", desk.ask("alice", "delete", "jdoe"))
    desk.approve("bob", request)
    assert [approval.approver_email for approval in desk.get(request).approvals] == ["bob@example.com"]
