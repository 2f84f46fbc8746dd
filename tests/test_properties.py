"""Property-based tests (Hypothesis): whatever an admin types, a console returns or a request holds, the
parser answers with a command or a clear BadCommand, and every message stays valid Block Kit in which no
text from outside can mention anyone, ping a channel or forge a link."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.commands import MAX_REASON, Command, Verb
from bot.domain.directory import ConsoleUser, Device, Extension, ExtensionType
from bot.domain.lifecycle import Action, RequestState
from bot.domain.notes import Note, Why
from bot.domain.plan import build_plan
from bot.domain.problems import Problem, ProblemKind
from bot.domain.records import Approval, OffboardRequest, Target, TargetOutcome
from bot.errors import BadCommand
from bot.ports import Home
from bot.simulators.slack.blocks import block_problems, view_problems
from bot.slack import blocks
from bot.slack.markup import escape
from handlers.parsing import command_from_form, parse_command, parse_user_ref

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(SETTINGS, max_examples=25)  # each example builds every message of a request
HOSTILE = ["<!channel>", "<!here>", "<@U0ALICE>", "<#C0RESULTS>", "<https://evil.example|click me>", "&lt;",
           "*bold*", "_it_", "`code`", "```", "> quote", "\n", "\u202e", "--reason", "\"", "'", "\u200b"]
hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)), max_size=8).map("".join)
word = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1,
               max_size=30)
username = st.from_regex(r"[a-z][a-z0-9._-]{2,20}", fullmatch=True)


# -- the command parser and the user-reference resolver ----------------------------------------------

@SETTINGS
@given(st.text(max_size=400))
def test_any_typed_text_gives_a_command_or_a_clear_refusal(text):
    try:
        command = parse_command(text)
    except BadCommand as refusal:
        assert refusal.message.strip()
        return
    assert isinstance(command, Command)
    assert len(command.reason) <= MAX_REASON
    assert len(set(command.targets)) == len(command.targets)


@SETTINGS
@given(action=st.text(max_size=20), users=st.text(max_size=200), new_username=st.text(max_size=80),
       reason=st.text(max_size=200), grace=st.text(max_size=12), retain=st.text(max_size=12))
def test_any_form_gives_a_command_or_a_refusal_naming_a_field(action, users, new_username, reason, grace, retain):
    try:
        command = command_from_form(action=action, users=users, new_username=new_username, reason=reason,
                                    grace=grace, retain=retain)
    except BadCommand as refusal:
        assert refusal.message.strip() and refusal.field
        return
    assert command.targets and command.verb.value == action


@SETTINGS
@given(names=st.lists(username, min_size=1, max_size=40),
       reason=st.lists(word.filter(lambda w: not w.startswith("--") and w[0] not in "\"'\u201c\u201d\u2018\u2019"),
                       max_size=20))
def test_users_and_reason_come_back_as_typed(names, reason):
    text = f"delete {' '.join(names)}" + (f" --reason {' '.join(reason)}" if reason else "")
    try:
        command = parse_command(text)
    except BadCommand as refusal:  # only a reason too long, or Slack's escapes forming a bad word
        assert "reason" in refusal.message or "option" in refusal.message
        return
    assert command.verb is Verb.DELETE
    assert [ref.text for ref in command.targets] == list(dict.fromkeys(name.lower() for name in names))


@SETTINGS
@given(st.one_of(word, st.from_regex(r"<@[UW][A-Z0-9]{2,12}(\|[a-z.]{0,12})?>", fullmatch=True),
                 st.from_regex(r"<mailto:[a-z]{1,8}@[a-z]{1,8}\.com\|[a-z]{1,8}@[a-z]{1,8}\.com>", fullmatch=True)))
def test_a_user_reference_is_a_member_id_or_lowercased_text(text):
    ref = parse_user_ref(text)
    if text.startswith("<@"):
        assert ref.slack_user_id and ref.slack_user_id == re.match(r"<@([UW][A-Z0-9]+)", text).group(1)
    else:
        assert ref.slack_user_id is None and ref.text == ref.text.lower()
        assert "<mailto:" not in ref.text


# -- the Block Kit builders ------------------------------------------------------------------------------

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
OUR_MARKUP = re.compile(r"<@U0[A-Z]+>|<#C0[A-Z]+>|<!date\^\d+\^[^|>]*\|[^>]*>")


@st.composite
def console_users(draw, index: int = 0) -> ConsoleUser:
    return ConsoleUser(
        id=f"u-{index}", username=draw(hostile_text) or f"user{index}", email=draw(hostile_text),
        first_name=draw(hostile_text), last_name=draw(hostile_text),
        licenses=tuple(draw(st.lists(hostile_text, max_size=3))),
        extensions=(Extension(number=draw(hostile_text), type=ExtensionType.UC,
                              phone_numbers=(draw(hostile_text),),
                              devices=(Device(id="d", model=draw(hostile_text), status="ACTIVE"),)),),
        call_queues=tuple(draw(st.lists(hostile_text, max_size=2))), site=draw(hostile_text))


@st.composite
def requests(draw) -> OffboardRequest:
    count = draw(st.integers(min_value=1, max_value=12))
    state = draw(st.sampled_from(list(RequestState)))
    targets = tuple(
        Target(id=i, position=i, plan=build_plan(Action.DELETE, draw(console_users(i))),
               outcome=draw(st.sampled_from(list(TargetOutcome))), note=Note(Why.TEXT, said=draw(hostile_text)))
        for i in range(count))
    return OffboardRequest(
        id="OB-ABCDEFGH", action=Action.DELETE, state=state, version=1, requester_id="U0ALICE",
        requester_email="alice@example.com", reason=draw(st.text(max_size=3000)) + draw(hostile_text),
        approvals_required=2, created_at=NOW, expires_at=NOW + timedelta(hours=24), origin_channel="C0GENERAL",
        targets=targets, approvals=(Approval(approver_id="U0BOB", approver_email="bob@example.com", at=NOW),),
        decision_note=draw(hostile_text),
        left_out=tuple((Problem(ProblemKind.NOT_FOUND, text, console="local"),)
                       for text in draw(st.lists(hostile_text, max_size=5))),  # names as typed, from outside
        message_channel="C0APPROVALS", message_ts="1.0")


def _texts(node) -> list[str]:
    if isinstance(node, dict):
        return [text for key, value in node.items()
                for text in ([value] if key == "text" and isinstance(value, str) else _texts(value))]
    if isinstance(node, list):
        return [text for value in node for text in _texts(value)]
    return []


def _assert_inert(message: dict) -> None:
    """Every < or > left is markup the bot wrote itself: mentions of known members, its channels, dates."""
    for text in _texts(message):
        rest = OUR_MARKUP.sub("", text)
        assert "<" not in rest and ">" not in rest, text[:300]


@FEW
@given(requests())
def test_every_request_message_is_valid_block_kit_and_inert(request):
    messages = [blocks.preview(request), blocks.approval_message(request), blocks.outcome_message(request),
                blocks.status_message(request), blocks.reminder(request), blocks.list_message([request] * 3)]
    for message in messages:
        assert block_problems(message["blocks"], max_blocks=50) == [], json.dumps(message)[:500]
        assert len(message["text"]) <= 3000
        _assert_inert(message)
    home = blocks.home_view(Home(user_id="U0BOB", is_admin=True, to_approve=(request,) * 12, mine=(request,),
                                 recent=(request,) * 3))
    assert block_problems(home["blocks"], max_blocks=100) == []
    _assert_inert(home)
    assert view_problems(blocks.reject_modal(replace(request, state=RequestState.AWAITING_APPROVAL))) == []


@SETTINGS
@given(st.text(max_size=5000))
def test_a_refusal_of_any_text_stays_valid(text):
    message = blocks.refusal(escape(text), reference="abc123")
    assert block_problems(message["blocks"], max_blocks=50) == []
    _assert_inert(message)


@SETTINGS
@given(st.lists(console_users(), max_size=120))
def test_the_user_picker_options_stay_within_slack_limits(users):
    options = blocks.user_options(users)["options"]
    assert len(options) <= 100
    for option in options:
        assert 0 < len(option["text"]["text"]) <= 75 and 0 < len(option["value"]) <= 150
        assert not any(char.isspace() for char in option["value"])
