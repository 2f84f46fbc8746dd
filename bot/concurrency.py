"""A thread pool that can tell when all the work it was given is finished."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

_BACKGROUND = contextvars.ContextVar("offboard_background", default=False)


@contextmanager
def background_work() -> Iterator[None]:
    """Mark what runs inside as background work (running an approved request): where a shared limit makes
    callers queue, such as the console's rate limit, people waiting on a command or a click go first."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


def is_background() -> bool:
    return _BACKGROUND.get()


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
