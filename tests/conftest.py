"""Shared fixtures: a real simulator on a loopback port, driven by a manual clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infdash.sim import SimConfig, SimServer


@pytest.fixture
def sim_config() -> SimConfig:
    """A small, deterministic world on a manual clock; tests override fields as they need."""
    return SimConfig(seed=7, manual_clock=True, history_size=40)


@pytest.fixture
def sim(sim_config: SimConfig) -> Iterator[SimServer]:
    """A running simulator (its own thread and event loop), stopped after the test."""
    server = SimServer(sim_config)
    server.start()
    try:
        yield server
    finally:
        server.stop()
