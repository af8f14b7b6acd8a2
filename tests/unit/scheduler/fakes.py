"""Test doubles: a server-side sliding rate-limit window, as docs/simulator.md describes it."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from infdash.scheduler import FakeClock, RateLimitObservation

EPOCH = 1_790_000_000.0
"""Server wall time at clock 0 (an ordinary 2026 epoch value)."""


@dataclass
class Reply:
    status: int
    observation: RateLimitObservation


class WindowServer:
    """Sliding 60 s window per limit class; headers the way the simulator sends them.

    ``skew`` shifts the server's wall clock against ours: a client that compared Reset with
    its own time would get the wait wrong by exactly that much.
    """

    def __init__(self, clock: FakeClock, *, limit: int, skew: float = 0.0) -> None:
        self.clock = clock
        self.limit = limit
        self.skew = skew
        self.window: deque[float] = deque()
        self.ours: list[float] = []
        self.rejected = 0

    def server_epoch(self) -> float:
        return EPOCH + self.skew + self.clock.now

    def _trim(self, now: float) -> None:
        while self.window and self.window[0] <= now - 60.0:
            self.window.popleft()

    def foreign(self, count: int) -> None:
        """Another client on the same key spends ``count`` requests now."""
        now = self.clock.now
        self._trim(now)
        for _ in range(min(count, self.limit - len(self.window))):
            self.window.append(now)

    def request(self, limit_class: str = "get_task", *, mine: bool = True) -> Reply:
        now = self.clock.now
        self._trim(now)
        date = math.floor(self.server_epoch())
        full = len(self.window) >= self.limit
        if not full:
            self.window.append(now)
            if mine:
                self.ours.append(now)
        oldest = self.window[0] if self.window else now
        reset = math.ceil(EPOCH + self.skew + oldest + 60.0)
        remaining = max(0, self.limit - len(self.window))
        retry_after = None
        status = 200
        if full:
            status = 429
            self.rejected += 1
            retry_after = float(max(1, reset - date))
        obs = RateLimitObservation(
            limit_class=limit_class,
            status=status,
            remaining=remaining,
            reset_epoch=float(reset),
            retry_after=retry_after,
            server_date_epoch=float(date),
            observed_at=now,
        )
        return Reply(status, obs)


def max_in_any_window(times: list[float], window: float = 60.0) -> int:
    """Largest number of ``times`` inside any half-open window of ``window`` seconds."""
    best = start = 0
    ordered = sorted(times)
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best
