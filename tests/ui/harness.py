"""Helpers for Pilot tests of the whole app against the simulator (no fixtures: plain calls).

The app runs on the test's event loop; the simulator serves from its own thread on a manual
clock, so a test moves the world with ``sim.advance`` and then waits for the app to notice.
Waiting is bounded and event-driven (``pilot.pause()`` between checks), never a fixed sleep.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from textual.pilot import Pilot

from infdash.sim import SimServer
from infdash.ui.services import Services
from infdash.ui.session import open_services

FROZEN_NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def sim_services(
    sim: SimServer,
    *,
    read_only: bool = False,
    known_apps: tuple[str, ...] = ("infsh/echo@1.1.0", "infsh/slow@1.0.0"),
) -> Services:
    """Services for the app on ``sim``: a fresh client and scheduler per test."""
    return open_services(
        sim.base_url, sim.api_key, profile="test", read_only=read_only, known_apps=known_apps
    )


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], *, rounds: int = 400) -> None:
    """Let the app run until ``condition`` holds; fail (not hang) after ``rounds`` pauses."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("the app never reached the expected state")
