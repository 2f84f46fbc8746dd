"""Runs jobs (approved requests, App Home redraws) off the Slack listener threads, so clicks are always
answered promptly."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.ambient import current_trace_id, trace_scope
from bot.concurrency import TrackedExecutor

log = logging.getLogger(__name__)


class BackgroundJobs:
    """The Jobs port over a small thread pool; a job that dies is logged with an id, never swallowed silently.

    A job logs under the request id of whoever submitted it (the Slack request or the sweep), else a new one."""

    def __init__(self, pool: TrackedExecutor) -> None:
        self._pool = pool

    def submit(self, job: Callable[[], object], *, name: str) -> None:
        self._pool.submit(self._run, job, name)

    @staticmethod
    def _run(job: Callable[[], object], name: str) -> None:
        with trace_scope(current_trace_id()) as trace_id:
            try:
                job()
            except Exception:  # the job recorded what it could; keep the worker alive and say where to look
                log.exception("background job %s failed (error id %s)", name, trace_id)
