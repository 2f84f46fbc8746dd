from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.commands import UserRef, Verb
from bot.domain.schedule import Schedule
from bot.errors import BadCommand
from bot.slack.messages.refusals import USAGE
from handlers.parsing import command_from_form, parse_command
from tests.words import raises_saying

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_empty_text_opens_the_form():
    assert parse_command("   ").verb is Verb.MODAL


def test_delete_with_mention_email_and_reason():
    command = parse_command("delete jdoe <@U0BOB|bob> <mailto:Msmith@Example.com|Msmith@Example.com> "
                            "--reason left the company")
    assert command.verb is Verb.DELETE
    assert command.targets == (UserRef("jdoe"), UserRef("<@U0BOB|bob>", slack_user_id="U0BOB"),
                               UserRef("msmith@example.com"))
    assert command.reason == "left the company"


def test_quoted_reason_with_smart_quotes_and_duplicates_collapsed():
    command = parse_command("DEACTIVATE jdoe JDOE --reason \u201con leave\u201d")
    assert command.targets == (UserRef("jdoe"),)
    assert command.reason == "on leave"


def test_rename_keeps_case_of_new_username():
    command = parse_command("rename jdoe John.Doe.Old")
    assert command.verb is Verb.RENAME
    assert command.new_username == "John.Doe.Old"


@pytest.mark.parametrize("request_id", ["OB-7K2M4Q9A", "ob-7k2m4q9a"])
def test_status_and_cancel_take_a_request_id(request_id):
    assert parse_command(f"status {request_id}").request_id == "OB-7K2M4Q9A"
    assert parse_command(f"cancel {request_id}").verb is Verb.CANCEL


@pytest.mark.parametrize(("text", "message"), [
    ("frobnicate jdoe", "I don't know `frobnicate`"),
    ("modal", "I don't know `modal`"),
    ("delete", "name at least one user"),
    ("delete --reason gone", "name at least one user"),
    ("delete jdoe --reason", "`--reason` needs a value"),
    ("delete jdoe --reason a --reason b", "given twice"),
    ("delete jdoe --at tomorrow", "I can't read the time `tomorrow`. Write `YYYY-MM-DD HH:MM`"),
    ("delete jdoe --at", "`--at` needs a value"),
    ("delete jdoe --at 2026-12-01 09:00 --at in 2h", "given twice"),
    ("delete jdoe --when 2026-12-01 09:00", "unknown option `--when`"),
    ("delete jdoe --grace 7d", "needs a retention period"),
    ("delete jdoe --grace 30d --retain 7d", "must be shorter than the retention period"),
    ("delete jdoe --retain a month", "`a month` is not a period"),
    ("delete jdoe --retain 400d", "keep it within 365 days"),
    ("deactivate jdoe --retain 30d", "`--retain` only goes with delete"),
    ("rename jdoe jdoe.old --grace 7d --retain 30d", "`--grace` only goes with delete"),
    ("status OB-7K2M4Q9A --at in 2h", "name one request"),
    ("list --at in 2h", "takes nothing after it"),
    ("rename jdoe", "name the user and the new username"),
    ("rename jdoe <@U0BOB>", "must be text, not a mention"),
    ("status", "name one request"),
    ("status 42", "is not a request id"),
    ("list everything", "takes nothing after it"),
    ("delete jdoe --reason " + "x" * 3001, "keep it under 3000"),
])
def test_malformed_commands_are_explained(text, message):
    with raises_saying(BadCommand, message.replace("(", r"\(").replace("`", "`")):
        parse_command(text)


def test_form_rename_needs_one_user_and_a_new_name():
    with pytest.raises(BadCommand) as missing:
        command_from_form(action="rename", users="jdoe", new_username=" ", reason="")
    assert missing.value.field == "new_username"
    with pytest.raises(BadCommand) as many:
        command_from_form(action="rename", users="jdoe msmith", new_username="x.y", reason="")
    assert many.value.field == "users"
    command = command_from_form(action="rename", users="jdoe", new_username="jdoe.old", reason="reuse")
    assert (command.verb, command.new_username, command.reason) == (Verb.RENAME, "jdoe.old", "reuse")


def test_form_lists_users_one_per_line_or_comma():
    command = command_from_form(action="delete", users="jdoe\nmsmith, lchen", new_username="", reason="")
    assert [ref.text for ref in command.targets] == ["jdoe", "msmith", "lchen"]
    with pytest.raises(BadCommand) as empty:
        command_from_form(action="delete", users="  \n ", new_username="", reason="")
    assert empty.value.field == "users"
    with pytest.raises(BadCommand) as stray:
        command_from_form(action="delete", users="jdoe", new_username="x", reason="")
    assert stray.value.field == "new_username"


