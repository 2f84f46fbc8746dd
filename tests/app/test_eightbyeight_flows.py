"""Every flow of the core workflow with OFFBOARD_CONSOLE=8x8, against the stateful fake 8x8 server,
through signed Slack requests into the real app: the order on the wire and the manual-step fallback.
Faults while a request runs are in tests/app/test_fault_matrix.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.console.eightbyeight import mapping
from bot.domain.directory import UserStatus
from bot.domain.lifecycle import RequestState
from bot.domain.notes import Why
from bot.simulators.eightbyeight.fake import FakeEightByEight
from bot.simulators.harness import App, serve, serve_eightbyeight
from tests.console.eightbyeight.test_console import console_for, seed


@pytest.fixture
def fake(eightbyeight: FakeEightByEight) -> FakeEightByEight:
    return seed(eightbyeight)


@pytest.fixture
def app(slack, tmp_path, clock, fake) -> Iterator[App]:
    """Configured exactly as an admin would: OFFBOARD_CONSOLE=8x8 and the fake's address and key."""
    with serve_eightbyeight(slack, clock, tmp_path, fake) as app:
        yield app


@pytest.fixture
def quick_app(slack, tmp_path, clock, fake) -> Iterator[App]:
    """The same, with the client's waits shortened so that faults resolve in a test's time."""
    with serve(slack, clock, tmp_path, console=console_for(fake), state=fake) as app:
        yield app


def _id(fake: FakeEightByEight, username: str) -> str:
    return next(u["basicInfo"]["userId"] for u in fake.users() if u["basicInfo"]["userName"] == username)


def _sent(fake: FakeEightByEight, method: str) -> list:
    return [r for r in fake.requests if r.method == method]


def _approved(app: App, text: str) -> str:
    app.command("alice", text)
    app.press("alice", "Request approval", offboard_checklist="box-1")
    request_id = app.request_id()
    app.press("bob", "Approve")
    return request_id


def _state(app: App, request_id: str) -> RequestState:
    return app.container.store.get(request_id).state


# -- the flows ------------------------------------------------------------------------------------------

def test_delete_releases_licenses_then_deletes_in_that_order(app):
    fake = app.console
    jdoe = _id(fake, "jdoe")
    app.command("alice", "delete jdoe --reason left the company")
    preview = app.last_ephemeral("alice")
    assert "Release licenses and numbers first (X Series X4, +14155550101)" in preview
    assert "Desk phone Poly VVX 450" in preview and "Support Tier 1" in preview and "Support Overflow" in preview
    app.press("alice", "Request approval", offboard_checklist="box-1")
    request_id = app.request_id()
    app.press("bob", "Approve")
    assert _state(app, request_id) is RequestState.DONE
    assert fake.applied == [("UPDATE", jdoe), ("DELETE", jdoe)]
    assert fake.user(jdoe) is None
    put, delete = _sent(fake, "PUT")[0], _sent(fake, "DELETE")[0]
    assert put.at < delete.at
    assert "deleted successfully" in "\n".join(app.channel_texts("C0RESULTS"))
    assert fake.throttled == 0


def test_deactivate_and_reactivate(app):
    fake = app.console
    app.command("alice", "deactivate jdoe")
    app.press("alice", "Confirm")
    assert fake.user(_id(fake, "jdoe"))["basicInfo"]["status"] == "INACTIVE"
    app.command("alice", "reactivate tinactive")
    app.press("alice", "Confirm")
    assert fake.user(_id(fake, "tinactive"))["basicInfo"]["status"] == "ACTIVE"
    assert [kind for kind, _ in fake.applied] == ["UPDATE", "UPDATE"]
    assert "reactivated successfully" in "\n".join(app.channel_texts("C0RESULTS"))


def test_rename_and_the_name_already_in_use(app):
    fake = app.console
    app.command("alice", "rename jdoe jdoe.former")
    app.press("alice", "Confirm")
    assert fake.user(_id(fake, "jdoe.former"))["basicInfo"]["primaryEmail"] == "jdoe@example.com"

    app.command("alice", "rename jdoe2 JDOE.FORMER")
    assert "already in use" in app.last_ephemeral("alice")
    assert len(_sent(fake, "PUT")) == 1


def test_rename_taken_between_approval_and_execution_fails_with_the_consoles_words(app):
    fake = app.console
    app.command("alice", "rename jdoe2 johnny")
    fake.fail_operations_next("UPDATE", detail="userName already in use", status=400)
    app.press("alice", "Confirm")
    results = "\n".join(app.channel_texts("C0RESULTS"))
    assert "the username johnny is already in use" in results
    assert fake.user(_id(fake, "jdoe2"))["basicInfo"]["userName"] == "jdoe2"


