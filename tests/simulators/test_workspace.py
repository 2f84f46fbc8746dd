"""Workspace drives a tiny real Bolt app; the shell's render.py turns what happens into text
(tests/shell/test_render.py tests render.py on its own)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.shell.render import render_event
from bot.simulators.slack.fake import FakeSlack
from bot.simulators.slack.model import EventKind, SlackEvent
from bot.simulators.workspace.driver import Delivery, Workspace

TOKEN = "xoxb-fake"
SECRET = "shh-signing-secret"


def _text(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def _request_blocks(user: str) -> list[dict]:
    return [
        {"type": "section", "block_id": "summary", "text": {"type": "mrkdwn", "text": f"Offboard <@{user}>?"}},
        {
            "type": "actions",
            "block_id": "options",
            "elements": [
                {
                    "type": "checkboxes",
                    "action_id": "extras",
                    "options": [{"text": _text("Delete voicemail"), "value": "voicemail"}],
                }
            ],
        },
        {
            "type": "actions",
            "block_id": "decision",
            "elements": [
                {"type": "button", "action_id": "approve", "text": _text("Approve"), "value": user, "style": "primary"},
                {"type": "button", "action_id": "reject", "text": _text("Reject"), "value": user},
            ],
        },
    ]


def _reject_modal(user: str) -> dict:
    return {
        "type": "modal",
        "callback_id": "reject_modal",
        "private_metadata": user,
        "notify_on_close": True,
        "title": _text("Reject request"),
        "submit": _text("Reject"),
        "close": _text("Never mind"),
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": _text("Reason"),
                "element": {"type": "plain_text_input", "action_id": "text"},
            },
            {
                "type": "input",
                "block_id": "when",
                "optional": True,
                "label": _text("When"),
                "element": {
                    "type": "static_select",
                    "action_id": "pick",
                    "options": [{"text": _text("Now"), "value": "now"}, {"text": _text("Friday"), "value": "fri"}],
                    "initial_option": {"text": _text("Now"), "value": "now"},
                },
            },
        ],
    }


def build_app(fake: FakeSlack, seen: dict) -> App:
    """A tiny offboarding app: /offboard posts a request, Approve replaces it, Reject asks why."""
    app = App(
        signing_secret=SECRET,
        client=WebClient(token=TOKEN, base_url=fake.api_url),
        process_before_response=True,
    )

    @app.command("/offboard")
    def offboard(ack, command, client):
        seen["command"] = command
        if command["text"].strip():
            client.chat_postMessage(channel="C0APPROVALS", text="Offboard?", blocks=_request_blocks(command["text"]))
            ack(f"Request for {command['text']} filed")
        else:
            usage = {"type": "section", "text": {"type": "mrkdwn", "text": "Usage: `/offboard <user>`"}}
            dismiss = {"type": "button", "action_id": "dismiss", "text": _text("Got it")}
            ack(blocks=[usage, {"type": "actions", "elements": [dismiss]}])

    @app.action("dismiss")
    def dismiss(ack, body, respond):
        ack()
        seen["dismiss"] = body
        respond(delete_original=True)

    @app.action("approve")
    def approve(ack, body, respond):
        ack()
        seen["approve"] = body
        respond(replace_original=True, text=f"Approved by <@{body['user']['id']}>")

    @app.action("reject")
    def reject(ack, body, client):
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=_reject_modal(body["actions"][0]["value"]))

    @app.view("reject_modal")
    def rejected(ack, view, body, client):
        seen["submission"] = body
        reason = view["state"]["values"]["reason"]["text"]["value"]
        if len(reason) < 5:
            ack(response_action="errors", errors={"reason": "Please say a bit more"})
            return
        ack()
        client.chat_postMessage(channel="C0APPROVALS", text=f"Rejected: {reason}")

    @app.view_closed("reject_modal")
    def closed(ack, body):
        ack()
        seen["closed"] = body

    return app


def in_process(app: App):
    def send(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        response = app.dispatch(BoltRequest(body=body.decode(), headers=headers))
        return response.status, response.body.encode()

    return send


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_member("U0ALICE", "alice", "alice@example.com")
        fake.add_member("U0BOB", "bob", "bob@example.com")
        fake.add_member("W0EXT", "erin", team_id="T0OTHER", is_stranger=True)
        fake.add_channel("C0APPROVALS", "approvals")
        fake.add_channel("C0GENERAL", "general")
        yield fake


@pytest.fixture
def seen() -> dict:
    return {}


@pytest.fixture
def app(fake: FakeSlack, seen: dict) -> App:
    return build_app(fake, seen)


@pytest.fixture
def workspace(fake: FakeSlack, app: App) -> Workspace:
    return Workspace(fake, signing_secret=SECRET, send=in_process(app))


def _file_request(workspace: Workspace) -> Delivery:
    return workspace.slash("U0ALICE", "U0CAROL", channel_id="C0GENERAL")


# ------------------------------------------------------------------ slash commands


def test_slash_command_ack_text_is_shown_as_an_ephemeral(fake: FakeSlack, workspace: Workspace, seen: dict) -> None:
    delivery = _file_request(workspace)
    assert delivery.status == 200
    assert delivery.body == b"Request for U0CAROL filed"  # Bolt acks plain text, not JSON
    command = seen["command"]
    assert (command["team_id"], command["team_domain"], command["user_name"]) == ("T0DEMO", "demo", "alice")
    assert (command["channel_id"], command["channel_name"], command["command"]) == ("C0GENERAL", "general", "/offboard")
    assert command["api_app_id"] == "A0OFFBOARD"
    assert command["response_url"].startswith(fake.base_url + "/response/")
    assert "enterprise_id" not in command
    [ack] = fake.ephemerals(user_id="U0ALICE")
    assert (ack.channel_id, ack.text) == ("C0GENERAL", "Request for U0CAROL filed")
    assert [m.text for m in fake.messages("C0APPROVALS")] == ["Offboard?"]


def test_slash_command_ack_blocks_and_default_dm_channel(fake: FakeSlack, workspace: Workspace, seen: dict) -> None:
    workspace.slash("U0BOB", "")
    assert seen["command"]["channel_id"] == fake.im_channel("U0BOB")
    assert seen["command"]["channel_name"] == "directmessage"
    [ack] = fake.ephemerals(user_id="U0BOB")
    assert ack.blocks[0]["text"]["text"] == "Usage: `/offboard <user>`"


def test_a_stranger_sends_their_own_team_id(workspace: Workspace, seen: dict) -> None:
    workspace.slash("W0EXT", "", channel_id="C0GENERAL")
    assert seen["command"]["team_id"] == "T0OTHER"


# ------------------------------------------------------------------ signatures


def test_wrong_or_stale_signature_gets_401(app: App, workspace: Workspace) -> None:
    body = b"command=%2Foffboard&text=&user_id=U0ALICE&team_id=T0DEMO"
    send = in_process(app)
    now = int(time.time())
    good = workspace.sign(body, now)
    assert send(body, good)[0] != 401
    assert send(body, {**good, "X-Slack-Signature": "v0=" + "0" * 64})[0] == 401
    assert send(body, workspace.sign(body, now - 600))[0] == 401
    other = Workspace(workspace.fake, signing_secret="not-the-secret", send=send)
    assert other.slash("U0ALICE", "x").status == 401


def test_signature_matches_slack_sdk_verifier(workspace: Workspace) -> None:
    from slack_sdk.signature import SignatureVerifier

    headers = workspace.sign(b"a=1", 1_700_000_000)
    verifier = SignatureVerifier(SECRET, clock=type("C", (), {"now": lambda self: 1_700_000_000})())
    assert verifier.is_valid(b"a=1", headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])


def test_over_real_http_with_httpx(fake: FakeSlack, seen: dict) -> None:
    app = build_app(fake, seen)

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = make_server("127.0.0.1", 0, SlackRequestHandler(app), handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/slack/events"

    def send(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        response = httpx.post(url, content=body, headers=headers, timeout=10)
        return response.status_code, response.content

    try:
        workspace = Workspace(fake, signing_secret=SECRET, send=send)
        assert _file_request(workspace).status == 200
        workspace.press("U0BOB", "approve")
    finally:
        server.shutdown()
        server.server_close()
    assert fake.messages("C0APPROVALS")[0].text == "Approved by <@U0BOB>"


# ------------------------------------------------------------------ buttons


def test_press_approve_replaces_the_message_via_response_url(fake: FakeSlack, workspace: Workspace, seen) -> None:
    _file_request(workspace)
    delivery = workspace.press("U0BOB", "APPROVE", inputs={"extras": "voicemail"})
    assert delivery.status == 200
    body = seen["approve"]
    [message] = fake.messages("C0APPROVALS")
    assert body["type"] == "block_actions"
    assert body["user"] == {"id": "U0BOB", "username": "bob", "name": "bob", "team_id": "T0DEMO"}
    assert body["container"] == {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": "C0APPROVALS",
        "is_ephemeral": False,
    }
    assert body["channel"] == {"id": "C0APPROVALS", "name": "approvals"}
    assert body["message"]["ts"] == message.ts
    action = body["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "approve",
        "decision",
        "U0CAROL",
        "button",
    )
    selected = body["state"]["values"]["options"]["extras"]["selected_options"]
    assert [o["value"] for o in selected] == ["voicemail"]
    assert message.text == "Approved by <@U0BOB>"
    assert message.history[0].text == "Offboard?"


def test_block_action_from_a_stale_client(fake: FakeSlack, workspace: Workspace, seen) -> None:
    _file_request(workspace)
    stale = fake.messages("C0APPROVALS")[-1]
    workspace.press("U0BOB", "Approve")
    delivery = workspace.block_action("U0ALICE", stale, "approve", "U0FORGED")
    assert delivery.status == 200
    body = seen["approve"]
    assert body["user"]["id"] == "U0ALICE"
    assert body["actions"][0]["value"] == "U0FORGED"
    assert body["message"]["text"] == "Offboard?"  # what the stale client showed
    assert workspace.block_action("U0ALICE", stale, "made_up_action").status == 404  # unhandled by the app
    assert fake.messages("C0APPROVALS")[-1].text == "Approved by <@U0ALICE>"


def test_press_unknown_label_lists_what_is_visible(workspace: Workspace) -> None:
    _file_request(workspace)
    with pytest.raises(LookupError, match=r"visible buttons: Approve, Reject"):
        workspace.press("U0BOB", "Escalate")
    assert workspace.visible_buttons("U0BOB") == ["Approve", "Reject"]


def test_bad_inputs_are_reported(workspace: Workspace) -> None:
    _file_request(workspace)
    with pytest.raises(LookupError, match="no input element"):
        workspace.press("U0BOB", "Approve", inputs={"nope": "x"})
    with pytest.raises(ValueError, match="no option"):
        workspace.press("U0BOB", "Approve", inputs={"extras": "fax"})


def test_reject_flow_opens_modal_shows_errors_then_succeeds(fake: FakeSlack, workspace: Workspace, seen) -> None:
    _file_request(workspace)
    workspace.press("U0BOB", "Reject")
    [view] = fake.views(user_id="U0BOB")
    assert (view.title, view.submit, view.private_metadata) == ("Reject request", "Reject", "U0CAROL")

    delivery = workspace.press("U0BOB", "Reject", inputs={"reason": "no"})  # the modal's submit button
    assert delivery.json == {"response_action": "errors", "errors": {"reason": "Please say a bit more"}}
    assert fake.view(view.id).is_open
    assert fake.view(view.id).errors == {"reason": "Please say a bit more"}
    submission = seen["submission"]
    assert submission["type"] == "view_submission" and submission["user"]["id"] == "U0BOB"
    submitted = submission["view"]
    assert submitted["id"] == view.id and submitted["callback_id"] == "reject_modal"
    assert submitted["private_metadata"] == "U0CAROL"
    assert submitted["state"]["values"]["reason"]["text"] == {"type": "plain_text_input", "value": "no"}
    assert submitted["state"]["values"]["when"]["pick"] == {
        "type": "static_select",
        "selected_option": {"text": _text("Now"), "value": "now"},  # the initial option, untouched
    }

    workspace.press("U0BOB", "Reject", inputs={"when": "Friday"})  # what was typed before stays, like in Slack
    assert seen["submission"]["view"]["state"]["values"]["reason"]["text"]["value"] == "no"
    workspace.press("U0BOB", "Reject", inputs={"reason": "Still needed for the audit"})
    assert fake.views(user_id="U0BOB") == []
    assert seen["submission"]["view"]["state"]["values"]["when"]["pick"]["selected_option"]["value"] == "fri"
    assert fake.messages("C0APPROVALS")[-1].text == "Rejected: Still needed for the audit"


def test_required_inputs_must_be_filled(fake: FakeSlack, workspace: Workspace) -> None:
    _file_request(workspace)
    workspace.press("U0BOB", "Reject")
    with pytest.raises(ValueError, match="'Reason' is required"):
        workspace.press("U0BOB", "Reject")
    with pytest.raises(ValueError, match="at most 3000 characters"):
        workspace.press("U0BOB", "Reject", inputs={"reason": "x" * 3001})
    assert len(fake.views(user_id="U0BOB")) == 1


def test_close_button_sends_view_closed_when_asked(fake: FakeSlack, workspace: Workspace, seen) -> None:
    _file_request(workspace)
    workspace.press("U0BOB", "Reject")
    delivery = workspace.press("U0BOB", "never mind")
    assert delivery.status == 200
    assert seen["closed"]["type"] == "view_closed"
    assert fake.views() == []


def test_button_in_an_ephemeral_deletes_it_through_the_response_url(fake: FakeSlack, workspace, seen) -> None:
    workspace.slash("U0BOB", "", channel_id="C0GENERAL")
    [usage] = fake.ephemerals(user_id="U0BOB")
    assert workspace.visible_buttons("U0ALICE") == []
    workspace.press("U0BOB", "got it")
    body = seen["dismiss"]
    assert body["container"] == {
        "type": "message",
        "message_ts": usage.id,
        "channel_id": "C0GENERAL",
        "is_ephemeral": True,
    }
    assert "message" not in body
    assert fake.ephemerals(user_id="U0BOB") == []
    assert fake.ephemerals(user_id="U0BOB", include_deleted=True)[0].id == usage.id


def test_buttons_inside_a_modal_and_update_responses(fake: FakeSlack, app: App, workspace: Workspace) -> None:
    note_view = {
        "type": "modal",
        "callback_id": "notes",
        "title": _text("Notes"),
        "submit": _text("Save"),
        "blocks": [
            {"type": "input", "block_id": "note", "label": _text("Note"), "element": {"type": "plain_text_input"}},
            {"type": "actions", "elements": [{"type": "button", "action_id": "more", "text": _text("More")}]},
        ],
    }
    clicks: list[dict] = []

    @app.action("more")
    def more(ack, body, client):
        ack()
        clicks.append(body)
        view = body["view"]
        client.views_update(view_id=view["id"], hash=view["hash"], view={**note_view, "private_metadata": "more"})

    @app.view("notes")
    def save(ack, view):
        ack(response_action="update", view={**note_view, "title": _text("Saved"), "blocks": []})

    client = WebClient(token=TOKEN, base_url=fake.api_url)
    view_id = client.views_open(trigger_id=fake.issue_trigger_id("U0ALICE"), view=note_view)["view"]["id"]
    workspace.press("U0ALICE", "More", inputs={"note": "draft"})
    [click] = clicks
    assert click["container"] == {"type": "view", "view_id": view_id}
    assert click["view"]["state"]["values"]["note"]
    assert "response_url" not in click
    assert fake.view(view_id).private_metadata == "more"
    workspace.press("U0ALICE", "Save")  # "draft" is remembered
    assert fake.view(view_id).title == "Saved" and fake.view(view_id).is_open


def test_events_render_as_text(fake: FakeSlack, workspace: Workspace) -> None:
    events: list[SlackEvent] = []
    fake.subscribe(events.append)
    _file_request(workspace)
    workspace.press("U0BOB", "Reject")
    rendered = [render_event(e, name_for=fake.name_of) for e in events]
    assert [e.kind for e in events] == [EventKind.MESSAGE_POSTED, EventKind.EPHEMERAL_POSTED, EventKind.VIEW_OPENED]
    assert rendered[0] == "\n".join(
        [
            "[#approvals] bot:",
            "  Offboard @U0CAROL?",
            "  [ ] Delete voicemail (key=extras, value=voicemail)",
            "  [ Approve ] [ Reject ]",
        ]
    )
    assert rendered[1] == "[ephemeral to alice in #general]\n  Request for U0CAROL filed"
    assert rendered[2] == "\n".join(
        [
            '[modal "Reject request" for bob]',
            "  Reason: (key=reason)",
            "  When (optional): (key=when)",
            "    - Now (value=now, selected)",
            "    - Friday (value=fri)",
            "  [ Never mind ] [ Reject ]",
        ]
    )

