"""Fault-matrix rows R1, R2, R5 driven end to end through planner + budget + breaker.

The server here is a script: it answers each poll with a status and headers chosen by time.
The loop is the one the async scheduler will run, minus the I/O.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable

import pytest

from infdash.scheduler import (
    GET_TASK,
    Backoff,
    BreakerState,
    Budget,
    CircuitBreaker,
    FakeClock,
    Outcome,
    Planner,
    RateLimitObservation,
    ResourceKey,
    Tier,
)

from .fakes import EPOCH

Script = Callable[[float], tuple[int, RateLimitObservation]]
Log = list[tuple[float, ResourceKey, int]]


def healthy(now: float, skew: float = 0.0) -> tuple[int, RateLimitObservation]:
    date = math.floor(EPOCH + skew + now)
    return 200, RateLimitObservation(GET_TASK, 200, 500, date + 30.0, None, float(date), now)


def drive(planner: Planner, clock: FakeClock, script: Script, seconds: float) -> Log:
    log: Log = []
    end = clock.now + seconds
    while clock.now < end:
        plan = planner.plan()
        for action in plan.actions:
            status, obs = script(clock.now)
            log.append((clock.now, action.key, status))
            planner.budget.observe(obs)
            outcome = Outcome.OK
            if status == 429:
                outcome = Outcome.RATE_LIMITED
            elif status >= 500:
                outcome = Outcome.SERVER_ERROR
            planner.complete(action.key, outcome)
        if plan.actions:
            continue
        assert plan.wake_at is not None
        assert plan.wake_at > clock.now
        clock.advance_to(min(plan.wake_at, end))
    return log


@pytest.fixture
def planner(clock: FakeClock, rng: random.Random) -> Planner:
    budget = Budget(clock=clock, rng=rng)
    breaker = CircuitBreaker(clock=clock, backoff=Backoff(clock=clock, rng=rng, floor=0.4))
    planner = Planner(budget, clock=clock, rng=rng, breaker=breaker)
    planner.subscribe_many([ResourceKey.task(f"t{i}") for i in range(20)], "table", Tier.VISIBLE)
    planner.subscribe(ResourceKey.task("focus"), "detail", Tier.FOCUSED)
    return planner


def test_r1_retry_after_silences_every_poller_then_one_retry(
    planner: Planner, clock: FakeClock
) -> None:
    limited_at = clock.now + 5.0
    fired = False

    def script(now: float) -> tuple[int, RateLimitObservation]:
        nonlocal fired
        if now >= limited_at and not fired:
            fired = True
            return 429, RateLimitObservation(GET_TASK, 429, 0, None, 7.0, None, now)
        return healthy(now)

    log = drive(planner, clock, script, 30.0)
    (t429,) = [t for t, _, status in log if status == 429]
    after = [t for t, _, _ in log if t > t429]
    assert after[0] >= t429 + 7.0  # nobody, not only the failed poll, for 7 s
    assert after[0] <= t429 + 7.0 * 1.1 + 1.0  # then promptly back (jitter + token refill)
    assert planner.budget.episodes(GET_TASK) == 1
    assert len(after) > 20  # and polling resumed


@pytest.mark.parametrize("skew", [-300.0, 300.0])
def test_r2_reset_minus_date_sets_the_pause_whatever_the_local_clock(
    planner: Planner, clock: FakeClock, skew: float
) -> None:
    limited_at = clock.now + 5.0
    fired = False

    def script(now: float) -> tuple[int, RateLimitObservation]:
        nonlocal fired
        if now >= limited_at and not fired:
            fired = True
            date = math.floor(EPOCH + skew + now)
            obs = RateLimitObservation(GET_TASK, 429, 0, date + 20.0, None, float(date), now)
            return 429, obs
        return healthy(now, skew)

    log = drive(planner, clock, script, 60.0)
    (t429,) = [t for t, _, status in log if status == 429]
    after = [t for t, _, _ in log if t > t429]
    assert 20.0 <= after[0] - t429 <= 20.0 * 1.1 + 1.0


def test_r5_outage_opens_the_breaker_and_recovery_refreshes_every_row(
    planner: Planner, clock: FakeClock
) -> None:
    start = clock.now
    outage_ends = start + 10.0

    def script(now: float) -> tuple[int, RateLimitObservation]:
        if now < outage_ends:
            return 503, RateLimitObservation(GET_TASK, 503, None, None, None, None, now)
        return healthy(now)

    log = drive(planner, clock, script, 90.0)
    failures = [t for t, _, status in log if status >= 500]
    breaker = planner.breaker
    assert breaker is not None
    # The first plan fans out before any answer (one wave), then the breaker holds everyone
    # to one probe per interval.
    first_wave = [t for t in failures if t == start]
    probes = [t for t in failures if t > start]
    assert len(first_wave) <= 15
    assert len(probes) <= 5
    assert all(b - a >= 0.4 - 1e-9 for a, b in itertools.pairwise(probes))
    recovered = min(t for t, _, status in log if status == 200)
    assert recovered - outage_ends <= 30.0
    assert breaker.state is BreakerState.CLOSED
    # After recovery, every row is refreshed within about one visible interval.
    for key in [ResourceKey.task(f"t{i}") for i in range(20)]:
        assert any(k == key and s == 200 and t <= recovered + 6.0 for t, k, s in log)
