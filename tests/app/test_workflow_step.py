"""A Workflow Builder step proposes an offboarding; admins take it and decide; the step hears how it ended.
Signed HTTP into the real app; the fake Slack keeps the step's execution (functions.complete*)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from bot.domain.lifecycle import RequestState
from bot.settings import DEMO_POLICY
from bot.simulators.harness import serve_local
from bot.slack import notifier
from bot.slack.ids import FunctionId, ShortcutId, StepOutput
from bot.slack.messages.plans import moment_text

JDOE = "u-1001"
STEP = FunctionId.REQUEST_OFFBOARDING.value
REQUIRED = tuple(member.value for member in StepOutput)


def _propose(app, **inputs):
    inputs = {"leaver": "U0JDOE", "action": "delete", "reason": "left the company",
              "offboarding_process_complete": True, "requested_by": "U0CAROL"} | inputs
    execution_id, delivery = app.workspace.run_step(STEP, inputs, required_outputs=REQUIRED)
    app.settle()
    assert delivery.status == 200
    return execution_id


def _proposal_id(app) -> str:
    return re.search(r"OB-[A-Z0-9]{8}", app.channel_texts("C0APPROVALS")[-1]).group(0)


def test_a_workflow_proposes_an_admin_takes_another_approves_and_the_step_completes(app):
    execution_id = _propose(app)
    proposal = app.channel_texts("C0APPROVALS")[-1]
    request_id = _proposal_id(app)
    assert "left the company" in proposal and "<@U0CAROL>" in proposal
    assert "Take it" in app.workspace.visible_buttons("U0BOB", channel_id="C0APPROVALS")
    assert app.container.store.get(request_id) is None  # nothing is asked for until an admin takes it
    assert app.slack.function_execution(execution_id).state == "running"

    app.press("carol", "Take it")  # not an admin: refused, and the proposal still waits
    assert "admin" in app.last_ephemeral("carol")
    assert app.container.store.get(request_id) is None
    assert "Take it" in app.workspace.visible_buttons("U0BOB", channel_id="C0APPROVALS")

    app.press("alice", "Take it")
    preview = app.last_ephemeral("alice")
    assert request_id in preview and "jdoe" in preview and "Request approval" in preview
    assert "Taken by <@U0ALICE>" in app.channel_texts("C0APPROVALS")[0]
    assert "Take it" not in app.workspace.visible_buttons("U0BOB", channel_id="C0APPROVALS")
    request = app.container.store.get(request_id)
    assert request.state is RequestState.DRAFT and request.requester_id == "U0ALICE"

    app.press("alice", "Request approval")  # the checklist is not ticked: nothing is sent
    assert app.container.store.get(request_id).state is RequestState.DRAFT
    app.press("alice", "Request approval", offboard_checklist="box-1")
    assert app.container.store.get(request_id).state is RequestState.AWAITING_APPROVAL
    assert app.console.get_user(user_id=JDOE) is not None
    asked = app.channel_texts("C0APPROVALS")[-1]  # what the approvers decide on says where it came from
    assert request_id in asked and "proposed by a workflow run by <@U0CAROL>" in asked
    assert "which says the offboarding process is complete" in asked
    assert app.slack.function_execution(execution_id).state == "running"

    app.press("alice", "Approve")  # the requester cannot approve their own request
    assert app.container.store.get(request_id).state is RequestState.AWAITING_APPROVAL
    app.press("bob", "Approve")
    assert app.console.get_user(user_id=JDOE) is None
    execution = app.slack.function_execution(execution_id)
    assert execution.state == "completed", execution.error
    assert execution.outputs[StepOutput.REQUEST_ID.value] == request_id
    assert execution.outputs[StepOutput.STATE.value] == "Done"
    assert execution.outputs[StepOutput.SUMMARY.value] == "jdoe: deleted successfully"
    events = app.audit_events(request_id)
    assert events[:4] == ["workflow.proposed", "refused", "request.drafted", "workflow.taken"]  # carol, then alice
    assert events[-1] == "workflow.ended"


def test_a_rejected_request_fails_the_step_with_the_reason(app):
    execution_id = _propose(app, leaver="", leaver_email_or_username="jdoe@example.com", action="delete")
    request_id = _proposal_id(app)
    app.press("alice", "Take it")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.press("bob", "Reject")
    app.press("bob", "Reject", reason="still needed for the audit")
    execution = app.slack.function_execution(execution_id)
    assert execution.state == "failed"
    assert execution.error == f"Offboarding request {request_id} rejected: still needed for the audit"
    assert app.console.get_user(user_id=JDOE) is not None


def test_a_discarded_draft_fails_the_step_as_cancelled_and_a_second_take_is_refused(app):
    execution_id = _propose(app, action="deactivate")
    request_id = _proposal_id(app)
    app.press("alice", "Take it")
    app.workspace.block_action("U0BOB", app.slack.messages("C0APPROVALS")[0], "offboard_take_proposal",
                               value=f'{{"r":"{request_id}"}}')
    app.settle()
    assert "<@U0ALICE> already took" in app.last_ephemeral("bob")
    app.press("alice", "Cancel")
    assert app.container.store.get(request_id).state is RequestState.CANCELLED
    execution = app.slack.function_execution(execution_id)
    assert execution.state == "failed" and execution.error == f"Offboarding request {request_id} cancelled"


def test_inputs_the_step_cannot_use_fail_it_at_once_and_post_nothing(app):
    execution_id = _propose(app, action="rename")
    assert app.slack.function_execution(execution_id).state == "failed"
    assert "delete or deactivate" in app.slack.function_execution(execution_id).error
    execution_id = _propose(app, leaver="", action="delete")
    assert "Name the leaver" in app.slack.function_execution(execution_id).error
    assert app.slack.messages("C0APPROVALS") == []


def test_an_untaken_proposal_lapses_and_fails_its_step(app):
    execution_id = _propose(app)
    request_id = _proposal_id(app)
    app.clock.advance(app.container.policy.approvals.expire_after)
    app.container.sweeper.sweep()
    execution = app.slack.function_execution(execution_id)
    assert execution.state == "failed" and "no admin took it" in execution.error
    assert "Take it" not in app.workspace.visible_buttons("U0ALICE", channel_id="C0APPROVALS")
    app.workspace.block_action("U0ALICE", app.slack.messages("C0APPROVALS")[0], "offboard_take_proposal",
                               value=f'{{"r":"{request_id}"}}')  # a stale client still showing the button
    app.settle()
    assert "can no longer be taken" in app.last_ephemeral("alice")
    assert app.container.store.get(request_id) is None


def test_the_global_shortcut_and_the_app_homes_button_open_the_form(app):
    app.workspace.shortcut("U0ALICE", ShortcutId.OFFBOARD_SOMEONE.value)
    app.settle()
    assert app.slack.views(user_id="U0ALICE")[-1].callback_id == "offboard_new_request"
    app.workspace.shortcut("U0CAROL", ShortcutId.OFFBOARD_SOMEONE.value)
    app.settle()
    assert app.slack.views(user_id="U0CAROL") == []
    assert "admin" in app.dm_texts("carol")[-1]

    app.workspace.open_home("U0BOB")
    app.settle()
    assert app.workspace.home_buttons("U0BOB")[0] == "Open the form"
    app.workspace.press_home("U0BOB", "Open the form")
    app.settle()
    assert app.slack.views(user_id="U0BOB")[-1].callback_id == "offboard_new_request"


def test_a_step_slack_stopped_waiting_for_is_said_on_the_request(app):
    execution_id = _propose(app)
    request_id = _proposal_id(app)
    app.press("alice", "Take it")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.slack.time_out_function(execution_id)  # the request outlived Slack's limit on a pending step
    app.press("bob", "Approve")
    assert app.container.store.get(request_id).state is RequestState.DONE
    [call] = app.slack.calls("functions.completeSuccess")
    assert call.error == "execution_not_in_running_state"
    thread = [m for m in app.slack.messages("C0APPROVALS") if m.thread_ts]
    assert thread and "could not be told how it ended" in thread[-1].text and "Done" in thread[-1].text


def test_a_request_that_runs_after_the_step_must_be_answered_completes_it_with_what_is_known(app):
    answer_within = app.container.policy.workflow_steps.answer_within
    runs_at = (app.clock.now() + answer_within + timedelta(days=7)).replace(microsecond=0)
    execution_id = _propose(app, date=int(runs_at.timestamp()))
    request_id = _proposal_id(app)
    app.press("alice", "Take it")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    assert app.slack.function_execution(execution_id).state == "running"  # it may be rejected before then

    app.press("bob", "Approve")
    execution = app.slack.function_execution(execution_id)
    assert execution.state == "completed", execution.error
    assert execution.outputs[StepOutput.REQUEST_ID.value] == request_id
    assert execution.outputs[StepOutput.STATE.value] == (
        f"Approved, still in progress: runs {moment_text(runs_at, 'UTC')}")
    assert execution.outputs[StepOutput.SUMMARY.value] == "jdoe: not run yet"
    assert execution.outputs[StepOutput.IN_PROGRESS.value] is True
    thread = [m.text for m in app.slack.messages("C0APPROVALS") if m.thread_ts]
    assert any("workflow" in text and "answered" in text and request_id in text for text in thread), thread

    app.clock.advance(answer_within + timedelta(days=7))
    app.container.sweeper.sweep()
    app.settle()
    assert app.console.get_user(user_id=JDOE) is None
    assert len(app.slack.calls("functions.completeSuccess")) == 1  # answered once, early; not again at the end
    assert not any("could not be told" in m.text for m in app.slack.messages("C0APPROVALS") if m.thread_ts)


def test_a_finished_request_says_the_step_ended_with_nothing_left_in_progress(app):
    execution_id = _propose(app)
    app.press("alice", "Take it")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.press("bob", "Approve")
    assert app.slack.function_execution(execution_id).outputs[StepOutput.IN_PROGRESS.value] is False


def test_a_draft_nobody_sent_when_the_steps_time_is_up_is_answered_in_the_proposals_thread(slack, clock, tmp_path):
    policy = Path(DEMO_POLICY).read_text().replace('answer_within = "72h"', 'answer_within = "12h"')
    (tmp_path / "policy.toml").write_text(policy)
    with serve_local(slack, clock, tmp_path, offboard_policy=tmp_path / "policy.toml") as app:
        execution_id = _propose(app)
        request_id = _proposal_id(app)
        app.press("alice", "Take it")  # and leaves the draft there
        clock.advance(timedelta(hours=12))
        assert app.container.sweeper.sweep().answered == [request_id]
        execution = app.slack.function_execution(execution_id)
        assert execution.state == "completed", execution.error
        assert execution.outputs[StepOutput.STATE.value] == "Not sent yet, still in progress"
        assert execution.outputs[StepOutput.IN_PROGRESS.value] is True
        [note] = [m for m in app.slack.messages("C0APPROVALS") if m.thread_ts]
        assert note.thread_ts == app.slack.messages("C0APPROVALS")[0].ts  # the proposal's message: no other yet
        assert "has waited 12 hours" in note.text and "workflow_steps.answer_within" in note.text

        clock.advance(timedelta(hours=12))  # the draft expires: the step was answered already
        app.container.sweeper.sweep()
        assert app.container.store.get(request_id).state is RequestState.EXPIRED
        assert len(app.slack.calls("functions.completeSuccess")) == 1
        assert app.slack.calls("functions.completeError") == []


def test_a_step_slack_stopped_waiting_for_before_it_was_answered_is_said_on_the_request(app):
    runs_at = app.clock.now() + app.container.policy.workflow_steps.answer_within + timedelta(days=1)
    execution_id = _propose(app, date=int(runs_at.timestamp()))
    app.press("alice", "Take it")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.slack.time_out_function(execution_id)
    app.press("bob", "Approve")
    [call] = app.slack.calls("functions.completeSuccess")
    assert call.error == "execution_not_in_running_state"
    [note] = [m.text for m in app.slack.messages("C0APPROVALS") if m.thread_ts]
    assert "could not be told how it stands" in note and "*Approved, still in progress: runs" in note


def test_the_app_home_lists_proposals_waiting_to_be_taken_and_takes_them(app):
    _propose(app)
    request_id = _proposal_id(app)
    assert "Take it" in app.workspace.home_buttons("U0ALICE")  # posting it redrew every admin's tab
    app.workspace.open_home("U0BOB")
    app.settle()
    home = app.slack.home("U0BOB")
    text = "\n".join(str(block) for block in home["blocks"])
    assert "Proposed by workflows" in text and request_id in text and "<@U0CAROL>" in text
    assert "Take it" in app.workspace.home_buttons("U0BOB")
    app.workspace.open_home("U0CAROL")  # not an admin: nothing to take
    app.settle()
    assert "Take it" not in app.workspace.home_buttons("U0CAROL")

    app.workspace.press_home("U0BOB", "Take it")
    app.settle()
    assert app.container.store.get(request_id).requester_id == "U0BOB"
    assert request_id in app.dm_texts("bob")[-1] and "Request approval" in app.dm_texts("bob")[-1]
    assert "Take it" not in app.workspace.home_buttons("U0ALICE")  # every admin's tab was redrawn
    assert "Take it" not in app.workspace.home_buttons("U0BOB")


def test_a_step_slack_fails_to_take_once_is_tried_again_and_completes(app, monkeypatch):
    monkeypatch.setattr(notifier, "STEP_RETRY_WAITS", (0.0, 0.0))
    execution_id = _propose(app)
    app.press("alice", "Take it")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.slack.inject_failure("functions.completeSuccess", error="internal_error", status=500)
    app.press("bob", "Approve")
    execution = app.slack.function_execution(execution_id)
    assert execution.state == "completed" and execution.outputs[StepOutput.STATE.value] == "Done"
    assert len(app.slack.calls("functions.completeSuccess")) == 2
    assert not [m for m in app.slack.messages("C0APPROVALS") if m.thread_ts]


def test_a_step_slack_keeps_failing_to_take_is_said_on_the_request_as_maybe_still_running(app, monkeypatch):
    monkeypatch.setattr(notifier, "STEP_RETRY_WAITS", (0.0, 0.0))
    execution_id = _propose(app)
    app.press("alice", "Take it")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.slack.inject_failure("functions.completeSuccess", error="internal_error", status=500, times=3)
    app.press("bob", "Approve")
    assert app.slack.function_execution(execution_id).state == "running"
    assert len(app.slack.calls("functions.completeSuccess")) == 3
    [note] = [m.text for m in app.slack.messages("C0APPROVALS") if m.thread_ts]
    assert "could not be told how it ended" in note and "may still show that step as running" in note
