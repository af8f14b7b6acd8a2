"""The engines mode against the real simulator: rows, live updates, refresh, details, errors.

The harness app builds the client and scheduler the way the real app does (no client retries:
waits belong to the scheduler) and pushes the screen alone.  Waiting is always on a condition,
checked between ``pilot.pause`` calls and bounded, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from rich.text import Text
from textual.app import App
from textual.message import Message
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from infdash.api import EngineStatus, InferenceClient
from infdash.api.retry import NO_RETRY
from infdash.scheduler import ResourceKey, Scheduler
from infdash.sim import SimConfig, SimServer
from infdash.ui.screens import _live_list
from infdash.ui.screens._live_list import LiveListScreen
from infdash.ui.screens.engines import EnginesScreen
from infdash.ui.services import Services

ScreenFactory = Callable[[Services], LiveListScreen[Any]]
ClientFactory = Callable[[], InferenceClient]


class Harness(App[None]):
    """Builds client + scheduler on mount, pushes one screen; closes both on unmount."""

    def __init__(self, make_client: ClientFactory, make_screen: ScreenFactory) -> None:
        super().__init__()
        self._make_client = make_client
        self._make_screen = make_screen
        self.services: Services | None = None

    async def on_mount(self) -> None:
        client = self._make_client()
        self.services = Services(client, Scheduler(client))
        await self.services.scheduler.start()
        await self.push_screen(self._make_screen(self.services))

    async def on_unmount(self) -> None:
        if self.services is not None:
            await self.services.scheduler.stop()
            await self.services.client.aclose()

    @property
    def live(self) -> LiveListScreen[Any]:
        screen = self.screen
        assert isinstance(screen, LiveListScreen)
        return screen

    @property
    def sched(self) -> Scheduler:
        assert self.services is not None
        return self.services.scheduler


def sim_client(sim: SimServer) -> ClientFactory:
    return lambda: InferenceClient(sim.base_url, sim.api_key, retry=NO_RETRY)


def mock_client(handler: Callable[[httpx.Request], httpx.Response]) -> ClientFactory:
    return lambda: InferenceClient(
        "http://mock.test", "key", transport=httpx.MockTransport(handler), retry=NO_RETRY
    )


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], what: str) -> None:
    """Let the app (and its network I/O) run until ``condition`` holds; fail after ~5 s."""
    for _ in range(500):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def cell(app: Harness, row: str, column: str) -> str:
    value = app.live.table.get_cell(row, column)
    assert isinstance(value, Text)
    return value.plain


def names(app: Harness) -> list[str]:
    table = app.live.table
    return [str(table.get_cell(key, "name")) for key in table.rows]


def status_line(app: Harness) -> str:
    return str(app.live.query_one(".live-status", Static).render())


def detail_text(app: Harness) -> str:
    return str(app.live.query_one(".live-detail", Static).render())


def engine_id(app: Harness, name: str) -> str:
    return next(i for i in app.live.ids if cell(app, i, "name") == name)


@pytest.fixture
def sim_config() -> SimConfig:
    """No tasks at start: every engine's workers are idle, so a drain stops it quickly."""
    return SimConfig(seed=7, manual_clock=True, history_size=5, running_at_start=0)


async def test_rows_appear_subscribed_and_follow_a_drain(sim: SimServer) -> None:
    app = Harness(sim_client(sim), EnginesScreen)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: len(app.live.ids) == 4, "the engines")
        assert names(app) == ["rig-a", "rig-b", "rig-c", "rig-d"]
        rig_a = engine_id(app, "rig-a")
        assert cell(app, rig_a, "status") == "● running"
        assert cell(app, rig_a, "workers") == "0/2 busy · 2×RTX 4090"
        assert cell(app, rig_a, "host") == "16 cores · 64 GiB"
        assert status_line(app).startswith("4 engines · updated")
        view = app.sched.snapshot().resource(ResourceKey.engine(rig_a))
        assert view is not None  # subscribed at the visible tier
        app.live.table.move_cursor(row=2)

        client = app.sched.client
        await client.engines.drain(rig_a)
        app.sched.refresh(ResourceKey.engine(rig_a))
        await wait_until(pilot, lambda: "draining" in cell(app, rig_a, "status"), "draining")
        await asyncio.to_thread(sim.advance, 5)
        app.sched.refresh(ResourceKey.engine(rig_a))
        await wait_until(pilot, lambda: cell(app, rig_a, "status") == "■ stopped", "stopped")
        stored = app.sched.engines.get(rig_a)
        assert stored is not None
        assert stored.status is EngineStatus.STOPPED
        assert app.live.table.cursor_row == 2  # updated in place: the cursor stayed


