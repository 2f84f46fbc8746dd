"""Acks never wait for work: a command or click is acked by Bolt's listener, and what it does after (the
console, the database, the answer) runs on a pool of its own, after the requests still waiting for theirs."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bot.concurrency import InFlight
from bot.simulators.harness import U


def test_a_command_is_acked_while_the_console_is_still_being_asked(app):
    console_answers = threading.Event()
    app.faults.hold("find_user", until=console_answers)
    delivery = app.workspace.slash(U["alice"], "delete jdoe")
    assert delivery.status == 200
    assert app.ephemeral_texts("alice") == []  # acked; the plan is still being made
    console_answers.set()
    app.settle()
    assert "Plan: Delete jdoe" in app.last_ephemeral("alice")


def test_a_burst_of_commands_is_acked_even_when_all_their_work_is_stuck(app):
    """Bolt runs listeners on a pool; if the work held those threads, acks past the pool's size would wait
    for it and Slack would show errors. Here the work cannot finish until every ack has come back."""
    stuck = threading.Event()
    app.faults.hold("find_user", until=stuck)
    try:
        with ThreadPoolExecutor(max_workers=40) as senders:
            deliveries = list(senders.map(lambda _: app.workspace.slash(U["alice"], "delete jdoe"), range(40)))
        assert [delivery.status for delivery in deliveries] == [200] * 40
        assert app.ephemeral_texts("alice") == []
    finally:
        stuck.set()
    app.settle()
    assert len([text for text in app.ephemeral_texts("alice") if "Plan: Delete jdoe" in text]) >= 1


def test_work_waits_for_requests_in_flight_but_not_for_ever():
    in_flight = InFlight(settle=0.0)
    with in_flight:
        released = threading.Event()

        def worker() -> None:
            in_flight.wait_quiet(10)
            released.set()

        thread = threading.Thread(target=worker)
        thread.start()
        assert not released.wait(0.1)  # a request is still waiting for its answer
    thread.join(5)
    assert released.is_set()  # it was answered: the work goes ahead

    with in_flight:  # a request that never ends holds work back only up to the timeout
        in_flight.wait_quiet(0.05)


def test_forms_open_at_once_even_while_every_answer_thread_waits_on_the_console(app):
    stuck = threading.Event()
    app.faults.hold("find_user", until=stuck)
    try:
        for who in ("alice", "dana", "alice"):  # more slow requests than there are answer threads
            assert app.workspace.slash(U[who], "delete jdoe").status == 200
        assert app.workspace.slash(U["bob"], "").status == 200  # the form: its trigger id lives 3 s
        deadline = time.monotonic() + 10  # well past the trigger id's life: it opened in time or never will
        while not app.slack.views(user_id=U["bob"]) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [view.callback_id for view in app.slack.views(user_id=U["bob"])] == ["offboard_new_request"]
    finally:
        stuck.set()
    app.settle()
