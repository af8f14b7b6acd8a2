"""SVG snapshots of each tab of the task detail screen, from canned answers and a frozen clock.

One finished (cold-started) image task is served by an ``httpx.MockTransport``: the task, its
``/logs`` (every phase, plus a line full of terminal escapes that must arrive harmless), its
``/timings``, ``/telemetry`` and ``/usage/.../cost``.  The scheduler is never started, so
nothing but those requests is sent, and each snapshot is taken only once every request its tab
makes has been answered (the status bar's budget gauge counts them).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static, Tab

from infdash.api import InferenceClient, Task
from infdash.api.retry import NO_RETRY
from infdash.scheduler import Scheduler
from infdash.ui.screens.task_detail import TaskDetailScreen
from infdash.ui.services import Services
from infdash.ui.widgets.task_logs import TaskLogs
from infdash.ui.widgets.task_panes import TelemetryPane, TimingsPane
from tests.snapshots.conftest import settle_status_bars

SnapCompare = Callable[..., bool]
NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
SIZE = (110, 34)
TALL = (110, 62)
TASK_ID = "task_01jsnapdetail7k3q9xm2v4"
ENGINE = "eng_01jrigalpha000000000000"
START = NOW - timedelta(minutes=20)
"""When the task was received."""
# status, seconds after START: a 45 s cold start (serving) and a 15 min run
WALK: list[tuple[int, float]] = [
    (1, 0.0),
    (2, 0.3),
    (3, 1.6),
    (4, 1.9),
    (5, 4.2),
    (6, 49.2),
    (7, 53.4),
    (9, 953.4),
    (10, 955.9),
]
GROUPS: list[tuple[str, int, int]] = [  # label, first and last status of the group
    ("queue", 1, 3),
    ("prepare", 3, 5),
    ("serving", 5, 6),
    ("setup", 6, 7),
    ("run", 7, 9),
    ("upload", 9, 10),
]
NAMES = {1: "received", 2: "queued", 3: "dispatched", 4: "preparing", 5: "serving"}
NAMES |= {6: "setting_up", 7: "running", 9: "uploading", 10: "completed"}
OUTPUT = {
    "image": {
        "uri": f"https://cloud.inference.sh/files/{TASK_ID}/lighthouse.png",
        "filename": "lighthouse.png",
        "content_type": "image/png",
        "width": 1024,
        "height": 1024,
    },
    "seed": 421337,
}
EVIL = (
    "frame 3/4 \x1b[2Jcleared? \x1b]0;evil\x07titled? \x1b]52;c;ZXZpbA==\x07clipboard?"
    " \x1b[31mred?\x1b[0m done"
)
"""A log line that tries to clear the screen, set the title and write the clipboard."""


def at(seconds: float) -> str:
    stamp = START + timedelta(seconds=seconds)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def when(status: int) -> float:
    return next(t for s, t in WALK if s == status)


TASK: dict[str, Any] = {
    "id": TASK_ID,
    "short_id": "snap7k3q",
    "created_at": at(0),
    "updated_at": at(WALK[-1][1]),
    "status": 10,
    "app": {"name": "flux", "namespace": "infsh"},
    "app_ref": "infsh/flux@1.0.0",
    "app_version_id": "ver_flux100",
    "app_version": {"id": "ver_flux100", "version": "1.0.0"},
    "function": "run",
    "infra": "cloud",
    "engine_id": ENGINE,
    "engine": {"id": ENGINE, "name": "rig-alpha", "status": "running"},
    "worker": {"id": "wrk_alpha0", "index": 0, "status": "idle", "engine_id": ENGINE,
               "engine_name": "rig-alpha"},
    "input": {"prompt": "a lighthouse at dusk, oil on canvas", "steps": 30, "guidance": 3.5},
    "output": OUTPUT,
    "events": [
        {"id": f"tev_{n:03d}", "status": s, "event_time": at(t), "created_at": at(t)}
        for n, (s, t) in enumerate(WALK)
    ],
}  # fmt: skip


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


LOG_ENTRIES: list[tuple[int, float, str]] = [  # log type, seconds after START, content
    (4, 0.0, "task received: infsh/flux@1.0.0 (run)\nwaiting for an available worker\n"),
    (4, 1.6, "dispatched to worker 0 on engine rig-alpha\n"),
    (0, 2.0, "pulling image infsh/flux:1.0.0\nlayer 3/7 ████████░░ 80%\rlayer 7/7 done\n"),
    (2, 4.3, "loading weights flux-dev.safetensors (23.8 GB)\nweights resident on A100\n"),
    (3, 49.3, "setup: cuda initialised\nsetup: scheduler euler, 30 steps\n"),
    *((1, 54.0 + 15 * i, f"[flux] step {i + 1}/30: loss={0.9 / (i + 1):.4f}\n") for i in range(3)),
    (1, 70.0, EVIL + "\n"),
    (1, 120.0, "WARNING: vae tiling on (1024×1024 over the 8 GB budget)\n"),
    (1, 951.0, "[flux] step 30/30: saved lighthouse.png\n"),
    (4, 954.0, "uploading 1 file (1.9 MB)\n"),
    (4, 955.9, "task completed after 955.9s\n"),
]
LOGS: dict[str, Any] = {
    "task_id": TASK_ID,
    "status": 10,
    "events": TASK["events"],
    "logs": [
        {
            "id": f"log_{n:06d}",
            "task_id": TASK_ID,
            "created_at": at(t),
            "log_type": kind,
            # the API sends Go []byte (base64); the docs show text: serve both
            "content": _b64(content) if n % 2 else content,
        }
        for n, (kind, t, content) in enumerate(LOG_ENTRIES)
    ],
}
TIMINGS: dict[str, Any] = {
    "task_id": TASK_ID,
    "status": 10,
    "total_duration": "15m55.9s",
    "total_duration_ms": 955_900,
    "groups": [
        {
            "label": label,
            "start_at": at(when(first)),
            "end_at": at(when(last)),
            "duration_ms": round((when(last) - when(first)) * 1000),
        }
        for label, first, last in GROUPS
    ],
    "events": [
        {
            "status": NAMES[s],
            "timestamp": at(t),
            "duration_ms": round(((WALK[i + 1][1] if i + 1 < len(WALK) else t) - t) * 1000),
            "next_status": NAMES[WALK[i + 1][0]] if i + 1 < len(WALK) else "",
        }
        for i, (s, t) in enumerate(WALK)
    ],
}
GIB = 1024**3


def _sample(k: int, t: float) -> dict[str, Any]:
    busy = when(7) <= t < when(9)
    loading = when(5) <= t < when(7)
    cpu = 62 + 25 * math.sin(k * 0.6) if busy else (35.0 if loading else 6.0)
    gpu = 88 + 9 * math.sin(k * 0.45) if busy else (12.0 if loading else 0.0)
    ram = (14 + k) * GIB
    vram = (34 + 6 * math.sin(k * 0.3)) * GIB if busy else (24 * GIB if loading else GIB)
    info = {
        "cpus": [{"name": "AMD EPYC 7763", "cores": 16, "usage": round(cpu, 2)}],
        "ram": {"total": 64 * GIB, "used": int(ram), "usage": round(ram / (64 * GIB) * 100, 2)},
        "gpus": [
            {
                "id": "0",
                "name": "NVIDIA A100 80GB",
                "index": 0,
                "usage": round(gpu, 2),
                "memory_used": int(vram),
                "memory_total": 80 * GIB,
                "temperature": 70,
            }
        ],
    }
    return {
        "id": f"tel_{k:03d}",
        "timestamp": at(t),
        "task_id": TASK_ID,
        "task_seq": k,
        "engine_id": ENGINE,
        "system_info": info,
    }


_TIMES = [when(3) + 30 * k for k in range(31)] + [when(10)]
TELEMETRY = [_sample(k, t) for k, t in enumerate(_TIMES)]
COST = {"total": 2_860_500, "charged": 2_860_500}
"""Microcents: $0.0286."""

ROUTES: dict[str, Any] = {
    f"/tasks/{TASK_ID}": TASK,
    f"/tasks/{TASK_ID}/logs": LOGS,
    f"/tasks/{TASK_ID}/timings": TIMINGS,
    f"/tasks/{TASK_ID}/telemetry": TELEMETRY,
    f"/usage/tasks/{TASK_ID}/cost": COST,
}


class DetailApp(App[None]):
    """Nothing but the detail screen of the canned task, opened on ``tab``."""

    def __init__(self, tab: str, *, known: bool = True) -> None:
        super().__init__()
        self.tab = tab
        self.known = known
        """Whether the store knows the task when the screen opens (as from the task list)."""
        self.requests: list[str] = []
        """Paths asked for, in order (the snapshot waits until each tab's are answered)."""

    def answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append(path)
        body = ROUTES.get(path)
        if body is None:
            problem = {"type": "not_found", "title": "not found", "status": 404}
            return httpx.Response(404, json=problem)
        return httpx.Response(200, content=json.dumps({"data": body, "messages": []}))

    async def on_mount(self) -> None:
        client = InferenceClient(
            "http://mock.test", "key", transport=httpx.MockTransport(self.answer), retry=NO_RETRY
        )
        services = Services(client, Scheduler(client, clock=lambda: 1000.0), now=lambda: NOW)
        self.services = services
        if self.known:  # as when opened from the task list, whose page put it in the store
            services.scheduler.store.apply(Task.from_dict(TASK))
        await self.push_screen(TaskDetailScreen(services, TASK_ID, tab=self.tab))

    async def on_unmount(self) -> None:
        await self.services.client.aclose()


async def settled(pilot: Pilot[Any], tab: str) -> None:
    """Wait until the task, its cost, logs and exact timings (and telemetry on that tab) are
    shown: the same requests answered in every run, so the same frame."""
    app = pilot.app
    assert isinstance(app, DetailApp)

    def ready() -> bool:
        screen = app.screen
        if not isinstance(screen, TaskDetailScreen) or screen.cost is None:
            return False
        logs = screen.query_one(TaskLogs)
        counted = str(logs.query_one("#phase-all", Tab).label).startswith("all ")
        timings = screen.query_one(TimingsPane).exact is not None
        telemetry = screen.query_one(TelemetryPane).fetches == 1 or tab != "telemetry"
        return counted and logs.feed.finished and timings and telemetry

    for _ in range(600):
        if ready():
            break
        await pilot.pause(0.01)
    assert ready(), app.requests
    await app.workers.wait_for_complete()
    await settle_status_bars(pilot)


@pytest.mark.parametrize("tab", ["overview", "logs", "timings", "telemetry"])
def test_task_detail_tab(snap_compare: SnapCompare, tab: str) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(pilot, tab)

    # The overview is tall: input, output and its files come after the summary and history.
    size = TALL if tab == "overview" else SIZE
    assert snap_compare(DetailApp(tab), terminal_size=size, run_before=run_before)


async def test_each_tab_sends_only_its_own_requests() -> None:
    """What the snapshots rely on: a finished task is fetched once per resource, telemetry
    only on its tab, and the escapes of the log reach the view as inert text."""
    for tab in ("overview", "telemetry"):
        app = DetailApp(tab)
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot, tab)
            expected = sorted(p for p in ROUTES if tab == "telemetry" or "telemetry" not in p)
            assert sorted(app.requests) == expected
            screen = app.screen
            assert isinstance(screen, TaskDetailScreen)
            shown = screen.query_one(TaskLogs).view.buffer
            texts = [shown.text(i) for i in shown.iter_shown()]
            # sequences and their payloads gone (no "[2J", no title "evil", no clipboard data)
            assert "frame 3/4 cleared? titled? clipboard? red? done" in texts
            assert len(texts) == sum(c.count("\n") for _, _, c in LOG_ENTRIES)


async def test_telemetry_opened_before_the_task_loaded_ends_final() -> None:
    """Opened on the telemetry tab before the task is known, the first request cannot know
    the task has finished: a second one fetches the final samples and the note says so (not
    "every 30 s while it runs" for a finished task)."""
    app = DetailApp("telemetry", known=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, TaskDetailScreen)
        pane = screen.query_one(TelemetryPane)
        note = pane.query_one("#telemetry-note", Static)
        for _ in range(400):
            if str(note.render()).endswith(" · final"):
                break
            await pilot.pause(0.01)
        assert str(note.render()) == f"{len(TELEMETRY)} samples · NVIDIA A100 80GB · final"
        assert app.requests.count(f"/tasks/{TASK_ID}/telemetry") == 2
        assert pane.fetches == 2