def test_slack_escaped_text_is_read_back_as_typed():
    command = parse_command("delete jdoe --reason R&amp;D team &lt;closed&gt;")
    assert command.reason == "R&D team <closed>"
    assert parse_command("delete <@U0JDOE|jdoe>").targets[0].slack_user_id == "U0JDOE"


def test_at_stays_text_until_the_requesters_time_zone_is_known():
    command = parse_command("delete jdoe --at 2026-12-01 09:00 --reason left")
    assert (command.at_text, command.at, command.reason) == ("2026-12-01 09:00", None, "left")
    assert command.schedule(tz="Europe/Paris", now=NOW) == Schedule(run_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    assert command.schedule(tz="America/New_York", now=NOW).run_at == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    later = parse_command('rename jdoe jdoe.old --at "in 2h"')
    assert later.new_username == "jdoe.old" and later.schedule(tz="", now=NOW).run_at == NOW + timedelta(hours=2)


@pytest.mark.parametrize("verb", ["delete", "deactivate", "reactivate"])
def test_every_action_can_be_scheduled(verb):
    assert parse_command(f"{verb} jdoe msmith --at +1d").at_text == "+1d"


def test_a_readable_but_past_time_is_refused_once_the_time_is_known():
    command = parse_command("delete jdoe --at 2026-01-01 09:00")
    with raises_saying(BadCommand, "not in the future") as problem:
        command.schedule(tz="Europe/Paris", now=NOW)
    assert problem.value.field == "run_at"


def test_staged_delete_options():
    command = parse_command("delete jdoe --grace 7d --retain 30d")
    assert (command.grace, command.retain, command.at_text) == (timedelta(days=7), timedelta(days=30), None)
    schedule = command.schedule(tz="Europe/Paris", now=NOW)
    assert schedule.staged and schedule.run_at is None
    assert parse_command("delete jdoe --retain 4w").retain == timedelta(weeks=4)
    plain = parse_command("delete jdoe")
    assert (plain.at_text, plain.at, plain.grace, plain.retain) == (None, None, None, None)
    assert plain.schedule(tz="Europe/Paris", now=NOW) == Schedule()


def test_usage_shows_the_new_options():
    assert "[--at WHEN] [--grace 7d] [--retain 30d]" in USAGE[Verb.DELETE]
    for verb in (Verb.DEACTIVATE, Verb.REACTIVATE, Verb.RENAME):
        assert USAGE[verb].endswith("[--at WHEN]") and "--grace" not in USAGE[verb]
    for verb in (Verb.STATUS, Verb.LIST, Verb.CANCEL, Verb.HELP):
        assert "--at" not in USAGE[verb]


def _form(**changes):
    fields = {"action": "delete", "users": "jdoe", "new_username": "", "reason": ""} | changes
    return command_from_form(**fields)


def test_form_takes_the_picked_time_and_stages():
    picked = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    command = _form(at=picked, grace=" 7d ", retain="30d")
    assert (command.at, command.at_text, command.grace, command.retain) == (
        picked, None, timedelta(days=7), timedelta(days=30))
    assert command.schedule(tz="Europe/Paris", now=NOW) == Schedule(run_at=picked, grace=timedelta(days=7),
                                                                    retain=timedelta(days=30))
    assert _form(action="deactivate", at=picked).at == picked
    assert _form(grace="", retain="") == _form()


def test_form_picked_time_in_the_past_is_refused_when_scheduled():
    command = _form(at=NOW - timedelta(minutes=1))
    with raises_saying(BadCommand, "not in the future") as problem:
        command.schedule(tz="Europe/Paris", now=NOW)
    assert problem.value.field == "run_at"
    with raises_saying(BadCommand, "more than 365 days"):
        _form(at=NOW + timedelta(days=366)).schedule(tz="UTC", now=NOW)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"grace": "7d"}, "retain", "needs a retention period"),
    ({"grace": "30d", "retain": "30d"}, "grace", "must be shorter"),
    ({"grace": "soon", "retain": "30d"}, "grace", "not a period"),
    ({"retain": "forever"}, "retain", "not a period"),
    ({"retain": "400d"}, "retain", "within 365 days"),
    ({"action": "deactivate", "grace": "7d", "retain": "30d"}, "grace", "only go with Delete"),
    ({"action": "reactivate", "retain": "30d"}, "retain", "only go with Delete"),
])
def test_form_stage_errors_name_their_input(changes, field, message):
    with raises_saying(BadCommand, message) as problem:
        _form(**changes)
    assert problem.value.field == field
