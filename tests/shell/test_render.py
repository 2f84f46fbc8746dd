"""render.py on its own: Block Kit and fake-Slack events as the shell prints them."""

from __future__ import annotations

from bot.shell.render import render_blocks, render_event, render_mrkdwn
from bot.simulators.slack.model import EventKind, SlackEvent


def _text(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def test_render_message_with_sections_buttons_and_inputs() -> None:
    names = {"U1": "alice", "C1": "general"}.get
    event = SlackEvent(
        kind=EventKind.MESSAGE_POSTED,
        channel_id="C1",
        channel_name="approvals",
        user_id="U0BOT",
        author_id="U0BOT",
        author_name="bot",
        blocks=[
            {"type": "header", "text": _text("Offboarding")},
            {"type": "section", "text": {"type": "mrkdwn", "text": "*Request* by <@U1> in <#C1> &amp; <#C2|ops>"}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "*User:* bob"}, _text("Licenses: 2")]},
            {"type": "divider"},
            {
                "type": "input",
                "block_id": "confirm",
                "label": _text("Confirm"),
                "element": {
                    "type": "checkboxes",
                    "action_id": "boxes",
                    "options": [{"text": _text("Release numbers"), "value": "numbers"}],
                    "initial_options": [{"text": _text("Release numbers"), "value": "numbers"}],
                },
            },
            {"type": "input", "block_id": "note", "label": _text("Note"), "element": {"type": "plain_text_input"}},
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": _text("Approve")},
                    {"type": "button", "text": _text("Reject")},
                ],
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "see <https://x.test/r/1|request 1>\nor ask"}]},
        ],
    )
    assert render_event(event, name_for=names) == "\n".join(
        [
            "[#approvals] bot:",
            "  == Offboarding ==",
            "  *Request* by @alice in #general & #ops",
            "  *User:* bob",
            "  Licenses: 2",
            "  --------------------",
            "  Confirm: (key=confirm)",
            "    [x] Release numbers (key=confirm, value=numbers)",
            "  Note: (key=note)",
            "  [ Approve ] [ Reject ]",
            "  see request 1 (https://x.test/r/1)",
            "  or ask",
        ]
    )


def test_render_other_headers_and_rich_text() -> None:
    dm = SlackEvent(kind=EventKind.DM_POSTED, user_id="U1", user_name="alice", author_name="bot", text="Hi <!here>")
    assert render_event(dm) == "[DM to alice] bot:\n  Hi @here"
    deleted = SlackEvent(kind=EventKind.EPHEMERAL_DELETED, user_name="bob", channel_name="general", text="x")
    assert render_event(deleted) == "[ephemeral to bob in #general] (deleted)"
    shared = SlackEvent(kind=EventKind.MESSAGE_POSTED, channel_name="results", author_name="bot", thread_ts="1.2",
                        text="All users", files=("OB-1-results.csv",))
    assert render_event(shared) == "[#results, in thread] bot:\n  All users\n  📎 OB-1-results.csv"
    errors = SlackEvent(
        kind=EventKind.VIEW_ERRORS,
        user_name="bob",
        title="Reject request",
        submit="Reject",
        blocks=[{"type": "input", "block_id": "r", "label": _text("Reason"), "element": {"type": "plain_text_input"}}],
        errors={"r": "Too short"},
    )
    assert render_event(errors) == "\n".join(
        ['[modal "Reject request" for bob] (errors)', "  Reason: (key=r)", "  ! Too short", "  [ Cancel ] [ Reject ]"]
    )
    rich = {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "text", "text": "Hello "},
                    {"type": "user", "user_id": "U1"},
                    {"type": "text", "text": " done", "style": {"bold": True}},
                ],
            },
            {
                "type": "rich_text_list",
                "style": "bullet",
                "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "item"}]}],
            },
        ],
    }
    assert render_blocks([rich], name_for={"U1": "alice"}.get) == ["Hello @alice *done*", "- item"]
    assert render_mrkdwn("<mailto:a@b.c|a@b.c> <@U9>") == "a@b.c @U9"
