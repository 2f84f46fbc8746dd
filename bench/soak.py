"""A soak run: a few hundred (or thousand) mixed requests with random faults through the real app, then the count
of what must never happen.

Everything is driven as in the end-to-end tests: the real Bolt app behind uvicorn (bot/simulators/harness.py
`serve`, as `serve_local` builds it: SQLite, the demo policy, a ManualClock), the local console wrapped in
bot/simulators/faulty_console.py FaultyConsole, the stateful FakeSlack, and signed HTTP requests for every command
and click. The mix (deletes of 1 to 3 users and a few bulk ones approved by bob or dana, deactivations,
reactivations and renames confirmed by the asker, scheduled runs and staged deletes that the sweeper starts once
the clock is moved on; some rejected, cancelled or left to expire) and the faults (console operations refused or
unreachable, answers lost after the change landed, reads failing, the command's look-up failing, Slack
chat.update / chat.postMessage failing or answering 429, a RuntimeError in the console adapter that a later sweep
resumes) are drawn from --seed; bot/simulators/soak/ describes both, and the checks.

Printed: requests, faults injected (by kind), then the figures that must be 0: lost operations (a step or target
recorded done whose operation is not in the console's log, or whose effect is not in the console), duplicated
operations (a (user, operation) applied twice), requests stuck (not in a final state at the end), targets left
pending in a finished request, operations outside an approved plan, failed targets without advice (an empty
detail, or a failed one naming no next step), driver surprises (a step a person would take was not possible),
and whether the audit chain verifies; then the elapsed time, a PASS or FAIL line per figure (exit code 1 when
any of them is not 0), and, for information, requests that ended otherwise than their fault should make them
end and what the failed users were told.

The run is sequential (each action waits until the app has finished what it started), so a seed gives the same
requests, fates and faults every time. It costs about 0.5 s of wall time per request on a 2-CPU machine (the
app's own work per click: the database, Slack calls, App Home redraws), hence the default of 300 requests (under
3 minutes); `--requests 3000` is a longer soak, and `--max-seconds` stops starting new requests after that long
(the checks still run on what was done).

Run from the repository root: `python bench/soak.py [--requests N] [--seed S] [--fault-rate F]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys

from tally import quiet_logging  # bench/tally.py, next to this script

from bot.simulators.soak.run import run_soak


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests typed (300: under 3 minutes)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the mix and the faults (1)")
    parser.add_argument("--fault-rate", type=float, default=0.3,
                        help="share of the requests that run and meet a console fault; half as many meet a Slack "
                             "fault, a tenth a failed look-up (0.3)")
    parser.add_argument("--max-seconds", type=float, default=900.0,
                        help="stop starting new requests after this long, then check (900)")
    parser.add_argument("--workers", type=int, default=None,
                        help="OFFBOARD_WORKERS: users of one request worked on side by side (the app's default)")
    parser.add_argument("--examples", type=int, default=5, help="examples printed per problem found (5)")
    args = parser.parse_args(argv)
    if args.requests < 1 or not 0 <= args.fault_rate <= 1 or args.max_seconds <= 0:
        parser.error("--requests must be positive, --fault-rate within 0..1, --max-seconds positive")
    if args.workers is not None and not 1 <= args.workers <= 64:
        parser.error("--workers must be within 1..64")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tally = quiet_logging()
    print(f"offboard-bot soak: python {platform.python_version()}, {os.cpu_count()} CPUs; {args.requests} "
          f"requests, seed {args.seed}, fault rate {args.fault_rate:g}, at most {args.max_seconds:g} s\n",
          flush=True)

    def progress(done: int, total: int, seconds: float) -> None:
        if done % 100 == 0 or done == total:
            print(f"  {done}/{total} requests, {seconds:.0f} s", flush=True)

    try:
        report = run_soak(args.requests, seed=args.seed, fault_rate=args.fault_rate, max_seconds=args.max_seconds,
                          workers=args.workers, progress=progress)
    except KeyboardInterrupt:
        print("\ninterrupted")
        return 130
    print()
    print("\n".join(report.lines(examples=args.examples)))
    print()
    print("\n".join(report.verdict()))
    print(f"\nlog records at WARNING or above: {sum(tally.seen.values())} (the faults cause most of them)")
    for line, count in tally.seen.most_common(8):
        print(f"  {count:>5} x {line}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
