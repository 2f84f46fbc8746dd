import pytest

from bot.domain.commands import UserRef, Verb, command_from_form, parse_command
from bot.errors import BadCommand


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
    ("delete jdoe --at tomorrow", "unknown option `--at`"),
    ("rename jdoe", "name the user and the new username"),
    ("rename jdoe <@U0BOB>", "must be text, not a mention"),
    ("status", "name one request"),
    ("status 42", "is not a request id"),
    ("list everything", "takes nothing after it"),
    ("delete jdoe --reason " + "x" * 3001, "keep it under 3000"),
])
def test_malformed_commands_are_explained(text, message):
    with pytest.raises(BadCommand, match=message.replace("(", r"\(").replace("`", "`")):
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
