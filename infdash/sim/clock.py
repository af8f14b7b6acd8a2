"""Simulated time and the timers that move the world.

One clock serves both modes: real time scaled by ``speed``, or a manual clock that only tests
advance. Every timer runs on the server's event loop; in manual mode :meth:`Scheduler.advance`
runs them in due order and sets the clock to each timer's due time first, so timestamps are
exact and reproducible.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime


def rfc3339(epoch: float) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2026-11-25T12:00:00.000Z``."""
    dt = datetime.fromtimestamp(epoch, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_rfc3339(text: str) -> float:
    """Epoch seconds from an RFC 3339 string (``Z`` or an offset); raises ValueError."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


class Timer:
    """A handle to one scheduled callback; cancel() makes it a no-op."""

    __slots__ = ("callback", "cancelled", "due")

    def __init__(self, due: float, callback: Callable[[], None]) -> None:
        self.due = due
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        """Drop the callback; it will not run."""
        self.cancelled = True


class Scheduler:
    """Simulated clock plus a heap of timers, driven by a ticker task or by ``advance``."""

    def __init__(self, start_time: float, speed: float, manual: bool) -> None:
        self.start_time = start_time
        self.speed = speed
        self.manual = manual
        self._offset = 0.0
        self._real_t0 = time.monotonic()
        self._heap: list[tuple[float, int, Timer]] = []
        self._counter = itertools.count()
        self._wakeup: asyncio.Event | None = None
        self._ticker: asyncio.Task[None] | None = None

    def now(self) -> float:
        """Simulated epoch seconds."""
        if self.manual:
            return self.start_time + self._offset
        return self.start_time + (time.monotonic() - self._real_t0) * self.speed

    def call_at(self, due: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` on the loop when simulated time reaches ``due``."""
        timer = Timer(due, callback)
        heapq.heappush(self._heap, (due, next(self._counter), timer))
        if self._wakeup is not None:
            self._wakeup.set()
        return timer

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` after ``delay`` simulated seconds."""
        return self.call_at(self.now() + max(0.0, delay), callback)

    def sleep(self, delay: float) -> asyncio.Future[None]:
        """A future that resolves after ``delay`` simulated seconds."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not fut.done():
                fut.set_result(None)

        self.call_later(delay, wake)
        return fut

    def run_due(self, until: float | None = None) -> int:
        """Run every timer due at or before ``until`` (default: now); returns how many ran."""
        limit = self.now() if until is None else until
        ran = 0
        while self._heap and self._heap[0][0] <= limit:
            due, _, timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            if self.manual and due > self.start_time + self._offset:
                self._offset = due - self.start_time
            timer.callback()
            ran += 1
        return ran

    def advance(self, seconds: float) -> None:
        """Manual clock: move time forward, running each due timer at its own due time."""
        target = self.start_time + self._offset + max(0.0, seconds)
        self.run_due(target)
        self._offset = target - self.start_time

    def start(self) -> None:
        """Start the ticker that runs timers in real time (no-op for a manual clock)."""
        self._wakeup = asyncio.Event()
        if not self.manual:
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def stop(self) -> None:
        """Stop the ticker."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None

    async def _tick(self) -> None:
        assert self._wakeup is not None
        while True:
            self.run_due()
            wait = 1.0
            if self._heap:
                wait = min(wait, max(0.0, (self._heap[0][0] - self.now()) / self.speed))
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=wait)
