"""The sweeper: the one place that acts on time. The database holds every due time; APScheduler only
wakes the sweeper, which expires, reminds and claims due runs, so any number of replicas can sweep."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.service import OffboardService

log = logging.getLogger(__name__)


@dataclass
class Sweep:
    """What one sweep did."""

    expired: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)


class Sweeper:
    def __init__(self, service: OffboardService, *, batch: int = 20) -> None:
        self._service = service
        self._batch = batch

    def sweep(self) -> Sweep:
        """Expire what is overdue, send due reminders, and start the runs that are due (ours to lease)."""
        done = Sweep()
        done.expired = self._service.expire_overdue()
        done.reminded = self._service.send_due_reminders()
        done.started = self._service.start_due_runs(limit=self._batch)
        if done.expired or done.reminded or done.started:
            log.info("sweep: expired %s, reminded %s, started %s", done.expired, done.reminded, done.started)
        return done

    def safe_sweep(self) -> None:
        try:
            self.sweep()
        except Exception:  # a database hiccup: the next tick tries again, nothing was lost (all state is in rows)
            log.exception("sweep failed; trying again at the next tick")


def start_sweeping(sweeper: Sweeper, *, every_seconds: float) -> BackgroundScheduler:
    """Wake the sweeper now and every `every_seconds`, never two sweeps at once in this process."""
    scheduler = BackgroundScheduler(daemon=True)
    scheduler.add_job(sweeper.safe_sweep, "interval", seconds=every_seconds, max_instances=1, coalesce=True,
                      id="sweep", next_run_time=datetime.now(UTC))
    scheduler.start()
    return scheduler
