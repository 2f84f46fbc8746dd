"""Calls started at the same instant: two admins clicking Approve together, a double click, racing writers."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_together(*calls: Callable[[], object]) -> list[object]:
    """Start every call at the same instant on its own thread; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
