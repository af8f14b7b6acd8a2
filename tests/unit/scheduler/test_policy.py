"""Tier intervals stretch to the budget: background first, then visible, never focused."""

from __future__ import annotations

import random

import pytest

from infdash.scheduler import Tier, TierPolicy, stretch

POLICY = TierPolicy()
BUDGET = POLICY.utilisation * (850 - 20)  # what the planner plans for the get_task class


def counts(focused: int, visible: int, background: int) -> dict[Tier, int]:
    return {Tier.FOCUSED: focused, Tier.VISIBLE: visible, Tier.BACKGROUND: background}


def test_no_stretching_when_the_budget_suffices() -> None:
    got = stretch(counts(1, 20, 30), BUDGET, POLICY)
    assert (got.focused, got.visible, got.background) == (1.0, 5.0, 30.0)


@pytest.mark.parametrize("watched", [200, 1000, 5000])
def test_watched_tasks_fit_the_background_budget(watched: int) -> None:
    load = counts(1, 50, watched - 51)
    got = stretch(load, BUDGET, POLICY)
    assert got.demand_per_minute(load) <= BUDGET + 1e-6
    assert got.focused == POLICY.focused <= 1.0
    assert got.visible >= POLICY.visible
    assert got.background >= POLICY.background
    assert got.visible <= got.background


def test_background_stretches_first() -> None:
    got = stretch(counts(1, 50, 149), BUDGET, POLICY)  # 200 watched
    assert got.visible == POLICY.visible
    assert POLICY.background < got.background <= POLICY.background_max


def test_visible_stretches_once_background_reaches_its_maximum() -> None:
    got = stretch(counts(1, 50, 4949), BUDGET, POLICY)  # 5,000 watched
    assert got.background == POLICY.background_max
    assert POLICY.visible < got.visible <= POLICY.visible_max


def test_background_goes_past_its_maximum_only_when_visible_is_at_its_own() -> None:
    load = counts(1, 200, 20_000)
    got = stretch(load, BUDGET, POLICY)
    assert got.visible == POLICY.visible_max
    assert got.background > POLICY.background_max
    assert got.demand_per_minute(load) <= BUDGET + 1e-6


def test_fixed_demand_of_streams_is_taken_off_the_top() -> None:
    load = counts(0, 0, 300)
    free = stretch(load, BUDGET, POLICY)
    with_streams = stretch(load, BUDGET, POLICY, fixed_per_minute=300.0)
    assert with_streams.background > free.background
    assert with_streams.demand_per_minute(load) + 300.0 <= BUDGET + 1e-6


def test_focused_is_never_stretched_even_when_nothing_else_fits() -> None:
    load = counts(3, 400, 400)
    got = stretch(load, 200.0, POLICY)
    assert got.focused == POLICY.focused
    assert got.demand_per_minute(load) <= 200.0 + 1e-6


def test_random_loads_never_exceed_the_budget() -> None:
    rng = random.Random(42)
    for _ in range(2_000):
        load = counts(rng.randint(0, 2), rng.randint(0, 300), rng.randint(0, 50_000))
        budget = rng.uniform(150.0, 2_000.0)
        got = stretch(load, budget, POLICY)
        assert got.demand_per_minute(load) <= budget * (1 + 1e-9)
        assert got.focused == POLICY.focused
        assert POLICY.visible <= got.visible <= got.background


def test_policy_validation() -> None:
    with pytest.raises(ValueError, match="focused"):
        TierPolicy(focused=10.0)
    with pytest.raises(ValueError, match="utilisation"):
        TierPolicy(utilisation=1.5)
