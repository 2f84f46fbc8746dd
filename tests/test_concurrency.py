"""The fair queue in front of the console lane's pool: one piece per member at a time, members taking turns."""

from __future__ import annotations

import threading

from bot.concurrency import FairQueue, TrackedExecutor


def test_members_take_turns_and_each_runs_one_piece_at_a_time():
    pool = TrackedExecutor(max_workers=1, name="fair-test")
    queue = FairQueue(pool)
    gate = threading.Event()
    order: list[str] = []
    queue.submit("dana", lambda: (gate.wait(5), order.append("dana 1")))
    queue.submit("dana", order.append, "dana 2")
    queue.submit("dana", order.append, "dana 3")
    queue.submit("bob", order.append, "bob 1")
    assert queue.queued("dana") == 3
    gate.set()
    assert pool.wait_idle(5)
    assert order == ["dana 1", "bob 1", "dana 2", "dana 3"]
    assert queue.queued("dana") == 0
    pool.shutdown()


def test_a_member_never_has_two_pieces_running_even_with_idle_threads():
    pool = TrackedExecutor(max_workers=4, name="fair-test")
    queue = FairQueue(pool)
    running, most = [0], [0]
    lock = threading.Lock()

    def piece() -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        threading.Event().wait(0.02)
        with lock:
            running[0] -= 1

    for _ in range(5):
        queue.submit("dana", piece)
    assert pool.wait_idle(5)
    assert most[0] == 1
    pool.shutdown()
