"""The requester's checklist (issue 16, item 1): the policy's boxes, ticked before a request is sent, shown to the
approvers with who ticked them, and recorded in the audit log. Signed HTTP into the real app."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import select

from bot.domain.lifecycle import RequestState
from bot.simulators.harness import serve_local
from storage.db import session
from storage.models import AuditRow
from tests.conftest import DEMO_POLICY

VENDOR_LINE = "The Offboarding Process has been completed"


def _checkboxes(message) -> list[dict]:
    return [element for block in message.blocks if block["type"] == "actions"
            for element in block["elements"] if element["type"] == "checkboxes"]


def _audit(app, request_id: str, event: str) -> dict:
    with session(app.container.engine) as db:
        rows = db.exec(select(AuditRow).where(AuditRow.request_id == request_id, AuditRow.event == event)).all()
    assert len(rows) == 1, f"{event}: {len(rows)} rows"
    return json.loads(rows[0].data)


def test_a_delete_needs_the_vendors_first_step_ticked_before_it_is_sent(app):
    app.command("alice", "delete jdoe --reason left")
    preview = app.slack.ephemerals(user_id="U0ALICE")[-1]
    [boxes] = _checkboxes(preview)  # one standard checkboxes element: `tick` in the shell and Slack work with it
    assert [option["text"]["text"] for option in boxes["options"]] == [VENDOR_LINE]
    request_id = app.request_id()

    app.press("alice", "Request approval")  # nothing ticked
    refusal = app.last_ephemeral("alice")
    assert "Tick every box" in refusal and VENDOR_LINE in refusal
    assert app.slack.messages("C0APPROVALS") == []
    assert app.container.store.get(request_id).state is RequestState.DRAFT
    assert "request.submitted" not in app.audit_events(request_id)

    app.press("alice", "Request approval", offboard_checklist=boxes["options"][0]["value"])
    request = app.container.store.get(request_id)
    assert request.state is RequestState.AWAITING_APPROVAL
    assert request.checklist == (VENDOR_LINE,) and request.attested_by == "U0ALICE"
    approval = app.channel_texts("C0APPROVALS")[-1]
    assert f"Checked by <@U0ALICE> before asking:\n☑ {VENDOR_LINE}" in approval
    assert _audit(app, request_id, "request.submitted")["checklist"] == [VENDOR_LINE]


def test_the_policy_sets_each_actions_checklist(slack, clock, tmp_path):
    boxes = ["The manager agreed", "The laptop was returned"]
    demo = Path(DEMO_POLICY).read_text()
    policy = demo[:demo.index("[checklist]")] + f"[checklist]\ndeactivate = {json.dumps(boxes)}\ndelete = []\n"
    (tmp_path / "policy.toml").write_text(policy)
    with serve_local(slack, clock, tmp_path, offboard_policy=tmp_path / "policy.toml") as app:
        app.command("bob", "deactivate jdoe")
        [element] = _checkboxes(app.slack.ephemerals(user_id="U0BOB")[-1])
        assert [option["text"]["text"] for option in element["options"]] == boxes
        values = [option["value"] for option in element["options"]]
        request_id = app.request_id("bob")

        app.press("bob", "Confirm", offboard_checklist=values[0])  # one of two
        assert "The laptop was returned" in app.last_ephemeral("bob")
        assert "The manager agreed" not in app.last_ephemeral("bob")  # only what is still unticked
        assert app.container.store.get(request_id).state is RequestState.DRAFT
        assert app.console.operations() == []

        app.press("bob", "Confirm", offboard_checklist=",".join(values))
        assert app.container.store.get(request_id).state is RequestState.DONE
        assert _audit(app, request_id, "request.confirmed")["checklist"] == boxes

        app.command("bob", "delete msmith")  # delete = []: only the Contact Center box, as before
        [element] = _checkboxes(app.slack.ephemerals(user_id="U0BOB")[-1])
        assert [option["value"] for option in element["options"]] == ["attested"]


def test_contact_center_box_joins_the_checklist(app):
    app.command("alice", "delete msmith")
    [element] = _checkboxes(app.slack.ephemerals(user_id="U0ALICE")[-1])
    assert [option["text"]["text"] for option in element["options"]] == [
        VENDOR_LINE, "I did every step under _By hand, before approval_, in the admin console"]
    app.press("alice", "Request approval", offboard_checklist=element["options"][0]["value"])
    assert "by hand" in app.last_ephemeral("alice")
    assert app.slack.messages("C0APPROVALS") == []
    app.press("alice", "Request approval", offboard_checklist=",".join(o["value"] for o in element["options"]))
    approval = app.channel_texts("C0APPROVALS")[-1]
    assert f"☑ {VENDOR_LINE}" in approval and "☑ I did every step under _By hand" in approval
