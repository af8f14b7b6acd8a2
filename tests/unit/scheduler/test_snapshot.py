"""The status bar's picture: usage per class, closures, breaker, streamed vs polled, ages."""

from __future__ import annotations

import random
import re

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
    Transport,
    WaitSource,
    status_line,
    take_snapshot,
)

A = ResourceKey.task("a")
B = ResourceKey.task("b")
E = ResourceKey.engine("e1")


@pytest.fixture
def planner(clock: FakeClock, rng: random.Random, budget: Budget) -> Planner:
    breaker = CircuitBreaker(clock=clock, backoff=Backoff(clock=clock, rng=rng, floor=0.4))
    return Planner(budget, clock=clock, rng=rng, breaker=breaker)


def complete_all(planner: Planner, outcome: Outcome = Outcome.OK) -> None:
    for action in planner.plan().actions:
        planner.complete(action.key, outcome)


def test_usage_per_class_and_resource_ages(planner: Planner, clock: FakeClock) -> None:
    planner.subscribe(A, "detail", Tier.FOCUSED)
    planner.subscribe(B, "table", Tier.VISIBLE)
    planner.subscribe(E, "engines", Tier.BACKGROUND)
    before = take_snapshot(planner, now=clock.now)
    assert before.stale == 3  # never fetched: stale from the start
    assert before.oldest_age is None
    complete_all(planner)
    planner.set_transport(B, Transport.STREAM)
    planner.mark_fresh(B)
    clock.advance(4.0)
    snap = take_snapshot(planner, now=clock.now)
    get = snap.class_view(GET_TASK)
    assert (get.used_last_minute, get.allowed_per_minute, get.server_limit) == (2, 850, 1000)
    assert snap.class_view("other").used_last_minute == 1
    assert not get.closed
    assert (snap.streamed, snap.polled) == (1, 2)
    a = snap.resource(A)
    assert a is not None
    assert (a.tier, a.transport, a.age, a.interval) == (Tier.FOCUSED, Transport.POLL, 4.0, 1.0)
    assert a.stale  # four seconds old at a one-second interval
    b = snap.resource(B)
    assert b is not None
    assert b.transport is Transport.STREAM
    assert not b.stale  # streams reconcile every 60 s
    assert snap.stale == 1
    assert snap.oldest_age == 4.0
    assert [r.key for r in snap.resources] == [A, B, E]  # most important first
    line = status_line(snap)
    assert "get_task 2/850/min" in line
    assert "1 streamed · 2 polled" in line
    assert "1 stale" in line


def test_closed_class_shows_its_countdown(
    planner: Planner, budget: Budget, clock: FakeClock
) -> None:
    budget.observe(RateLimitObservation(GET_TASK, 429, 0, None, 7.0, None, clock.now))
    snap = take_snapshot(planner, now=clock.now)
    get = snap.class_view(GET_TASK)
    assert get.closed
    assert get.closed_by is WaitSource.RETRY_AFTER
    assert get.resumes_in is not None
    assert 7.0 <= get.resumes_in <= 7.7
    assert get.episodes == 1
    assert re.search(r"get_task rate limited, resuming in [78] s", status_line(snap))
    clock.advance(3.0)
    later = take_snapshot(planner, now=clock.now).class_view(GET_TASK)
    assert later.resumes_in == pytest.approx(get.resumes_in - 3.0)


def test_maintenance_wait_is_flagged(planner: Planner, budget: Budget, clock: FakeClock) -> None:
    budget.observe(RateLimitObservation(GET_TASK, 503, None, None, 3600.0, None, clock.now))
    snap = take_snapshot(planner, now=clock.now)
    assert snap.class_view(GET_TASK).capped
    assert "(server asked for longer)" in status_line(snap)


def test_garbage_429_shows_polls_held(planner: Planner, budget: Budget, clock: FakeClock) -> None:
    budget.observe(RateLimitObservation(GET_TASK, 429, None, None, None, None, clock.now))
    view = take_snapshot(planner, now=clock.now).class_view(GET_TASK)
    assert view.closed_by is WaitSource.FALLBACK
    assert view.polls_held_for is not None
    assert 29.0 < view.polls_held_for <= 30.0


def test_breaker_state_and_pause_are_shown(planner: Planner, clock: FakeClock) -> None:
    planner.subscribe_many([ResourceKey.task(f"t{i}") for i in range(6)], "table", Tier.VISIBLE)
    complete_all(planner, Outcome.SERVER_ERROR)
    snap = take_snapshot(planner, now=clock.now)
    assert snap.breaker is not None
    assert snap.breaker.state is BreakerState.OPEN
    assert snap.breaker.consecutive_failures == 6
    assert re.search(r"degraded, retrying in \d+ s", status_line(snap))
    planner.pause("suspended")
    paused = take_snapshot(planner, now=clock.now)
    assert paused.paused == {"suspended"}
    assert status_line(paused).startswith("paused")


def test_resource_limit_keeps_big_watchlists_cheap(planner: Planner, clock: FakeClock) -> None:
    planner.subscribe_many([ResourceKey.task(f"t{i}") for i in range(500)], "w", Tier.BACKGROUND)
    planner.subscribe(A, "detail", Tier.FOCUSED)
    snap = take_snapshot(planner, now=clock.now, resource_limit=5)
    assert len(snap.resources) == 5
    assert snap.resources[0].key == A
    assert snap.polled == 501
