"""Who may act: account admins of this workspace, by their verified Slack email, checked at every click and
again when a request starts. An approval from someone no longer an admin does not count then, and a requester
no longer one cannot have it run: nothing is changed in the console. (Every path into execution is walked in
test_gate.py; here a scheduled run, with what its requester and the approvers are shown.)"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.commands import Command, UserRef, Verb
from bot.domain.events import CalledOff, Lapse
from bot.domain.lifecycle import RequestState
from bot.domain.records import Actor, OffboardRequest
from bot.errors import Refusal
from bot.ports import Member
from bot.slack import blocks
from bot.slack.messages.events import direct_messages
from bot.slack.messages.refusals import refusal_text
from bot.slack.messages.states import called_off_why
from tests.service.conftest import IDS, Desk, ticked
from tests.service.fakes import TEAM
from tests.service.helpers import JDOE, nothing_changed, ops, text_of

S = RequestState


def _scheduled_and_approved(desk: Desk) -> OffboardRequest:
    request = desk.send("alice", desk.ask("alice", "delete", "jdoe", at_text="in 2h", reason="last day"))
    desk.approve("bob", request)
    desk.jobs.drain()
    assert desk.get(request).state is S.APPROVED
    return request


def _run_due(desk: Desk) -> None:
    desk.later(timedelta(hours=2))
    desk.sweep()


def test_an_approver_who_left_before_the_run_no_longer_counts(desk):
    request = _scheduled_and_approved(desk)
    desk.members.update("U0BOB", deleted=True)  # bob's Slack account was deactivated meanwhile
    _run_due(desk)
    assert desk.get(request).state is S.CANCELLED
    assert ops(desk, JDOE) == []
    [called_off] = desk.notifier.of(CalledOff)
    assert called_off.lapse == Lapse(gone=("bob@example.com",), counted=0, required=1)
    assert not called_off.running
    drawn = desk.notifier.messages[request.id].request  # the request's message says why it was called off
    assert drawn.state is S.CANCELLED
    why = called_off_why(drawn)
    assert "bob@example.com" in why and "0 of the 1 approvals" in why
    assert "Cancelled" in text_of(blocks.approval_message(drawn))
    [(to, said)] = direct_messages(called_off, approvals="C0APPROVALS")
    assert to == "U0ALICE" and "called off before it ran" in said


def test_a_requester_who_is_no_longer_an_admin_cannot_have_it_run(desk):
    request = _scheduled_and_approved(desk)
    desk.members.update("U0ALICE", email="alice@elsewhere.example")  # no longer the admin's address
    _run_due(desk)
    assert desk.get(request).state is S.CANCELLED
    assert desk.notifier.of(CalledOff)[0].lapse == Lapse(requester="alice@example.com")
    assert "who asked for it" in called_off_why(desk.notifier.messages[request.id].request)
    assert ops(desk, JDOE) == []


def test_a_request_whose_people_are_still_admins_runs(desk):
    request = _scheduled_and_approved(desk)
    _run_due(desk)
    assert desk.get(request).state is S.DONE
    assert ops(desk, JDOE) == ["release_licenses", "delete"]


def test_an_admin_removed_from_the_policy_cannot_approve(desk):
    request = desk.send("alice", desk.ask("alice", "delete", "jdoe"))
    desk.members.update("U0BOB", email="bob@elsewhere.example")  # no longer matches the policy
    with pytest.raises(Refusal) as raised:
        desk.approve("bob", request)
    assert raised.value.code == "not_admin" and "Only account admins" in refusal_text(raised.value)
    assert desk.get(request).state is S.AWAITING_APPROVAL
    desk.jobs.drain()
    nothing_changed(desk)


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_an_admin_made_a_guest_can_neither_ask_nor_approve(desk, who):
    """A single- or multi-channel guest keeps their verified email, which the policy still lists."""
    request = desk.send("alice", desk.ask("alice", "delete", "jdoe"))
    desk.members.update(IDS[who], is_guest=True)
    with pytest.raises(Refusal) as raised:
        desk.ask(who, "delete", "carol")
    assert raised.value.code == "guest" and "Guests" in refusal_text(raised.value)
    if who == "bob":
        with pytest.raises(Refusal) as raised:
            desk.approve("bob", request)
        assert raised.value.code == "guest"
    assert desk.get(request).approvals == ()
    desk.jobs.drain()
    assert ops(desk) == []


def test_an_approver_made_a_guest_before_the_run_no_longer_counts(desk):
    request = _scheduled_and_approved(desk)
    desk.members.update("U0BOB", is_guest=True)
    _run_due(desk)
    assert desk.get(request).state is S.CANCELLED
    assert ops(desk, JDOE) == []
    assert desk.notifier.of(CalledOff)[0].lapse == Lapse(gone=("bob@example.com",), counted=0, required=1)


@pytest.mark.parametrize(("team", "code"), [("T0ELSEWHERE", "other_workspace"), (TEAM, "external_member")],
                         ids=["their own team", "this team"])
def test_enterprise_grid_members_with_w_ids_can_ask_and_approve(desk, team, code):
    """Members have org-wide W… ids; someone of another organisation whose address matches an admin's cannot
    approve in a shared channel, whichever team their click names."""
    for user_id, name in (("W0ALICE", "alice"), ("W0BOB", "bob")):
        desk.members.add(Member(user_id=user_id, team_id=TEAM, name=name, email=f"{name}@example.com"))
    desk.members.add(Member(user_id="W0OTHERORG", team_id="T0ELSEWHERE", name="mallory", email="bob@example.com",
                            is_stranger=True))

    def grid(user_id: str, team_id: str = TEAM) -> Actor:
        return Actor(user_id=user_id, team_id=team_id, enterprise_id="E0GRID")

    intake, decisions = desk.service.intake, desk.service.decisions
    delete_jdoe = Command(verb=Verb.DELETE, targets=(UserRef(text="jdoe"),))
    request = intake.prepare(actor=grid("W0ALICE"), command=delete_jdoe, origin_channel="C0GENERAL").request
    intake.submit(actor=grid("W0ALICE"), request_id=request.id, ticked=ticked(request))
    with pytest.raises(Refusal) as raised:
        decisions.approve(actor=grid("W0OTHERORG", team), request_id=request.id)
    assert raised.value.code == code
    assert desk.get(request).approvals == ()
    decisions.approve(actor=grid("W0BOB"), request_id=request.id)
    desk.jobs.drain()
    done = desk.get(request)
    assert done.state is S.DONE and done.requester_id == "W0ALICE"
    assert [(a.approver_id, a.approver_email) for a in done.approvals] == [("W0BOB", "bob@example.com")]

