"""Drain, update and stop from the engines screen, against the simulator's engine lifecycle.

Every key: ``d``/``u``/``x`` ask (the dialog names the engine, its busy workers and what the
action does), send on yes, nothing on no; the progress line says what the action waits for
until the engine settles (the simulator's manual clock moves it), then one notification says
how it ended.  Refusals (read-only, an offline engine, an action already under way) are one
line and send nothing; a server that refuses is one error line and leaves nothing pending.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from infdash.api import EngineStatus, InferenceClient
from infdash.scheduler import ResourceKey, Tier
from infdash.sim import SimConfig, SimServer
from infdash.ui.screens.confirm import ConfirmDialog
from infdash.ui.screens.engine_actions import READ_ONLY
from infdash.ui.screens.engine_update import UpdateDialog
from infdash.ui.screens.engines import ACTIONS_OWNER, EnginesScreen
from infdash.ui.services import Services
from tests.ui.test_engines_screen import Harness, cell, engine_id, sim_client, wait_until

SIZE = (120, 34)


@pytest.fixture
def sim_config() -> SimConfig:
    """No tasks at start: every engine's workers are idle, so an action settles quickly."""
    return SimConfig(seed=7, manual_clock=True, history_size=5, running_at_start=0)


def engines_screen(read_only: bool = False) -> Any:
    def make(services: Services) -> EnginesScreen:
        services.read_only = read_only
        return EnginesScreen(services)

    return make


def screen(app: Harness) -> EnginesScreen:
    live = app.live
    assert isinstance(live, EnginesScreen)
    return live


def progress(app: Harness) -> str:
    line = screen(app).query_one(".live-progress", Static)
    return str(line.render()) if line.display else ""


_NOTES: weakref.WeakKeyDictionary[Harness, list[str]] = weakref.WeakKeyDictionary()


def record_notes(app: Harness) -> None:
    """Record every notification as it is raised.  ``App._notifications`` will not do: a
    notification joins it only when the app handles the message ``notify`` posts (a check
    right after the screen notified could miss it; CI did), and leaves it after 5 s."""
    said = _NOTES.setdefault(app, [])
    raise_note = app.notify

    def notify(message: str, **options: Any) -> None:
        said.append(message)
        raise_note(message, **options)

    app.notify = notify  # type: ignore[method-assign]


def notes(app: Harness) -> list[str]:
    """Every notification raised so far, oldest first."""
    return _NOTES[app]


class Sent:
    """The simulator's client, recording every request path it sends."""

    def __init__(self, sim: SimServer) -> None:
        self.sim = sim
        self.paths: list[str] = []

    def __call__(self) -> InferenceClient:
        client = sim_client(self.sim)()

        async def record(request: httpx.Request) -> None:
            self.paths.append(f"{request.method} {request.url.path}")

        client.http.event_hooks["request"].append(record)
        return client

    def posted(self, action: str) -> int:
        """How many ``POST /engines/{id}/<action>`` were sent."""
        return sum(1 for p in self.paths if p.startswith("POST") and p.endswith(f"/{action}"))


async def listed(pilot: Pilot[Any], app: Harness) -> None:
    """Wait for the four engines (and record notifications from now on)."""
    record_notes(app)
    await wait_until(pilot, lambda: len(app.live.ids) == 4, "the engines")


async def select(pilot: Pilot[Any], app: Harness, name: str) -> str:
    engine = engine_id(app, name)
    app.live.table.move_cursor(row=app.live.ids.index(engine))
    await pilot.pause()
    return engine


async def ask(pilot: Pilot[Any], app: Harness, key: str) -> None:
    """Press an action key and wait for its confirmation."""
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the dialog")


