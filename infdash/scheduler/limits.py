"""Limit classes, priorities and the budget's answers: the vocabulary of rate limiting.

Defaults follow performance.md §2.3: each class allows itself less than the documented server
limit (run 100, get task 1000, upload 50, other 600 per minute) so user actions and other
clients on the same key keep headroom.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from infdash.scheduler.ratelimit import GET_TASK, MAX_WAIT, OTHER, RUN, UPLOAD, WaitSource


class Priority(IntEnum):
    """Who is asking: the lower the priority, the more of the reserve it must leave alone."""

    POLL = 0
    FOCUSED = 1
    """Polls of what the user is looking at: may use half the reserve, so they never queue
    behind background polls that keep the bucket at the reserve line."""
    USER = 2


@dataclass(frozen=True, slots=True)
class LimitClass:
    """One server limit class and how much of it this client allows itself."""

    name: str
    per_minute: int
    """Most requests this client sends in any 60 s window (polls and user actions together)."""
    burst: int
    reserve: int = 0
    """Tokens (and server Remaining) polling may not take; user actions may."""
    safety: int = 1
    """Server Remaining nobody spends: slack for requests already in flight."""
    low_water: int = 0
    """Below this server Remaining, polling refills proportionally slower."""
    server_limit: int | None = None
    """The documented server limit per minute, for display."""

    def __post_init__(self) -> None:
        if not 0 < self.burst < self.per_minute:
            raise ValueError(f"{self.name}: need 0 < burst < per_minute")
        if not 0 <= self.reserve < self.burst:
            raise ValueError(f"{self.name}: need 0 <= reserve < burst")
        if self.safety < 0 or self.low_water < 0:
            raise ValueError(f"{self.name}: safety and low_water cannot be negative")

    @property
    def refill_per_second(self) -> float:
        return (self.per_minute - self.burst) / 60.0


DEFAULT_CLASSES: tuple[LimitClass, ...] = (
    LimitClass(RUN, per_minute=90, burst=5, safety=1, low_water=10, server_limit=100),
    LimitClass(
        GET_TASK, per_minute=850, burst=20, reserve=5, safety=2, low_water=50, server_limit=1000
    ),
    LimitClass(UPLOAD, per_minute=45, burst=3, safety=1, low_water=5, server_limit=50),
    LimitClass(
        OTHER, per_minute=540, burst=10, reserve=3, safety=2, low_water=30, server_limit=600
    ),
)


@dataclass(frozen=True, slots=True)
class BudgetConfig:
    max_wait: float = MAX_WAIT
    reopen_jitter: float = 0.10
    """Closures last 0–10 % longer, at random, so pollers do not all wake together."""
    reopen_jitter_cap: float = 0.75
    """…but never more than this many seconds: the first request follows the reset within
    a second (performance.md B15), however long the closure."""
    fallback_base: float = 0.5
    fallback_cap: float = 8.0
    fallback_floor: float = 1.0
    """Never reopen sooner than this after a 429 without usable headers: no tight loop."""
    fallback_poll_hold: float = 30.0
    """After such a 429, polling waits this long (user actions only the short fallback)."""
    unknown_reset_ttl: float = 1.0
    """How long a Remaining without a usable Reset is trusted."""
    probe_timeout: float = 10.0
    guess_hold: float = 30.0
    """How long polling trusts its projection of others' drain before asking the server."""
    history_window: float = 60.0


@dataclass(frozen=True, slots=True)
class Admission:
    """The answer to "may I send one request now?"."""

    granted: bool
    retry_at: float
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Closure:
    """An episode in which the server told a whole class to stop."""

    status: int
    source: WaitSource
    started_at: float
    until: float
    capped: bool


def priority_floor(spec: LimitClass, priority: Priority) -> int:
    """Tokens (and server Remaining) a request of ``priority`` must leave for higher ones."""
    if priority is Priority.POLL:
        return spec.reserve
    return spec.reserve // 2 if priority is Priority.FOCUSED else 0
