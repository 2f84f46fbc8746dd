"""The MemberDirectory port over slack_sdk, against the stateful fake Slack: who a member is, read afresh for every
admin check; members found by email, remembered for a while (for showing admins, not for deciding)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.ports import Member
from bot.simulators.slack.demo import populate
from bot.simulators.slack.fake import FakeSlack
from bot.slack import members as members_module
from bot.slack.members import EMAIL_CACHE_SECONDS, SlackMembers


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(team_id="T0DEMO")
    populate(fake)
    fake.add_member("U0PARIS", "pierre", "pierre@example.com", tz="Europe/Paris")
    fake.add_member("W0EXT", "erin", "erin@partner.example", team_id="T0OTHER", is_stranger=True)
    fake.add_member("U0NOMAIL", "nomail", None, email_confirmed=False, tz="")
    fake.add_member("U0GONE", "gone", "gone@example.com", deleted=True)
    fake.add_member("U0APP", "app", None, is_bot=True)
    fake.add_member("U0MULTI", "mona", "mona@example.com", is_restricted=True)  # a multi-channel guest
    fake.add_member("U0SINGLE", "sid", "sid@example.com", is_ultra_restricted=True)  # a single-channel guest
    with fake:
        yield fake


@pytest.fixture
def members(slack) -> SlackMembers:
    return SlackMembers(client=WebClient(token=slack.bot_token, base_url=slack.api_url))


def test_the_home_team_is_asked_once(slack, members):
    assert members.home_team_id() == "T0DEMO"
    assert members.home_team_id() == "T0DEMO"
    assert len(slack.calls("auth.test")) == 1


def test_a_member_as_slack_shows_them(members):
    assert members.member(user_id="U0PARIS") == Member(user_id="U0PARIS", team_id="T0DEMO", name="pierre",
                                                       email="pierre@example.com", email_verified=True,
                                                       tz="Europe/Paris")


@pytest.mark.parametrize(("user_id", "expected"), [
    ("W0EXT", Member(user_id="W0EXT", team_id="T0OTHER", name="erin", email=None, is_stranger=True)),
    ("U0NOMAIL", Member(user_id="U0NOMAIL", team_id="T0DEMO", name="nomail", email=None, email_verified=False,
                        tz="UTC")),  # no time zone known: UTC
    ("U0GONE", Member(user_id="U0GONE", team_id="T0DEMO", name="gone", email="gone@example.com", deleted=True)),
    ("U0APP", Member(user_id="U0APP", team_id="T0DEMO", name="app", email=None, is_bot=True)),
    ("U0MULTI", Member(user_id="U0MULTI", team_id="T0DEMO", name="mona", email="mona@example.com", is_guest=True)),
    ("U0SINGLE", Member(user_id="U0SINGLE", team_id="T0DEMO", name="sid", email="sid@example.com", is_guest=True)),
])
def test_the_members_an_admin_check_turns_away_are_shown_as_they_are(members, user_id, expected):
    assert members.member(user_id=user_id) == expected


def test_a_member_slack_does_not_know_is_none(members):
    assert members.member(user_id="U0NOBODY") is None


def test_every_admin_check_asks_slack_again(slack, members):
    assert members.member(user_id="U0BOB").email == "bob@example.com"
    slack.update_member("U0BOB", email="robert@example.com")
    assert members.member(user_id="U0BOB").email == "robert@example.com"
    assert len(slack.calls("users.info")) == 2


def test_slack_failing_is_not_taken_for_an_unknown_member(slack, members):
    slack.inject_failure("users.info", error="internal_error")
    with pytest.raises(SlackApiError):
        members.member(user_id="U0BOB")


def test_a_member_found_by_email(members):
    found = members.find_by_email(email="Bob@Example.com")
    assert (found.user_id, found.email) == ("U0BOB", "bob@example.com")


def test_nobody_with_that_email_is_none(members):
    assert members.find_by_email(email="nobody@example.com") is None
    assert members.find_by_email(email="erin@partner.example") is None  # a stranger's email is not shown


def test_members_found_by_email_are_remembered_for_a_while(slack, members, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(members_module.time, "monotonic", lambda: clock[0])
    assert members.find_by_email(email="bob@example.com").user_id == "U0BOB"
    assert members.find_by_email(email="nobody@example.com") is None
    slack.add_member("U0NOBODY", "nobody", "nobody@example.com")
    clock[0] += EMAIL_CACHE_SECONDS - 1
    assert members.find_by_email(email="BOB@example.com").user_id == "U0BOB"
    assert members.find_by_email(email="nobody@example.com") is None  # not yet: remembered as nobody
    assert len(slack.calls("users.lookupByEmail")) == 2
    clock[0] += 2
    assert members.find_by_email(email="nobody@example.com").user_id == "U0NOBODY"
    assert len(slack.calls("users.lookupByEmail")) == 3


def test_slack_failing_to_look_up_an_email_raises_and_is_not_remembered(slack, members):
    slack.inject_failure("users.lookupByEmail", error="ratelimited")
    with pytest.raises(SlackApiError):
        members.find_by_email(email="bob@example.com")
    assert members.find_by_email(email="bob@example.com").user_id == "U0BOB"
