"""SVG snapshots of the engines and chat modes, from canned API answers and a frozen clock.

The client talks to an ``httpx.MockTransport`` (never the live simulator, whose ids and times
vary) and the scheduler is not started, so nothing but the one listing is sent and every
"3 min ago" is measured against the same instant.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from textual.app import App
from textual.pilot import Pilot

from infdash.api import Engine, InferenceClient
from infdash.api.retry import NO_RETRY
from infdash.scheduler import Scheduler
from infdash.ui.screens._live_list import LiveListScreen
from infdash.ui.screens.chats import ChatsScreen
from infdash.ui.screens.engine_actions import DRAIN, Pending
from infdash.ui.screens.engines import EnginesScreen
from infdash.ui.services import Services
from tests.snapshots.conftest import settle_status_bars

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
GIB = 2**30
SIZE = (120, 30)


def at(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).isoformat().replace("+00:00", "Z")


def worker(
    index: int, status: str, gpu: str, vram_gib: int, task: str | None = None
) -> dict[str, Any]:
    return {
        "id": f"wrk_{index}",
        "index": index,
        "status": status,
        "task_id": task,
        "gpus": [{"name": gpu, "vram": vram_gib * GIB}] if gpu else [],
    }


def system(cores: int, ram_gib: int, *gpus: str) -> dict[str, Any]:
    return {
        "hostname": "host.local",
        "os": "Ubuntu 22.04.4 LTS",
        "cpus": [{"name": "CPU", "cores": cores}],
        "ram": {"total": ram_gib * GIB},
        "gpus": [{"name": g} for g in gpus],
    }


ENGINES: list[dict[str, Any]] = [
    {
        "id": "eng_a",
        "name": "rig-a",
        "status": "running",
        "engine_version": "v1.10.15",
        "system_info": system(16, 64, "RTX 4090", "RTX 4090"),
        "workers": [
            worker(0, "busy", "RTX 4090", 24, "tsk_0001"),
            worker(1, "idle", "RTX 4090", 24),
        ],
        "updated_at": at(12),
    },
    {
        "id": "eng_b",
        "name": "rig-b",
        "status": "running",
        "engine_version": "v1.10.15",
        "system_info": system(32, 256, "A100"),
        "instance": {
            "cloud": "aws",
            "region": "us-east-1",
            "status": "running",
            "cloud_instance_type": "p4d.xlarge",
            "hourly_price": 3.2,
        },
        "workers": [worker(0, "busy", "A100", 80, "tsk_0002")],
        "updated_at": at(185),
    },
    {
        "id": "eng_c",
        "name": "rig-c",
        "status": "draining",
        "engine_version": "v1.9.3",
        "system_info": system(24, 128, "L4", "L4", "L4", "L4"),
        "workers": [
            worker(0, "busy", "L4", 24, "tsk_0003"),
            worker(1, "busy", "L4", 24, "tsk_0004"),
            worker(2, "idle", "L4", 24),
            worker(3, "reserved", "L4", 24),
        ],
        "updated_at": at(40),
    },
    {
        "id": "eng_d",
        "name": "rig-d",
        "status": "disconnected",
        "engine_version": "v1.10.15",
        "system_info": system(8, 32, "RTX 3090"),
        "workers": [worker(0, "inactive", "RTX 3090", 24)],
        "updated_at": at(2 * 86_400 + 60),
    },
    {"id": "eng_e", "name": "edge-1", "status": "pending", "updated_at": at(0.2)},
]

CHATS: list[dict[str, Any]] = [
    {
        "id": "chat_1",
        "name": "Refactor the parser",
        "status": "busy",
        "agent": {"namespace": "infsh", "name": "assistant"},
        "active_run": {"id": "run_1", "state": "running"},
        "updated_at": at(5),
    },
    {
        "id": "chat_2",
        "name": "Deploy checklist",
        "status": "awaiting_input",
        "agent": {"namespace": "infsh", "name": "assistant"},
        "active_run": {"id": "run_2", "state": "interrupted"},
        "pending_interrupts": [
            {
                "id": "int_1",
                "reason": "tool_approval",
                "resource_type": "tool",
                "resource_id": "ti_9",
            }
        ],
        "output": {"step": 3, "note": "waiting for approval to run infsh/deploy"},
        "updated_at": at(70),
    },
    {
        "id": "chat_3",
        "name": "Lighthouse facts",
        "status": "idle",
        "agent": {"namespace": "infsh", "name": "assistant"},
        "output": "The Pharos of Alexandria stood for about 1,500 years.",
        "updated_at": at(2 * 3600 + 5),
    },
    {
        "id": "chat_4",
        "name": "",
        "status": "completed",
        "agent": {"name": "summariser"},
        "updated_at": at(3 * 86_400),
    },
    {"id": "chat_5", "name": "Queued question", "status": "waiting", "updated_at": at(9)},
]


def handler(request: httpx.Request) -> httpx.Response:
    items = {"/engines/list": ENGINES, "/chats/list": CHATS}.get(request.url.path)
    if items is None:
        return httpx.Response(404, json={"title": "Not Found", "status": 404})
    return httpx.Response(200, json={"data": {"items": items}})


class ModeApp(App[None]):
    """One mode's screen over canned answers; the scheduler is built but never started."""

    def __init__(self, make_screen: Callable[[Services], LiveListScreen[Any]]) -> None:
        super().__init__()
        self._make_screen = make_screen
        self._client: InferenceClient | None = None

    async def on_mount(self) -> None:
        client = InferenceClient(
            "http://mock.test", "key", transport=httpx.MockTransport(handler), retry=NO_RETRY
        )
        self._client = client
        services = Services(client, Scheduler(client, clock=lambda: 1000.0), now=lambda: NOW)
        await self.push_screen(self._make_screen(services))

    async def on_unmount(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def listed_then(*keys: str) -> Callable[[Pilot[Any]], Any]:
    """Wait (bounded) for the listing, then press ``keys``."""

    async def run_before(pilot: Pilot[Any]) -> None:
        for _ in range(500):
            screen = pilot.app.screen
            if isinstance(screen, LiveListScreen) and screen.listed_at is not None:
                break
            await pilot.pause(0.01)
        else:
            raise AssertionError("the listing never arrived")
        if keys:
            await pilot.press(*keys)
        await settle_status_bars(pilot)

    return run_before


def test_engines_mode(snap_compare: Any) -> None:
    assert snap_compare(ModeApp(EnginesScreen), terminal_size=SIZE, run_before=listed_then())


def test_engines_mode_workers_panel(snap_compare: Any) -> None:
    app = ModeApp(EnginesScreen)
    assert snap_compare(app, terminal_size=SIZE, run_before=listed_then("down", "down", "enter"))


def test_engines_drain_confirmation(snap_compare: Any) -> None:
    """``d`` on rig-a: the dialog names it, its busy worker's task and what a drain does."""
    assert snap_compare(ModeApp(EnginesScreen), terminal_size=SIZE, run_before=listed_then("d"))


def test_engines_update_dialog(snap_compare: Any) -> None:
    assert snap_compare(ModeApp(EnginesScreen), terminal_size=SIZE, run_before=listed_then("u"))


def test_engines_drain_in_progress(snap_compare: Any) -> None:
    """Confirmed: the row says draining and the progress line what it waits for."""

    async def drained(pilot: Pilot[Any]) -> None:
        await listed_then()(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, EnginesScreen)
        # As the send worker reports it (the scheduler is not started here: the sending
        # itself is the Pilot tests' business); sent 42 s ago by the frozen clock.
        pending = Pending(DRAIN, "eng_a", "rig-a", NOW - timedelta(seconds=42), "v1.10.15")
        draining = Engine.from_dict({**ENGINES[0], "status": "draining"})
        screen.post_message(EnginesScreen.ActionSent(pending, draining))
        await settle_status_bars(pilot)

    assert snap_compare(ModeApp(EnginesScreen), terminal_size=SIZE, run_before=drained)


def test_chats_mode(snap_compare: Any) -> None:
    assert snap_compare(ModeApp(ChatsScreen), terminal_size=SIZE, run_before=listed_then())


def test_chats_mode_details_panel(snap_compare: Any) -> None:
    app = ModeApp(ChatsScreen)
    assert snap_compare(app, terminal_size=SIZE, run_before=listed_then("down", "i"))
