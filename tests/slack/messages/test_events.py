"""What happened, in words: what the admin who clicked is told, who gets a direct message and what it says, and
how a finished request ended for its requester."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.domain import events as ev
from bot.domain.events import Event, Lapse
from bot.domain.lifecycle import Action, RequestState
from bot.domain.notes import Note, Why
from bot.domain.plan import StepKind, build_plan
from bot.domain.records import StepRecord, StepStatus, TargetOutcome
from bot.domain.workflows import Answer, Proposal, ProposalState, StepInputs
from bot.slack.messages.events import answer, direct_messages, outcome_line, results_not_posted
from tests.slack.builders import JDOE, NOW, REQUESTER, approved_by, of_users, request, target, user

APPROVALS, RESULTS = "C0APPROVALS", "C0RESULTS"
PENDING = request()
BEGUN = request(replace(PENDING.targets[0], steps=(
    StepRecord(StepKind.DEACTIVATE, StepStatus.DONE, None, NOW, NOW),)), state=RequestState.APPROVED)
PROPOSAL = Proposal(request_id="OB-7Q2M9KXD", execution_id="Fx1", inputs=StepInputs(action=Action.DELETE),
                    state=ProposalState.ANSWERED, proposed_by="U0CAROL", created_at=NOW,
                    expires_at=NOW + timedelta(days=1))
GONE_REQUESTER = Lapse(requester="alice@example.com")
GONE_APPROVER = Lapse(gone=("bob@example.com",), counted=0, required=1)


def _waiting(*usernames: str, **changes: object):
    """A request waiting for a deactivation done by hand, for each user named (jdoe done already)."""
    by_hand = StepRecord(StepKind.DEACTIVATE, StepStatus.MANUAL,
                         Note(Why.BY_HAND, step=StepKind.DEACTIVATE, console="8x8"), NOW, None)
    targets = [target(build_plan(Action.DEACTIVATE, user(name)), steps=(by_hand,)) for name in usernames]
    done = target(build_plan(Action.DEACTIVATE, JDOE), outcome=TargetOutcome.DONE, note=Note(Why.COMPLETED))
    return request(done, *targets, state=RequestState.WAITING, **changes)


def _every_event() -> dict[type[Event], Event]:
    """One event of each kind (the request as it stands after it)."""
    return {event.__class__: event for event in (
        ev.Drafted(request(state=RequestState.DRAFT)),
        ev.SentForApproval(request(message_channel=APPROVALS, message_ts="1.0")),
        ev.Confirmed(request(state=RequestState.APPROVED)),
        ev.ApprovalCounted(request(approvals_required=2, approvals=approved_by("U0BOB")), by="U0BOB", missing=1),
        ev.Approved(request(state=RequestState.APPROVED), by="U0BOB", runs_at=None),
        ev.Rejected(request(state=RequestState.REJECTED), by="U0BOB", reason="not yet"),
        ev.Cancelled(request(state=RequestState.CANCELLED), by="U0BOB"),
        ev.Stopped(request(state=RequestState.FAILED), by="U0BOB"),
        ev.Rechecking(request(state=RequestState.EXECUTING), by="U0BOB"),
        ev.Expired(request(state=RequestState.EXPIRED), was_awaiting=True),
        ev.CalledOff(request(state=RequestState.CANCELLED), lapse=GONE_REQUESTER),
        ev.Interrupted(request(state=RequestState.EXECUTING), error="KeyError", storage_down=False,
                       retry_in=timedelta(minutes=1), tries=3),
        ev.WaitingForManual(_waiting("msmith", message_channel=APPROVALS, message_ts="1.0"), console="8x8",
                            rechecked_by=None),
        ev.StageDone(request(state=RequestState.APPROVED)),
        ev.Progressed(request(state=RequestState.EXECUTING), counts={}),
        ev.Finished(request(state=RequestState.DONE)),
        ev.StepEnded(request(state=RequestState.DONE), execution_id="Fx1"),
        ev.StepAnswered(request(state=RequestState.APPROVED, run_at=NOW + timedelta(days=9)), proposal=PROPOSAL,
                        why=Answer.RUNS_LATER, answer_by=NOW + timedelta(days=3)),
    )}


def _kinds(base: type) -> set[type]:
    return {kind for sub in base.__subclasses__() for kind in (sub, *_kinds(sub))}


ANSWERED = {ev.SentForApproval, ev.Confirmed, ev.ApprovalCounted, ev.Approved, ev.Rejected, ev.Cancelled, ev.Stopped,
            ev.Rechecking, ev.CalledOff}  # the events a click (or a command) can make
DIRECT = {ev.Rejected, ev.Cancelled, ev.Stopped, ev.Expired, ev.CalledOff, ev.Interrupted, ev.WaitingForManual}


def test_every_kind_of_event_is_here():
    assert set(_every_event()) == _kinds(Event)


@pytest.mark.parametrize("kind", sorted(_kinds(Event), key=lambda kind: kind.__name__))
def test_every_event_a_click_makes_has_an_answer_and_no_other(kind):
    event = _every_event()[kind]
    if kind in ANSWERED:
        assert answer(event, results=RESULTS)
    else:
        with pytest.raises(TypeError, match=f"no answer for {kind.__name__}"):
            answer(event, results=RESULTS)


@pytest.mark.parametrize("kind", sorted(_kinds(Event), key=lambda kind: kind.__name__))
def test_who_gets_a_direct_message_of_every_event(kind):
    messages = direct_messages(_every_event()[kind], approvals=APPROVALS)
    if kind in DIRECT:
        assert [who for who, _ in messages] == [REQUESTER]
        assert all(text for _, text in messages)
    else:
        assert messages == []


# -- answers to whoever clicked ----------------------------------------------------------------------------

def _answer(event: Event) -> str:
    return answer(event, results=RESULTS)


def test_answers_to_the_requester_who_sent_or_confirmed():
    assert _answer(ev.SentForApproval(request(message_channel=APPROVALS))) == (
        "Sent for approval in <#C0APPROVALS>. I will tell you how it ends.")
    assert _answer(ev.SentForApproval(request())) == "Sent for approval. I will tell you how it ends."
    assert _answer(ev.Confirmed(request(state=RequestState.APPROVED))) == (
        "Confirmed. It is running now; I will send you the outcome.")
    scheduled = request(state=RequestState.APPROVED, run_at=NOW + timedelta(hours=1))
    assert _answer(ev.Confirmed(scheduled)) == (
        "Confirmed. It will run at 2026-11-02 10:00 UTC and can be cancelled until then; I will send you the outcome.")


def test_answers_to_an_approver():
    counted = request(approvals_required=3, approvals=approved_by("U0BOB"))
    assert _answer(ev.ApprovalCounted(counted, by="U0BOB", missing=2)) == "Approval counted; 2 more needed."
    now = ev.Approved(request(state=RequestState.APPROVED), by="U0BOB", runs_at=None)
    assert _answer(now) == "Approved. It is running now; the outcome will be posted in <#C0RESULTS>."
    later = ev.Approved(request(state=RequestState.APPROVED), by="U0BOB", runs_at=NOW + timedelta(days=1, hours=2))
    assert _answer(later) == ("Approved. It will run at 2026-11-03 11:00 UTC and can be cancelled until then; the "
                              "outcome will be posted in <#C0RESULTS>.")
    assert _answer(ev.Rejected(request(state=RequestState.REJECTED), by="U0BOB", reason="no")) == "Rejected."


def test_answers_to_whoever_cancelled_or_stopped():
    assert _answer(ev.Cancelled(replace(PENDING, state=RequestState.CANCELLED), by=REQUESTER)) == (
        "Request OB-ABCDEFGH is cancelled; nothing was changed in the console.")
    assert _answer(ev.Cancelled(replace(BEGUN, state=RequestState.CANCELLED), by=REQUESTER)) == (
        "Request OB-ABCDEFGH is cancelled before its next stage; the stages already done stay done.")
    assert _answer(ev.Stopped(request(state=RequestState.FAILED), by="U0BOB")) == (
        "Request OB-ABCDEFGH is stopped; steps already done stay done.")


def test_answers_to_whoever_pressed_recheck():
    assert _answer(ev.Rechecking(request(state=RequestState.EXECUTING), by="U0BOB")) == (
        "Re-checking: I am reading the users back from the console and will carry on with the remaining steps if the "
        "manual ones show as done.")
    called_off = ev.CalledOff(replace(BEGUN, state=RequestState.CANCELLED), lapse=GONE_APPROVER, running=True)
    assert _answer(called_off) == (
        "Request OB-ABCDEFGH was called off: the approval of bob@example.com no longer counts (no longer an admin), "
        "so it has 0 of the 1 approvals it needs. Nothing more was changed in the console. Stages already done stay "
        "done.")
    assert _answer(ev.CalledOff(request(state=RequestState.CANCELLED), lapse=GONE_REQUESTER)) == (
        "Request OB-ABCDEFGH was called off: alice@example.com, who asked for it, is no longer an admin. Nothing more "
        "was changed in the console.")


# -- direct messages ---------------------------------------------------------------------------------------

def _dms(event: Event) -> list[tuple[str, str]]:
    return direct_messages(event, approvals=APPROVALS)


def test_a_rejection_tells_the_requester_why_without_markup():
    rejected = ev.Rejected(request(state=RequestState.REJECTED), by="U0BOB", reason="<!channel> not now & <@U0DANA>")
    assert _dms(rejected) == [(REQUESTER, "Your request OB-ABCDEFGH was rejected by <@U0BOB>: &lt;!channel&gt; not "
                                          "now &amp; &lt;@U0DANA&gt;")]


def test_a_cancel_or_a_stop_tells_the_requester_unless_they_did_it():
    cancelled = request(state=RequestState.CANCELLED)
    assert _dms(ev.Cancelled(cancelled, by="U0BOB")) == [
        (REQUESTER, "Your request OB-ABCDEFGH was cancelled by <@U0BOB>.")]
    assert _dms(ev.Cancelled(cancelled, by=REQUESTER)) == []
    stopped = request(state=RequestState.FAILED)
    assert _dms(ev.Stopped(stopped, by="U0BOB")) == [
        (REQUESTER, "Your request OB-ABCDEFGH was stopped by <@U0BOB> while it waited for a manual step.")]
    assert _dms(ev.Stopped(stopped, by=REQUESTER)) == []


def test_an_expiry_tells_the_requester_only_when_it_was_awaiting_approval():
    expired = request(state=RequestState.EXPIRED)
    assert _dms(ev.Expired(expired, was_awaiting=True)) == [
        (REQUESTER, "Your request OB-ABCDEFGH expired before it was approved.")]
    assert _dms(ev.Expired(expired, was_awaiting=False)) == []  # a draft nobody sent


def test_a_call_off_tells_the_requester_why_and_what_stays():
    before_run = ev.CalledOff(request(state=RequestState.CANCELLED), lapse=GONE_REQUESTER)
    assert _dms(before_run) == [(REQUESTER, (
        "Your request OB-ABCDEFGH was called off before it ran: alice@example.com, who asked for it, is no longer an "
        "admin. Nothing more was changed in the console. Ask again if it is still needed."))]
    next_stage = ev.CalledOff(replace(BEGUN, state=RequestState.CANCELLED), lapse=GONE_APPROVER)
    assert _dms(next_stage) == [(REQUESTER, (
        "Your request OB-ABCDEFGH was called off before it ran: the approval of bob@example.com no longer counts (no "
        "longer an admin), so it has 0 of the 1 approvals it needs. Nothing more was changed in the console. Stages "
        "already done stay done. Ask again if it is still needed."))]
    carrying_on = ev.CalledOff(replace(BEGUN, state=RequestState.CANCELLED), lapse=GONE_REQUESTER, running=True)
    assert _dms(carrying_on)[0][1].startswith("Your request OB-ABCDEFGH was called off before it carried on: ")


@pytest.mark.parametrize(("retry_in", "later"), [
    (timedelta(seconds=10), "1 minute"), (timedelta(minutes=1), "1 minute"), (timedelta(seconds=89), "1 minute"),
    (timedelta(seconds=91), "2 minutes"), (timedelta(minutes=10), "10 minutes"),
])
def test_an_interruption_tells_the_requester_when_it_carries_on(retry_in, later):
    running = request(state=RequestState.EXECUTING)
    error = ev.Interrupted(running, error="KeyError", storage_down=False, retry_in=retry_in, tries=3)
    assert _dms(error) == [(REQUESTER, (
        f"Your request OB-ABCDEFGH was interrupted: an error on my side (`KeyError`). Steps already done stay done and "
        f"will not be repeated. It is tried again by itself in about {later}; if the error keeps coming back, it stops "
        f"after 3 tries and says so. `/offboard status OB-ABCDEFGH` shows where it is."))]
    database = ev.Interrupted(running, error="StorageUnavailable", storage_down=True, retry_in=retry_in, tries=3)
    assert _dms(database) == [(REQUESTER, (
        f"Your request OB-ABCDEFGH was interrupted: my database stopped answering. Steps already done stay done and "
        f"will not be repeated. It carries on by itself once the database answers again, {later} from now at the "
        f"earliest. `/offboard status OB-ABCDEFGH` shows where it is."))]


def test_steps_waiting_for_hands_are_sent_to_the_requester_with_where_the_instructions_are():
    waiting = _waiting("msmith", "pnguyen", message_channel=APPROVALS, message_ts="1.0")
    assert _dms(ev.WaitingForManual(waiting, console="8x8", rechecked_by=None)) == [(REQUESTER, (
        "Your request OB-ABCDEFGH needs steps done by hand in the 8x8 console, as its API cannot do them on this "
        "account: `msmith` (deactivate), `pnguyen` (deactivate). The instructions and a Re-check button are on the "
        "request in <#C0APPROVALS>."))]
    in_a_dm = _waiting("msmith", message_channel="D0ALICE", message_ts="1.0")
    assert _dms(ev.WaitingForManual(in_a_dm, console="SCIM", rechecked_by=None)) == [(REQUESTER, (
        "Your request OB-ABCDEFGH needs steps done by hand in the SCIM console, as its API cannot do them on this "
        "account: `msmith` (deactivate). The instructions and a Re-check button are on the request in our direct "
        "messages."))]
    nowhere = _waiting("msmith")
    assert _dms(ev.WaitingForManual(nowhere, console="8x8", rechecked_by=None)) == [(REQUESTER, (
        "Your request OB-ABCDEFGH needs steps done by hand in the 8x8 console, as its API cannot do them on this "
        "account: `msmith` (deactivate). The instructions and a Re-check button are: `/offboard status OB-ABCDEFGH` "
        "shows them, and `/offboard cancel OB-ABCDEFGH` stops it."))]


def test_a_recheck_that_finds_the_steps_still_waiting_tells_whoever_pressed_it():
    waiting = _waiting("msmith", message_channel=APPROVALS, message_ts="1.0")
    assert _dms(ev.WaitingForManual(waiting, console="8x8", rechecked_by="U0BOB")) == [("U0BOB", (
        "Re-checked OB-ABCDEFGH: these steps still wait to be done by hand: `msmith` (deactivate). The instructions "
        "are on the request in <#C0APPROVALS>."))]
    nowhere = _waiting("msmith")
    assert _dms(ev.WaitingForManual(nowhere, console="8x8", rechecked_by=REQUESTER)) == [(REQUESTER, (
        "Re-checked OB-ABCDEFGH: these steps still wait to be done by hand: `msmith` (deactivate). The instructions "
        "are: `/offboard status OB-ABCDEFGH` shows them, and `/offboard cancel OB-ABCDEFGH` stops it."))]


def test_a_waiting_username_cannot_ping():
    plan = replace(build_plan(Action.DEACTIVATE, JDOE), username="<!channel>")
    by_hand = StepRecord(StepKind.DEACTIVATE, StepStatus.MANUAL, None, NOW, None)
    waiting = request(target(plan, steps=(by_hand,)), state=RequestState.WAITING)
    [(_, text)] = _dms(ev.WaitingForManual(waiting, console="8x8", rechecked_by=None))
    assert "`&lt;!channel&gt;` (deactivate)" in text and "<!channel>" not in text


# -- how a finished request ended -----------------------------------------------------------------------------

def test_how_a_request_ended_for_its_requester():
    done = of_users("jdoe", "msmith", outcome=TargetOutcome.DONE, state=RequestState.DONE)
    assert outcome_line(done) == "Your request OB-ABCDEFGH finished: 2/2 deleted successfully."
    assert outcome_line(done, shown=False) == "Your request OB-ABCDEFGH finished: 2/2 deleted successfully."
    renamed = of_users("jdoe", action=Action.RENAME, outcome=TargetOutcome.DONE, state=RequestState.DONE)
    assert outcome_line(renamed) == "Your request OB-ABCDEFGH finished: 1/1 renamed successfully."
    failed = _with_outcomes(TargetOutcome.DONE, TargetOutcome.FAILED, TargetOutcome.ABORTED)
    assert outcome_line(failed) == ("Your request OB-ABCDEFGH finished with problems: 1/3 succeeded. See the results "
                                    "channel.")
    assert outcome_line(failed, shown=False) == "Your request OB-ABCDEFGH finished with problems: 1/3 succeeded."


def _with_outcomes(*outcomes: TargetOutcome):
    made = of_users(*("jdoe", "msmith", "pnguyen")[: len(outcomes)], state=RequestState.FAILED)
    return replace(made, targets=tuple(replace(one, outcome=outcome)
                                       for one, outcome in zip(made.targets, outcomes, strict=True)))


def test_the_requester_is_told_where_to_read_results_that_could_not_be_posted():
    failed = _with_outcomes(TargetOutcome.DONE, TargetOutcome.FAILED, TargetOutcome.ABORTED)
    assert results_not_posted(failed, results=RESULTS, failure="Slack answered not_in_channel") == (
        "Your request OB-ABCDEFGH finished with problems: 1/3 succeeded. I could not post the results in "
        "<#C0RESULTS> (Slack answered not_in_channel): `/offboard status OB-ABCDEFGH` shows each user's result.")
    done = of_users("jdoe", outcome=TargetOutcome.DONE, state=RequestState.DONE)
    assert results_not_posted(done, results=RESULTS, failure="Slack could not be reached (<urlopen error>)") == (
        "Your request OB-ABCDEFGH finished: 1/1 deleted successfully. I could not post the results in <#C0RESULTS> "
        "(Slack could not be reached (&lt;urlopen error&gt;)): `/offboard status OB-ABCDEFGH` shows each user's "
        "result.")
