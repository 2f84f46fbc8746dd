"""What a member enters stays entered, as in Slack: boxes ticked on a message travel with the next click on it
(`Workspace.tick`, the shell's `tick`), and a form keeps its entries when the app answers with errors or updates
it. A tiny real Bolt app, built here with a checkboxes element by hand, receives what the workspace sends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.shell.render import render_event
from bot.simulators.slack.fake import FakeSlack
from bot.simulators.slack.model import EventKind, SlackEvent
from bot.simulators.workspace.driver import Workspace

SECRET = "shh-signing-secret"


def _text(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def _option(text: str, value: str) -> dict:
    return {"text": _text(text), "value": value}


CHECKLIST = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "Before deleting *jdoe*:"}},
    {"type": "actions", "block_id": "checklist", "elements": [{
        "type": "checkboxes", "action_id": "confirmed",
        "options": [_option("The offboarding process is complete", "process"),
                    _option("The manager was told", "manager"), _option("Numbers are noted", "numbers")],
    }]},
    {"type": "actions", "block_id": "go", "elements": [
        {"type": "button", "action_id": "delete", "text": _text("Delete"), "value": "jdoe"},
        {"type": "button", "action_id": "open_form", "text": _text("Use the form")},
    ]},
]


def _form(*, extra_note: bool = False) -> dict:
    blocks = [
        {"type": "input", "block_id": "action", "label": _text("Action"), "element": {
            "type": "static_select", "action_id": "pick", "options": [_option("Delete", "delete"),
                                                                      _option("Deactivate", "deactivate")],
            "initial_option": _option("Delete", "delete")}},
        {"type": "input", "block_id": "user", "label": _text("User"),
         "element": {"type": "plain_text_input", "action_id": "name"}},
        {"type": "input", "block_id": "boxes", "label": _text("Confirm"), "element": {
            "type": "checkboxes", "action_id": "ticked", "options": [_option("The process is complete", "process")]}},
    ]
    if extra_note:
        blocks.append({"type": "input", "block_id": "note", "optional": True, "label": _text("Note"),
                       "element": {"type": "plain_text_input", "action_id": "text"}})
    return {"type": "modal", "callback_id": "form", "title": _text("Offboard"), "submit": _text("Go"),
            "blocks": blocks}


def _app(fake: FakeSlack, seen: dict) -> App:
    app = App(signing_secret=SECRET, client=WebClient(token=fake.bot_token, base_url=fake.api_url),
              process_before_response=True)

    @app.action("confirmed")
    def ticked(ack, body):
        ack()
        seen.setdefault("ticks", []).append(body)

    @app.action("delete")
    def delete(ack, body):
        ack()
        seen["delete"] = body

    @app.action("open_form")
    def open_form(ack, body, client):
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=_form())

    @app.view("form")
    def submitted(ack, view, body, client):
        seen.setdefault("submissions", []).append(body)
        values = view["state"]["values"]
        if values["user"]["name"]["value"] == "nobody":
            ack(response_action="errors", errors={"user": "No such user"})
        elif values["user"]["name"]["value"] == "more":
            ack(response_action="update", view=_form(extra_note=True))
        else:
            ack()

    return app


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_member("U0ALICE", "alice", "alice@example.com")
        fake.add_channel("C0GENERAL", "general")
        yield fake


@pytest.fixture
def seen() -> dict:
    return {}


@pytest.fixture
def workspace(fake: FakeSlack, seen: dict) -> Workspace:
    app = _app(fake, seen)

    def send(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        response = app.dispatch(BoltRequest(body=body.decode(), headers=headers))
        return response.status, response.body.encode()

    return Workspace(fake, signing_secret=SECRET, send=send)


def _post_checklist(fake: FakeSlack) -> None:
    WebClient(token=fake.bot_token, base_url=fake.api_url).chat_postMessage(channel="C0GENERAL", text="Checklist",
                                                                             blocks=CHECKLIST)


def _selected(state: dict, block_id: str, action_id: str) -> list[str]:
    return [option["value"] for option in state[block_id][action_id]["selected_options"]]


def test_ticking_a_message_sends_the_boxes_and_the_next_click_carries_them(fake, workspace, seen) -> None:
    _post_checklist(fake)
    ticked = workspace.tick("U0ALICE", "manager")
    assert ticked.boxes == ["The manager was told"]
    [first] = seen["ticks"]
    action = first["actions"][0]
    assert (action["type"], action["action_id"], action["block_id"]) == ("checkboxes", "confirmed", "checklist")
    assert [o["value"] for o in action["selected_options"]] == ["manager"]
    assert first["container"]["type"] == "message"

    ticked = workspace.tick("U0ALICE", "all")
    assert ticked.boxes == ["The offboarding process is complete", "Numbers are noted"]  # the new ones
    assert [o["value"] for o in seen["ticks"][-1]["actions"][0]["selected_options"]] == [
        "process", "manager", "numbers"]  # every box now ticked, in the message's order

    workspace.press("U0ALICE", "Delete")
    assert _selected(seen["delete"]["state"]["values"], "checklist", "confirmed") == ["process", "manager", "numbers"]


def test_ticks_are_forgotten_when_the_message_changes_and_unknown_words_are_explained(fake, workspace, seen) -> None:
    _post_checklist(fake)
    with pytest.raises(LookupError, match="no box with 'payroll' here; the boxes: The offboarding process"):
        workspace.tick("U0ALICE", "payroll")
    workspace.tick("U0ALICE", "process complete")
    [message] = fake.messages("C0GENERAL")
    client = WebClient(token=fake.bot_token, base_url=fake.api_url)
    client.chat_update(channel="C0GENERAL", ts=message.ts, text="Checklist, again", blocks=CHECKLIST[::-1])
    workspace.press("U0ALICE", "Delete")
    assert _selected(seen["delete"]["state"]["values"], "checklist", "confirmed") == []  # redrawn: nothing ticked


def test_nothing_to_tick_says_so(fake, workspace) -> None:
    with pytest.raises(LookupError, match="nothing with boxes to tick is visible to alice"):
        workspace.tick("U0ALICE", "all")


def test_a_form_keeps_its_entries_after_errors_and_through_an_update(fake, workspace, seen) -> None:
    shown: list[SlackEvent] = []
    fake.subscribe(shown.append)
    _post_checklist(fake)
    workspace.press("U0ALICE", "Use the form")
    ticked = workspace.tick("U0ALICE", "all")  # in an input block: Slack sends nothing until the form is sent
    assert ticked.delivery is None and "ticks" not in seen

    workspace.press("U0ALICE", "Go", inputs={"pick": "deactivate", "user": "nobody"})
    [view] = fake.view_stack("U0ALICE")
    assert view.errors == {"user": "No such user"}
    assert view.state["action"]["pick"]["selected_option"]["value"] == "deactivate"
    assert view.state["user"]["name"]["value"] == "nobody"
    assert _selected(view.state, "boxes", "ticked") == ["process"]
    errors = next(event for event in shown if event.kind is EventKind.VIEW_ERRORS)
    text = render_event(errors)
    assert "- Deactivate (value=deactivate, selected)" in text and "- Delete (value=delete)\n" in text
    assert '"nobody"' in text and "[x] The process is complete" in text and "! No such user" in text

    workspace.submit("U0ALICE", inputs={"user": "more"})  # the app answers with an update that adds a field
    [view] = fake.view_stack("U0ALICE")
    assert view.state["action"]["pick"]["selected_option"]["value"] == "deactivate"  # same ids: kept
    assert _selected(fake.view_json(view.id)["state"]["values"], "boxes", "ticked") == ["process"]

    workspace.submit("U0ALICE", inputs={"user": "jdoe"})
    last = seen["submissions"][-1]["view"]["state"]["values"]
    assert last["action"]["pick"]["selected_option"]["value"] == "deactivate"
    assert last["user"]["name"]["value"] == "jdoe"
    assert _selected(last, "boxes", "ticked") == ["process"]
    assert fake.view_stack("U0ALICE") == []
