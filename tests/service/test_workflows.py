"""Workflow steps: a proposal acts on nothing until an admin takes it; one admin takes it; a take that cannot make
a plan gives it back; the step is told once how the request ended; a proposal nobody takes lapses."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlmodel import select

from bot.domain.events import StepAnswered, StepEnded
from bot.domain.lifecycle import Action, RequestState
from bot.domain.records import WorkflowOrigin
from bot.domain.workflows import Answer, ProposalState, StepInputs
from bot.errors import BadCommand, Refusal, StorageUnavailable
from bot.policy import WorkflowSteps
from storage.db import session
from storage.models import AuditRow
from tests.service.conftest import ticked
from tests.service.helpers import actor_of, all_at_once, nothing_changed

S = RequestState
P = ProposalState


def _propose(desk, execution_id="Fx1", **inputs):
    inputs = {"action": Action.DELETE, "leaver_text": "jdoe", "reason": "left"} | inputs
    return desk.service.workflows.propose(inputs=StepInputs(**inputs), execution_id=execution_id,
                                          proposed_by="U0CAROL")


def test_a_proposal_changes_nothing_until_an_admin_takes_it(desk):
    proposal = _propose(desk)
    assert desk.notifier.proposals[proposal.request_id].state is P.PROPOSED
    assert desk.store.get(proposal.request_id) is None
    with pytest.raises(Refusal) as refused:
        desk.service.workflows.take(actor=actor_of(desk, "carol"), request_id=proposal.request_id)
    assert refused.value.code == "not_admin"
    assert desk.store.proposal(proposal.request_id).state is P.PROPOSED
    nothing_changed(desk)


def test_one_admin_takes_it_and_becomes_its_requester(desk):
    proposal = _propose(desk)
    results = all_at_once(*(lambda who=who: desk.service.workflows.take(actor=actor_of(desk, who),
                                                                         request_id=proposal.request_id)
                            for who in ("alice", "bob")))
    taken = [result for result in results if not isinstance(result, Exception)]
    refused = [result for result in results if isinstance(result, Refusal)]
    assert len(taken) == 1 and len(refused) == 1 and refused[0].code == "proposal_taken"
    request = desk.get(proposal.request_id)
    assert request.state is S.DRAFT and request.requester_id == desk.store.proposal(request.id).taken_by
    assert desk.notifier.proposals[request.id].state is P.TAKEN


def test_a_take_that_cannot_make_a_plan_gives_the_proposal_back(desk):
    proposal = _propose(desk, leaver_text="nobody-here")
    with pytest.raises(Refusal) as blocked:
        desk.service.workflows.take(actor=actor_of(desk, "alice"), request_id=proposal.request_id)
    assert blocked.value.code == "blocked"
    assert desk.store.proposal(proposal.request_id).state is P.PROPOSED
    assert desk.store.get(proposal.request_id) is None


def test_inputs_that_cannot_make_a_request_are_refused_and_nothing_is_kept(desk):
    with pytest.raises(BadCommand):
        _propose(desk, action=Action.RENAME)
    with pytest.raises(BadCommand):
        _propose(desk, leaver_text="  ")
    assert desk.notifier.proposals == {}


def test_the_same_execution_is_proposed_once(desk):
    first = _propose(desk, execution_id="Fx9")
    assert _propose(desk, execution_id="Fx9") is None
    assert list(desk.notifier.proposals) == [first.request_id]


def test_the_step_hears_once_how_the_request_ended(desk):
    proposal = _propose(desk)
    drafted = desk.service.workflows.take(actor=actor_of(desk, "alice"), request_id=proposal.request_id)
    desk.service.intake.submit(actor=actor_of(desk, "alice"), request_id=drafted.request.id,
                               ticked=ticked(drafted.request))
    desk.approve("bob", drafted.request)
    desk.jobs.drain()
    ended = desk.notifier.of(StepEnded)
    assert [(event.execution_id, event.request.state) for event in ended] == [("Fx1", S.DONE)]
    desk.service.workflows.ended(desk.get(drafted.request))  # told again (another replica): nothing more
    assert len(desk.notifier.of(StepEnded)) == 1


def test_a_past_date_runs_once_approved_and_a_future_one_schedules_it(desk):
    now = desk.clock.now()
    past = _propose(desk, execution_id="Fx1", date=now - timedelta(days=1))
    future = _propose(desk, execution_id="Fx2", leaver_text="msmith", date=now + timedelta(days=2))
    assert desk.service.workflows.take(actor=actor_of(desk, "alice"), request_id=past.request_id).request.run_at is None
    taken = desk.service.workflows.take(actor=actor_of(desk, "alice"), request_id=future.request_id).request
    assert taken.run_at == (now + timedelta(days=2)).astimezone(UTC)


def test_a_proposal_nobody_takes_lapses_and_its_step_fails(desk):
    proposal = _propose(desk)
    desk.later(desk.service.core.policy.approvals.expire_after)
    assert desk.service.timers.lapse_overdue_proposals() == [proposal.request_id]
    assert desk.notifier.failed_steps == ["Fx1"]
    assert desk.service.timers.lapse_overdue_proposals() == []
    with pytest.raises(Refusal) as late:
        desk.service.workflows.take(actor=actor_of(desk, "alice"), request_id=proposal.request_id)
    assert late.value.code == "proposal_taken"


# -- a request that outlives how long a step may be kept waiting (policy: [workflow_steps] answer_within) ----------


def _taken_and_sent(desk, **inputs):
    proposal = _propose(desk, **inputs)
    drafted = desk.service.workflows.take(actor=actor_of(desk, "alice"), request_id=proposal.request_id)
    desk.service.intake.submit(actor=actor_of(desk, "alice"), request_id=drafted.request.id,
                               ticked=ticked(drafted.request))
    return desk.get(drafted.request)


def _with_answer_within(desk, hours: int):
    policy = desk.service.core.policy
    desk.service.core.policy = policy.model_copy(update={
        "workflow_steps": WorkflowSteps(answer_within=timedelta(hours=hours))})


def test_a_request_approved_to_run_after_the_step_must_be_answered_answers_it_when_approved(desk):
    answer_within = desk.service.core.policy.workflow_steps.answer_within
    request = _taken_and_sent(desk, date=desk.clock.now() + answer_within + timedelta(days=7))
    assert desk.notifier.of(StepAnswered) == []  # it may still be rejected before then: the step waits
    desk.approve("bob", request)
    [answered] = desk.notifier.of(StepAnswered)
    assert (answered.proposal.execution_id, answered.request.state, answered.why) == ("Fx1", S.APPROVED,
                                                                                 Answer.RUNS_LATER)
    assert answered.answer_by == desk.store.proposal(request.id).created_at + answer_within
    assert desk.store.proposal(request.id).state is P.ANSWERED

    desk.later(answer_within + timedelta(days=7))
    desk.sweep()
    assert desk.get(request).state is S.DONE
    assert desk.notifier.of(StepEnded) == [] and len(desk.notifier.of(StepAnswered)) == 1  # told once, early


def test_a_step_still_waiting_when_its_time_is_up_is_answered_by_the_sweep_with_what_is_known(any_desk):
    desk = any_desk
    _with_answer_within(desk, 12)  # shorter than the 24 h an approval may take
    request = _taken_and_sent(desk)
    desk.later(timedelta(hours=11))
    assert desk.service.timers.answer_overdue_steps() == []
    desk.later(timedelta(hours=1))
    assert desk.service.timers.answer_overdue_steps() == [request.id]
    [answered] = desk.notifier.of(StepAnswered)
    assert (answered.request.state, answered.why) == (S.AWAITING_APPROVAL, Answer.TIME_UP)
    assert desk.service.timers.answer_overdue_steps() == []  # once

    desk.approve("bob", request)
    desk.jobs.drain()
    assert desk.get(request).state is S.DONE
    assert desk.notifier.of(StepEnded) == []


def test_a_proposal_lapses_before_its_step_must_be_answered(desk):
    _with_answer_within(desk, 12)
    proposal = _propose(desk)
    assert proposal.expires_at == proposal.created_at + timedelta(hours=12)


def test_a_step_whose_end_was_not_told_hears_it_when_its_time_is_up(desk, monkeypatch):
    request = _taken_and_sent(desk)

    def database_down(*args, **kwargs):
        raise StorageUnavailable("the database did not answer")

    monkeypatch.setattr(desk.store, "end_proposal", database_down)  # just when the cancel tells the step
    desk.service.decisions.cancel(actor=actor_of(desk, "alice"), request_id=request.id)
    monkeypatch.undo()
    assert desk.get(request).state is S.CANCELLED  # the cancel stands
    assert desk.notifier.of(StepEnded) == []
    desk.later(desk.service.core.policy.workflow_steps.answer_within)
    assert desk.service.timers.answer_overdue_steps() == [request.id]
    [ended] = desk.notifier.of(StepEnded)
    assert ended.request.state is S.CANCELLED and desk.notifier.of(StepAnswered) == []


def test_two_replicas_sweeping_at_once_answer_the_step_once(any_desk):
    desk = any_desk
    _with_answer_within(desk, 12)
    request = _taken_and_sent(desk)
    desk.later(timedelta(hours=12))
    swept = all_at_once(desk.service.timers.answer_overdue_steps, desk.service.timers.answer_overdue_steps)
    assert sorted(swept, key=len) == [[], [request.id]]
    assert len(desk.notifier.of(StepAnswered)) == 1
    with session(desk.engine) as db:
        events = db.exec(select(AuditRow.event).where(AuditRow.request_id == request.id)).all()
    assert events.count("workflow.answered") == 1


def test_a_request_that_ends_while_the_sweep_answers_its_step_tells_the_step_its_end(desk, monkeypatch):
    _with_answer_within(desk, 12)
    request = _taken_and_sent(desk)
    desk.later(timedelta(hours=12))
    read = desk.store.get

    core = desk.service.core
    tail = core.on_change

    def read_then_rejected_elsewhere(request_id):  # another replica rejects it just after the sweep read it...
        stale = read(request_id)
        monkeypatch.setattr(desk.store, "get", read)
        core.on_change = None  # ...and has not yet told the workflow step when the sweep answers it
        desk.service.decisions.reject(actor=actor_of(desk, "bob"), request_id=request_id, reason="still needed")
        core.on_change = tail
        return stale

    monkeypatch.setattr(desk.store, "get", read_then_rejected_elsewhere)
    assert desk.service.timers.answer_overdue_steps() == []
    assert desk.notifier.of(StepAnswered) == []  # what it read is no longer so: the step hears the end instead
    tail(desk.get(request))  # the rejecting replica's tail
    [ended] = desk.notifier.of(StepEnded)
    assert ended.request.state is S.REJECTED and desk.store.proposal(request.id).state is P.ENDED


def test_a_proposal_whose_taker_died_before_the_draft_was_made_lapses_and_fails_its_step(desk):
    proposal = _propose(desk)
    desk.store.take_proposal(proposal.request_id, by="U0ALICE", now=desk.clock.now())  # then the process died
    desk.later(desk.service.core.policy.workflow_steps.answer_within)
    desk.sweep()  # the step must be answered: its proposal is given back, already past its time
    desk.sweep()
    assert desk.notifier.failed_steps == ["Fx1"]
    assert desk.store.proposal(proposal.request_id).state is P.ENDED


def test_a_workflows_request_says_where_it_came_from_whether_read_alone_or_listed(any_desk):
    desk = any_desk
    request = _taken_and_sent(desk, process_complete=True)
    typed = desk.send("alice", desk.ask("alice", "deactivate", "msmith", reason="left"))
    origin = WorkflowOrigin(proposed_by="U0CAROL", process_complete=True)
    assert desk.get(request).workflow == origin and desk.get(typed).workflow is None
    listed = {one.id: one.workflow for one in desk.store.list()}
    assert listed[request.id] == origin and listed[typed.id] is None
