"""Regenerate the SVG screenshots in ``screenshots/`` from the running app (never hand-edit).

The app runs headless against the embedded simulator (seeded, on its manual clock, so the
world holds still while a frame is taken), is driven by keys like a user would, and each
view is saved with ``App.save_screenshot``.  Run ``make screenshots``.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from infdash.sim import SimConfig, SimServer
from infdash.sim.catalog import CATALOG
from infdash.ui.app import InfdashApp
from infdash.ui.screens.task_list import TaskListScreen
from infdash.ui.session import open_services

OUT = Path(__file__).resolve().parents[1] / "screenshots"
SIZE = (150, 40)
Step = Callable[[Pilot[Any]], Awaitable[None]]


async def until(pilot: Pilot[Any], condition: Callable[[], bool], rounds: int = 500) -> None:
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise RuntimeError("the app never got there")


async def list_loaded(pilot: Pilot[Any]) -> None:
    def ready() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, TaskListScreen) and bool(screen.model.rows())

    await until(pilot, ready)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.3)


async def keys(pilot: Pilot[Any], *pressed: str) -> None:
    await pilot.press(*pressed)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.3)


async def typed(pilot: Pilot[Any], text: str) -> None:
    await keys(pilot, *("space" if c == " " else c for c in text))


async def shoot(sim: SimServer, name: str, steps: list[Step], theme: str = "") -> None:
    known = [f"{s.ref}@{v}" for s in CATALOG.values() for v in s.versions]
    services = open_services(sim.base_url, sim.api_key, profile="demo", known_apps=known)
    app = InfdashApp(services, theme=theme)
    async with app.run_test(size=SIZE) as pilot:
        await list_loaded(pilot)
        for step in steps:
            await step(pilot)
        app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
    print(f"screenshots/{name}.svg")


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    sim = SimServer(SimConfig(seed=7, manual_clock=True, history_size=3000))
    sim.start()
    try:
        sim.advance(30)
        await shoot(sim, "tasks", [lambda p: keys(p, "j", "j", "space", "j", "space")])
        await shoot(sim, "tasks-nord", [], theme="nord")
        await shoot(sim, "tasks-light", [], theme="textual-light")
        await shoot(
            sim,
            "filter",
            [lambda p: keys(p, "slash"), lambda p: typed(p, "status:running app:infsh/slow")],
        )
        await shoot(
            sim, "filter-error", [lambda p: keys(p, "slash"), lambda p: typed(p, "status:runing")]
        )
        await shoot(sim, "run-dialog", [lambda p: keys(p, "n"), lambda p: typed(p, "infsh/fl")])
        await shoot(sim, "detail", [lambda p: keys(p, "enter")])
        running: list[Step] = [
            lambda p: keys(p, "slash"),
            lambda p: typed(p, "status:running app:infsh/slow"),
            lambda p: keys(p, "enter"),
            lambda p: keys(p, "enter"),
        ]
        await shoot(sim, "detail-logs", [*running, lambda p: keys(p, "right_square_bracket")])
        await shoot(
            sim,
            "detail-timings",
            [*running, lambda p: keys(p, "left_square_bracket", "left_square_bracket")],
        )
        await shoot(sim, "detail-telemetry", [*running, lambda p: keys(p, "left_square_bracket")])
        await shoot(sim, "engines", [lambda p: keys(p, "2"), lambda p: keys(p, "enter")])
        await shoot(sim, "engines-drain", [lambda p: keys(p, "2"), lambda p: keys(p, "d", "y")])
        await shoot(sim, "chat", [lambda p: keys(p, "3")])

        async def replied(pilot: Pilot[Any]) -> None:
            """Let the assistant's reply stream to its end on the simulator's clock."""
            for _ in range(60):
                await asyncio.to_thread(sim.advance, 0.5)
                await pilot.pause(0.05)
            await pilot.pause(0.3)

        await shoot(
            sim,
            "chat-conversation",
            [
                lambda p: keys(p, "3", "n"),
                lambda p: typed(p, "think about the task queue"),
                lambda p: p.press("enter"),  # not keys(): the chat's follower never completes
                replied,
            ],
        )
    finally:
        sim.stop()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
