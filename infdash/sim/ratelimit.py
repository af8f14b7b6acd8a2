"""Sliding-window rate limits on the simulated clock, per API key and limit class."""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass

from infdash.sim.config import RateLimits

_TASK_SUB = re.compile(r"^/tasks/(?!list$|stream$|featured$|queue-stats$)[^/]+(/[^/]+)?$")


def limit_class(method: str, path: str) -> str | None:
    """The limit class of a request (path without ``/v1``); None = never limited."""
    if path in ("/health", "/events") or path.endswith("/stream") or path.startswith("/uploads/"):
        return None
    if method == "POST" and path in ("/run", "/apps/run"):
        return "run"
    if method == "POST" and path == "/files":
        return "upload"
    if method == "GET" and _TASK_SUB.match(path):
        return "get_task"
    return "other"


@dataclass
class Decision:
    """Outcome of one check: allowed or not, and the header values to send."""

    allowed: bool
    remaining: int
    reset: int
    reset_at: float
    """Unrounded simulated epoch at which the oldest counted request leaves the window."""
    retry_after: int


class RateLimiter:
    """Remembers when each request happened, per (key, class), inside the window."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def check(self, key: str, limit_class: str, now: float) -> Decision:
        """Count the request if it fits; a refused request is not counted."""
        window = self.limits.window
        limit = self.limits.limit_for(limit_class)
        hits = self._hits.setdefault((key, limit_class), deque())
        while hits and hits[0] <= now - window:
            hits.popleft()
        allowed = len(hits) < limit
        if allowed:
            hits.append(now)
        oldest = hits[0] if hits else now
        reset_at = oldest + window
        return Decision(
            allowed=allowed,
            remaining=max(0, limit - len(hits)),
            reset=math.ceil(reset_at),
            reset_at=reset_at,
            retry_after=max(1, math.ceil(reset_at - now)),
        )

    def used(self, key: str, limit_class: str, now: float) -> int:
        """Requests of one class inside the window (without counting a new one)."""
        hits = self._hits.get((key, limit_class), deque())
        return sum(1 for t in hits if t > now - self.limits.window)

    def reset(self) -> None:
        """Forget every hit (tests)."""
        self._hits.clear()
