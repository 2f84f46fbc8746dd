"""Thread pools that can tell when all the work they were given is finished, and a fair queue in front of one."""

from __future__ import annotations

import contextvars
import gc
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor


class TrackedExecutor(ThreadPoolExecutor):
    """A pool whose wait_idle() lets the shell and tests wait until all submitted work has finished.

    Work runs in a copy of the submitter's context, so it logs under the same request id."""

    def __init__(self, *, max_workers: int, name: str) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=f"offboard-{name}")
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._idle:
            self._pending += 1
        future = super().submit(contextvars.copy_context().run, fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    @property
    def pending(self) -> int:
        """Work submitted and not finished yet: queued or running."""
        with self._idle:
            return self._pending

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no submitted work is left; False when timeout passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)


class FairQueue:
    """Work queued per key (a member), taking turns on a shared pool: one piece of a key's work runs at a time,
    and a key's next piece goes to the back of the pool's queue when its last one ends. So a member who pastes
    three 500-name lists has one worked on at once, and another member's command goes before the second.

    Each piece runs in a copy of its submitter's context, as TrackedExecutor's do; the pool's wait_idle
    covers the queue (a key's next piece is handed over before its last one ends)."""

    def __init__(self, pool: TrackedExecutor) -> None:
        self._pool = pool
        self._lock = threading.Lock()
        self._queues: dict[Hashable, deque[Callable[[], None]]] = {}

    def submit(self, key: Hashable, fn: Callable[..., None], /, *args, **kwargs) -> None:
        context = contextvars.copy_context()
        with self._lock:
            queue = self._queues.setdefault(key, deque())
            queue.append(lambda: context.run(fn, *args, **kwargs))
            first = len(queue) == 1
        if first:
            self._pool.submit(self._run_next, key)

    def queued(self, key: Hashable) -> int:
        """Pieces of the key's work not finished yet (the running one included)."""
        with self._lock:
            return len(self._queues.get(key, ()))

    def _run_next(self, key: Hashable) -> None:
        with self._lock:
            piece = self._queues[key][0]
        try:
            piece()
        finally:
            with self._lock:
                queue = self._queues[key]
                queue.popleft()
                more = bool(queue)
                if not more:
                    del self._queues[key]
            if more:
                self._pool.submit(self._run_next, key)


class InFlight:
    """Counts requests being handled until they are answered, so that other work can let them go first.

    The composition root makes one per app: the HTTP server counts the Slack requests it has not answered
    yet, and the work a command or click does after its ack waits for them (bot.container, handlers)."""

    def __init__(self, *, settle: float = 0.05) -> None:
        self._count = 0
        self._idle_since = time.monotonic()
        self._settle = settle  # quiet this long before work goes ahead: requests tend to come in bursts
        self._changed = threading.Condition()

    def __enter__(self) -> InFlight:
        with self._changed:
            self._count += 1
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._changed:
            self._count -= 1
            if self._count == 0:
                self._idle_since = time.monotonic()
            self._changed.notify_all()

    def wait_quiet(self, timeout: float) -> None:
        """Return once no request has been waiting for its answer for a moment, or after timeout seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while (left := deadline - time.monotonic()) > 0:
                if self._count == 0:
                    quiet_for = time.monotonic() - self._idle_since
                    if quiet_for >= self._settle:
                        return
                    left = min(left, self._settle - quiet_for)
                self._changed.wait(left)



def freeze_startup_objects() -> None:
    """Call once the app is built, before serving: what start-up made lives as long as the process, so the
    garbage collector is told to leave it alone. Its full collections then walk only what requests made,
    which took a full collection from over 100 ms (an ack waiting behind it) to a few."""
    gc.collect()
    gc.freeze()
