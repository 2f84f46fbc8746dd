"""Runs approved requests off the Slack listener threads, so clicks are always answered promptly."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from bot.concurrency import TrackedExecutor

log = logging.getLogger(__name__)


class BackgroundRunner:
    """The Runner port over a small thread pool; a job that dies is logged with an id, never swallowed silently."""

    def __init__(self, pool: TrackedExecutor) -> None:
        self._pool = pool

    def submit(self, job: Callable[[], object], *, name: str) -> None:
        self._pool.submit(self._run, job, name)

    @staticmethod
    def _run(job: Callable[[], object], name: str) -> None:
        try:
            job()
        except Exception:  # the job recorded what it could; keep the worker alive and say where to look
            log.exception("background job %s failed (error id %s)", name, uuid.uuid4().hex[:10])
