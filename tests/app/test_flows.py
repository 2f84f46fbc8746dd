"""The offboarding flows end to end: signed HTTP requests into the real app, a stateful fake Slack,
the local console and SQLite. Assertions are on state: the console, the channels, the audit log. The rules
these flows pass through are tested against the service (tests/service)."""

from __future__ import annotations

import json
import re

from sqlmodel import select

from bot.domain.directory import UserStatus
from bot.domain.lifecycle import RequestState
from bot.domain.notes import Note, Why
from storage import audit
from storage.db import session
from storage.models import AuditRow

JDOE = "u-1001"
MSMITH = "u-1002"


def _buttons(slack, channel):
    message = slack.messages(channel)[-1]
    return [element["text"]["text"] for block in message.blocks if block["type"] == "actions"
            for element in block["elements"] if element["type"] == "button"]


def _ops(app, user_id):
    return [op.name for op in app.console.operations(user_id=user_id)]


def test_delete_with_a_second_admins_approval(app):
    app.command("alice", "delete jdoe --reason left the company")
    preview = app.last_ephemeral("alice")
    assert "Release licenses and numbers first" in preview
    assert "Poly VVX 450" in preview and "call recordings" in preview
    request_id = app.request_id()

    app.press("alice", "Request approval", offboard_checklist="box-1")
    assert "Sent for approval in <#C0APPROVALS>" in app.last_ephemeral("alice")
    approval = app.channel_texts("C0APPROVALS")[-1]
    assert request_id in approval and "left the company" in approval and "<@U0ALICE>" in approval
    assert _buttons(app.slack, "C0APPROVALS") == ["Approve", "Reject"]
    assert app.console.get_user(user_id=JDOE) is not None  # nothing happens before approval

    app.press("bob", "Approve")
    assert app.console.get_user(user_id=JDOE) is None
    assert _ops(app, JDOE) == ["release_licenses", "delete"]
    assert "`jdoe`: deleted successfully" in app.channel_texts("C0RESULTS")[-1]
    assert _buttons(app.slack, "C0APPROVALS") == []
    assert "Done" in app.channel_texts("C0APPROVALS")[-1]
    assert any(request_id in text and "1/1 deleted successfully" in text for text in app.dm_texts("alice"))
    request = app.container.store.get(request_id)
    assert request.state is RequestState.DONE
    assert [(a.approver_email) for a in request.approvals] == ["bob@example.com"]
    assert [step.kind.value for step in request.targets[0].steps] == ["release_licenses", "delete"]
    assert audit.verify(app.container.engine).ok


def test_contact_center_agent_needs_the_attested_manual_step(app):
    app.command("alice", "delete msmith")
    assert "Contact Center" in app.last_ephemeral("alice")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    assert "The steps done by hand" in app.last_ephemeral("alice")
    assert app.slack.messages("C0APPROVALS") == []

    app.press("alice", "Request approval", offboard_checklist="box-1,attested")
    assert "Checked by <@U0ALICE> before asking" in app.channel_texts("C0APPROVALS")[-1]
    app.press("dana", "Approve")
    assert app.console.get_user(user_id=MSMITH) is None
    assert _ops(app, MSMITH) == ["release_licenses", "delete"]
    steps = app.container.store.get(app.request_id()).targets[0].steps
    assert [(s.kind.value, s.status.value) for s in steps] == [
        ("release_licenses", "done"), ("contact_center", "done"), ("delete", "done")]
    assert steps[1].note == Note(Why.ATTESTED)
    assert app.container.store.get(app.request_id()).attested_by == "U0ALICE"


def test_deactivate_needs_only_the_requesters_confirmation(app):
    app.command("bob", "deactivate jdoe --reason on leave")
    assert "Confirm" in app.last_ephemeral("bob")
    app.press("bob", "Confirm")
    assert app.console.get_user(user_id=JDOE).status is UserStatus.INACTIVE
    assert "`jdoe`: deactivated successfully" in app.channel_texts("C0RESULTS")[-1]
    assert app.slack.messages("C0APPROVALS") == []
    assert _ops(app, JDOE) == ["set_status"]


