"""The app shell: first-run app, help panel, palette commands, errors told once, watched-task
toasts, theme fallback, and the status bar's connection state."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from textual.widgets import Static

from infdash.api import InferenceClient, TaskStatus
from infdash.api.retry import NO_RETRY
from infdash.scheduler import ResourceKey, Scheduler
from infdash.sim import SimConfig, SimServer
from infdash.ui.app import InfdashApp
from infdash.ui.first_run_app import FirstRunApp
from infdash.ui.screens.task_list import TaskListScreen
from infdash.ui.services import Services
from infdash.ui.widgets.task_table import TaskTable
from tests.ui.harness import sim_services, wait_for

SIZE = (140, 40)


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(seed=5, manual_clock=True, history_size=50)


def task_list(app: InfdashApp) -> TaskListScreen:
    assert isinstance(app.screen, TaskListScreen)
    return app.screen


def loaded(app: InfdashApp) -> bool:
    return isinstance(app.screen, TaskListScreen) and bool(app.screen.model.rows())


async def test_first_run_app_offers_the_demo(tmp_path: Path) -> None:
    app = FirstRunApp(tmp_path / "config.toml")
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        text = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert str(tmp_path / "config.toml") in text
        assert "INFERENCE_API_KEY" in text
        await pilot.press("d")
    assert app.return_value == "demo"


async def test_first_run_app_quits_with_status_2(tmp_path: Path) -> None:
    app = FirstRunApp(tmp_path / "config.toml")
    async with app.run_test() as pilot:
        await pilot.press("q")
    assert app.return_code == 2


async def test_question_mark_shows_the_keys(sim: SimServer) -> None:
    app = InfdashApp(sim_services(sim))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: bool(app.screen.query("HelpPanel")))


async def test_unknown_theme_falls_back_with_one_warning(sim: SimServer) -> None:
    app = InfdashApp(sim_services(sim), theme="no-such-theme")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        assert app.theme == "textual-dark"
        warnings = [n.message for n in app._notifications if "unknown theme" in n.message]
        assert len(warnings) == 1
        assert "nord" in warnings[0]


async def test_a_known_theme_is_applied(sim: SimServer) -> None:
    app = InfdashApp(sim_services(sim), theme="nord")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        assert app.theme == "nord"


async def test_palette_offers_the_modes(sim: SimServer) -> None:
    app = InfdashApp(sim_services(sim))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Go to tasks", "Go to engines", "Go to chat"} <= set(titles)
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "Go to engines")
        result = command.callback()
        if result is not None:
            await result
        await wait_for(pilot, lambda: app.current_mode == "engines")


async def test_watched_task_finishing_raises_one_toast(sim: SimServer) -> None:
    async with InferenceClient(sim.base_url, sim.api_key) as client:
        task = await client.tasks.run("infsh/echo", {"text": "watch me"})
    app = InfdashApp(sim_services(sim))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        lst = task_list(app)
        await wait_for(pilot, lambda: lst.model.index_of(task.id) is not None)
        app.screen.query_one(TaskTable).move_cursor_to(task.id)
        await pilot.press("w")
        assert task.id in lst.watcher.watched
        sim.advance(60)
        lst.services.scheduler.refresh(ResourceKey.task(task.id))

        def toasted() -> bool:
            return any(n.title == "Task finished" for n in app._notifications)

        await wait_for(pilot, toasted, rounds=1500)
        toast = next(n for n in app._notifications if n.title == "Task finished")
        assert TaskStatus.COMPLETED.label in toast.message
        assert task.id not in lst.watcher.watched


def failing_services(status: int = 500) -> Services:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        problem = {"type": "internal", "title": "boom", "status": status, "detail": "db down"}
        return httpx.Response(status, json=problem)

    client = InferenceClient(
        "http://mock.test", "key", transport=httpx.MockTransport(handler), retry=NO_RETRY
    )
    return Services(client, Scheduler(client), profile="broken")


async def test_a_failing_server_is_told_once_and_the_app_stays_usable() -> None:
    app = InfdashApp(failing_services())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        lst_ready = lambda: isinstance(app.screen, TaskListScreen)  # noqa: E731
        await wait_for(pilot, lst_ready)
        lst = task_list(app)
        await wait_for(pilot, lambda: lst.episodes.message("list") is not None)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: not lst.model.loading)
        await pilot.pause()
        errors = [n for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1
        assert "500" in errors[0].message
        summary = str(app.screen.query_one("#list-summary", Static).render())
        assert "⚠" in summary
        await pilot.press("slash")  # still answering keys
        assert app.focused is not None
        assert app.focused.id == "filter-input"


async def test_a_production_profile_gets_a_banner(sim: SimServer) -> None:
    services = sim_services(sim, read_only=True)
    services.production = True
    services.profile = "prod-eu"
    app = InfdashApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        profile = app.screen.query_one("#status-profile", Static)
        assert "-production" in profile.classes
        assert str(profile.render()) == "▲ prod-eu · PRODUCTION · read-only"
        link = app.screen.query_one("#status-link", Static)
        assert "live" in str(link.render())


async def test_question_mark_toggles_and_bell_command_flips(sim: SimServer) -> None:
    app = InfdashApp(sim_services(sim))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: bool(app.screen.query("HelpPanel")))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: not app.screen.query("HelpPanel"))
        bell = next(c for c in app.get_system_commands(app.screen) if "bell" in c.title)
        assert bell.title == "Turn the bell on"
        bell.callback()
        assert app.services.bell is True
        await pilot.pause()
        assert any("bell when a watched task finishes: on" in n.message for n in app._notifications)