async def test_drain_asks_shows_progress_and_says_when_it_stopped(sim: SimServer) -> None:
    sent = Sent(sim)
    app = Harness(sent, engines_screen())
    async with app.run_test(size=SIZE) as pilot:
        await listed(pilot, app)
        rig_a = await select(pilot, app, "rig-a")
        await ask(pilot, app, "d")
        items = str(app.screen.query_one("#confirm-items", Static).render())
        assert "rig-a  (running, v" in items
        assert "0 of 2 workers busy" in items
        assert "takes no new tasks, finishes the running ones, then stops" in items
        await pilot.press("y")
        # (a poll may show the row draining before the send worker reports: wait for that)
        await wait_until(pilot, lambda: rig_a in screen(app).pending, "the drain sent")
        await wait_until(pilot, lambda: "draining" in cell(app, rig_a, "status"), "draining")
        assert progress(app).startswith("draining rig-a: ")
        key = ResourceKey.engine(rig_a)
        entry = app.sched.planner.subscriptions.get(key)
        assert entry is not None
        assert ACTIONS_OWNER in entry.owners
        assert entry.tier is Tier.FOCUSED  # followed closely until it settles
        await asyncio.to_thread(sim.advance, 5)
        app.sched.refresh(key)
        await wait_until(pilot, lambda: not screen(app).pending, "the drain to settle")
        assert cell(app, rig_a, "status") == "■ stopped"
        assert any(n.startswith("rig-a drained: stopped (took ") for n in notes(app))
        assert progress(app) == ""
        entry = app.sched.planner.subscriptions.get(key)
        assert entry is None or ACTIONS_OWNER not in entry.owners


async def test_update_takes_a_version_refuses_a_bad_one_and_settles_on_it(
    sim: SimServer,
) -> None:
    sent = Sent(sim)
    app = Harness(sent, engines_screen())
    async with app.run_test(size=SIZE) as pilot:
        await listed(pilot, app)
        rig_c = await select(pilot, app, "rig-c")
        before = cell(app, rig_c, "version")
        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, UpdateDialog), "the dialog")
        field = app.screen.query_one("#update-version", Input)
        assert field.value == "stable"
        field.value = "latest"
        await pilot.press("enter")
        error = str(app.screen.query_one("#update-error", Static).render())
        assert error == "latest is not a version: type stable, canary or one like v1.10.15."
        assert field.value == "latest"  # what the user typed stays
        assert sent.posted("update") == 0
        field.value = "canary"
        await pilot.press("enter")
        await wait_until(pilot, lambda: rig_c in screen(app).pending, "the update sent")
        assert progress(app).startswith("updating rig-c to canary")
        await wait_until(pilot, lambda: "restarting" in cell(app, rig_c, "status"), "restart")
        await asyncio.to_thread(sim.advance, 10)
        app.sched.refresh(ResourceKey.engine(rig_c))
        settled = "rig-c updated: running "
        await wait_until(pilot, lambda: any(n.startswith(settled) for n in notes(app)), "settled")
        assert not screen(app).pending
        after = cell(app, rig_c, "version")
        assert after != before
        assert cell(app, rig_c, "status") == "● running"
        note = next(n for n in notes(app) if n.startswith(settled))
        assert note.startswith(f"{settled}{after} (took ")


async def test_stop_and_no_sends_nothing(sim: SimServer) -> None:
    sent = Sent(sim)
    app = Harness(sent, engines_screen())
    async with app.run_test(size=SIZE) as pilot:
        await listed(pilot, app)
        rig_d = await select(pilot, app, "rig-d")  # disconnected: stops at once
        await ask(pilot, app, "x")
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        assert sent.posted("stop") == 0
        await ask(pilot, app, "x")
        await pilot.press("y")
        await wait_until(pilot, lambda: cell(app, rig_d, "status") == "■ stopped", "stopped")
        settled = "rig-d stopped: stopped (took "
        await wait_until(pilot, lambda: any(n.startswith(settled) for n in notes(app)), "settled")
        assert not screen(app).pending
        assert sent.posted("stop") == 1
        await pilot.press("x")  # stopped now: refused here, nothing sent
        await pilot.pause()
        assert notes(app)[-1] == "cannot stop rig-d while it is stopped"
        assert sent.posted("stop") == 1