async def test_refresh_enter_details_and_suspend(sim: SimServer) -> None:
    listed: list[Message] = []

    def hook(message: Message) -> None:
        if isinstance(message, LiveListScreen.Listed):
            listed.append(message)

    app = Harness(sim_client(sim), EnginesScreen)
    async with app.run_test(size=(120, 30), message_hook=hook) as pilot:
        await wait_until(pilot, lambda: len(listed) == 1, "the first listing")
        await pilot.press("r")
        await wait_until(pilot, lambda: len(listed) == 2, "the refresh")

        assert not app.live.query_one(".live-detail").display
        await pilot.press("down", "enter")
        detail = detail_text(app)
        assert detail.startswith("rig-b")
        assert "workers (0/" in detail
        assert "#0" in detail
        await pilot.press("down")
        assert detail_text(app).startswith("rig-c")  # the panel follows the cursor
        await pilot.press("enter")
        assert not app.live.query_one(".live-detail").display

        screen = app.live
        keys = [ResourceKey.engine(i) for i in screen.ids]
        owned = [app.sched.planner.subscriptions.get(k) for k in keys]
        assert all(e is not None and screen.OWNER in e.owners for e in owned)
        await app.push_screen(Screen())  # another screen in front: hand the budget back
        await pilot.pause()
        assert all(app.sched.planner.subscriptions.get(k) is None for k in keys)
        app.pop_screen()
        await pilot.pause()
        owned = [app.sched.planner.subscriptions.get(k) for k in keys]
        assert all(e is not None and screen.OWNER in e.owners for e in owned)


async def test_failures_notify_once_per_episode_and_keep_the_rows() -> None:
    fail = [False]
    engine = {"id": "eng_1", "name": "solo", "status": "running", "workers": []}

    def handler(request: httpx.Request) -> httpx.Response:
        if fail[0]:
            return httpx.Response(500, json={"title": "Internal Server Error", "status": 500})
        if request.url.path == "/engines/list":
            return httpx.Response(200, json={"data": {"items": [engine]}})
        return httpx.Response(200, json={"data": engine})

    failures: list[Message] = []

    def hook(message: Message) -> None:
        if isinstance(message, LiveListScreen.ListFailed):
            failures.append(message)

    app = Harness(mock_client(handler), EnginesScreen)
    async with app.run_test(size=(120, 30), notifications=True, message_hook=hook) as pilot:
        await wait_until(pilot, lambda: app.live.ids == ("eng_1",), "the listing")
        fail[0] = True
        await pilot.press("r")
        await wait_until(pilot, lambda: len(failures) == 1, "the first failure")
        await pilot.press("r")
        await wait_until(pilot, lambda: len(failures) == 2, "the second failure")
        await pilot.pause()
        assert len(app._notifications) == 1
        assert status_line(app).startswith("engines: ")
        assert status_line(app).endswith("— retrying in 30 s")
        assert names(app) == ["solo"]  # the table keeps what it had

        fail[0] = False
        await pilot.press("r")
        await wait_until(pilot, lambda: status_line(app).startswith("1 engine ·"), "success")
        fail[0] = True
        await pilot.press("r")
        await wait_until(pilot, lambda: len(failures) == 3, "a new episode")
        await pilot.pause()
        assert len(app._notifications) == 2  # a success ended the first episode


async def test_relists_on_a_one_shot_timer_only_while_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_live_list, "RELIST_SECONDS", 0.05)
    engines: list[dict[str, Any]] = [{"id": "eng_1", "name": "first", "status": "running"}]
    lists = [0]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/engines/list":
            lists[0] += 1
            return httpx.Response(200, json={"data": {"items": engines}})
        engine = next(e for e in engines if request.url.path.endswith(e["id"]))
        return httpx.Response(200, json={"data": engine})

    app = Harness(mock_client(handler), EnginesScreen)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.live.ids == ("eng_1",), "the first listing")
        engines.append({"id": "eng_2", "name": "second", "status": "pending"})
        await wait_until(pilot, lambda: len(app.live.ids) == 2, "the re-listing")
        assert names(app) == ["first", "second"]

        await app.push_screen(Screen())
        await pilot.pause()
        hidden_at = lists[0]
        await pilot.pause(0.3)  # six intervals: a shown screen would have listed again
        assert lists[0] <= hidden_at + 1  # at most the one already in flight


async def test_unreachable_server_is_one_line() -> None:
    app = Harness(
        lambda: InferenceClient("http://127.0.0.1:9", "key", retry=NO_RETRY), EnginesScreen
    )
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.live.error is not None, "the error")
        assert status_line(app).startswith("engines: cannot reach the server")
        assert "retrying —" not in status_line(app)
        assert len(app._notifications) == 1
        assert app.live.table.row_count == 0


async def test_network_text_is_drawn_literally() -> None:
    hostile = {
        "id": "eng_x",
        "name": "[red]x\x1b[2J",
        "status": "\x1b]0;pwned\x07[b]weird",
        "engine_version": "[link=http://e]v1[/link]",
        "workers": [{"id": "w", "index": 0, "status": "busy", "task_id": "[i]t\x1b[31m"}],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/engines/list":
            return httpx.Response(200, json={"data": {"items": [hostile]}})
        return httpx.Response(200, json={"data": hostile})

    app = Harness(mock_client(handler), EnginesScreen)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.live.ids == ("eng_x",), "the listing")
        assert cell(app, "eng_x", "name") == "[red]x"
        assert cell(app, "eng_x", "status") == "? [b]weird"
        assert cell(app, "eng_x", "version") == "[link=http://e]v1[/link]"
        await pilot.press("enter")
        detail = detail_text(app)
        assert "[red]x" in detail
        assert "task [i]t" in detail
        assert "\x1b" not in detail


async def test_empty_workspace() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": {"items": []}})

    app = Harness(mock_client(handler), EnginesScreen)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.live.listed_at is not None, "the listing")
        empty = app.live.query_one(".live-empty", Static)
        assert empty.display
        assert str(empty.render()) == "No engines in this workspace."
        assert status_line(app).startswith("0 engines")
