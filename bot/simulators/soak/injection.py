"""The soak run's faults: arming one on the console (FaultyConsole) or on Slack (FakeSlack), and taking back
whatever a request did not meet, so that none is left for the next request."""

from __future__ import annotations

from bot.errors import ConsoleRejected, ConsoleUnavailable, OutcomeUnknown
from bot.simulators.faulty_console import FaultyConsole
from bot.simulators.slack.fake import FakeSlack
from bot.simulators.soak.plan import Fault


def inject_console(faults: FaultyConsole, fault: Fault) -> None:
    """Arm a console fault (plan.CONSOLE_FAULTS) on the operation it hits."""
    operation, variant = fault.operation, fault.variant
    if fault.kind == "console refused":
        faults.fail_next(operation, ConsoleRejected(f"soak: {operation} refused by the console"))
    elif fault.kind == "console unavailable":
        faults.fail_next(operation, ConsoleUnavailable(f"soak: console unreachable during {operation}"))
    elif fault.kind == "answer lost":
        error = (OutcomeUnknown("soak: the answer was lost") if variant % 2 else
                 ConsoleUnavailable("soak: connection dropped"))
        faults.fail_next(operation, error, after_applying=True)
    elif fault.kind == "answer lost, read-back fails":
        faults.fail_next(operation, OutcomeUnknown("soak: the answer was lost"), after_applying=True)
        faults.after(operation, lambda: [faults.fail_next("get_user", ConsoleUnavailable("soak: read timeout"))
                                         for _ in range(3)])
    elif fault.kind == "read fails":
        faults.fail_next("get_user", ConsoleUnavailable("soak: read timeout"))
    elif fault.kind in ("bug before change", "bug after change"):
        def bug() -> None:
            raise RuntimeError("soak: a bug in the console adapter")

        (faults.before if fault.kind == "bug before change" else faults.after)(operation, bug)
    else:
        raise ValueError(fault.kind)


def inject_slack(slack: FakeSlack, fault: Fault) -> None:
    """Arm a Slack fault (plan.SLACK_FAULTS): an error, or 429 with Retry-After: 1, `variant` times."""
    if fault.kind == "slack 429":
        slack.inject_failure(fault.operation, retry_after=1, times=fault.variant)
    else:
        slack.inject_failure(fault.operation, error="internal_error", times=fault.variant)


def console_left_over(faults: FaultyConsole, fault: Fault | None) -> tuple[list[str], bool]:
    """The console faults still waiting for their call, removed; and whether `fault` itself was never met."""
    withdrawn = faults.withdraw_faults()
    unmet = False
    if fault is not None:
        operation = "get_user" if fault.kind == "read fails" else fault.operation
        if fault.kind == "bug before change":
            unmet = operation in withdrawn.before
        elif fault.kind == "bug after change":
            unmet = operation in withdrawn.after
        else:
            unmet = withdrawn.failures.get(operation, 0) > 0
    left = [f"{operation} x{count}" for operation, count in withdrawn.failures.items()]
    left += [f"before {operation}" for operation in withdrawn.before]
    left += [f"after {operation}" for operation in withdrawn.after]
    return left, unmet


def slack_left_over(slack: FakeSlack, fault: Fault | None) -> tuple[list[str], bool]:
    """The Slack faults still waiting for their call, removed; and whether `fault` was never met at all."""
    remaining = slack.withdraw_failures()
    unmet = fault is not None and remaining.get(fault.operation, 0) >= fault.variant
    return [f"{method} x{count}" for method, count in remaining.items()], unmet
