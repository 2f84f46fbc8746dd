"""Text from the console (and what a requester typed) is shown inert wherever the bot shows it: every message,
modal, App Home and direct message built for a user whose record tries to add lines, formatting, mentions or
links keeps it on one line and plain. The wire test is tests/app/test_console_text.py."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.domain.directory import ConsoleUser, Device, Extension, ExtensionType
from bot.domain.events import Rejected, WaitingForManual
from bot.domain.lifecycle import Action, RequestState
from bot.domain.notes import Note, Why
from bot.domain.plan import StepKind, Wording, build_plan
from bot.domain.records import StepRecord, StepStatus, TargetOutcome
from bot.ports import Home
from bot.simulators.harness import texts_in
from bot.slack import blocks
from bot.slack.messages.events import direct_messages
from tests.slack.builders import NOW, request, target

INJECTED = "2. Nothing else happens: *this is only a license clean-up*, no deletion"
HOSTILE = f"x\n{INJECTED}\u2028> _it_ ~s~ `c` <!here> <https://evil.example|ok> &lt;@U0BOB&gt;\u202e"
MARIA = ConsoleUser(
    id="u-6660", username="mgarcia", email="maria.garcia@example.com", first_name=f"Maria\n{INJECTED}",
    last_name=HOSTILE, licenses=(HOSTILE,), call_queues=(HOSTILE,), ring_groups=(HOSTILE,),
    extensions=(Extension(number="1666", type=ExtensionType.UC, phone_numbers=(HOSTILE,),
                          devices=(Device(id=HOSTILE, model=HOSTILE, status=HOSTILE),)),),
)
PLAN = build_plan(Action.DELETE, MARIA)
ODD_NAME = replace(PLAN, username=HOSTILE)  # a username a console should refuse, shown where only it is
LEAKS = ("*this is", "clean-up*", "_it_", "~s~", "`c`", "<!here>", "<https://", "&lt;@U0BOB&gt;", "\u2028", "\u202e",
         "\r")


def _assert_inert(texts: list[str]) -> None:
    for line in (line.strip() for text in texts for line in text.splitlines()):
        assert not re.match(r"[\W_]*(2\. Nothing|&gt;)", line), line
    for leak in LEAKS:
        assert not [text for text in texts if leak in text], leak


def _waiting():
    held = Note(Why.BY_HAND, step=StepKind.RELEASE_LICENSES, console="8x8", held=(HOSTILE,))
    steps = (StepRecord(StepKind.RELEASE_LICENSES, StepStatus.MANUAL, held, NOW, None),)
    return request(target(PLAN, steps=steps), state=RequestState.WAITING, reason=HOSTILE)


def _failed():
    said = Note(Why.STEP_FAILED, step=StepKind.DELETE, cause=Why.REFUSED, said=HOSTILE)
    steps = (StepRecord(StepKind.DELETE, StepStatus.FAILED, Note(Why.REFUSED, said=HOSTILE), NOW, NOW),)
    return request(target(PLAN, outcome=TargetOutcome.FAILED, note=said, steps=steps), state=RequestState.FAILED,
                   decision_note=HOSTILE)


def _legacy():
    wording = Wording(steps=(HOSTILE, HOSTILE), notes=(HOSTILE,), removed=(HOSTILE,), kept=(HOSTILE,))
    return request(target(replace(PLAN, wording=wording)))


SURFACES = {
    "preview": lambda: blocks.preview(request(target(PLAN), state=RequestState.DRAFT, reason=HOSTILE)),
    "approval": lambda: blocks.approval_message(request(target(PLAN), reason=HOSTILE)),
    "many users": lambda: blocks.approval_message(request(*(target(PLAN) for _ in range(7)), reason=HOSTILE)),
    "legacy plan": lambda: blocks.approval_message(_legacy()),
    "waiting by hand": lambda: blocks.approval_message(_waiting()),
    "status": lambda: blocks.status_message(_failed()),
    "results": lambda: blocks.outcome_message(_failed()),
    "rejected": lambda: blocks.approval_message(request(target(PLAN), state=RequestState.REJECTED,
                                                        decision_note=HOSTILE)),
    "called off (legacy note)": lambda: blocks.approval_message(request(target(PLAN), state=RequestState.CANCELLED,
                                                                        decision_note=HOSTILE)),
    "home": lambda: blocks.home_view(Home(user_id="U0BOB", is_admin=True, to_approve=(_waiting(),))),
    "reminder": lambda: blocks.reminder(request(target(ODD_NAME))),
    "reject modal": lambda: blocks.reject_modal(request(target(ODD_NAME))),
    "results by username": lambda: blocks.outcome_message(request(target(ODD_NAME, outcome=TargetOutcome.DONE,
                                                                         note=Note(Why.COMPLETED)),
                                                                  state=RequestState.DONE)),
    "direct messages": lambda: [blocks.notice(text) for event in (
        WaitingForManual(request(*_waiting().targets, state=RequestState.WAITING, targets=(
            replace(_waiting().targets[0], plan=ODD_NAME),)), console="8x8", rechecked_by=None),
        Rejected(request(target(PLAN)), by="U0BOB", reason=HOSTILE),
    ) for _, text in direct_messages(event, approvals="C0APPROVALS")],
}


@pytest.mark.parametrize("surface", list(SURFACES))
def test_console_text_stays_on_its_line_and_plain(surface):
    _assert_inert(texts_in(SURFACES[surface]()))


def test_the_user_picker_shows_each_user_on_one_line():
    [option] = blocks.user_options([MARIA])["options"]
    assert option["text"]["type"] == "plain_text"  # no markup there: only the line breaks must go
    assert option["text"]["text"].startswith("Maria 2. Nothing else happens")
    assert not re.search(r"[\n\r\u2028\u2029\u202e]", option["text"]["text"])


def test_the_plan_still_reads_as_the_bot_wrote_it():
    [plan, facts] = blocks.plan_blocks(PLAN)
    lines = plan["text"]["text"].splitlines()
    assert lines[0].startswith("*Maria 2. Nothing else happens: \u2217this is only a license clean-up\u2217, no del")
    assert lines[0].endswith("* · `mgarcia` · maria.garcia@example.com")
    assert [line[:3] for line in lines[1:]] == ["1. ", "2. "]
    assert lines[2] == "2. Delete the user profile and its user ID (final, cannot be undone)"
    assert facts["elements"][0]["text"].splitlines()[-2:] == ["Removed: voicemails, faxes, chat and SMS history",
                                                              "Kept: call recordings"]


def test_the_instructions_for_a_manual_step_keep_their_own_bold():
    [line] = [text for text in texts_in(blocks.approval_message(_waiting())) if ":raised_hand:" in text]
    assert "open *Users* and select Maria 2. Nothing" in line and "Then press *Re-check*" in line


def _mrkdwn_objects(node) -> list[dict]:
    if isinstance(node, dict):
        own = [node] if node.get("type") == "mrkdwn" else []
        return own + [found for value in node.values() for found in _mrkdwn_objects(value)]
    if isinstance(node, list):
        return [found for value in node for found in _mrkdwn_objects(value)]
    return []


@pytest.mark.parametrize("surface", list(SURFACES))
def test_slack_does_not_link_bare_urls_or_channel_names_in_what_the_bot_shows(surface):
    found = _mrkdwn_objects(SURFACES[surface]())
    assert found and all(text["verbatim"] is True for text in found)
