"""Fixtures for the scheduler's pure core: a fake clock and a seeded random source."""

from __future__ import annotations

import random

import pytest

from infdash.scheduler import Budget, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1000.0)


@pytest.fixture
def rng() -> random.Random:
    return random.Random(1234)


@pytest.fixture
def budget(clock: FakeClock, rng: random.Random) -> Budget:
    return Budget(clock=clock, rng=rng)
