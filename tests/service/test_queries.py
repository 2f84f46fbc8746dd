"""Reading: a request's status, the open requests, and the form's user picker (admins only)."""

from __future__ import annotations

import threading

import pytest

from bot.domain.lifecycle import RequestState
from bot.domain.records import StepStatus
from bot.errors import ConsoleBusy, Refusal
from bot.slack import blocks
from bot.slack.messages.refusals import refusal_text
from tests.service.helpers import nothing_changed, text_of

S = RequestState


def test_the_status_of_a_request_that_does_not_exist(desk):
    with pytest.raises(Refusal) as raised:
        desk.service.queries.status(actor=desk.actor("alice"), request_id="OB-NOTHERE1")
    assert (raised.value.code, raised.value.request_id) == ("not_found", "OB-NOTHERE1")
    assert "There is no request OB-NOTHERE1" in refusal_text(raised.value)
    assert desk.store.list() == []
    nothing_changed(desk)


def test_the_open_requests_and_a_finished_requests_status(desk):
    queries, bob = desk.service.queries, desk.actor("bob")
    request = desk.send("alice", desk.ask("alice", "delete", "jdoe"))
    assert [listed.id for listed in queries.open_requests(actor=bob)] == [request.id]
    desk.approve("bob", request)
    desk.jobs.drain()
    status = queries.status(actor=bob, request_id=request.id)
    assert status.state is S.DONE
    assert [(step.kind.value, step.status) for step in status.targets[0].steps] == [
        ("release_licenses", StepStatus.DONE), ("delete", StepStatus.DONE)]
    shown = text_of(blocks.status_message(status))
    assert "Done" in shown and "delete: done" in shown
    assert queries.open_requests(actor=bob) == []
    assert "No open requests" in text_of(blocks.list_message([]))


def test_only_admins_may_list(desk):
    with pytest.raises(Refusal) as raised:
        desk.service.queries.open_requests(actor=desk.actor("carol"))
    assert raised.value.code == "not_admin"


def test_the_user_picker_searches_the_console_for_admins_only(desk):
    queries = desk.service.queries
    found = queries.search_console(actor=desk.actor("alice"), text=" doe ")
    assert "jdoe@example.com" in [user.email for user in found]
    options = blocks.user_options(found)["options"]
    assert all("doe" in option["text"]["text"].lower() for option in options)
    assert queries.search_console(actor=desk.actor("alice"), text="  ") == []
    for refused in (lambda: queries.search_console(actor=desk.actor("jdoe"), text="doe"),  # a forged search
                    lambda: queries.ensure_admin(actor=desk.actor("jdoe"))):  # the form does not even open
        with pytest.raises(Refusal) as raised:
            refused()
        assert raised.value.code == "not_admin" and "Only account admins" in refusal_text(raised.value)


def test_the_user_picker_answers_from_the_users_it_has_seen_when_the_console_is_busy(desk):
    queries, alice = desk.service.queries, desk.actor("alice")
    assert "jdoe" in [user.username for user in queries.search_console(actor=alice, text="doe")]
    desk.console.fail_next("search_users", ConsoleBusy("busy"))
    assert "jdoe" in [user.username for user in queries.search_console(actor=alice, text="JDo")]
    desk.console.fail_next("search_users", ConsoleBusy("busy"))
    assert queries.search_console(actor=alice, text="never-seen") == []


def test_a_member_typing_again_before_the_answer_gets_what_is_known_without_a_second_search(desk):
    queries, alice = desk.service.queries, desk.actor("alice")
    queries.search_console(actor=alice, text="doe")
    entered, release = threading.Event(), threading.Event()
    desk.console.before("search_users", lambda: (entered.set(), release.wait(10)))
    first = threading.Thread(target=queries.search_console, kwargs={"actor": alice, "text": "jdoe"})
    first.start()
    try:
        assert entered.wait(10)
        again = queries.search_console(actor=alice, text="jdoe")  # answered at once, from what is known
    finally:
        release.set()
        first.join(10)
    assert [user.username for user in again] == ["jdoe"]
