"""SVG snapshots of the task list and the task detail, from canned answers and a frozen clock.

The client talks to an ``httpx.MockTransport`` serving a fixed page of tasks; the scheduler is
never started (nothing but the listing and the detail fetch is sent) and "3 min ago" is
measured against one instant, so every run draws the same frame.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from textual.app import App
from textual.pilot import Pilot

from infdash.api import InferenceClient
from infdash.api.retry import NO_RETRY
from infdash.scheduler import Scheduler
from infdash.ui.screens.task_list import TaskListScreen
from infdash.ui.services import Services
from infdash.ui.widgets.task_table import TaskTable
from tests.snapshots.conftest import settle_status_bars

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
SIZE = (130, 32)
APPS = ["infsh/echo@1.1.0", "infsh/flux@1.0.0", "infsh/llm@2.1.0", "infsh/slow@1.0.0"]
# status, seconds ago created, seconds it ran (None: still going), app index, engine
PLAN: list[tuple[int, int, int | None, int, str]] = [
    (1, 3, None, 0, ""),
    (2, 9, None, 1, ""),
    (5, 25, None, 2, "rig-a"),
    (7, 70, None, 3, "rig-b"),
    (7, 130, None, 1, "rig-c"),
    (10, 200, 4, 0, "rig-a"),
    (11, 340, 6, 1, "rig-b"),
    (10, 620, 23, 1, "rig-c"),
    (12, 900, 41, 3, "rig-a"),
    (10, 1500, 9, 2, "rig-d"),
    (10, 3600, 3, 0, "rig-b"),
    (11, 5400, 2, 0, "rig-c"),
    (10, 7300, 15, 2, "rig-a"),
    (10, 86000, 24, 1, "rig-d"),
    (12, 90000, 300, 3, "rig-b"),
    (10, 200000, 5, 0, "rig-a"),
]


def at(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).isoformat().replace("+00:00", "Z")


def task_dto(
    n: int, status: int, ago: int, ran: int | None, app: int, engine: str
) -> dict[str, Any]:
    ref = APPS[app]
    name, version = ref.split("@")
    events = [{"id": f"ev{n}_1", "status": 1, "event_time": at(ago)}]
    if status >= 7:
        events.append({"id": f"ev{n}_7", "status": 7, "event_time": at(ago - 1)})
    if ran is not None:
        events.append({"id": f"ev{n}_9", "status": status, "event_time": at(ago - ran)})
    dto: dict[str, Any] = {
        "id": f"task_{n:02d}abcdefghijklmnop",
        "short_id": f"t{n:02d}kq7xm",
        "created_at": at(ago),
        "updated_at": at(ago - (ran or 0)),
        "status": status,
        "app": {"name": name.split("/")[1], "namespace": "infsh"},
        "app_version": {"version": version},
        "events": events,
        "input": {"prompt": f"task number {n}"},
        "error": "CUDA out of memory" if status == 11 else None,
    }
    if engine:
        dto["engine"] = {"id": f"eng_{engine}", "name": engine, "status": "running"}
        dto["worker"] = {"id": f"wrk_{engine}", "index": n % 2, "status": "busy",
                         "engine_id": f"eng_{engine}", "engine_name": engine}  # fmt: skip
    return dto


TASKS = [task_dto(n, *plan) for n, plan in enumerate(PLAN)]


def handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/tasks/list":
        body = json.loads(request.content or b"{}")
        items = TASKS
        for f in body.get("filters") or []:
            if f["field"] == "status":
                items = [t for t in items if t["status"] in (10 if v == "completed" else v
                                                             for v in f["value"])]  # fmt: skip
        page = {"items": items, "has_next": False, "total_items": len(items)}
        return httpx.Response(200, json={"data": page, "messages": []})
    if path.startswith("/tasks/"):
        task_id = path.split("/")[2]
        found = next((t for t in TASKS if t["id"] == task_id), None)
        if found is not None:
            return httpx.Response(200, json={"data": found, "messages": []})
    return httpx.Response(404, json={"type": "not_found", "title": "not found", "status": 404})


class ListApp(App[None]):
    def __init__(self, query_text: str = "") -> None:
        super().__init__()
        self._query_text = query_text

    async def on_mount(self) -> None:
        client = InferenceClient(
            "http://mock.test", "key", transport=httpx.MockTransport(handler), retry=NO_RETRY
        )
        services = Services(client, Scheduler(client, clock=lambda: 1000.0), now=lambda: NOW)
        self.services = services
        await self.push_screen(TaskListScreen(services, query_text=self._query_text))

    async def on_unmount(self) -> None:
        await self.services.client.aclose()


def loaded_then(*keys: str) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        for _ in range(400):
            screen = pilot.app.screen
            if isinstance(screen, TaskListScreen) and screen.model.rows():
                break
            await pilot.pause(0.01)
        await pilot.press(*keys)
        await pilot.app.workers.wait_for_complete()
        await settle_status_bars(pilot)

    return run_before


def test_task_list(snap_compare: Callable[..., bool]) -> None:
    assert snap_compare(ListApp(), terminal_size=SIZE, run_before=loaded_then("j", "j"))


def test_task_list_marked_rows(snap_compare: Callable[..., bool]) -> None:
    run_before = loaded_then("j", "j", "j", "space", "space", "j")
    assert snap_compare(ListApp(), terminal_size=SIZE, run_before=run_before)


def test_task_list_filter_error(snap_compare: Callable[..., bool]) -> None:
    keys = ("slash", *"status:runing app:flux", "enter")
    keys = tuple("space" if k == " " else k for k in keys)
    assert snap_compare(ListApp(), terminal_size=SIZE, run_before=loaded_then(*keys))


def test_task_list_narrow(snap_compare: Callable[..., bool]) -> None:
    assert snap_compare(ListApp(), terminal_size=(72, 24), run_before=loaded_then())


def test_task_detail_opened_from_the_list(snap_compare: Callable[..., bool]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded_then("j", "j", "j", "j", "j", "j", "enter")(pilot)
        for _ in range(200):
            if "Error" in str(pilot.app.screen.query_one("#detail-error").render()):
                break
            await pilot.pause(0.01)
        await settle_status_bars(pilot)

    assert snap_compare(ListApp(), terminal_size=SIZE, run_before=run_before)


async def test_table_is_the_focus_on_open() -> None:
    """The snapshots above start from here: a loaded list with the table focused."""
    app = ListApp()
    async with app.run_test(size=SIZE) as pilot:
        await loaded_then()(pilot)
        assert isinstance(app.focused, TaskTable)
        assert len(app.screen.query_one(TaskTable).source or ()) == len(TASKS)
