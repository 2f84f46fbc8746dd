"""The demo console's mark on the approvals message and the App Home, within Slack's block limits."""

from __future__ import annotations

from bot.slack.blocks.demo import MAX_VIEW_BLOCKS, marked
from bot.slack.blocks.kit import MAX_BLOCKS, context, header, section
from bot.slack.messages.demo import DEMO_CONSOLE, DEMO_TAG


def test_the_line_goes_under_the_title_and_the_fallback_text_is_tagged():
    message = {"text": "Approval needed: delete jdoe", "blocks": [header("Approval needed: delete jdoe"),
                                                                 section("the plan")]}
    shown = marked(message)
    assert shown["blocks"] == [header("Approval needed: delete jdoe"), context(DEMO_CONSOLE), section("the plan")]
    assert shown["text"] == f"({DEMO_TAG}) Approval needed: delete jdoe"
    assert message["blocks"] == [header("Approval needed: delete jdoe"), section("the plan")]  # left as it was


def test_a_full_message_has_its_title_tagged_instead():
    full = {"text": "t", "blocks": [header("Approval needed: delete 200 users"),
                                    *[section(f"user {n}") for n in range(MAX_BLOCKS - 1)]]}
    shown = marked(full)
    assert len(shown["blocks"]) == MAX_BLOCKS
    assert shown["blocks"][0] == header(f"{DEMO_TAG} · Approval needed: delete 200 users")


def test_a_view_takes_the_line_up_to_its_own_limit():
    view = {"type": "home", "blocks": [header("Offboarding"), *[section("x") for _ in range(MAX_BLOCKS + 10)]]}
    shown = marked(view, limit=MAX_VIEW_BLOCKS)
    assert shown["blocks"][1] == context(DEMO_CONSOLE) and shown["type"] == "home" and "text" not in shown