async def test_refusals_are_one_line_and_send_nothing(sim: SimServer) -> None:
    sent = Sent(sim)
    app = Harness(sent, engines_screen())
    async with app.run_test(size=SIZE) as pilot:
        await listed(pilot, app)
        await select(pilot, app, "rig-d")
        await pilot.press("d")
        await pilot.pause()
        assert notes(app)[-1] == (
            "cannot drain rig-d: it is disconnected (drain needs a connected engine)"
        )
        await pilot.press("u")
        await pilot.pause()
        assert notes(app)[-1].startswith("cannot update rig-d: it is disconnected")
        assert not isinstance(app.screen, (ConfirmDialog, UpdateDialog))
        rig_b = await select(pilot, app, "rig-b")
        await pilot.press("d", "y")
        await wait_until(pilot, lambda: rig_b in screen(app).pending, "the drain sent")
        await pilot.press("d")
        await pilot.pause()
        assert notes(app)[-1] == "rig-b is already draining"
        assert sent.posted("drain") == 1


async def test_read_only_refuses_every_action(sim: SimServer) -> None:
    sent = Sent(sim)
    app = Harness(sent, engines_screen(read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        await listed(pilot, app)
        await select(pilot, app, "rig-a")
        for key in ("d", "u", "x"):
            await pilot.press(key)
            await pilot.pause()
            assert notes(app)[-1] == READ_ONLY
            assert not isinstance(app.screen, (ConfirmDialog, UpdateDialog))
        assert sum(sent.posted(a) for a in ("drain", "update", "stop")) == 0


async def test_a_refused_action_is_one_error_line_and_nothing_pending(sim: SimServer) -> None:
    """The engine changed while the dialog was open (drained from elsewhere): the server's
    409 is told in one line and the screen does not wait for anything."""
    sent = Sent(sim)
    app = Harness(sent, engines_screen())
    async with app.run_test(size=SIZE) as pilot:
        await listed(pilot, app)
        rig_a = await select(pilot, app, "rig-a")
        await ask(pilot, app, "d")
        await app.sched.client.engines.drain(rig_a)  # someone else was quicker
        await pilot.press("y")
        await wait_until(pilot, lambda: notes(app)[-1].startswith("drain rig-a failed: "), "error")
        assert "409" in notes(app)[-1]
        assert screen(app).pending == {}
        assert progress(app) == ""
        stored = app.sched.engines.get(rig_a)
        assert stored is None or stored.status is not EngineStatus.STOPPED


async def test_restart_brings_a_cloud_engine_back_and_refuses_a_private_one(
    sim: SimServer,
) -> None:
    sent = Sent(sim)
    app = Harness(sent, engines_screen())
    async with app.run_test(size=SIZE) as pilot:
        await listed(pilot, app)
        await select(pilot, app, "rig-a")  # a private engine: no instance to restart
        await pilot.press("R")
        await pilot.pause()
        assert notes(app)[-1] == (
            "cannot restart rig-a: it has no cloud instance (restart is for cloud engines)"
        )
        rig_b = await select(pilot, app, "rig-b")
        await ask(pilot, app, "R")
        items = str(app.screen.query_one("#confirm-items", Static).render())
        assert "cloud instance restarts" in items
        await pilot.press("y")
        await wait_until(pilot, lambda: rig_b in screen(app).pending, "the restart sent")
        assert progress(app).startswith("restarting rig-b")
        await wait_until(pilot, lambda: "restarting" in cell(app, rig_b, "status"), "restarting")
        for _ in range(3):  # restart, then pending, then running
            await asyncio.to_thread(sim.advance, 2)
            app.sched.refresh(ResourceKey.engine(rig_b))
            await pilot.pause()
        settled = "rig-b restarted: running (took "
        await wait_until(pilot, lambda: any(n.startswith(settled) for n in notes(app)), "back")
        assert cell(app, rig_b, "status") == "● running"
        assert sent.posted("restart") == 1
