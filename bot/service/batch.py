"""The users of one request, worked on side by side, with their progress reported at a calm pace."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime

from bot.ambient import LeaseLost, background_work
from bot.domain.records import OffboardRequest, Target, TargetOutcome
from bot.service.steps import TargetRun

log = logging.getLogger(__name__)
PROGRESS_EVERY = 1.0  # seconds: a running request's progress is reported at most this often


class Batch:
    """Runs every pending user of an executing request, up to `workers` at once, each one's steps in order."""

    def __init__(self, targets: TargetRun, *, workers: int = 1, progress_every: float = PROGRESS_EVERY,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._targets = targets
        self._workers = max(1, workers)
        self._progress_every = progress_every
        self._monotonic = monotonic

    def run(self, request: OffboardRequest, *, keep_going: Callable[[], bool] = lambda: True,
            on_progress: Callable[[], None] = lambda: None) -> list[datetime]:
        """Run the pending users as far as they are due; return when the ones waiting for a later stage are due.

        A failure of one user is recorded on it and the others go on. An error of our own (the database away,
        the lease lost: `keep_going` said no) stops new users from starting and is raised once the running
        ones stop; users not started stay pending for whoever resumes the request. `on_progress` is called at
        most every `progress_every` seconds while users finish."""
        pending = [target for target in request.targets if target.outcome is TargetOutcome.PENDING]
        with background_work():
            if len(pending) <= 1 or self._workers == 1:
                return self._one_by_one(request, pending, keep_going, on_progress)
            return self._side_by_side(request, pending, keep_going, on_progress)

    def _one_by_one(self, request: OffboardRequest, targets: list[Target], keep_going: Callable[[], bool],
                    on_progress: Callable[[], None]) -> list[datetime]:
        dues = []
        last_report = self._monotonic()
        for target in targets:
            due = self._targets.run(request, target, keep_going)
            if due is not None:
                dues.append(due)
            if self._monotonic() - last_report >= self._progress_every:
                _report(on_progress)
                last_report = self._monotonic()
        return dues

    def _side_by_side(self, request: OffboardRequest, targets: list[Target], keep_going: Callable[[], bool],
                      on_progress: Callable[[], None]) -> list[datetime]:
        stop = threading.Event()

        def one(target: Target) -> datetime | None:
            if stop.is_set():
                return None  # stays pending: whoever resumes the request runs it
            try:
                return self._targets.run(request, target, keep_going)
            except BaseException:
                stop.set()
                raise

        with ThreadPoolExecutor(max_workers=min(self._workers, len(targets)),
                                thread_name_prefix=f"offboard-{request.id}") as pool:
            futures = [pool.submit(contextvars.copy_context().run, one, target) for target in targets]
            self._report_while_running(futures, on_progress)
        errors = [future.exception() for future in futures if future.exception() is not None]
        if errors:
            raise next((error for error in errors if isinstance(error, LeaseLost)), errors[0])
        return [due for future in futures if (due := future.result()) is not None]

    def _report_while_running(self, futures: list[Future], on_progress: Callable[[], None]) -> None:
        """Wait for the users, calling on_progress when some finished, at most every progress_every seconds."""
        running = set(futures)
        last_report = self._monotonic()
        unreported = False
        while running:
            finished, running = wait(running, timeout=self._progress_every, return_when=FIRST_COMPLETED)
            unreported = unreported or bool(finished)
            if unreported and running and self._monotonic() - last_report >= self._progress_every:
                _report(on_progress)
                last_report = self._monotonic()
                unreported = False


def _report(on_progress: Callable[[], None]) -> None:
    try:
        on_progress()
    except Exception:  # progress is for show: it never stops the run
        log.warning("could not report progress", exc_info=True)
