"""The server's rate-limit signals, read into one safe wait.

The API client parses every response's headers into a ``RateLimitSnapshot``;
:func:`observation_from_snapshot` turns that into a :class:`RateLimitObservation` (plain
numbers, scheduler clock) for the budget.  Everything here is pure: the wait the server asks for
is computed against the server's own ``Date`` so a skewed local clock does not matter, and
garbage (negative, past, NaN, absurdly large) is recognised so the caller can fall back to
jittered backoff instead of looping tightly (performance.md §2.3, R2, R3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from infdash.api.ratelimit import LimitClass, RateLimitSnapshot

MAX_WAIT = 120.0
"""Longest closure the server can impose on us; longer requests are capped (and flagged)."""

DELTA_THRESHOLD = 1e9
"""``X-RateLimit-Reset`` values below this are delta-seconds, not epoch seconds."""

ABSURD_WAIT = 86_400.0
"""Waits beyond a day are not a plan, they are garbage (e.g. 10**20): use the fallback."""

RUN: str = LimitClass.RUN.value
GET_TASK: str = LimitClass.GET_TASK.value
UPLOAD: str = LimitClass.UPLOAD.value
OTHER: str = LimitClass.OTHER.value
"""Class names as plain strings; which route belongs to which is the client's ``classify``."""


@dataclass(frozen=True, slots=True)
class RateLimitObservation:
    """What one HTTP response said about its limit class, in plain numbers.

    ``observed_at`` is the scheduler clock (monotonic) when the response arrived; the epoch
    values are the server's and are only ever compared with each other.
    """

    limit_class: str
    status: int
    remaining: int | None = None
    reset_epoch: float | None = None
    retry_after: float | None = None
    server_date_epoch: float | None = None
    observed_at: float = 0.0


class WaitSource(StrEnum):
    RETRY_AFTER = "retry-after"
    RESET = "reset"
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class ServerWait:
    """How long the server asked us to stay quiet; ``seconds is None`` means "unusable"."""

    seconds: float | None
    source: WaitSource
    capped: bool = False
    """The server asked for more than :data:`MAX_WAIT` (e.g. maintenance, R6)."""


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def seconds_until_reset(obs: RateLimitObservation) -> float | None:
    """``Reset − Date`` in server time, or the delta itself for small values; None if unknown."""
    reset = _finite(obs.reset_epoch)
    if reset is None or reset < 0:
        return None
    if reset < DELTA_THRESHOLD:
        return reset
    date = _finite(obs.server_date_epoch)
    if date is None or date < DELTA_THRESHOLD:
        return None
    return reset - date


def server_wait(obs: RateLimitObservation, max_wait: float = MAX_WAIT) -> ServerWait:
    """The wait the server asked for, clamped to ``(0, max_wait]``; Retry-After wins."""
    raw: float | None = None
    source = WaitSource.FALLBACK
    retry_after = _finite(obs.retry_after)
    if retry_after is not None and retry_after > 0:
        raw, source = retry_after, WaitSource.RETRY_AFTER
    else:
        until_reset = seconds_until_reset(obs)
        if until_reset is not None and until_reset > 0:
            raw, source = until_reset, WaitSource.RESET
    if raw is None or raw > ABSURD_WAIT:
        return ServerWait(None, WaitSource.FALLBACK)
    if raw > max_wait:
        return ServerWait(max_wait, source, capped=True)
    return ServerWait(raw, source)


def observation_from_snapshot(
    snapshot: RateLimitSnapshot, observed_at: float
) -> RateLimitObservation:
    """Adapt the client's :class:`RateLimitSnapshot` for the budget (the headers are parsed
    once, by the client).

    The snapshot's ``observed_at`` is wall time and ``clock_offset`` is server minus wall, so
    their sum is the server's ``Date`` for that response; ``reset_at`` is already a server
    epoch.  Only those two are compared (R2); ``observed_at`` becomes the scheduler's
    monotonic now, because every budget decision runs on that clock.
    """
    return RateLimitObservation(
        limit_class=str(snapshot.limit_class),
        status=snapshot.status,
        remaining=snapshot.remaining,
        reset_epoch=snapshot.reset_at,
        retry_after=snapshot.retry_after,
        server_date_epoch=snapshot.observed_at + snapshot.clock_offset,
        observed_at=observed_at,
    )


def observation_from_error(
    limit_class: str, status: int, retry_after: float | None, observed_at: float
) -> RateLimitObservation | None:
    """A 503 with ``Retry-After`` but no rate-limit headers, which the client's tracker does
    not report: the budget must still close the class for that long (performance.md §2.3)."""
    if status != 503 or retry_after is None:
        return None
    return RateLimitObservation(
        limit_class=limit_class, status=status, retry_after=retry_after, observed_at=observed_at
    )
