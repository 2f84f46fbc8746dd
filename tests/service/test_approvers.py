"""Who counts as an approver: one person approves once, never the requester, never someone the request offboards.
Emails are compared as the policy reads them (bot.domain.emails: stripped, case-folded), so a second Slack account
whose address differs only in blanks or capitals is the same person; and the answer to an approval says what was
really counted. (The gate's half, at execution time: test_gate.py.)"""

from __future__ import annotations

import pytest

from bot.domain.commands import Command, UserRef, Verb
from bot.domain.events import ApprovalCounted, Approved, Rejected
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


# -- the person offboarded -----------------------------------------------------------------------------------

def _delete_bob(desk, *, mention: bool = False):
    """alice asks to delete bob, a secondary admin with a console profile, and sends it for approval."""
    ref = UserRef(text="bob", slack_user_id="U0BOB") if mention else UserRef(text="bob")
    command = Command(verb=Verb.DELETE, targets=(ref,))
    draft = desk.service.intake.prepare(actor=desk.actor("alice"), command=command, origin_channel="C0GENERAL")
    return desk.send("alice", draft.request)


@pytest.mark.parametrize("mention", [False, True], ids=["by username", "as a Slack member"])
def test_the_admin_being_offboarded_can_neither_approve_nor_reject_it(desk, mention):
    request = _delete_bob(desk, mention=mention)
    [target] = request.targets
    assert target.plan.policy_admin and target.plan.slack_user_id == ("U0BOB" if mention else None)
    for decide in (lambda: desk.approve("bob", request),
                   lambda: desk.service.decisions.reject(actor=desk.actor("bob"), request_id=request.id,
                                                         reason="not me")):
        with pytest.raises(Refusal) as raised:
            decide()
        assert raised.value.code == "own_offboarding" and "This request offboards you" in refusal_text(raised.value)
    assert desk.get(request).state is S.AWAITING_APPROVAL and desk.get(request).approvals == ()
    desk.jobs.drain()
    assert ops(desk) == []
    assert isinstance(desk.service.decisions.approve(actor=desk.actor("dana"), request_id=request.id), Approved)
    desk.jobs.drain()
    assert desk.get(request).state is S.DONE


def test_a_target_named_as_a_slack_member_is_known_by_id_whatever_address_they_use(sqlite_engine, console, policy,
                                                                                   clock):
    """bob has a second address in the policy; named by mention (found in the console by bob@example.com), he
    then switches his Slack address to the other one: still the person offboarded."""
    admins = policy.admins.model_copy(update={"secondary": [*policy.admins.secondary, "robert@example.com"]})
    desk = make_desk(sqlite_engine, console, policy.model_copy(update={"admins": admins}), clock)
    request = _delete_bob(desk, mention=True)
    desk.members.update("U0BOB", email="robert@example.com")
    with pytest.raises(Refusal) as raised:
        desk.approve("bob", request)
    assert raised.value.code == "own_offboarding"


def test_another_admin_still_rejects_it(desk):
    request = _delete_bob(desk)
    rejected = desk.service.decisions.reject(actor=desk.actor("dana"), request_id=request.id, reason="not yet")
    assert isinstance(rejected, Rejected) and desk.get(request).state is S.REJECTED
