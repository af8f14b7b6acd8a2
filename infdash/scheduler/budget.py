"""Token buckets per rate-limit class, kept in step with the server (performance.md §2.3).

Each class has a local bucket sized so that *any* 60-second window holds at most
``per_minute`` requests (burst + refill·60 = per_minute).  The server's headers are the truth:
every response clamps the bucket to ``Remaining − safety``; ``Remaining == 0``, a 429 or a
``Retry-After`` closes the whole class — every poller, not just the one that failed — until the
server's reset (plus 0–10 % jitter), after which one probe goes before the rest.  Polling keeps
``reserve`` tokens (and ``reserve`` of the server's Remaining) free so user actions — cancel,
drain, run — are never starved, and polling slows in proportion as Remaining falls below
``low_water``, so the bucket runs dry before the server has to say 429 (R1–R4).  When another
client shares the key (R35), the rate at which Remaining falls faster than we spend is learnt
and projected forward, and a low Remaining that has gone stale is probed with one request
before any more are spent.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from infdash.scheduler.backoff import full_jitter
from infdash.scheduler.clock import Clock
from infdash.scheduler.limits import (
    DEFAULT_CLASSES,
    Admission,
    BudgetConfig,
    Closure,
    LimitClass,
    Priority,
    priority_floor,
)
from infdash.scheduler.ratelimit import OTHER, RateLimitObservation, WaitSource, server_wait

_EPSILON = 1e-9
_MIN_WAIT = 1e-6
"""A refusal always names a later time, so a loop that sleeps until it cannot spin."""


@dataclass(slots=True)
class _ClassState:
    spec: LimitClass
    tokens: float
    updated: float
    closed_until: float = -math.inf
    poll_hold_until: float = -math.inf
    closure: Closure | None = None
    probing: bool = False
    probe_sent_at: float | None = None
    server_remaining: int | None = None
    server_fresh_until: float = -math.inf
    heard_at: float = -math.inf
    drain_rate: float = 0.0
    """Remaining per second spent by *other* clients on the key (EWMA), to look ahead (R35)."""
    base_at: float | None = None
    base_remaining: int = 0
    taken_since_base: int = 0
    fallback_attempt: int = 0
    episodes: int = 0
    sent: deque[float] = field(default_factory=deque)


class Budget:
    """All limit classes' buckets; the one gate every request (poll or user action) passes."""

    def __init__(
        self,
        classes: Iterable[LimitClass] = DEFAULT_CLASSES,
        *,
        clock: Clock,
        rng: random.Random,
        config: BudgetConfig | None = None,
        default_class: str = OTHER,
    ) -> None:
        self._clock = clock
        self._rng = rng
        self.config = config or BudgetConfig()
        now = clock()
        self._states = {c.name: _ClassState(c, float(c.burst), now) for c in classes}
        if default_class not in self._states:
            raise ValueError(f"default class {default_class!r} is not configured")
        self.default_class = default_class

    # -- reading -------------------------------------------------------------------------

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self._states)

    def limit(self, name: str) -> LimitClass:
        return self._state(name).spec

    def tokens(self, name: str) -> float:
        return self._refill(self._state(name), self._clock()).tokens

    def closure(self, name: str) -> Closure | None:
        """The closure in force now, if any."""
        st = self._state(name)
        return st.closure if self._clock() < st.closed_until else None

    def is_closed(self, name: str) -> bool:
        return self.closure(name) is not None

    def poll_hold_until(self, name: str) -> float | None:
        st = self._state(name)
        return st.poll_hold_until if self._clock() < st.poll_hold_until else None

    def probing(self, name: str) -> bool:
        return self._state(name).probing

    def server_remaining(self, name: str) -> int | None:
        """Our estimate of the server's Remaining, while it is still fresh."""
        projected = self._projected(self._state(name), self._clock())
        return None if projected is None else max(0, math.floor(projected))

    def used(self, name: str, window: float = 60.0) -> int:
        """Requests granted in the last ``window`` seconds (for the "used vs allowed" display)."""
        now = self._clock()
        return sum(1 for t in self._state(name).sent if t > now - window)

    def episodes(self, name: str) -> int:
        """How many times the server has closed this class (one notice per episode, R1)."""
        return self._state(name).episodes

    # -- acquiring -----------------------------------------------------------------------

    def check(self, name: str, priority: Priority = Priority.POLL) -> Admission:
        """Would :meth:`try_acquire` grant now?  Changes nothing but the refill."""
        return self._admit(self._state(name), priority, take=False)

    def try_acquire(self, name: str, priority: Priority = Priority.POLL) -> Admission:
        """Take one token if this request may go now; otherwise say when to ask again."""
        return self._admit(self._state(name), priority, take=True)

    def _admit(self, st: _ClassState, priority: Priority, *, take: bool) -> Admission:
        now = self._clock()
        self._refill(st, now)
        if now < st.closed_until:
            return Admission(False, st.closed_until, "closed")
        if priority is not Priority.USER and now < st.poll_hold_until:
            return Admission(False, st.poll_hold_until, "held")
        floor = priority_floor(st.spec, priority)
        heard = self._projected(st, now, with_drain=False)
        if heard is not None and heard - st.spec.safety - floor < 1:
            return Admission(False, st.server_fresh_until, "server-remaining")
        # Only a guess (others' drain) says stop: polls believe it for a while, then ask the
        # server with a single request rather than wait out the whole window on a guess.
        # Users go by what the server last said.
        guess = None if priority is Priority.USER else self._projected(st, now)
        guessed_low = guess is not None and guess - st.spec.safety - floor < 1
        if guessed_low:
            believe_until = min(st.server_fresh_until, st.heard_at + self.config.guess_hold)
            if now < believe_until:
                return Admission(False, believe_until, "server-remaining")
        if take and not st.probing and (guessed_low or self._uncertain(st, now)):
            st.probing = True  # a guess, or a low Remaining gone stale: one request first
        if st.probing and st.probe_sent_at is not None:
            probe_due = st.probe_sent_at + self.config.probe_timeout
            if now < probe_due:
                return Admission(False, probe_due, "probing")
        deficit = floor + 1 - st.tokens
        if deficit > _EPSILON:  # tolerance: refill maths must not strand us a hair short
            wait = max(deficit / self._rate(st, now), _MIN_WAIT)
            return Admission(False, now + wait, "tokens")
        if take:
            st.tokens -= 1
            if st.server_remaining is not None and now < st.server_fresh_until:
                st.server_remaining -= 1
            st.taken_since_base += 1
            if st.probing:
                st.probe_sent_at = now
            st.sent.append(now)
            self._trim(st, now)
        return Admission(True, now)

    # -- server feedback -----------------------------------------------------------------

    def observe(self, obs: RateLimitObservation) -> Closure | None:
        """Bring a class in step with a response's headers; returns a closure it started."""
        st = self._state(obs.limit_class)
        at = obs.observed_at
        self._refill(st, max(at, st.updated))
        cfg = self.config
        wait = server_wait(obs, cfg.max_wait)
        limited = (
            obs.status == 429
            or obs.remaining == 0
            or (obs.status == 503 and wait.source is WaitSource.RETRY_AFTER)
        )
        if obs.remaining is not None:
            if limited:  # a refusal says nothing about how fast others spend
                st.base_at = None
            else:
                self._learn_drain(st, at, obs.remaining)
            st.server_remaining = obs.remaining
            st.heard_at = at
            ttl = cfg.unknown_reset_ttl
            if wait.source is WaitSource.RESET and wait.seconds is not None:
                ttl = wait.seconds
            st.server_fresh_until = at + ttl
            st.tokens = min(st.tokens, float(max(0, obs.remaining - st.spec.safety)))
        if not limited:
            if obs.status < 400:
                st.fallback_attempt = 0
                st.poll_hold_until = -math.inf
            if st.probing and (st.probe_sent_at is None or at >= st.probe_sent_at):
                st.probing = False
                st.probe_sent_at = None
            return None
        if wait.seconds is None:
            delay = max(
                cfg.fallback_floor,
                full_jitter(st.fallback_attempt, cfg.fallback_base, cfg.fallback_cap, self._rng),
            )
            st.fallback_attempt += 1
            st.poll_hold_until = max(st.poll_hold_until, at + cfg.fallback_poll_hold)
        else:
            delay = wait.seconds
            st.fallback_attempt = 0
        jitter = min(delay * self._rng.uniform(0.0, cfg.reopen_jitter), cfg.reopen_jitter_cap)
        until = at + delay + jitter
        if until <= st.closed_until:
            return None
        if st.closure is None or at >= st.closed_until:
            st.episodes += 1
        st.closed_until = until
        st.tokens = 0.0
        st.updated = max(st.updated, at)
        st.probing = True
        st.probe_sent_at = None
        st.closure = Closure(obs.status, wait.source, at, until, wait.capped)
        return st.closure

    def abandon(self, name: str) -> None:
        """A granted request ended with no response to observe (network error, cancelled).

        Its token stays spent, but if it was the probe, another may go now instead of after
        ``probe_timeout``.
        """
        st = self._state(name)
        if st.probing:
            st.probe_sent_at = None

    def reset(self) -> None:
        """Forget everything the server said (profile or key changed): full buckets."""
        now = self._clock()
        self._states = {
            name: _ClassState(st.spec, float(st.spec.burst), now)
            for name, st in self._states.items()
        }

    # -- internals -----------------------------------------------------------------------

    def _state(self, name: str) -> _ClassState:
        st = self._states.get(name)
        return st if st is not None else self._states[self.default_class]

    @staticmethod
    def _uncertain(st: _ClassState, now: float) -> bool:
        """Remaining was low when last heard and has gone stale: it may be 0 by now."""
        low = max(st.spec.low_water, st.spec.safety + st.spec.reserve)
        return (
            st.server_remaining is not None
            and now >= st.server_fresh_until
            and st.server_remaining <= low
        )

    @staticmethod
    def _learn_drain(st: _ClassState, at: float, remaining: int) -> None:
        """Learn how fast others drain the window: Remaining fell more than we spent."""
        if st.base_at is None:
            st.base_at, st.base_remaining, st.taken_since_base = at, remaining, 0
            return
        elapsed = at - st.base_at
        if elapsed < 0.25:  # too short to tell a rate from noise; keep counting
            return
        drained = st.base_remaining - st.taken_since_base - remaining
        sample = max(0.0, drained / elapsed)
        if st.spec.server_limit is not None:  # nobody can spend faster than the server allows
            sample = min(sample, st.spec.server_limit / 60.0)
        st.drain_rate = 0.5 * st.drain_rate + 0.5 * sample
        st.base_at, st.base_remaining, st.taken_since_base = at, remaining, 0

    @staticmethod
    def _projected(st: _ClassState, now: float, *, with_drain: bool = True) -> float | None:
        """Server Remaining as it probably is now; None once the server's window moved on."""
        if st.server_remaining is None or now >= st.server_fresh_until:
            return None
        drain = st.drain_rate * max(0.0, now - st.heard_at) if with_drain else 0.0
        return st.server_remaining - drain

    def _rate(self, st: _ClassState, now: float) -> float:
        """Refill rate, slowed in proportion while the server's Remaining is low."""
        rate = st.spec.refill_per_second
        low = st.spec.low_water
        projected = self._projected(st, now)
        if low and projected is not None:
            spare = projected - st.spec.safety - st.spec.reserve
            rate *= min(1.0, max(0.1, spare / low))
        return rate

    def _refill(self, st: _ClassState, now: float) -> _ClassState:
        if now <= st.updated:
            return st
        if now < st.closed_until:
            st.updated = now
            return st
        start = max(st.updated, st.closed_until)
        st.tokens = min(float(st.spec.burst), st.tokens + (now - start) * self._rate(st, start))
        st.updated = now
        return st

    def _trim(self, st: _ClassState, now: float) -> None:
        horizon = now - self.config.history_window
        while st.sent and st.sent[0] <= horizon:
            st.sent.popleft()
