"""Jittered exponential backoff and a circuit breaker (performance.md §2.3 item 5, R5).

Backoff follows client-go's reflector: 0.8 s doubling to a 30 s cap, forgotten after two
minutes of health.  Delays use "full jitter" (AWS) so many pollers never retry in lockstep.
The breaker stops the fan-out when the server is failing: after 5 consecutive failures it
opens, lets exactly one probe through per backoff interval, and closes on the first success.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from infdash.scheduler.clock import Clock

_MAX_EXPONENT = 64


def full_jitter(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """``uniform(0, min(cap, base·2^attempt))``: the AWS "full jitter" delay for ``attempt``."""
    ceiling = min(cap, base * 2.0 ** min(max(attempt, 0), _MAX_EXPONENT))
    return rng.uniform(0.0, ceiling)


class Backoff:
    """Exponential full-jitter delays that reset after a healthy stretch."""

    def __init__(
        self,
        *,
        clock: Clock,
        rng: random.Random,
        base: float = 0.8,
        cap: float = 30.0,
        reset_after: float = 120.0,
        floor: float = 0.0,
    ) -> None:
        if base <= 0 or cap < base or reset_after < 0 or floor < 0:
            raise ValueError("need 0 < base <= cap, reset_after >= 0, floor >= 0")
        self._clock = clock
        self._rng = rng
        self.base = base
        self.cap = cap
        self.reset_after = reset_after
        self.floor = floor
        self._attempt = 0
        self._healthy_since: float | None = None

    @property
    def attempt(self) -> int:
        """How many failures in a row the next delay accounts for."""
        return self._attempt

    @property
    def ceiling(self) -> float:
        """The largest delay the next failure can produce (what the UI can promise)."""
        return max(self.floor, min(self.cap, self.base * 2.0 ** min(self._attempt, _MAX_EXPONENT)))

    def failure(self) -> float:
        """Record a failure and return how long to wait before trying again."""
        now = self._clock()
        if self._healthy_since is not None and now - self._healthy_since >= self.reset_after:
            self._attempt = 0
        self._healthy_since = None
        delay = max(self.floor, full_jitter(self._attempt, self.base, self.cap, self._rng))
        self._attempt += 1
        return delay

    def success(self) -> None:
        """Record health; the attempt count is forgotten once health has lasted ``reset_after``."""
        now = self._clock()
        if self._healthy_since is None:
            self._healthy_since = now
        if now - self._healthy_since >= self.reset_after:
            self._attempt = 0

    def reset(self) -> None:
        self._attempt = 0
        self._healthy_since = None


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass(frozen=True, slots=True)
class BreakerView:
    """What the status bar shows: "degraded, retrying in N s"."""

    state: BreakerState
    consecutive_failures: int
    retry_in: float | None


class CircuitBreaker:
    """Open after ``threshold`` consecutive failures; one probe per interval; close on success."""

    def __init__(self, *, clock: Clock, backoff: Backoff, threshold: int = 5) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self._clock = clock
        self.backoff = backoff
        self.threshold = threshold
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._open_until = 0.0
        self._probe_out = False

    @property
    def state(self) -> BreakerState:
        """The state as of now: an open breaker whose interval has passed is half-open."""
        if self._state is BreakerState.OPEN and self._clock() >= self._open_until:
            return BreakerState.HALF_OPEN
        return self._state

    @property
    def open_until(self) -> float | None:
        return self._open_until if self._state is not BreakerState.CLOSED else None

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """May a request go now?  In half-open state only the single probe may."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN or self._probe_out:
            return False
        self._state = BreakerState.HALF_OPEN
        self._probe_out = True
        return True

    def cancel_probe(self) -> None:
        """The probe allowed by :meth:`allow` was never sent (e.g. no token); give it back."""
        self._probe_out = False

    def retry_at(self) -> float | None:
        """When the next request may be tried, or None when nothing is held back."""
        state = self.state
        if state is BreakerState.CLOSED:
            return None
        if state is BreakerState.OPEN:
            return self._open_until
        return None if self._probe_out else self._clock()

    def record_success(self) -> None:
        self._failures = 0
        self._probe_out = False
        self._state = BreakerState.CLOSED
        self.backoff.success()

    def record_failure(self) -> None:
        """Count a failure.  While open, late answers to requests sent before it opened do not
        lengthen the interval: only the probe's failure (or the threshold) does."""
        self._failures += 1
        if self._state is BreakerState.OPEN:
            return
        if self._state is BreakerState.HALF_OPEN or self._failures >= self.threshold:
            self._probe_out = False
            self._state = BreakerState.OPEN
            self._open_until = self._clock() + self.backoff.failure()

    def view(self) -> BreakerView:
        state = self.state
        retry_in = None
        if state is BreakerState.OPEN:
            retry_in = max(0.0, self._open_until - self._clock())
        return BreakerView(state, self._failures, retry_in)
