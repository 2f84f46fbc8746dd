"""A thread pool that can tell when all the work it was given is finished."""

from __future__ import annotations

import contextvars
import gc
import threading
import time
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
