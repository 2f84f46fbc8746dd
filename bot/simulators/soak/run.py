"""The soak run itself: plan it, build the app as the end-to-end tests do, drive every request, then check."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.console.local import LocalConsole
from bot.errors import ConsoleError
from bot.simulators.faulty_console import FaultyConsole
from bot.simulators.harness import App, serve
from bot.simulators.slack.demo import populate
from bot.simulators.slack.fake import FakeSlack
from bot.simulators.soak.checks import check
from bot.simulators.soak.driver import Driver
from bot.simulators.soak.plan import EXPIRY_BATCH, SOAK_AUDIT_KEY, START, plan_run
from bot.simulators.soak.report import SoakReport


def run_soak(requests: int, *, seed: int = 1, fault_rate: float = 0.3, max_seconds: float | None = None,
             workers: int | None = None, workdir: Path | None = None,
             progress: Callable[[int, int, float], None] | None = None) -> SoakReport:
    """Drive `requests` requests through the real app with random faults (seeded), then check; see the package's
    docstring. Stops starting new requests after `max_seconds` (the checks still run)."""
    report = SoakReport()
    planned = plan_run(requests, seed=seed, fault_rate=fault_rate)
    report.planned = len(planned)
    started = time.monotonic()
    with ExitStack() as stack:
        tmp = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="offboard-soak-")))
        slack = FakeSlack(team_id="T0DEMO")
        populate(slack)
        stack.enter_context(slack)
        faults = FaultyConsole(LocalConsole(tmp / "console.db"))
        faults.inner.seed_if_empty()
        settings: dict[str, Any] = {"offboard_audit_key": SOAK_AUDIT_KEY}  # every row sealed, and verified so
        if workers is not None:
            settings["offboard_workers"] = workers
        app = stack.enter_context(serve(slack, ManualClock(START), tmp, console=faults, state=faults.inner,
                                        faults=faults, **settings))
        _no_pause_between_read_backs(app)
        driver = Driver(app, report)
        for item in planned:
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                report.stopped_early = True
                break
            try:
                driver.run_one(item)
            except ConsoleError as error:  # the driver's own console calls (adding users) must not fail
                driver.surprise(f"request {item.number}: {error}")
            driver.drain(item)
            if len(driver.to_expire) >= EXPIRY_BATCH:
                driver.expire_waiting()
            if progress:
                progress(item.number + 1, len(planned), time.monotonic() - started)
        driver.finish()
        driver.screens.unsubscribe()
        check(app, driver, report)
    report.seconds = time.monotonic() - started
    return report


def _no_pause_between_read_backs(app: App) -> None:
    """The step runner pauses 0.5 s and 2 s between failed reads of a user (real time); the soak skips the
    pauses, as tests/service/test_runs.py does, so that a read fault costs no wall time."""
    app.container.service.steps.sleep = lambda _seconds: None
