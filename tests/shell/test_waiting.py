"""`wait until-idle` on its own: what it waits for (work in flight, runs due within two minutes), what it leaves
(later runs, named as the next), and its cap. The requests live in a small stateful stand-in for the store whose
states move as time passes; the real path (a scheduled run through the app) is in test_conversation.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.domain.lifecycle import RequestState
from bot.shell.waiting import describe, until_idle

START = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@dataclass
class Request:
    id: str
    state: RequestState
    run_at: datetime | None = None
    runs_for: float = 1.0  # seconds it spends executing once due


@dataclass
class World:
    """Requests that run when due, a pool that is busy for a while, and a clock that sleeping moves on."""

    requests: list[Request]
    busy_until: float = 0.0
    seconds: float = 0.0
    store: World = field(init=False)
    pools: tuple = field(init=False)

    def __post_init__(self) -> None:
        self.store = self
        self.pools = (self,)

    @property
    def pending(self) -> int:
        return int(self.seconds < self.busy_until)

    def now(self) -> datetime:
        return START + timedelta(seconds=self.seconds)

    def sleep(self, seconds: float) -> None:
        self.seconds += seconds
        for request in self.requests:
            due = request.run_at is None or request.run_at <= self.now()
            if request.state is RequestState.APPROVED and due:
                request.state = RequestState.EXECUTING
                request.run_at = self.now()
            elif request.state is RequestState.EXECUTING and self.now() - request.run_at >= timedelta(
                    seconds=request.runs_for):
                request.state = RequestState.DONE

    def list(self, *, states, limit: int) -> list[Request]:
        return [request for request in self.requests if request.state in set(states)][:limit]


def _wait(world: World, **options):
    return until_idle(world, sleep=world.sleep, clock=lambda: world.seconds, now=world.now, **options)


def test_it_waits_for_work_in_flight_and_runs_due_soon_but_not_for_later_ones() -> None:
    world = World([Request("OB-SOON", RequestState.APPROVED, START + timedelta(seconds=60)),
                   Request("OB-LATER", RequestState.APPROVED, START + timedelta(hours=3)),
                   Request("OB-ASKING", RequestState.AWAITING_APPROVAL)], busy_until=1.0)
    waited = _wait(world)
    assert waited.idle and waited.requests == ["OB-SOON"]
    assert 61 <= waited.seconds < 62  # due at 60 s, a second to run
    assert waited.next_run == ("OB-LATER", START + timedelta(hours=3))
    text = describe(waited)
    assert text.startswith("(waited 61 s for the run of OB-SOON; now nothing is running")
    assert "next: OB-LATER at 2026-12-05 12:00 UTC" in text


def test_with_nothing_to_wait_for_it_returns_at_once() -> None:
    world = World([Request("OB-ASKING", RequestState.AWAITING_APPROVAL)])
    waited = _wait(world)
    assert waited.idle and waited.seconds == 0 and waited.requests == []
    assert describe(waited).startswith("(waited 0 s for nothing; now nothing is running")


def test_it_gives_up_at_the_cap_and_says_what_was_still_going() -> None:
    world = World([Request("OB-LONG", RequestState.APPROVED, None, runs_for=3600)])
    waited = _wait(world, cap=30)
    assert not waited.idle and 30 <= waited.seconds < 31
    assert waited.busy == ["OB-LONG"]
    assert describe(waited) == "(stopped waiting after 30 s; still running or due: OB-LONG)"
