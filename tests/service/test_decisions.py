"""Deciding: who may approve (a different admin than the requester), double clicks and approvers racing giving
one outcome, clicks that come after the request expired or was cancelled, rejecting with a reason, cancelling."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.domain.events import ApprovalCounted, Approved, Cancelled, Expired, Rejected
from bot.domain.lifecycle import RequestState
from bot.domain.records import AlreadyDecided, OffboardRequest
from bot.errors import Refusal
from bot.slack import blocks
from bot.slack.messages.events import answer, direct_messages
from bot.slack.messages.refusals import refusal_text
from storage import audit
from storage.request_store import RequestStore
from tests.service.conftest import Desk
from tests.service.helpers import JDOE, actor_of, add_outsiders, all_at_once, buttons_of, nothing_changed, ops, text_of

S = RequestState


def _asked(desk: Desk) -> OffboardRequest:
    """alice asks to delete jdoe and sends it for approval."""
    return desk.send("alice", desk.ask("alice", "delete", "jdoe"))


def _approve(desk: Desk, who: str, request: OffboardRequest):
    return lambda: desk.service.decisions.approve(actor=actor_of(desk, who), request_id=request.id)


@pytest.mark.parametrize(("who", "code", "said"), [
    ("alice", "self_approval", "a different admin must decide"),
    ("carol", "not_admin", "Only account admins"),
    ("U0STRANGER", "other_workspace", "own workspace"),
])
def test_the_approver_must_be_a_different_admin(desk, who, code, said):
    add_outsiders(desk)
    request = _asked(desk)
    with pytest.raises(Refusal) as raised:
        _approve(desk, who, request)()
    assert raised.value.code == code and said in refusal_text(raised.value)
    assert desk.get(request).state is S.AWAITING_APPROVAL and desk.get(request).approvals == ()
    desk.jobs.drain()
    nothing_changed(desk)


def test_a_second_click_of_the_approver_gives_one_outcome(desk):
    request = _asked(desk)
    assert isinstance(_approve(desk, "bob", request)(), Approved)
    with pytest.raises(AlreadyDecided) as raised:  # the buttons are gone; a stale client still clicks
        _approve(desk, "bob", request)()
    assert (raised.value.request.state, raised.value.request.decided_by) == (S.APPROVED, "U0BOB")
    assert not raised.value.you_approved
    assert "already approved by <@U0BOB>" in refusal_text(raised.value)
    desk.jobs.drain()
    assert ops(desk, JDOE) == ["release_licenses", "delete"]
    assert [approval.approver_id for approval in desk.get(request).approvals] == ["U0BOB"]


@pytest.mark.parametrize("clickers", [("bob", "bob"), ("bob", "dana")], ids=["double click", "two approvers"])
def test_approvals_at_the_same_instant_give_exactly_one_outcome(any_desk, clickers):
    desk = any_desk
    request = _asked(desk)
    got = all_at_once(*(_approve(desk, who, request) for who in clickers))
    approved = [result for result in got if isinstance(result, Approved)]
    too_late = [result for result in got if isinstance(result, AlreadyDecided)]
    assert len(approved) == 1 and len(too_late) == 1, got
    assert not any(isinstance(result, ApprovalCounted) for result in got)
    # It is told the request was already approved (a request is read whole, from one moment: see below).
    assert refusal_text(too_late[0]).startswith(f"Request {request.id} was already approved by <@")
    desk.jobs.drain()
    done = desk.get(request)
    assert done.state is S.DONE
    assert [approval.approver_id for approval in done.approvals] == [approved[0].by]
    assert ops(desk, JDOE) == ["release_licenses", "delete"]
    assert audit.verify(desk.engine).ok


@pytest.mark.postgres
@pytest.mark.parametrize("any_engine", ["postgres"], indirect=True)
def test_a_late_click_of_the_approver_reads_the_request_whole(any_desk, monkeypatch):
    """bob's second click reads the request's row just before his first click commits, and its approvals just
    after: it is then told "You already approved this request; it needs a different admin now", of a request
    that is approved and about to run."""
    desk = any_desk
    request = _asked(desk)
    row_read, first_committed = threading.Event(), threading.Event()
    load = RequestStore._load

    def load_late(self, db, row):  # the row is read; the late click's thread pauses before reading the rest
        if threading.current_thread().name == "late click":
            row_read.set()
            first_committed.wait(5)
        return load(self, db, row)

    monkeypatch.setattr(RequestStore, "_load", load_late)
    got: list[object] = []

    def late_click() -> None:
        try:
            got.append(_approve(desk, "bob", request)())
        except AlreadyDecided as refused:
            got.append(refused)

    late = threading.Thread(target=late_click, name="late click")
    late.start()
    if not row_read.wait(5):
        raise RuntimeError("the late click never read the request")
    assert isinstance(_approve(desk, "bob", request)(), Approved)
    first_committed.set()
    late.join()
    [too_late] = got
    if not isinstance(too_late, AlreadyDecided):
        raise RuntimeError(f"the late click got {too_late!r}")
    assert too_late.request.state is S.APPROVED, refusal_text(too_late)


def test_a_click_after_expiry_is_too_late_and_the_request_expires(desk):
    request = _asked(desk)
    desk.later(timedelta(hours=25))
    with pytest.raises(AlreadyDecided) as raised:
        _approve(desk, "bob", request)()
    assert raised.value.request.state is S.EXPIRED and "expired" in refusal_text(raised.value)
    assert desk.get(request).state is S.EXPIRED
    drawn = desk.notifier.messages[request.id].request
    assert drawn.state is S.EXPIRED and "Expired" in text_of(blocks.approval_message(drawn))
    [expired] = desk.notifier.of(Expired)
    assert expired.was_awaiting
    assert [(who, "expired" in text) for who, text in direct_messages(expired, approvals="C0APPROVALS")] == [
        ("U0ALICE", True)]
    desk.jobs.drain()
    assert ops(desk) == [] and audit.verify(desk.engine).ok


def test_a_click_after_cancel_is_too_late(desk):
    request = _asked(desk)
    desk.service.decisions.cancel(actor=desk.actor("alice"), request_id=request.id)
    with pytest.raises(AlreadyDecided) as raised:
        _approve(desk, "bob", request)()
    assert (raised.value.request.state, raised.value.request.decided_by) == (S.CANCELLED, "U0ALICE")
    assert "was cancelled by <@U0ALICE>" in refusal_text(raised.value)
    desk.jobs.drain()
    assert ops(desk) == [] and desk.get(request).approvals == ()
    assert audit.verify(desk.engine).ok


def test_a_rejection_needs_a_reason_and_changes_nothing_in_the_console(desk):
    request = _asked(desk)
    with pytest.raises(Refusal) as raised:
        desk.service.decisions.reject(actor=desk.actor("bob"), request_id=request.id, reason="   ")
    assert raised.value.code == "no_reason" and desk.get(request).state is S.AWAITING_APPROVAL
    rejected = desk.service.decisions.reject(actor=desk.actor("bob"), request_id=request.id,
                                             reason="still needed for the audit")
    assert (rejected.by, rejected.reason) == ("U0BOB", "still needed for the audit")
    stored = desk.get(request)
    assert (stored.state, stored.decided_by, stored.decision_note) == (S.REJECTED, "U0BOB",
                                                                       "still needed for the audit")
    assert desk.notifier.of(Rejected) == [rejected]
    drawn = desk.notifier.messages[request.id].request
    assert drawn.state is S.REJECTED and buttons_of(blocks.approval_message(drawn)) == []
    [(to, said)] = direct_messages(rejected, approvals="C0APPROVALS")
    assert to == "U0ALICE" and "rejected by <@U0BOB>" in said and "still needed for the audit" in said
    desk.jobs.drain()
    assert ops(desk) == [] and desk.console.inner.get_user(user_id=JDOE) is not None


def test_the_requester_cancels_a_draft_and_a_sent_request(desk):
    draft = desk.ask("alice", "delete", "jdoe")
    cancelled = desk.service.decisions.cancel(actor=desk.actor("alice"), request_id=draft.id)
    assert isinstance(cancelled, Cancelled) and desk.get(draft).state is S.CANCELLED
    assert "is cancelled" in answer(cancelled, results="C0RESULTS")

    sent = _asked(desk)  # the user is free again
    cancelled = desk.service.decisions.cancel(actor=desk.actor("alice"), request_id=sent.id)
    assert "is cancelled" in answer(cancelled, results="C0RESULTS")
    assert desk.get(sent).state is S.CANCELLED
    drawn = desk.notifier.messages[sent.id].request
    assert drawn.state is S.CANCELLED and buttons_of(blocks.approval_message(drawn)) == []
    assert "Cancelled" in text_of(blocks.approval_message(drawn))
    desk.jobs.drain()
    assert ops(desk) == []
