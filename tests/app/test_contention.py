"""Several admins at once while the console is busy (issue 15, findings 2 to 4), through signed HTTP into the real
app on the fake 8x8: a decision never waits behind console work, a Cancel pressed before a run's time wins, and the
form's user picker never holds a listener thread waiting for the console's rate limit.

Console work is held inside the fake 8x8 (`hold_requests`) rather than timed, so each story is decided by order,
not by how fast this machine is; the figures under load are bench/contention.py's."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.domain.lifecycle import RequestState
from bot.simulators.eightbyeight.fake import FakeEightByEight
from bot.simulators.eightbyeight.model import Limits
from bot.simulators.eightbyeight.users import make_user
from bot.simulators.harness import App, U, serve_eightbyeight
from tests.console.eightbyeight.test_console import seed

BURST = 6  # the fake's and the bot's burst limit here: a few keystrokes reach it
SETTLED = 10.0  # seconds a decision may take to be committed before the test gives up (it takes milliseconds)


@pytest.fixture
def fake(eightbyeight: FakeEightByEight) -> FakeEightByEight:
    seed(eightbyeight)
    for number in range(30):
        eightbyeight.add_user(make_user(f"leaver{number:02}", f"leaver{number:02}@example.com",
                                        first_name="Lee", last_name=f"Aver{number:02}"))
    return eightbyeight


@pytest.fixture
def app(slack, tmp_path, clock, fake) -> Iterator[App]:
    with serve_eightbyeight(slack, clock, tmp_path, fake) as app:
        yield app


@pytest.fixture
def tight_app(slack, tmp_path, clock, fake) -> Iterator[App]:
    """The same with a burst limit a few keystrokes reach, on both sides."""
    fake.limits = Limits(requests=100, period=60.0, burst=BURST, burst_period=10.0, operations=10)
    with serve_eightbyeight(slack, clock, tmp_path, fake, eightbyeight_burst_limit=BURST) as app:
        yield app


def _soon(condition) -> bool:
    """Whether condition() becomes true within SETTLED seconds (it takes milliseconds when nothing is wrong)."""
    deadline = time.monotonic() + SETTLED
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _committed(app: App, request_id: str, state: RequestState) -> bool:
    return _soon(lambda: app.container.store.get(request_id).state is state)


def _lists_held_in_the_console(app: App, fake: FakeEightByEight, release: threading.Event, lists: int) -> None:
    """dana pastes `lists` deactivate commands naming many users; every console call they make is held."""
    fake.hold_requests(until=release)
    names = " ".join(f"leaver{number:02}" for number in range(30))
    for _ in range(lists):
        app.workspace.slash(U["dana"], f"deactivate {names}")  # acked at once; the lookups wait in the console
    assert _soon(lambda: fake.held >= 1), "dana's lookups never reached the console"


def _scheduled_delete(app: App, fake: FakeEightByEight, *, at: str = "in 1h") -> str:
    app.command("bob", f"delete jdoe --at {at}")
    app.press("bob", "Request approval", offboard_checklist="box-1")
    request_id = app.request_id("bob")
    app.press("dana", "Approve")
    assert app.container.store.get(request_id).state is RequestState.APPROVED
    return request_id


def test_a_cancel_pressed_before_the_run_wins_while_the_console_is_busy_with_other_lists(app, fake):
    request_id = _scheduled_delete(app, fake)
    release = threading.Event()
    try:
        _lists_held_in_the_console(app, fake, release, lists=3)
        app.workspace.slash(U["alice"], f"cancel {request_id}")  # the primary admin calls it off
        cancelled = _committed(app, request_id, RequestState.CANCELLED)
        app.clock.advance(timedelta(hours=1, minutes=1))
        app.container.sweeper.sweep()  # the run's time comes: it must find the request cancelled
    finally:
        release.set()
    app.settle()
    assert cancelled, "the Cancel waited behind dana's console lookups"
    assert app.container.store.get(request_id).state is RequestState.CANCELLED
    assert [r for r in fake.requests if r.method in ("PUT", "DELETE")] == []


def test_an_approval_takes_effect_while_another_admins_lists_wait_for_the_console(app, fake):
    app.command("bob", "delete jdoe")
    app.press("bob", "Request approval", offboard_checklist="box-1")
    request_id = app.request_id("bob")
    release = threading.Event()
    try:
        _lists_held_in_the_console(app, fake, release, lists=3)
        app.workspace.press(U["alice"], "Approve")
        approved = _soon(lambda: app.container.store.get(request_id).state is not RequestState.AWAITING_APPROVAL)
    finally:
        release.set()
    app.settle()
    assert approved, "alice's Approve waited behind dana's console lookups"


def test_another_admins_command_goes_before_the_second_of_three_long_lists(app, fake):
    release = threading.Event()
    try:
        _lists_held_in_the_console(app, fake, release, lists=3)
        app.workspace.slash(U["bob"], "delete msmith")  # bob's lookup must not queue behind dana's other lists
        reached = _soon(lambda: any("msmith" in held for held in list(fake.holding)))
    finally:
        release.set()
    app.settle()
    assert reached, "bob's lookup waited behind dana's lists"
    assert any("msmith" in text for text in app.ephemeral_texts("bob"))


def test_the_user_picker_never_waits_for_the_rate_limit_and_answers_from_what_it_has_seen(tight_app, fake):
    app = tight_app
    app.workspace.slash(U["alice"], "")  # opens the form
    app.settle()
    throttle = app.container.console.client.throttle
    typed = ["le", "lea", "leav", "leave", "leaver", "leaver0", "leaver01", "leaver1", "leaver2", "leaver25",
             "lee", "aver", "aver0", "aver1", "aver2", "jd", "jdo", "jdoe", "leaver29", "leaver03"]
    answers = []
    for text in typed:
        delivery = app.workspace.suggest(U["alice"], "offboard_pick_users", text)
        answers.append((text, delivery))
    help_for_bob = app.workspace.slash(U["bob"], "help")
    app.settle()
    assert throttle.waited == 0, f"a keystroke waited {throttle.waited:.1f} s for the rate limit"
    assert all(delivery.status == 200 for _, delivery in answers)
    assert help_for_bob.status == 200
    searches = [r for r in fake.requests if r.method == "GET"]
    assert len(searches) <= BURST // 2, "the picker took more than half of the burst budget"
    offered = {text: [option["value"] for option in (delivery.json or {}).get("options", [])]
               for text, delivery in answers}
    assert offered["le"], "the first keystroke was searched on the console"
    assert any(offered[text] for text in typed[BURST:]), "later keystrokes were answered from the users seen"
