"""The fake 8x8's rate limits per API key: two sliding windows (requests per `period`, a burst per
`burst_period`), the `x-ratelimit-*` headers of every answer, and how long a throttled client must wait."""

from __future__ import annotations

import math
from collections import deque

from bot.simulators.eightbyeight.state import EightByEightState


def retry_after(seconds: float) -> str:
    """A Retry-After header's value: whole seconds, at least one."""
    return str(max(1, math.ceil(seconds)))


class RateWindows(EightByEightState):
    """The sliding windows of each API key (lock held)."""

    def _window(self, key: str, now: float) -> tuple[deque[float], deque[float]]:
        minute, burst = self._windows.setdefault(key, (deque(), deque()))
        while minute and minute[0] <= now - self.limits.period:
            minute.popleft()
        while burst and burst[0] <= now - self.limits.burst_period:
            burst.popleft()
        return minute, burst

    def _rate_wait(self, key: str, now: float) -> float | None:
        """Seconds until both windows have a free slot, or None when there is one now."""
        minute, burst = self._window(key, now)
        waits = []
        if len(minute) >= self.limits.requests:
            waits.append(minute[len(minute) - self.limits.requests] + self.limits.period - now)
        if len(burst) >= self.limits.burst:
            waits.append(burst[len(burst) - self.limits.burst] + self.limits.burst_period - now)
        return max(waits) if waits else None

    def _rate_headers(self, key: str | None, now: float) -> dict[str, str]:
        """x-ratelimit-* for whichever window is closer to full."""
        minute, burst = self._window(key, now) if key == self.api_key and key else (deque(), deque())
        candidates = [
            (self.limits.requests - len(minute), self.limits.requests, minute, self.limits.period),
            (self.limits.burst - len(burst), self.limits.burst, burst, self.limits.burst_period),
        ]
        remaining, limit, window, period = min(candidates, key=lambda item: item[0])
        # Rounded before the ceiling: (t + 10) - t is 10.000000000000002 for some t, which is not 11 seconds.
        reset = math.ceil(round(window[0] + period - now, 6)) if window else 0
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(0, remaining)),
            "x-ratelimit-reset": str(max(0, reset)),
        }
