"""The sweeper: the one place that acts on time. The database holds every due time; APScheduler only
wakes the sweeper, which expires, reminds and claims due runs, so any number of replicas can sweep."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.ambient import trace_scope
from bot.ports import Metrics, NoMetrics
from bot.service.timers import Timers

log = logging.getLogger(__name__)


@dataclass
class Sweep:
    """What one sweep did."""

    expired: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)  # workflow steps completed before their requests ended
    failed: list[str] = field(default_factory=list)  # the kinds of work that could not be done this time


class Sweeper:
    def __init__(self, timers: Timers, *, batch: int = 20, metrics: Metrics | None = None) -> None:
        self._timers = timers
        self._batch = batch
        self._metrics = metrics or NoMetrics()

    def sweep(self) -> Sweep:
        """Expire what is overdue, send due reminders, and start the runs that are due (ours to lease)."""
        done = Sweep()
        done.expired = self._phase(done, "expire", self._timers.expire_overdue)
        done.expired += self._phase(done, "lapse proposals", self._timers.lapse_overdue_proposals)
        done.reminded = self._phase(done, "remind", self._timers.send_due_reminders)
        done.answered = self._phase(done, "answer workflow steps", self._timers.answer_overdue_steps)
        done.started = self._phase(done, "start runs", lambda: self._timers.start_due_runs(limit=self._batch))
        if done.expired or done.reminded or done.started or done.answered:
            log.info("sweep: expired %s, reminded %s, started %s, answered steps %s", done.expired, done.reminded,
                     done.started, done.answered)
        self._metrics.sweep_finished(ok=not done.failed, expired=len(done.expired), reminded=len(done.reminded),
                                     started=len(done.started))
        return done

    @staticmethod
    def _phase(done: Sweep, name: str, work) -> list[str]:
        """Run one kind of due work; its failure must not keep the others from running."""
        try:
            return work()
        except Exception:  # the database or Slack hiccupped: the next tick tries again, nothing is lost
            log.exception("sweep: could not %s; trying again at the next tick", name)
            done.failed.append(name)
            return []

    def safe_sweep(self) -> None:
        with trace_scope():  # the sweep's log lines, and those of the runs it starts, share an id
            try:
                self.sweep()
            except Exception:  # a database hiccup: the next tick tries again, nothing was lost (all state is in rows)
                log.exception("sweep failed; trying again at the next tick")
                self._metrics.sweep_finished(ok=False)


def start_sweeping(sweeper: Sweeper, *, every_seconds: float) -> BackgroundScheduler:
    """Wake the sweeper now and every `every_seconds`, never two sweeps at once in this process."""
    scheduler = BackgroundScheduler(daemon=True)
    scheduler.add_job(sweeper.safe_sweep, "interval", seconds=every_seconds, max_instances=1, coalesce=True,
                      id="sweep", next_run_time=datetime.now(UTC))
    scheduler.start()
    return scheduler
