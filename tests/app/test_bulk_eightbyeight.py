"""Bulk offboarding against the fake 8x8 server, which enforces the published limits with 429s: the bot keeps
the API busy without one 429, spends close to the fewest calls per user the API allows (reading users back
many at a time), still checks every user before and after its change, shows calm progress, and never makes
another admin wait behind a long request."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from bot.console.eightbyeight.client import Polling
from bot.console.eightbyeight.limits import ApiLimits
from bot.domain.lifecycle import RequestState
from bot.domain.records import TargetOutcome
from bot.simulators.eightbyeight.fake import FakeEightByEight
from bot.simulators.eightbyeight.model import Limits
from bot.simulators.eightbyeight.users import make_user
from bot.simulators.harness import App, U, serve, text_of
from tests.console.eightbyeight.test_console import console_for, seed

USERS = 40
# The published limits, scaled down in time so a test finishes in seconds: the fake enforces exactly these.
FAKE_LIMITS = Limits(requests=60, period=3.0, burst=20, burst_period=1.0, operations=4)
BOT_LIMITS = ApiLimits(requests=60, period=3.0, burst=20, burst_period=1.0, operations=4)


def _bulk_user(number: int) -> dict:
    return make_user(f"bulk{number:03}", f"bulk{number:03}@example.com", licenses=["X Series X4"],
                     extensions=[{"extensionNumber": f"5{number:03}", "phoneNumbers": [f"+1415666{number:04}"]}])


@pytest.fixture
def fake() -> Iterator[FakeEightByEight]:
    with FakeEightByEight(limits=FAKE_LIMITS, operation_delay=0.05) as fake:
        seed(fake)
        for number in range(USERS):
            fake.add_user(_bulk_user(number))
        yield fake
        assert not fake.bugs


@pytest.fixture
def app(slack, tmp_path, clock, fake) -> Iterator[App]:
    console = console_for(fake, limits=BOT_LIMITS, polling=Polling())  # the real schedule: one poll an operation
    with serve(slack, clock, tmp_path, console=console, state=fake) as app:
        yield app


def _wait_for(condition, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _kinds(requests) -> Counter:
    def kind(request) -> str:
        if "/operations/" in request.path:
            return "poll"
        if request.method == "GET":
            return "list" if request.path.endswith("/users") else "get"
        return request.method.lower()

    return Counter(kind(request) for request in requests)


def test_a_bulk_delete_stays_within_the_limits_and_spends_few_calls_per_user(app):
    fake = app.console
    names = " ".join(f"bulk{number:03}" for number in range(USERS))
    before = len(fake.requests)
    app.command("alice", f"delete {names} --reason team closed")
    lookups = _kinds(fake.requests[before:])
    assert lookups == {"list": 2}  # 40 users looked up in two filtered list calls, not 40 or 80
    app.press("alice", "Request approval", offboard_checklist="box-1")
    request_id = app.request_id()
    # (every user's plan is in a file in the approval message's thread)
    top = [message for message in app.slack.messages("C0APPROVALS") if not message.thread_ts]
    assert "approval of 2 admins" in text_of(top[-1])  # more than bulk_over users: two approvers
    app.press("bob", "Approve")
    started = len(fake.requests)
    app.press("dana", "Approve")

    finished = app.container.store.get(request_id)
    assert finished.state is RequestState.DONE
    assert fake.throttled == 0
    run = _kinds(fake.requests[started:])
    assert run["put"] == USERS and run["delete"] == USERS and run["poll"] == 2 * USERS
    # Two waves (25 and 15 users), each re-read with one list call before its changes and one after the PUTs;
    # not a GET each. The delete's finished operation is its proof: no read after it.
    assert run["get"] == 0 and run["list"] == 4
    assert (sum(run.values()) + lookups["list"]) / USERS <= 4.3  # polls included; the physical minimum is 4
    users = {u["basicInfo"]["userName"] for u in fake.users()}
    assert not any(name.startswith("bulk") for name in users)
    order = [(kind, user) for kind, user in fake.applied]
    for user_id in {user for _, user in order}:
        assert [kind for kind, user in order if user == user_id] == ["UPDATE", "DELETE"]


def test_progress_is_shown_on_one_message_at_a_calm_pace(app):
    names = " ".join(f"bulk{number:03}" for number in range(USERS))
    app.command("alice", f"delete {names}")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    request_id = app.request_id()
    app.press("bob", "Approve")
    began = time.monotonic()
    app.press("dana", "Approve")
    seconds = time.monotonic() - began
    request = app.container.store.get(request_id)
    message = app.slack.message(request.message_channel, request.message_ts)
    shown = [version.text + str(version.blocks) for version in message.history]
    counts = [int(found) for text in shown for found in re.findall(rf"(\d+)/{USERS} done", text)]
    assert any(0 < done < USERS for done in counts), f"the message shows how far the run got midway: {counts}"
    updates = [call for call in app.slack.calls("chat.update") if call.params.get("ts") == request.message_ts]
    assert len(updates) <= seconds + 4  # about one a second, plus the state changes


def test_a_long_request_never_makes_another_admin_wait(app):
    names = " ".join(f"bulk{number:03}" for number in range(USERS))
    app.command("alice", f"delete {names}")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    request_id = app.request_id()
    app.press("bob", "Approve")
    app.workspace.press(U["dana"], "Approve")  # starts the run; not waiting for it
    store = app.container.store
    _wait_for(lambda: any(t.outcome is TargetOutcome.DONE for t in store.get(request_id).targets))

    app.workspace.slash(U["bob"], "delete jdoe")  # bob's own request, while the console is kept busy
    _wait_for(lambda: any("Plan: Delete jdoe" in text for text in app.ephemeral_texts("bob")))
    assert store.get(request_id).state is RequestState.EXECUTING, "bob got his plan while the bulk run went on"
    app.settle()
    assert store.get(request_id).state is RequestState.DONE
    assert app.console.throttled == 0


def test_mixed_outcomes_then_a_retry_of_just_the_failed_users(app):
    fake = app.console
    names = " ".join(f"bulk{number:03}" for number in range(12))
    ids = {u["basicInfo"]["userName"]: u["basicInfo"]["userId"] for u in fake.users()}
    fake.fail_next("DELETE", f"/users/{ids['bulk003']}", status=400)  # refused for good: the user stays
    fake.fail_next("PUT", f"/users/{ids['bulk007']}", status=400)  # licenses kept, so no delete either
    app.command("alice", f"delete {names} --reason office closed")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    request_id = app.request_id()
    app.press("bob", "Approve")
    app.press("dana", "Approve")

    finished = app.container.store.get(request_id)
    assert finished.state is RequestState.FAILED
    failed = sorted(t.plan.username for t in finished.targets if t.outcome is not TargetOutcome.DONE)
    assert failed == ["bulk003", "bulk007"]
    assert fake.throttled == 0
    results = app.channel_texts("C0RESULTS")[-1]
    assert results.index("bulk003") < results.index("bulk000")  # failures first
    named = {f"bulk{n:03}" for n in range(12)}
    assert {u["basicInfo"]["userName"] for u in fake.users()} & named == {"bulk003", "bulk007"}

    app.workspace.press(U["dana"], "Retry the 2 failed users", channel_id="C0RESULTS")
    app.settle()
    [retry] = app.container.store.list(states=[RequestState.DRAFT], limit=5)
    assert retry.requester_id == U["dana"] and retry.retry_of == request_id
    assert "Retry of the users that failed in " + request_id in app.last_ephemeral("dana")
    assert sorted(target.plan.username for target in retry.targets) == ["bulk003", "bulk007"]
    app.press("dana", "Request approval", offboard_checklist="box-1")
    app.press("alice", "Approve")
    assert app.container.store.get(retry.id).state is RequestState.DONE
    assert not {u["basicInfo"]["userName"] for u in fake.users()} & {"bulk003", "bulk007"}