def test_a_contact_center_agent_needs_the_attested_step(app):
    fake = app.console
    msmith = _id(fake, "msmith")
    app.command("alice", "delete msmith")
    assert "Contact Center" in app.last_ephemeral("alice")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    assert "The steps done by hand" in app.last_ephemeral("alice")
    app.press("alice", "Request approval", offboard_checklist="box-1,attested")
    app.press("bob", "Approve")
    assert fake.applied == [("UPDATE", msmith), ("DELETE", msmith)]


# -- PUT not available: the manual step ---------------------------------------------------------------

def _by_hand(fake: FakeEightByEight, user_id: str, change) -> None:
    """An admin changes the user in the Admin Console (here: through the API, PUT briefly allowed)."""
    mode, fake.put_unsupported = fake.put_unsupported, None
    admin = console_for(fake).client
    admin.put_user(user_id, change(admin.get_user(user_id)), doing="change the user by hand")
    fake.put_unsupported = mode


def test_put_unsupported_becomes_a_manual_step_with_recheck(app):
    fake = app.console
    fake.put_unsupported = "405"
    jdoe = _id(fake, "jdoe")
    request_id = _approved(app, "delete jdoe")
    assert _state(app, request_id) is RequestState.WAITING
    message = app.channel_texts("C0APPROVALS")[-1]
    assert "8x8 Admin Console" in message and "X Series X4" in message and "+14155550101" in message
    assert app.workspace.visible_buttons("U0BOB", channel_id="C0APPROVALS")[-2:] == ["Re-check", "Stop here"]
    assert "needs steps done by hand" in app.dm_texts("alice")[-1] and "`jdoe` (release licenses)" in app.dm_texts(
        "alice")[-1]

    app.press("bob", "Re-check")  # nothing was done yet: it keeps waiting and says so
    assert _state(app, request_id) is RequestState.WAITING
    assert "still wait to be done by hand: `jdoe` (release licenses)" in app.dm_texts("bob")[-1]

    _by_hand(fake, jdoe, mapping.without_licenses)
    app.press("bob", "Re-check")
    assert _state(app, request_id) is RequestState.DONE
    assert fake.user(jdoe) is None
    assert [put.status for put in _sent(fake, "PUT")] == [405, 202]  # ours (refused), the admin's by hand
    assert len(_sent(fake, "DELETE")) == 1
    events = app.audit_events(request_id)
    assert events.count("request.waiting") == 2 and events.count("request.recheck") == 2
    steps = {step.kind.value: step for step in app.container.store.get(request_id).targets[0].steps}
    by_hand = steps["release_licenses"].note
    assert by_hand.why is Why.DONE_BY_HAND  # and what the admin released, read back: the extension went with it
    assert (by_hand.released.numbers, by_hand.released.licenses) == (("+14155550101",), ("X Series X4",))
    assert [device.model for device in by_hand.released.devices] == ["Poly VVX 450"]


def test_recheck_stops_when_the_profile_is_no_longer_the_approved_one(app):
    fake = app.console
    fake.put_unsupported = "405"
    jdoe = _id(fake, "jdoe")
    request_id = _approved(app, "delete jdoe")

    def reused(raw):  # licenses released by hand, and the profile handed to someone else meanwhile
        body = mapping.without_licenses(raw)
        body["basicInfo"]["primaryEmail"] = "new.hire@example.com"
        return body

    _by_hand(fake, jdoe, reused)
    app.press("bob", "Re-check")
    assert _state(app, request_id) is RequestState.FAILED
    assert "changed since the approval" in "\n".join(app.channel_texts("C0RESULTS"))
    assert fake.user(jdoe) is not None and _sent(fake, "DELETE") == []


def test_recheck_does_not_finish_a_delete_whose_only_approval_no_longer_counts(app):
    """Finding 1 of issue 15: bob's approval was the only one; his Slack account is deactivated while the request
    waits for the licenses to be removed by hand. alice alone presses Re-check: nothing is deleted."""
    fake = app.console
    fake.put_unsupported = "501"
    jdoe = _id(fake, "jdoe")
    request_id = _approved(app, "delete jdoe")  # alice asks, bob approves
    assert _state(app, request_id) is RequestState.WAITING
    app.slack.update_member("U0BOB", deleted=True)
    _by_hand(fake, jdoe, mapping.without_licenses)  # the licenses are removed by hand

    app.press("alice", "Re-check")
    assert _state(app, request_id) is RequestState.CANCELLED
    assert _sent(fake, "DELETE") == [] and ("DELETE", jdoe) not in fake.applied
    assert fake.user(jdoe) is not None
    why = ("the approval of bob@example.com no longer counts (no longer an admin), so it has 0 of the 1 approvals "
           "it needs")
    assert f"*Cancelled*: {why}." in app.channel_texts("C0APPROVALS")[-1]
    assert app.workspace.visible_buttons("U0ALICE", channel_id="C0APPROVALS") == []
    assert f"Request {request_id} was called off: {why}. Nothing more was changed" in app.last_ephemeral("alice")
    told = app.dm_texts("alice")[-1]
    assert f"Your request {request_id} was called off before it carried on: {why}." in told
    assert "deleted successfully" not in "\n".join(app.channel_texts("C0RESULTS"))
    events = app.audit_events(request_id)
    assert events[events.index("request.waiting") + 1:] == ["request.cancelled"]


