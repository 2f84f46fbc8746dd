"""The users of one request, worked on in waves, with their progress reported at a calm pace.

A wave is up to `wave` users run side by side. Each user's run stops whenever it needs its user read (before
its first change, after each change); once every run of the wave has stopped, their reads are answered together
(bot/service/reads.py: one filtered list call where the console has one) and the runs go on. So a wave of 25
users costs one read before its changes and one after each, not one per user: at the console's rate limit the
calls saved are time saved."""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime

from bot.ambient import LeaseLost, background_work
from bot.domain.records import OffboardRequest, Target, TargetOutcome
from bot.service.reads import Read, Reply, Steps, advance
from bot.service.steps import TargetRun

log = logging.getLogger(__name__)
PROGRESS_EVERY = 1.0  # seconds: a running request's progress is reported at most this often
WAVE = 25  # users whose reads are answered together


@dataclass(frozen=True)
class _Ended:
    due: datetime | None  # when the user's next stage is due, if it waits for one


class Batch:
    """Runs every pending user of an executing request, `wave` users at a time and up to `workers` of them at
    once, each one's steps in order."""

    def __init__(self, targets: TargetRun, *, workers: int = 1, wave: int = WAVE,
                 progress_every: float = PROGRESS_EVERY, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._targets = targets
        self._workers = max(1, workers)
        self._wave = max(1, wave)
        self._progress_every = progress_every
        self._monotonic = monotonic

    def run(self, request: OffboardRequest, *, keep_going: Callable[[], bool] = lambda: True,
            on_progress: Callable[[], None] = lambda: None) -> list[datetime]:
        """Run the pending users as far as they are due; return when the ones waiting for a later stage are due.

        A failure of one user is recorded on it and the others go on. An error of our own (the database away,
        the lease lost: `keep_going` said no) stops new waves from starting and is raised once the wave's
        other users stop; users not started stay pending for whoever resumes the request. `on_progress` is
        called at most every `progress_every` seconds while users finish."""
        pending = [target for target in request.targets if target.outcome is TargetOutcome.PENDING]
        if not pending:
            return []
        pace = _Pace(on_progress, every=self._progress_every, monotonic=self._monotonic)
        dues: list[datetime] = []
        with background_work(), ThreadPoolExecutor(max_workers=min(self._workers, self._wave, len(pending)),
                                                   thread_name_prefix=f"offboard-{request.id}") as pool:
            for start in range(0, len(pending), self._wave):
                dues += self._run_wave(request, pending[start:start + self._wave], keep_going, pool, pace)
        return dues

    def _run_wave(self, request: OffboardRequest, targets: list[Target], keep_going: Callable[[], bool],
                  pool: ThreadPoolExecutor, pace: _Pace) -> list[datetime]:
        """Run the wave's users to their end, answering their reads together each time they all wait for one."""
        runs: dict[int, Steps] = {target.id: self._targets.steps(request, target, keep_going) for target in targets}
        replies: dict[int, Reply] = {}
        dues: list[datetime] = []
        errors: list[BaseException] = []
        while runs:
            futures = {pool.submit(contextvars.copy_context().run, _advance, runs[key], replies.get(key)): key
                       for key in runs}
            pace.wait(futures)
            asked: dict[int, Read] = {}
            for future, key in futures.items():
                error = future.exception()
                if error is not None:
                    errors.append(error)
                    del runs[key]
                elif isinstance(outcome := future.result(), _Ended):
                    del runs[key]
                    if outcome.due is not None:
                        dues.append(outcome.due)
                else:
                    asked[key] = outcome
            replies = self._targets.reads.answer(asked)
        if errors:
            raise next((error for error in errors if isinstance(error, LeaseLost)), errors[0])
        return dues


def _advance(steps: Steps, reply: Reply) -> Read | _Ended:
    try:
        return advance(steps, reply)
    except StopIteration as ended:
        return _Ended(ended.value)


class _Pace:
    """Calls on_progress when users ended since the last call, at most every `every` seconds."""

    def __init__(self, on_progress: Callable[[], None], *, every: float, monotonic: Callable[[], float]) -> None:
        self._on_progress = on_progress
        self._every = every
        self._monotonic = monotonic
        self._last = monotonic()
        self._unreported = False

    def wait(self, futures: dict[Future, int]) -> None:
        """Wait for the futures, reporting progress as users end meanwhile."""
        running = set(futures)
        while running:
            finished, running = wait(running, timeout=self._every, return_when=FIRST_COMPLETED)
            self._unreported = self._unreported or any(
                future.exception() is None and isinstance(future.result(), _Ended) for future in finished)
            if self._unreported and self._monotonic() - self._last >= self._every:
                self._report()

    def _report(self) -> None:
        self._last = self._monotonic()
        self._unreported = False
        try:
            self._on_progress()
        except Exception:  # progress is for show: it never stops the run
            log.warning("could not report progress", exc_info=True)
