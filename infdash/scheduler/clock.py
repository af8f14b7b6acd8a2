"""Injectable time for the scheduler.

Every scheduler decision reads time through a ``Clock`` (monotonic seconds) so that tests can
drive minutes of simulated traffic in milliseconds, and the async loop can share the same
``FakeClock`` when it runs under test.
"""

from __future__ import annotations

import asyncio
import heapq
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


class VirtualTime(FakeClock):
    """A :class:`FakeClock` whose ``sleep`` waits for :meth:`advance_to`, not for real time.

    Give ``clock=vt`` and ``sleep=vt.sleep`` to the scheduler (and the client, for its stream
    reconnect delays): a harness then moves time from one due sleeper to the next, so minutes
    of polling run in seconds and every wait is exact.
    """

    def __init__(self, start: float = 1000.0) -> None:
        super().__init__(start)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0
        self.waking = 0
        """Sleepers woken but not yet resumed."""

    async def sleep(self, delay: float) -> None:
        if delay <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._sleepers, (self.now + delay, self._seq, fut))
        try:
            await fut
        finally:
            if fut.done() and not fut.cancelled():
                self.waking -= 1

    async def settle(self) -> None:
        """Let every sleeper woken by :meth:`advance_to` resume (to its next await)."""
        while self.waking:  # noqa: ASYNC110 - each pass lets woken tasks run one step
            await asyncio.sleep(0)

    def next_due(self) -> float | None:
        """When the earliest live sleeper wakes; None if nobody sleeps."""
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)  # cancelled
        return self._sleepers[0][0] if self._sleepers else None

    def advance_to(self, when: float) -> float:
        """Move to ``when`` and wake every sleeper due by then."""
        now = super().advance_to(when)
        while self._sleepers and self._sleepers[0][0] <= now:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)
                self.waking += 1
        return now

    def advance(self, seconds: float) -> float:
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"cannot advance a monotonic clock by {seconds!r}")
        return self.advance_to(self.now + seconds)
