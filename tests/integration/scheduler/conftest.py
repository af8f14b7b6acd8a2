"""A harness per test: the simulator and the scheduler on one virtual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from benchmarks._harness import SimHarness
from infdash.sim import SimServer


@pytest.fixture
async def harness(sim: SimServer) -> AsyncIterator[SimHarness]:
    yield SimHarness(sim)
