"""The soak run's figures: what was typed, injected and met, and the must-be-zero counts the checks fill in."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class SoakReport:
    requests: int = 0  # commands typed
    planned: int = 0
    created: int = 0  # requests stored
    commands_refused: int = 0  # the look-up failed: the admin was told, nothing was created
    kinds: Counter[str] = field(default_factory=Counter)
    fates: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)  # targets
    faults: Counter[str] = field(default_factory=Counter)  # injected, by kind
    faults_unfired: Counter[str] = field(default_factory=Counter)  # injected but never met (removed after)
    slack_errors_answered: int = 0  # Slack API calls the fake answered with an injected error
    resumed: int = 0  # runs interrupted by an unexpected error and resumed by a sweep
    operations: int = 0  # console operations applied
    unknown_steps: int = 0  # steps sent whose outcome could not be confirmed (the admin is told to check)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unapproved: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)  # targets still pending in a request that ended done/failed
    unexplained: list[str] = field(default_factory=list)  # failed or aborted targets with no detail
    surprises: list[str] = field(default_factory=list)  # the run could not go on as a person would see it go
    unexpected_fates: list[str] = field(default_factory=list)  # for information: ended otherwise than expected
    told: Counter[str] = field(default_factory=Counter)  # what failed and aborted targets say, users left out
    audit_ok: bool = False
    audit_rows: int = 0
    audit_problems: tuple[str, ...] = ()
    seconds: float = 0.0
    stopped_early: bool = False

    @property
    def checks(self) -> list[tuple[str, int]]:
        """The must-be-zero figures."""
        return [("lost operations", len(self.lost)), ("duplicated operations", len(self.duplicated)),
                ("requests stuck", len(self.stuck)),
                ("targets left pending in a finished request", len(self.unfinished)),
                ("operations outside an approved plan", len(self.unapproved)),
                ("failed targets without advice", len(self.unexplained)),
                ("audit chain broken", 0 if self.audit_ok else 1),
                ("driver surprises", len(self.surprises))]

    @property
    def ok(self) -> bool:
        return all(count == 0 for _, count in self.checks)

    def lines(self, *, examples: int = 5) -> list[str]:
        injected = sum(self.faults.values())
        out = [
            f"requests:                  {self.requests} typed ({self.created} created, {self.commands_refused} "
            "refused when the console look-up failed)"
            + (f"; stopped early, {self.planned} planned" if self.stopped_early else ""),
            "  kinds:                   " + _counts(self.kinds),
            "  fates:                   " + _counts(self.fates),
            "  final states:            " + _counts(self.states),
            "  targets:                 " + _counts(self.outcomes),
            f"faults injected:           {injected} (" + _counts(self.faults) + ")",
            f"  not met at all:          {sum(self.faults_unfired.values())}"
            + (f" ({_counts(self.faults_unfired)})" if self.faults_unfired else ""),
            f"  Slack calls failed:      {self.slack_errors_answered}",
            f"  runs resumed by a sweep: {self.resumed}",
            f"console operations:        {self.operations} applied, {self.unknown_steps} steps left unconfirmed "
            "(the admin is told to check the console)",
            f"lost operations:           {len(self.lost)}",
            f"duplicated operations:     {len(self.duplicated)}",
            f"requests stuck:            {len(self.stuck)}",
            f"targets left pending:      {len(self.unfinished)} (in requests that ended done or failed)",
            f"outside an approved plan:  {len(self.unapproved)}",
            f"failed without advice:     {len(self.unexplained)}",
            f"driver surprises:          {len(self.surprises)}",
            f"ended otherwise than expected: {len(self.unexpected_fates)} (information: how each fault should end, "
            "as tests/service/test_runs.py expects)",
            f"audit chain ok:            {self.audit_ok} ({self.audit_rows} rows)",
            f"elapsed seconds:           {self.seconds:.1f}",
        ]
        for title, items in (("lost", self.lost), ("duplicated", self.duplicated), ("stuck", self.stuck),
                             ("left pending", self.unfinished),
                             ("outside an approved plan", self.unapproved), ("without advice", self.unexplained),
                             ("surprises", self.surprises), ("audit", list(self.audit_problems)),
                             ("ended otherwise than expected (information)", self.unexpected_fates)):
            if items:
                out.append(f"{title}: {len(items)}, e.g.")
                out += [f"  {item}" for item in items[:examples]]
        if self.told:
            out.append("what failed and aborted users were told (most frequent first):")
            out += [f"  {count:>4} x {text}" for text, count in self.told.most_common(examples * 2)]
        return out

    def verdict(self) -> list[str]:
        return [f"{'PASS' if count == 0 else 'FAIL'}  {name}: {count}" for name, count in self.checks]


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))