def test_rename_frees_the_profile_for_reuse(app):
    app.command("alice", "rename jdoe jdoe.departed")
    app.press("alice", "Confirm")
    assert app.console.get_user(user_id=JDOE).username == "jdoe.departed"
    assert app.console.find_user(reference="jdoe") is None
    assert "`jdoe` → `jdoe.departed`: renamed successfully" in app.channel_texts("C0RESULTS")[-1]


def test_reject_asks_for_a_reason(app):
    app.command("alice", "delete jdoe")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.press("bob", "Reject")
    modal = app.slack.views(user_id="U0BOB")[-1]
    assert modal.callback_id == "offboard_reject_reason"

    app.press("bob", "Reject", reason="   ")  # the modal's submit button
    assert app.slack.views(user_id="U0BOB")[-1].errors  # kept open with an error
    app.press("bob", "Reject", reason="still needed for the audit")
    assert app.slack.views(user_id="U0BOB") == []
    approval = app.channel_texts("C0APPROVALS")[-1]
    assert "Rejected" in approval and "still needed for the audit" in approval
    assert _buttons(app.slack, "C0APPROVALS") == []
    assert any("rejected by <@U0BOB>" in text for text in app.dm_texts("alice"))


def test_cancel_from_the_preview_and_after_submitting(app):
    app.command("alice", "delete jdoe")
    app.press("alice", "Cancel")
    assert "cancelled" in app.last_ephemeral("alice")
    app.command("alice", "delete jdoe")
    request_id = app.request_id()
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.command("alice", f"cancel {request_id}")
    assert "cancelled" in app.last_ephemeral("alice")
    assert "Cancelled" in app.channel_texts("C0APPROVALS")[-1]
    assert _buttons(app.slack, "C0APPROVALS") == []


def test_form_opened_by_the_bare_command(app):
    app.command("alice", "")
    assert app.slack.views(user_id="U0ALICE")[-1].callback_id == "offboard_new_request"
    app.press("alice", "Show plan", action="rename", users="jdoe", new_username="")
    assert "new username" in str(app.slack.views(user_id="U0ALICE")[-1].errors).lower()
    app.press("alice", "Show plan", action="rename", users="jdoe", new_username="jdoe.old", reason="reuse")
    assert "Change the username from jdoe to jdoe.old" in app.last_ephemeral("alice")
    app.press("alice", "Confirm")
    assert app.console.get_user(user_id=JDOE).username == "jdoe.old"


def test_help_list_and_status(app):
    app.command("carol", "help")
    assert "/offboard delete <user>" in app.last_ephemeral("carol")
    app.command("alice", "delete jdoe")
    request_id = app.request_id()
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.command("bob", "list")
    assert request_id in app.last_ephemeral("bob")
    app.command("bob", f"status {request_id}")
    status = app.last_ephemeral("bob")
    assert "Waiting for approval" in status and "jdoe" in status


def test_a_refusal_is_shown_with_its_ref_and_audited(app):
    app.command("alice", "delete jdoe")
    request_id = app.request_id()
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.press("alice", "Approve")  # her own request
    shown = app.last_ephemeral("alice")
    assert "a different admin must decide" in shown
    assert re.search(r"ref `[0-9a-f]{10}`", shown), shown
    with session(app.container.engine) as db:
        refused = db.exec(select(AuditRow).where(AuditRow.event == "refused")).all()
    assert [(row.actor, row.request_id, json.loads(row.data)["code"], json.loads(row.data)["doing"])
            for row in refused] == [("U0ALICE", request_id, "self_approval", "action:offboard_approve")]
    assert app.container.store.get(request_id).state is RequestState.AWAITING_APPROVAL
    assert _ops(app, JDOE) == []


def test_text_containing_the_word_payload_still_reaches_the_command(app):
    # Bolt alone would parse this form body as an (empty) interaction payload and answer 404.
    delivery = app.command("alice", "delete jdoe --reason payload team closed")
    assert delivery.status == 200
    assert "reason: payload team closed" in app.last_ephemeral("alice")
