"""Injectable time for the scheduler.

Every scheduler decision reads time through a ``Clock`` (monotonic seconds) so that tests can
drive minutes of simulated traffic in milliseconds, and the async loop can share the same
``FakeClock`` when it runs under test.
"""

from __future__ import annotations

import math
from collections.abc import Callable

Clock = Callable[[], float]
"""Monotonic seconds; never wall-clock time (wall time can jump)."""


class FakeClock:
    """A clock that moves only when told to, for deterministic tests and simulations."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = float(start)

    def __call__(self) -> float:
        return self._now

    @property
    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (never backwards: a monotonic clock cannot)."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"cannot advance a monotonic clock by {seconds!r}")
        self._now += seconds
        return self._now

    def advance_to(self, when: float) -> float:
        """Jump to ``when`` if it lies ahead; a past target leaves the clock where it is."""
        if when > self._now:
            self._now = float(when)
        return self._now
