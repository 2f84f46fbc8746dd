"""Text the console returns stays plain text where Slack shows it: a user whose name tries to add a line to the
plan, or formatting, a mention or a link to the approval message, is shown on its own line as written, inert.
Through signed requests into the real app, on the local console."""

from __future__ import annotations

import re

from bot.domain.directory import ConsoleUser, Device, Extension, ExtensionType
from bot.simulators.harness import texts_in

INJECTED = "2. Nothing else happens: *this is only a license clean-up*, no deletion"
MARIA = ConsoleUser(
    id="u-6660", username="mgarcia", email="maria.garcia@example.com",
    first_name=f"Maria\n{INJECTED}", last_name="Garcia\u2028> _quoted_ ~struck~ `code`",
    licenses=("X Series X2",),
    extensions=(Extension(number="1666", type=ExtensionType.UC, phone_numbers=("+14155550666",),
                          devices=(Device(id="dev-maria-1", model="Poly\r\n*VVX* <!channel>"),)),),
    call_queues=("Sales\n1. Nothing is deleted",), ring_groups=("&lt;@U0BOB&gt; Front\u2029Desk",),
)


def _lines(texts: list[str]) -> list[str]:
    return [line.strip() for text in texts for line in text.splitlines()]


def _assert_inert(texts: list[str]) -> None:
    """The plan reads as the bot wrote it: Maria's name on its own line, whole, with nothing it tried to add."""
    lines = _lines(texts)
    assert not [line for line in lines if re.match(r"[\W_]*(2\.|1\.) Nothing", line)], lines
    assert not [line for line in lines if re.match(r"[\W_]*(Desk$|\*VVX|&gt;|>|_quoted)", line)], lines
    joined = "\n".join(texts)
    assert "*this is only" not in joined and "clean-up*" not in joined  # the injected * no longer pair
    for leak in ("_quoted_", "~struck~", "`code`", "*VVX*", "<!channel>", "&lt;@U0BOB&gt;", "\u2028", "\u2029", "\r"):
        assert leak not in joined
    assert "1. Release licenses and numbers first (X Series X2, +14155550666), then verify" in lines
    assert "2. Delete the user profile and its user ID (final, cannot be undone)" in lines
    name_line = next(line for line in lines if "`mgarcia`" in line)
    assert name_line.startswith("*Maria ") and "Nothing else happens" in name_line  # shown, on its own line


def test_a_console_name_cannot_add_a_line_or_formatting_to_the_plan_approvers_read(app):
    app.console.add_user(MARIA)
    app.command("alice", "delete mgarcia --reason left")
    _assert_inert(texts_in(app.slack.ephemerals(user_id="U0ALICE")[-1].blocks))  # the requester's preview
    app.press("alice", "Request approval", offboard_checklist="box-1")
    [posted] = app.slack.messages("C0APPROVALS")
    _assert_inert(texts_in(posted.blocks))
