"""What a workflow step hears, and what the request's thread says, when the step is answered before its request
ends: the request as it stands, why now, and that its end is posted in Slack only."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.lifecycle import Action, RequestState
from bot.domain.plan import StepKind, build_plan
from bot.domain.records import StepRecord, StepStatus, WorkflowOrigin
from bot.domain.workflows import Answer, Proposal, ProposalState, StepInputs
from bot.ports import NotificationFailed
from bot.slack.blocks.kit import request_facts
from bot.slack.messages.workflows import (
    answered_outputs,
    proposal_title,
    step_answered,
    step_not_told,
    step_outputs,
)
from tests.slack.builders import JDOE, NOW, REQUEST_ID, request, target

WITHIN = timedelta(hours=72)


def test_a_request_approved_to_run_later_is_answered_with_when_it_runs():
    scheduled = request(state=RequestState.APPROVED, run_at=NOW + timedelta(days=9), requester_tz="Europe/Paris")
    assert answered_outputs(scheduled) == {
        "request_id": REQUEST_ID, "still_in_progress": True, "summary": "jdoe: not run yet",
        "final_state": "Approved, still in progress: runs 2026-11-11 10:00 CET (2026-11-11 09:00 UTC)"}
    said = step_answered(scheduled, why=Answer.RUNS_LATER, answer_by=NOW + WITHIN, answer_within=WITHIN)
    assert said == (
        f"The workflow that proposed {REQUEST_ID} was answered now with what is known: *Approved, still in progress: "
        "runs 2026-11-11 10:00 CET (2026-11-11 09:00 UTC)*. A workflow step is kept waiting 3 days at most (the "
        "policy's `workflow_steps.answer_within`: until 2026-11-05 10:00 CET (2026-11-05 09:00 UTC) for this one), "
        "and this request runs later. The workflow is not told how the request ends: `/offboard status "
        f"{REQUEST_ID}` shows it at any time.")


def test_a_staged_delete_past_its_first_stage_says_when_its_next_stage_runs_and_what_each_user_did():
    plan = build_plan(Action.DELETE, JDOE, grace=timedelta(days=7), retain=timedelta(days=30))
    deactivated = StepRecord(StepKind.DEACTIVATE, StepStatus.DONE, None, NOW, NOW)
    begun = request(target(plan, steps=(deactivated,)), state=RequestState.APPROVED,
                    run_at=NOW + timedelta(days=7), started_at=NOW)
    outputs = answered_outputs(begun)
    assert outputs["final_state"] == "Approved, still in progress: its next stage runs 2026-11-09 09:00 UTC"
    assert outputs["summary"] == "jdoe: deactivated (stage 1 of 3 done)"


def test_a_step_whose_time_is_up_says_how_long_it_waited():
    waiting = request(state=RequestState.AWAITING_APPROVAL)
    assert answered_outputs(waiting)["final_state"] == "Waiting for approval, still in progress"
    said = step_answered(waiting, why=Answer.TIME_UP, answer_by=NOW, answer_within=WITHIN)
    assert "*Waiting for approval, still in progress*. The step has waited 3 days, as long as a workflow step" in said


def test_a_step_that_could_not_be_told_says_how_the_request_ended_or_stands_and_whether_slack_still_waits():
    gone = NotificationFailed("Slack answered execution_not_in_running_state", code="execution_not_in_running_state")
    ended = step_not_told(request(state=RequestState.DONE), failure=gone)
    assert "could not be told how it ended" in ended and "Slack no longer waits for that step. It ended *Done*" in ended
    down = NotificationFailed("Slack could not be reached (ReadTimeout)")
    going = step_not_told(request(state=RequestState.APPROVED, run_at=NOW + timedelta(days=9)), failure=down)
    assert "could not be told how it stands (Slack could not be reached (ReadTimeout))" in going
    assert "the workflow may still show that step as running. It is *Approved, still in progress: runs" in going


def test_a_leaver_typed_in_the_workflow_cannot_mention_link_or_break_out_of_its_code_span():
    typed = Proposal(request_id=REQUEST_ID, execution_id="Fx1", state=ProposalState.PROPOSED, proposed_by="",
                     inputs=StepInputs(action=Action.DELETE, leaver_text="x` <!channel> <https://evil.example|y>\nz"),
                     created_at=NOW, expires_at=NOW)
    assert proposal_title(typed) == "Delete `x' &lt;!channel&gt; &lt;https://evil.example|y&gt; z`"


def test_a_step_told_how_its_request_ended_is_not_in_progress():
    assert step_outputs(request(state=RequestState.REJECTED))["still_in_progress"] is False


def test_approvers_see_that_a_workflow_proposed_it_and_what_it_said_of_the_process():
    said = request_facts(request(workflow=WorkflowOrigin(proposed_by="U0CAROL", process_complete=False)))["elements"]
    assert ("proposed by a workflow run by <@U0CAROL>, which says the offboarding process is *not* complete"
            in said[0]["text"])
    anonymous = request_facts(request(workflow=WorkflowOrigin(proposed_by="", process_complete=True)))["elements"]
    assert "proposed by a workflow, which says the offboarding process is complete" in anonymous[0]["text"]
    assert "workflow" not in request_facts(request())["elements"][0]["text"]