def test_a_manual_step_can_be_given_up(app):
    fake = app.console
    fake.put_unsupported = "operation"
    app.command("alice", "deactivate jdoe")
    app.press("alice", "Confirm")
    request_id = app.request_id()
    assert _state(app, request_id) is RequestState.WAITING
    app.press("bob", "Stop here")
    assert "Only the admin who asked" in app.last_ephemeral("bob")
    app.press("alice", "Stop here")
    assert _state(app, request_id) is RequestState.FAILED
    assert "stopped while a step waited to be done by hand" in "\n".join(app.channel_texts("C0RESULTS"))
    app.command("alice", "deactivate jdoe")  # the user is free for a new request
    assert "Plan: Deactivate jdoe" in app.last_ephemeral("alice")


def test_manual_steps_reach_the_requester_even_when_the_channel_is_unreachable(app):
    app.console.put_unsupported = "501"
    app.command("alice", "deactivate jdoe")
    app.slack.inject_failure("chat.postMessage", error="not_in_channel")  # the approvals channel refuses
    app.press("alice", "Confirm")
    request_id = app.request_id()
    assert _state(app, request_id) is RequestState.WAITING
    assert "in our direct messages" in app.dm_texts("alice")[-1]
    assert "Re-check" in app.workspace.visible_buttons("U0ALICE")  # the request itself, in the DM
    app.command("alice", f"cancel {request_id}")  # and a waiting request can always be stopped
    assert _state(app, request_id) is RequestState.FAILED


def test_users_whose_part_is_finished_are_free_while_the_request_waits(app):
    fake = app.console
    fake.put_unsupported = "405"
    app.command("alice", "deactivate jdoe jdoe2")
    # jdoe's change is refused for good; jdoe2's needs a hand
    fake.fail_next("PUT", f"/users/{_id(fake, 'jdoe')}", status=400)
    app.press("alice", "Confirm")
    request_id = app.request_id()
    assert _state(app, request_id) is RequestState.WAITING
    outcomes = {t.plan.username: t.outcome.value for t in app.container.store.get(request_id).targets}
    assert outcomes == {"jdoe": "failed", "jdoe2": "pending"}
    app.command("alice", "deactivate jdoe")
    assert "Plan: Deactivate jdoe" in app.last_ephemeral("alice")
    app.command("alice", "deactivate jdoe2")
    assert "already part of open request" in app.last_ephemeral("alice")


# -- faults while asking (those while running: test_fault_matrix.py) ---------------------------------------

def test_console_down_while_asking_changes_nothing(quick_app):
    app, fake = quick_app, quick_app.console
    fake.fail_next("GET", "/users", status=503, times=20)
    app.command("alice", "delete jdoe")
    answer = app.last_ephemeral("alice")
    assert "answered 503, 3 times in a row" in answer and "Nothing was changed" in answer
    assert app.container.store.list(limit=10) == []
    assert all(r.method == "GET" for r in fake.requests)


def test_traffic_validates_against_the_official_spec(app, openapi_8x8):
    from tests.contract_8x8 import request_problems, response_problems

    fake = app.console
    _approved(app, "delete jdoe")
    app.command("alice", "rename jdoe2 johnny")
    app.press("alice", "Confirm")
    app.command("alice", "deactivate msmith")
    app.press("alice", "Confirm")
    assert {r.method for r in fake.requests} == {"GET", "PUT", "DELETE"}
    problems = [p for r in fake.requests for p in request_problems(r) + response_problems(r)]
    assert problems == []


def test_user_status_round_trip_through_mapping(fake):
    user = fake.user(_id(fake, "jdoe"))
    assert mapping.with_status(user, UserStatus.INACTIVE)["basicInfo"]["status"] == "INACTIVE"
    assert "userId" not in mapping.writable_copy(user)["basicInfo"]
