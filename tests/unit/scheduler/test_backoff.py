"""Full-jitter backoff and the circuit breaker (performance.md §2.3 item 5, R5)."""

from __future__ import annotations

import itertools
import random

import pytest

from infdash.scheduler import Backoff, BreakerState, CircuitBreaker, FakeClock, full_jitter


def test_full_jitter_stays_within_the_doubling_ceiling() -> None:
    rng = random.Random(3)
    for attempt in range(12):
        ceiling = min(30.0, 0.8 * 2**attempt)
        samples = [full_jitter(attempt, 0.8, 30.0, rng) for _ in range(200)]
        assert all(0.0 <= s <= ceiling for s in samples)
        assert max(samples) > 0.8 * ceiling  # the whole range is used: real jitter
    assert full_jitter(10_000, 0.8, 30.0, rng) <= 30.0  # no overflow for absurd attempts


def test_backoff_grows_caps_and_resets_after_two_healthy_minutes(
    clock: FakeClock, rng: random.Random
) -> None:
    backoff = Backoff(clock=clock, rng=rng)
    ceilings = []
    for _ in range(8):
        ceilings.append(backoff.ceiling)
        assert backoff.failure() <= ceilings[-1]
    assert ceilings == [0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0]
    backoff.success()
    clock.advance(119.0)
    backoff.success()
    assert backoff.attempt == 8  # not yet two minutes of health
    clock.advance(1.0)
    backoff.success()
    assert backoff.attempt == 0
    assert backoff.ceiling == 0.8


def test_a_failure_after_a_long_healthy_stretch_starts_small(
    clock: FakeClock, rng: random.Random
) -> None:
    backoff = Backoff(clock=clock, rng=rng)
    for _ in range(5):
        backoff.failure()
    backoff.success()
    clock.advance(200.0)
    assert backoff.failure() <= 0.8


def test_a_short_healthy_spell_does_not_reset(clock: FakeClock, rng: random.Random) -> None:
    backoff = Backoff(clock=clock, rng=rng)
    for _ in range(5):
        backoff.failure()
    backoff.success()
    clock.advance(30.0)
    backoff.failure()
    assert backoff.attempt == 6


def test_floor_and_validation(clock: FakeClock, rng: random.Random) -> None:
    backoff = Backoff(clock=clock, rng=rng, floor=1.0)
    assert all(backoff.failure() >= 1.0 for _ in range(20))
    with pytest.raises(ValueError, match="base"):
        Backoff(clock=clock, rng=rng, base=0.0)


def state(breaker: CircuitBreaker) -> BreakerState:
    """Read the state through a call, so the type checker does not pin it between asserts."""
    return breaker.state


def make_breaker(clock: FakeClock, rng: random.Random) -> CircuitBreaker:
    return CircuitBreaker(clock=clock, backoff=Backoff(clock=clock, rng=rng, floor=0.4))


def test_breaker_opens_after_five_consecutive_failures(
    clock: FakeClock, rng: random.Random
) -> None:
    breaker = make_breaker(clock, rng)
    for _ in range(4):
        breaker.record_failure()
        assert state(breaker) is BreakerState.CLOSED
        assert breaker.allow()
    breaker.record_success()  # a success in between: the count starts again
    for _ in range(4):
        breaker.record_failure()
    assert state(breaker) is BreakerState.CLOSED
    breaker.record_failure()
    assert state(breaker) is BreakerState.OPEN
    assert not breaker.allow()
    view = breaker.view()
    assert view.state is BreakerState.OPEN
    assert view.retry_in is not None
    assert 0.4 <= view.retry_in <= 0.8


def test_breaker_lets_one_probe_per_interval_and_closes_on_success(
    clock: FakeClock, rng: random.Random
) -> None:
    breaker = make_breaker(clock, rng)
    for _ in range(5):
        breaker.record_failure()
    intervals = []
    for _ in range(8):  # the server stays down: each probe fails
        until = breaker.open_until
        assert until is not None
        intervals.append(until - clock.now)
        while clock.now < until:
            assert not breaker.allow()
            clock.advance(0.01)
        assert state(breaker) is BreakerState.HALF_OPEN
        assert breaker.allow()  # the single probe
        assert not breaker.allow()  # nobody else while it is out
        assert not breaker.allow()
        breaker.record_failure()
        assert state(breaker) is BreakerState.OPEN
    assert all(0.4 - 1e-9 <= i <= 30.0 + 1e-9 for i in intervals), intervals
    assert max(intervals[-3:]) > 3.0  # grown well past the first interval
    clock.advance_to(breaker.open_until or clock.now)
    assert breaker.allow()
    breaker.record_success()
    assert state(breaker) is BreakerState.CLOSED
    assert breaker.allow()
    assert breaker.allow()


def test_a_probe_that_was_never_sent_can_be_given_back(
    clock: FakeClock, rng: random.Random
) -> None:
    breaker = make_breaker(clock, rng)
    for _ in range(5):
        breaker.record_failure()
    clock.advance(1.0)
    assert breaker.allow()
    assert breaker.retry_at() is None  # waiting for the probe's answer
    breaker.cancel_probe()
    assert breaker.retry_at() == clock.now
    assert breaker.allow()


def test_a_ten_second_outage_costs_five_requests_plus_one_probe_per_interval(
    clock: FakeClock, rng: random.Random
) -> None:
    """R5: the server fails for 10 s under many eager pollers, then recovers."""
    breaker = make_breaker(clock, rng)
    outage_ends = clock.now + 10.0
    failed: list[float] = []
    recovered_at: float | None = None
    for _ in range(6_000):  # one minute in 10 ms steps; ten pollers ask every step
        for _poller in range(10):
            if not breaker.allow():
                continue
            if clock.now < outage_ends:
                failed.append(clock.now)
                breaker.record_failure()
            else:
                breaker.record_success()
                recovered_at = recovered_at or clock.now
        clock.advance(0.01)
    probes = failed[5:]
    assert failed[:5] == [failed[0]] * 5  # five eager failures, then the breaker opens
    assert len(probes) <= 5  # 0.8 + 1.6 + 3.2 + 6.4 > 10: at most a handful of probes
    assert all(b - a >= 0.4 - 1e-9 for a, b in itertools.pairwise(probes))
    assert recovered_at is not None
    assert recovered_at - outage_ends <= 30.0  # back within one (capped) interval
    assert state(breaker) is BreakerState.CLOSED
