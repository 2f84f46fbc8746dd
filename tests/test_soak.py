"""The soak run's short form (bench/soak.py runs the long one): sixty mixed requests with random faults, from a
fixed seed, through the real app; nothing may be lost, repeated or left stuck, and the audit chain holds."""

from __future__ import annotations

from bot.simulators.soak.plan import CONSOLE_FAULTS, SLACK_FAULTS
from bot.simulators.soak.run import run_soak

REQUESTS, SEED = 60, 20261102


def test_a_short_soak_loses_repeats_and_strands_nothing(tmp_path):
    report = run_soak(REQUESTS, seed=SEED, fault_rate=0.5, workdir=tmp_path)
    shown = "\n".join(report.lines(examples=10))
    assert report.requests == REQUESTS, shown
    assert report.lost == [], shown
    assert report.duplicated == [], shown
    assert report.stuck == [], shown
    assert report.unfinished == [], shown
    assert report.unapproved == [], shown
    assert report.unexplained == [], shown
    assert report.surprises == [], shown
    assert report.audit_ok, shown
    met = {kind: count - report.faults_unfired[kind] for kind, count in report.faults.items()}
    every_kind = {*CONSOLE_FAULTS, *SLACK_FAULTS, "lookup fails"}
    assert {kind for kind, count in met.items() if count > 0} == every_kind, shown  # every kind of fault was met
    assert report.resumed > 0, shown  # an interrupted run was taken over by a sweep
