"""The client's own throttle, under a controllable clock: both windows, pauses and operation slots."""

from __future__ import annotations

import threading

from bot.console.eightbyeight.limits import ApiLimits, Throttle


class Time:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def _throttle(time: Time, **limits) -> Throttle:
    return Throttle(ApiLimits(**limits), monotonic=time.monotonic, sleep=time.sleep)


def _send(throttle: Throttle, time: Time, count: int) -> list[float]:
    """Acquire `count` slots back to back (answers arriving at once); return when each was granted."""
    granted = []
    for _ in range(count):
        ticket = throttle.acquire()
        granted.append(round(time.now, 3))
        throttle.answered(ticket)
    return granted


def test_the_burst_window_spaces_requests():
    time = Time()
    throttle = _throttle(time, requests=100, period=60, burst=3, burst_period=10)
    assert _send(throttle, time, 7) == [0, 0, 0, 10, 10, 10, 20]


def test_the_long_window_binds_when_it_is_the_tighter_one():
    time = Time()
    throttle = _throttle(time, requests=4, period=60, burst=3, burst_period=10)
    assert _send(throttle, time, 5) == [0, 0, 0, 10, 60]


def test_a_slot_counts_until_the_answer_arrived():
    time = Time()
    throttle = _throttle(time, requests=100, period=60, burst=1, burst_period=10)
    ticket = throttle.acquire()
    time.now = 4.0  # a slow answer: the server may have counted the request as late as now
    throttle.answered(ticket)
    throttle.acquire()
    assert time.now == 14.0


def test_a_pause_holds_everyone_back():
    time = Time()
    throttle = _throttle(time)
    throttle.pause(7)
    throttle.acquire()
    assert time.now == 7.0


def test_operation_slots_are_shared_and_bounded():
    throttle = Throttle(ApiLimits(operations=2))
    inside, peak, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def run() -> None:
        with throttle.operation():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            release.wait(0.2)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert peak[0] == 2


def test_an_admin_waiting_for_a_slot_goes_before_a_running_request():
    from bot.ambient import background_work

    throttle = Throttle(ApiLimits(requests=1, period=0.3, burst=100, burst_period=1.0))
    throttle.answered(throttle.acquire())  # the window is full for the next 0.3 s
    granted: list[str] = []

    def take(who: str) -> None:
        throttle.answered(throttle.acquire())
        granted.append(who)

    def background() -> None:
        with background_work():
            take("running request")

    running = threading.Thread(target=background)
    running.start()  # waiting first...
    threading.Event().wait(0.05)
    admin = threading.Thread(target=take, args=("admin",))
    admin.start()  # ...yet the admin who came later gets the slot that frees up
    running.join(5)
    admin.join(5)
    assert granted == ["admin", "running request"]


def test_a_request_still_in_flight_keeps_its_slot_past_the_window():
    time = Time()
    throttle = _throttle(time, requests=100, period=60, burst=1, burst_period=10)
    ticket = throttle.acquire()
    time.now = 30.0  # three windows later the answer has not come: the server may count it any moment

    def answer_when_late(seconds: float) -> None:
        Time.sleep(time, seconds)
        if time.now >= 35.0 and ticket.in_flight:
            throttle.answered(ticket)  # the answer arrives at 35

    throttle._sleep = answer_when_late
    throttle.acquire()
    assert 45.0 <= time.now <= 45.02  # counted from the answer (give or take one look), never from the send


def test_a_glance_takes_a_slot_only_while_the_windows_are_less_than_half_full_and_never_waits():
    import pytest

    from bot.ambient import at_a_glance
    from bot.errors import ConsoleBusy

    time = Time()
    throttle = _throttle(time, requests=100, period=60, burst=4, burst_period=10)
    with at_a_glance():
        _send(throttle, time, 2)  # half of the burst
        with pytest.raises(ConsoleBusy):
            throttle.acquire()
    assert time.sleeps == []  # nobody slept
    assert _send(throttle, time, 2) == [0, 0]  # the other half is there for commands and runs


def _served_in_turn() -> list[str]:
    """bob starts waiting for a full window, then five callers from dana's lists one after the other; the test
    frees one slot at a time and returns who got each."""
    clock = {"now": 0.0}
    throttle = Throttle(ApiLimits(requests=1000, period=60, burst=1, burst_period=10),
                        monotonic=lambda: clock["now"], sleep=lambda seconds: threading.Event().wait(0.001))
    throttle.answered(throttle.acquire())  # the window is full until 10
    granted: list[str] = []

    def caller(name: str) -> None:
        throttle.answered(throttle.acquire())
        granted.append(name)

    def until(condition) -> None:
        for _ in range(5000):
            if condition():
                return
            threading.Event().wait(0.001)
        raise AssertionError("the callers never got there")

    threads = [threading.Thread(target=caller, args=("bob",))]
    threads[0].start()
    until(lambda: throttle.queued == 1)
    for number in range(5):
        threads.append(threading.Thread(target=caller, args=(f"dana {number}",)))
        threads[-1].start()
        until(lambda number=number: throttle.queued == number + 2)
    for slot in range(6):
        clock["now"] = 10.5 * (slot + 1)  # one more slot frees up
        until(lambda slot=slot: len(granted) == slot + 1)
    for thread in threads:
        thread.join(10)
    return granted


def test_admins_who_wait_take_the_slots_in_turn():
    """bob's look-up has waited longest when a slot frees up: it gets that slot, however many callers from
    dana's long lists started waiting after him, and they are served in the order they came (under a clock
    that only the test moves; three rounds, as a race could hand out the slots in that order by chance)."""
    for _ in range(3):
        assert _served_in_turn() == ["bob", "dana 0", "dana 1", "dana 2", "dana 3", "dana 4"]
