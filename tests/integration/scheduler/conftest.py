"""A harness per test: the simulator and the scheduler on one virtual clock."""

from __future__ import annotations

import pytest

from benchmarks._harness import SimHarness
from infdash.sim import SimConfig, SimServer


@pytest.fixture
def sim_config() -> SimConfig:
    """Whole-second start so the server's whole-second ``Date`` is exact in assertions."""
    return SimConfig(seed=7, manual_clock=True, history_size=40, start_time=1_790_000_000.0)


@pytest.fixture
def harness(sim: SimServer) -> SimHarness:
    return SimHarness(sim)
