"""Token buckets kept in step with the server (performance.md §2.3, R1–R4, R35)."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from infdash.scheduler import (
    GET_TASK,
    Budget,
    FakeClock,
    LimitClass,
    Priority,
    RateLimitObservation,
    WaitSource,
)

from .fakes import EPOCH, WindowServer, max_in_any_window

GET = GET_TASK


def observe(
    budget: Budget,
    clock: FakeClock,
    *,
    status: int = 200,
    remaining: int | None = None,
    reset_in: float | None = None,
    retry_after: float | None = None,
    skew: float = 0.0,
) -> None:
    date = math.floor(EPOCH + skew + clock.now)
    budget.observe(
        RateLimitObservation(
            GET,
            status,
            remaining,
            None if reset_in is None else date + reset_in,
            retry_after,
            float(date),
            clock.now,
        )
    )


def drain(budget: Budget, priority: Priority, name: str = GET) -> int:
    taken = 0
    while budget.try_acquire(name, priority).granted:
        taken += 1
    return taken


# -- local token accounting --------------------------------------------------------------


def test_polling_leaves_the_reserve_for_user_actions(budget: Budget) -> None:
    spec = budget.limit(GET)
    assert drain(budget, Priority.POLL) == spec.burst - spec.reserve
    assert drain(budget, Priority.FOCUSED) == spec.reserve - spec.reserve // 2
    assert drain(budget, Priority.USER) == spec.reserve // 2
    assert not budget.try_acquire(GET, Priority.USER).granted


def test_refill_rate_and_capacity(budget: Budget, clock: FakeClock) -> None:
    spec = budget.limit(GET)
    drain(budget, Priority.USER)
    refused = budget.try_acquire(GET, Priority.USER)
    assert not refused.granted
    assert refused.reason == "tokens"
    assert refused.retry_at == pytest.approx(clock.now + 1 / spec.refill_per_second)
    clock.advance_to(refused.retry_at)
    assert budget.try_acquire(GET, Priority.USER).granted
    clock.advance(3600)
    assert budget.tokens(GET) == spec.burst


def test_no_sixty_second_window_exceeds_per_minute(budget: Budget, clock: FakeClock) -> None:
    sent: list[float] = []
    for _ in range(180_000):  # 3 minutes in 1 ms steps, asking greedily as the user
        if budget.try_acquire(GET, Priority.USER).granted:
            sent.append(clock.now)
        clock.advance(0.001)
    assert max_in_any_window(sent) <= budget.limit(GET).per_minute
    assert len(sent) >= 2 * budget.limit(GET).per_minute  # and the budget is actually usable
    assert budget.used(GET) <= budget.limit(GET).per_minute


def test_classes_are_independent_and_unknown_names_use_the_default(budget: Budget) -> None:
    drain(budget, Priority.USER, "run")
    assert budget.try_acquire(GET, Priority.USER).granted
    assert budget.limit("no-such-class").name == "other"


def test_limit_class_validation() -> None:
    with pytest.raises(ValueError, match="burst"):
        LimitClass("x", per_minute=10, burst=10)
    with pytest.raises(ValueError, match="reserve"):
        LimitClass("x", per_minute=10, burst=3, reserve=3)


# -- server headers ----------------------------------------------------------------------


def test_remaining_clamps_the_bucket(budget: Budget, clock: FakeClock) -> None:
    observe(budget, clock, remaining=9, reset_in=30)
    assert budget.tokens(GET) == 9 - budget.limit(GET).safety
    assert budget.server_remaining(GET) == 9


def test_server_remaining_below_reserve_stops_polls_but_not_users(
    budget: Budget, clock: FakeClock
) -> None:
    spec = budget.limit(GET)
    observe(budget, clock, remaining=spec.safety + spec.reserve, reset_in=30)
    refused = budget.try_acquire(GET, Priority.POLL)
    assert (refused.granted, refused.reason) == (False, "server-remaining")
    assert refused.retry_at == pytest.approx(clock.now + 30)
    assert drain(budget, Priority.USER) == spec.reserve
    clock.advance(31)  # the server's window has moved on: local tokens rule again
    assert budget.try_acquire(GET, Priority.POLL).granted


def test_a_low_remaining_gone_stale_is_probed_once_before_spending(
    budget: Budget, clock: FakeClock
) -> None:
    spec = budget.limit(GET)
    observe(budget, clock, remaining=spec.safety + spec.reserve + 3, reset_in=2)
    clock.advance(5.0)  # the window moved on; others may have emptied it meanwhile
    assert budget.server_remaining(GET) is None
    assert budget.try_acquire(GET, Priority.POLL).granted
    assert budget.try_acquire(GET, Priority.USER).reason == "probing"
    observe(budget, clock, remaining=400, reset_in=30)
    assert drain(budget, Priority.POLL) > 1


@pytest.mark.parametrize("skew", [-300.0, 300.0])
def test_closure_length_comes_from_reset_minus_server_date(clock: FakeClock, skew: float) -> None:
    budget = Budget(clock=clock, rng=random.Random(5))
    observe(budget, clock, status=429, remaining=0, reset_in=20, skew=skew)
    closure = budget.closure(GET)
    assert closure is not None
    assert closure.source is WaitSource.RESET
    assert 20.0 <= closure.until - clock.now <= 22.0  # 20 s + at most 10 % jitter


def test_remaining_zero_on_a_200_also_closes(budget: Budget, clock: FakeClock) -> None:
    observe(budget, clock, remaining=0, reset_in=5)
    assert budget.is_closed(GET)


def test_retry_after_closes_the_class_for_every_poller_then_one_probe(
    budget: Budget, clock: FakeClock
) -> None:
    observe(budget, clock, status=429, retry_after=7)
    closure = budget.closure(GET)
    assert closure is not None
    assert closure.source is WaitSource.RETRY_AFTER
    assert 7.0 <= closure.until - clock.now <= 7.7
    assert budget.episodes(GET) == 1
    # Every priority, every caller, at every instant before the reopening: refused.
    while clock.now < closure.until:
        for priority in Priority:
            admission = budget.try_acquire(GET, priority)
            assert not admission.granted
            assert admission.retry_at == closure.until
        clock.advance(0.05)
    # Reopened: tokens start from nothing, and only one probe goes before an answer.
    clock.advance(1.0)
    assert budget.try_acquire(GET, Priority.POLL).granted
    assert budget.try_acquire(GET, Priority.USER).reason == "probing"
    observe(budget, clock, remaining=500, reset_in=40)
    assert budget.try_acquire(GET, Priority.USER).granted
    assert not budget.probing(GET)


def test_a_probe_without_an_answer_can_be_abandoned(budget: Budget, clock: FakeClock) -> None:
    observe(budget, clock, status=429, retry_after=2)
    clock.advance(3.0)
    assert budget.try_acquire(GET, Priority.USER).granted  # the probe
    refused = budget.try_acquire(GET, Priority.USER)
    assert refused.reason == "probing"
    assert refused.retry_at == clock.now + budget.config.probe_timeout
    budget.abandon(GET)  # the probe hit a network error: no headers will come
    assert budget.try_acquire(GET, Priority.USER).granted


def test_a_later_shorter_wait_does_not_shorten_a_closure(budget: Budget, clock: FakeClock) -> None:
    observe(budget, clock, status=429, retry_after=30)
    first = budget.closure(GET)
    observe(budget, clock, status=429, retry_after=2)
    assert budget.closure(GET) == first
    assert budget.episodes(GET) == 1


def test_maintenance_503_is_capped_and_flagged(budget: Budget, clock: FakeClock) -> None:
    observe(budget, clock, status=503, retry_after=3600)
    closure = budget.closure(GET)
    assert closure is not None
    assert closure.capped
    assert 120.0 <= closure.until - clock.now <= 132.0


def test_a_plain_5xx_does_not_close_the_class(budget: Budget, clock: FakeClock) -> None:
    observe(budget, clock, status=502)
    assert not budget.is_closed(GET)


@pytest.mark.parametrize(
    ("reset_in", "retry_after"),
    [(None, None), (-50.0, None), (0.0, None), (None, -1.0), (None, math.nan), (None, 1e20)],
    ids=["none", "negative-reset", "reset-now", "negative-retry", "nan", "1e20"],
)
def test_garbage_429s_never_make_a_tight_loop(
    budget: Budget, clock: FakeClock, reset_in: float | None, retry_after: float | None
) -> None:
    users: list[float] = []
    polls: list[float] = []
    for _ in range(60_000):  # 60 s, in 1 ms steps, both kinds of caller ask every step
        for priority, log in ((Priority.USER, users), (Priority.POLL, polls)):
            if budget.try_acquire(GET, priority).granted:
                log.append(clock.now)
                observe(budget, clock, status=429, reset_in=reset_in, retry_after=retry_after)
                closure = budget.closure(GET)
                assert closure is not None
                assert closure.source is WaitSource.FALLBACK
        clock.advance(0.001)
    assert len(users) + len(polls) <= 60  # at most one request a second to the class
    assert len(polls) <= 60 / budget.config.fallback_poll_hold + 1  # pollers: one per 30 s
    assert budget.poll_hold_until(GET) is not None


def test_a_healthy_response_lifts_the_fallback_hold(budget: Budget, clock: FakeClock) -> None:
    observe(budget, clock, status=429)
    clock.advance(10)
    assert not budget.try_acquire(GET, Priority.POLL).granted
    assert budget.try_acquire(GET, Priority.USER).granted
    observe(budget, clock, status=200, remaining=900, reset_in=30)
    clock.advance(1)
    assert budget.try_acquire(GET, Priority.POLL).granted


def test_reset_forgets_the_server(budget: Budget, clock: FakeClock) -> None:
    observe(budget, clock, status=429, retry_after=60)
    budget.reset()
    assert not budget.is_closed(GET)
    assert budget.tokens(GET) == budget.limit(GET).burst


# -- against a server window -------------------------------------------------------------


def poll_greedily(budget: Budget, server: WindowServer, seconds: float) -> list[tuple[float, int]]:
    """Poll whenever the budget grants; return (time, Remaining) of our requests."""
    seen: list[tuple[float, int]] = []
    end = server.clock.now + seconds
    while server.clock.now < end:
        admission = budget.try_acquire(GET, Priority.POLL)
        if admission.granted:
            reply = server.request()
            budget.observe(reply.observation)
            seen.append((server.clock.now, reply.observation.remaining or 0))
        else:
            server.clock.advance_to(min(admission.retry_at, end))
            server.clock.advance(0.001)
    return seen


def test_slows_down_as_remaining_falls_and_never_hits_429(clock: FakeClock) -> None:
    """R4: another client left us 50 of the window; Remaining falls 50 → 0 with no 429."""
    budget = Budget(clock=clock, rng=random.Random(9))
    server = WindowServer(clock, limit=1000)
    server.foreign(950)
    clock.advance(1.0)
    seen = poll_greedily(budget, server, 120.0)
    assert server.rejected == 0
    in_first_window = [r for t, r in seen if t < 1000.0 + 60.0]
    assert in_first_window[0] == 49
    assert min(in_first_window) >= budget.limit(GET).safety + budget.limit(GET).reserve - 1
    times = [t for t, r in seen if t < 1000.0 + 60.0]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert sum(gaps[-5:]) / 5 > 2 * sum(gaps[16:21]) / 5  # the pace falls with Remaining
    assert any(t > 1000.0 + 60.0 for t, _ in seen)  # and picks up once the window frees


@pytest.mark.parametrize("skew", [-300.0, 300.0])
def test_a_busy_second_client_leaves_us_without_429s(clock: FakeClock, skew: float) -> None:
    """R35: someone else spends 900/min on the same key; header sync keeps us under."""
    budget = Budget(clock=clock, rng=random.Random(11))
    server = WindowServer(clock, limit=1000, skew=skew)
    end = clock.now + 300.0
    next_foreign = clock.now
    ours_429 = 0
    while clock.now < end:
        if clock.now >= next_foreign:
            server.foreign(1)
            next_foreign += 60.0 / 900
        admission = budget.try_acquire(GET, Priority.POLL)
        if admission.granted:
            reply = server.request()
            ours_429 += reply.status == 429
            budget.observe(reply.observation)
        clock.advance(0.01)
    assert ours_429 == 0
    assert len(server.ours) > 100  # we still got our share of the window


def test_polling_recovers_once_the_other_client_stops(clock: FakeClock) -> None:
    """The drain projection is a guess: it must not hold polling back after the window frees."""
    budget = Budget(clock=clock, rng=random.Random(13))
    server = WindowServer(clock, limit=1000)
    stop = clock.now + 40.0
    settled = stop + 60.0 + 30.0  # others' requests have left the window, and some slack
    end = settled + 10.0
    next_foreign = clock.now
    while clock.now < end:
        if clock.now < stop and clock.now >= next_foreign:
            server.foreign(1)
            next_foreign += 60.0 / 900
        if budget.try_acquire(GET, Priority.POLL).granted:
            reply = server.request()
            assert reply.status == 200
            budget.observe(reply.observation)
        clock.advance(0.01)
    # The other client's requests left the window at stop + 60 s; soon after, polling is
    # back to its full sustained rate.
    late = [t for t in server.ours if settled <= t < settled + 10.0]
    assert len(late) >= 0.9 * 10.0 * budget.limit(GET).refill_per_second


def test_a_drain_guess_holds_polls_only_for_a_while_then_probes(
    budget: Budget, clock: FakeClock
) -> None:
    observe(budget, clock, remaining=100, reset_in=100)
    clock.advance(1.0)
    observe(budget, clock, remaining=40, reset_in=99)  # 60 gone in 1 s, none of them ours
    heard_at = clock.now
    clock.advance(5.0)
    refused = budget.try_acquire(GET, Priority.POLL)
    assert (refused.granted, refused.reason) == (False, "server-remaining")
    assert refused.retry_at == heard_at + budget.config.guess_hold  # not the 99 s reset
    assert budget.try_acquire(GET, Priority.USER).granted  # users go by what was heard
    clock.advance_to(refused.retry_at)
    assert budget.try_acquire(GET, Priority.POLL).granted  # one probe to learn the truth
    assert budget.try_acquire(GET, Priority.POLL).reason == "probing"
