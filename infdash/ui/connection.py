"""What the status bar says about the connection, read from the scheduler (no Textual).

One state at a time, the most serious first: the key was refused; the server is unreachable
(the breaker is open); a rate limit closed a class; some data is stale; otherwise live.  Each
comes with one line that says what is happening and, where it helps, what to do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from infdash.scheduler import BreakerState, SchedulerState, Snapshot

POLLED_CLASS = "get_task"
"""Shown when no class is busier: it is the one polling spends."""
STALE_AFTER = 10.0
"""Seconds before old data is called stale: rows just subscribed have no age yet, and a
visible row is polled every few seconds, so anything younger is simply being refreshed."""


class Link(StrEnum):
    LIVE = "live"
    STALE = "stale"
    RATE_LIMITED = "rate-limited"
    OFFLINE = "offline"
    UNAUTHORIZED = "unauthorized"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class ConnectionState:
    link: Link
    text: str


def _seconds(value: float | None) -> str:
    return "now" if value is None or value <= 0 else f"{math.ceil(value)} s"


def connection_state(state: SchedulerState, snapshot: Snapshot) -> ConnectionState:
    """The one state the status bar shows for ``state`` and ``snapshot``."""
    if state is SchedulerState.UNAUTHORIZED:
        return ConnectionState(
            Link.UNAUTHORIZED, "key refused (401) — check the API key of this profile"
        )
    breaker = snapshot.breaker
    if breaker is not None and breaker.state is not BreakerState.CLOSED:
        retry = breaker.retry_in
        when = "probing" if retry is None else f"retrying in {_seconds(retry)}"
        return ConnectionState(Link.OFFLINE, f"offline, {when}")
    closed = [c for c in snapshot.classes if c.closed]
    if closed:
        longest = max(closed, key=lambda c: c.resumes_in or 0.0)
        return ConnectionState(
            Link.RATE_LIMITED, f"rate limited, resuming in {_seconds(longest.resumes_in)}"
        )
    if state is SchedulerState.PAUSED or snapshot.paused:
        return ConnectionState(Link.PAUSED, "paused")
    if snapshot.stale and snapshot.oldest_age is not None and snapshot.oldest_age >= STALE_AFTER:
        return ConnectionState(Link.STALE, f"stale since {_ago(snapshot.oldest_age)}")
    return ConnectionState(Link.LIVE, "live")


def _ago(seconds: float) -> str:
    if seconds < 60:
        return f"{math.floor(seconds)} s"
    if seconds < 3600:
        return f"{math.floor(seconds / 60)} min"
    return f"{math.floor(seconds / 3600)} h"


@dataclass(frozen=True, slots=True)
class Gauge:
    """Requests in the last minute against what the scheduler allows itself, busiest class."""

    name: str
    used: int
    allowed: int

    @property
    def fraction(self) -> float:
        return 0.0 if self.allowed <= 0 else min(1.0, self.used / self.allowed)

    def bar(self, width: int = 10) -> str:
        filled = round(self.fraction * width)
        return "█" * filled + "░" * (width - filled)


def busiest_gauge(snapshot: Snapshot) -> Gauge | None:
    """The class closest to its limit (the one worth watching), if any class exists."""
    if not snapshot.classes:
        return None
    view = max(
        snapshot.classes,
        key=lambda c: (c.used_last_minute / max(1, c.allowed_per_minute), c.name == POLLED_CLASS),
    )
    return Gauge(view.name, view.used_last_minute, view.allowed_per_minute)
