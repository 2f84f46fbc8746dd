"""The App Home tabs: what each member sees there (what waits for an admin, theirs, scheduled, recent; or, for
anyone else, who the admins are), kept up to date for every admin and requester as requests change."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.lifecycle import RequestState
from bot.ports import Home
from bot.slack import blocks
from tests.service.conftest import Desk
from tests.service.helpers import buttons_of, text_of

S = RequestState
ADMINS = ("U0ALICE", "U0BOB", "U0DANA")  # by email: alice (primary), bob, dana


def _ids(requests) -> list[str]:
    return [request.id for request in requests]


def _published(desk: Desk, user_id: str) -> Home:
    """The member's App Home as last published (the background redraw done first)."""
    desk.jobs.drain()
    return desk.notifier.homes[user_id]


def test_a_member_who_is_not_an_admin_sees_who_to_ask(desk):
    home = desk.service.queries.home(actor=desk.actor("jdoe"))
    assert (home.is_admin, home.admins, home.why_not.code) == (False, ADMINS, "not_admin")
    assert (home.to_approve, home.mine, home.scheduled, home.recent) == ((), (), (), ())
    view = blocks.home_view(home)
    assert "Only account admins can use it" in text_of(view)
    assert all(f"<@{admin}>" in text_of(view) for admin in ADMINS)
    assert buttons_of(view) == []


def test_an_admin_sees_what_waits_for_them_and_it_is_gone_once_decided(desk):
    request = desk.send("alice", desk.ask("alice", "delete", "jdoe", reason="left the company"))
    # Nobody opened their tab: it is kept up to date for every admin as requests change.
    for admin in ("U0BOB", "U0DANA"):
        assert _ids(_published(desk, admin).to_approve) == [request.id]
    assert buttons_of(blocks.home_view(_published(desk, "U0BOB"))) == ["Open the form", "Approve", "Reject"]
    alices = _published(desk, "U0ALICE")
    assert _ids(alices.to_approve) == [] and _ids(alices.mine) == [request.id]
    assert buttons_of(blocks.home_view(alices)) == ["Open the form", "Cancel"]
    assert desk.service.queries.home(actor=desk.actor("bob")) == _published(desk, "U0BOB")

    desk.approve("bob", request)
    bobs = _published(desk, "U0BOB")
    assert _ids(bobs.to_approve) == [] and _ids(bobs.recent) == [request.id]
    assert bobs.recent[0].state is S.DONE
    view = blocks.home_view(bobs)
    assert buttons_of(view) == ["Open the form"] and "Recent outcomes" in text_of(view) and request.id in text_of(view)


def test_someone_no_longer_an_admin_is_never_sent_the_admin_home(desk):
    # Slack's members are looked up by email once and remembered for a while (bot/slack/members.py), so the
    # admins' tabs keep being redrawn for whoever had the address: each is checked as at a click.
    lookup, remembered = desk.members.find_by_email, {}
    desk.members.find_by_email = lambda *, email: remembered.setdefault(email.lower(), lookup(email=email))
    sent: list[Home] = []
    publish = desk.notifier.publish_home
    desk.notifier.publish_home = lambda home: (sent.append(home), publish(home))[1]

    desk.send("alice", desk.ask("alice", "delete", "jdoe"))
    assert _published(desk, "U0ALICE").is_admin
    desk.members.update("U0ALICE", email="alice@elsewhere.example")
    sent.clear()
    secret = desk.send("dana", desk.ask("dana", "delete", "lchen", reason="secret-reason-dana"))
    alices = _published(desk, "U0ALICE")
    assert [home.is_admin for home in sent if home.user_id == "U0ALICE"] == [False]
    assert alices.why_not.code == "not_admin" and _ids(alices.to_approve) == []
    text = text_of(blocks.home_view(alices))
    assert "Only account admins can use it" in text and "secret-reason-dana" not in text
    assert secret.id in _ids(_published(desk, "U0BOB").to_approve)  # the admins still see it


def test_approving_a_scheduled_request_updates_the_home_tabs_at_once(desk):
    request = desk.send("alice", desk.ask("alice", "delete", "jdoe", at_text="in 3h"))
    assert _ids(_published(desk, "U0BOB").to_approve) == [request.id]
    desk.approve("bob", request)
    bobs = _published(desk, "U0BOB")
    assert _ids(bobs.to_approve) == [] and _ids(bobs.scheduled) == [request.id]
    view = blocks.home_view(bobs)
    assert buttons_of(view) == ["Open the form"]
    assert "Scheduled" in text_of(view) and request.id in text_of(view)
    desk.later(timedelta(hours=1))
    assert desk.get(request).state is S.APPROVED  # nothing ran: the tabs changed at the approval
