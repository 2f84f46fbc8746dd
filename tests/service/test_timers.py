"""Time, under the manual clock: a scheduled run waits for its time and runs once; an undecided request is
reminded about, then expires (never after its run time); a run time that cannot be used is refused. Nothing
sleeps: the test moves the clock and sweeps, as the sweeper does on each tick."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.domain.events import Approved, Cancelled, Confirmed, Expired, Finished
from bot.domain.lifecycle import RequestState
from bot.domain.notes import Note, Why
from bot.domain.records import AlreadyDecided, OffboardRequest
from bot.errors import BadCommand
from bot.slack import blocks
from bot.slack.messages.events import answer, direct_messages
from bot.slack.messages.refusals import refusal_text
from tests.service.conftest import Desk, ticked

JDOE = "u-1001"
S = RequestState


def _ops(desk: Desk) -> list[str]:
    return [op.name for op in desk.console.inner.operations(user_id=JDOE)]


def _sweep(desk: Desk, after: timedelta = timedelta()) -> None:
    desk.later(after)
    desk.sweep()


def _drawn(desk: Desk, request: OffboardRequest) -> OffboardRequest:
    """The request as its message in the approvals channel was last drawn."""
    return desk.notifier.messages[request.id].request


def _buttons(message: dict) -> list[str]:
    return [element["text"]["text"] for block in message["blocks"] if block["type"] == "actions"
            for element in block["elements"] if element["type"] == "button"]


def test_a_scheduled_run_waits_for_its_time(desk):
    draft = desk.ask("alice", "deactivate", "jdoe", at_text="in 2h", reason="last day tomorrow")
    assert draft.run_at == desk.clock.now() + timedelta(hours=2)
    preview = json.dumps(blocks.preview(draft))
    assert "runs <!date^" in preview and "UTC)" in preview
    assert isinstance(desk.service.intake.submit(actor=desk.actor("alice"), request_id=draft.id, ticked=ticked(draft)),
                      Confirmed)
    desk.jobs.drain()  # the run the confirmation queued finds it not due yet
    assert desk.get(draft).state is S.APPROVED and _ops(desk) == []
    _sweep(desk, timedelta(hours=1, minutes=59))
    assert desk.get(draft).state is S.APPROVED and _ops(desk) == []
    _sweep(desk, timedelta(minutes=1))
    assert desk.get(draft).state is S.DONE and _ops(desk) == ["set_status"]
    _sweep(desk, timedelta(hours=1))
    assert _ops(desk) == ["set_status"]  # once
    [finished] = desk.notifier.of(Finished)
    assert finished.request.targets[0].note == Note(Why.COMPLETED)


def test_a_run_time_picked_in_the_form_is_kept_to_the_second(desk):
    moment = desk.clock.now() + timedelta(days=2)
    draft = desk.ask("alice", "deactivate", "jdoe", at=moment)  # the form's date-time picker gives a moment
    assert draft.run_at == moment
    desk.send("alice", draft)
    desk.jobs.drain()
    assert desk.get(draft).state is S.APPROVED
    _sweep(desk, timedelta(days=2))
    assert desk.get(draft).state is S.DONE and _ops(desk) == ["set_status"]


def test_the_approval_must_come_before_the_run_time(desk):
    request = desk.send("alice", desk.ask("alice", "delete", "jdoe", at_text="in 1h"))
    assert request.expires_at == request.run_at
    _sweep(desk, timedelta(hours=1))
    assert desk.get(request).state is S.EXPIRED
    [expired] = desk.notifier.of(Expired)
    assert expired.was_awaiting
    [(to, told)] = direct_messages(expired, approvals="C0APPROVALS")
    assert to == "U0ALICE" and "expired before it was approved" in told
    assert _drawn(desk, request).state is S.EXPIRED
    assert _buttons(blocks.approval_message(_drawn(desk, request))) == []  # no Approve left to press
    with pytest.raises(AlreadyDecided):
        desk.approve("bob", request)
    assert _ops(desk) == []


def test_an_approved_scheduled_run_can_be_cancelled_until_it_starts(desk):
    request = desk.send("alice", desk.ask("alice", "delete", "jdoe", at_text="in 3h"))
    approved = desk.service.decisions.approve(actor=desk.actor("bob"), request_id=request.id)
    assert isinstance(approved, Approved) and approved.runs_at == request.run_at
    assert "It will run at" in answer(approved, results="C0RESULTS")
    desk.jobs.drain()
    assert desk.get(request).state is S.APPROVED
    cancelled = desk.service.decisions.cancel(actor=desk.actor("alice"), request_id=request.id)
    assert isinstance(cancelled, Cancelled)
    assert "nothing was changed" in answer(cancelled, results="C0RESULTS")
    _sweep(desk, timedelta(hours=4))
    assert desk.get(request).state is S.CANCELLED and _ops(desk) == []


def test_reminders_come_every_few_hours_then_the_request_expires(desk):
    request = desk.send("alice", desk.ask("alice", "delete", "jdoe"))
    _sweep(desk, timedelta(hours=3, minutes=59))
    assert desk.notifier.reminded == []
    _sweep(desk, timedelta(minutes=1))
    _sweep(desk)  # a second sweep at the same time sends nothing more
    assert desk.notifier.reminded == [request.id]
    assert "still needs 1 approval" in json.dumps(blocks.reminder(desk.get(request)))
    _sweep(desk, timedelta(hours=4))
    assert desk.notifier.reminded == [request.id] * 2
    _sweep(desk, timedelta(hours=16))
    assert desk.get(request).state is S.EXPIRED
    assert desk.notifier.reminded == [request.id] * 2  # an expired request is not reminded about
    [expired] = desk.notifier.of(Expired)
    assert "expired before it was approved" in direct_messages(expired, approvals="C0APPROVALS")[0][1]
    assert _buttons(blocks.approval_message(_drawn(desk, request))) == []


@pytest.mark.parametrize(("at_text", "problem", "words"), [
    ("yesterday", "time_unreadable", "YYYY-MM-DD HH:MM"),
    ("2001-01-01 09:00", "time_not_ahead", "not in the future"),
])
def test_an_unreadable_or_past_run_time_is_refused_clearly(desk, at_text, problem, words):
    with pytest.raises(BadCommand) as refused:
        desk.ask("alice", "deactivate", "jdoe", at_text=at_text)
    assert refused.value.problem == problem
    assert words in refusal_text(refused.value)
    assert desk.store.list(limit=5) == []
