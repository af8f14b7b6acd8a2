"""Leaving the task detail while its stream delivers logs (performance.md §6, R29).

The whole app against the simulator: the detail screen's focused stream is open and log lines
are flowing into its Logs tab when the user presses Escape.  Afterwards the scheduler follows
no stream for the task, the server has seen the connection close, the client's pool holds no
request for it (openai-python's leak check), and the app exits without an error
(encode/httpx#2139: "pool closed while requests in flight").
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from benchmarks._harness import open_tasks
from infdash.api import InferenceClient
from infdash.scheduler import ResourceKey, Tier
from infdash.sim import SimServer
from infdash.sim.logs import LOG_RUN
from infdash.sim.world import World
from infdash.ui.app import InfdashApp
from infdash.ui.screens.task_detail import TaskDetailScreen
from infdash.ui.screens.task_list import TaskListScreen
from infdash.ui.widgets.log_view import LogView
from infdash.ui.widgets.task_logs import TaskLogs
from tests.ui.harness import sim_services, wait_for

SIZE = (140, 40)


def pool(client: InferenceClient) -> Any:
    return client.http._transport._pool  # type: ignore[attr-defined]


def stream_requests(client: InferenceClient, task_id: str) -> int:
    """Requests in flight (holding or waiting for a pooled connection) to the task's stream."""
    target = f"/tasks/{task_id}/stream".encode()
    return sum(1 for r in pool(client)._requests if target in r.request.url.target)


def orphaned_connections(client: InferenceClient) -> int:
    """Pooled connections busy without a request in flight on them (a leaked response)."""
    held = {id(r.connection) for r in pool(client)._requests if r.connection is not None}
    return sum(
        1
        for c in pool(client).connections
        if not c.is_idle() and not c.is_closed() and id(c) not in held
    )


def server_task_streams(sim: SimServer, task_id: str) -> int:
    return sim.call(lambda w: len(w._subs.get(f"task:{task_id}", ())))


def shown_lines(view: LogView, count: int) -> bool:
    return view.buffer.total == count


def write_log(sim: SimServer, task_id: str, text: str) -> None:
    def apply(world: World) -> None:
        world.append_logs(world.tasks[task_id], [(LOG_RUN, text)])

    sim.call(apply)


@pytest.mark.parametrize("tab", ["overview", "logs"])
async def test_r29_leaving_the_detail_mid_stream_closes_the_stream(
    sim: SimServer, tab: str
) -> None:
    (tid,) = open_tasks(sim, 1)
    services = sim_services(sim)
    client, scheduler = services.client, services.scheduler
    key = ResourceKey.task(tid)
    app = InfdashApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TaskListScreen))
        await app.push_screen(TaskDetailScreen(services, tid, tab=tab))
        detail = app.screen
        assert isinstance(detail, TaskDetailScreen)
        await wait_for(pilot, lambda: key in scheduler.streams.live)
        assert stream_requests(client, tid) == 1
        assert server_task_streams(sim, tid) == 1
        view = detail.query_one(TaskLogs).view
        for n in range(1, 4):  # lines flowing through the stream into the Logs tab
            write_log(sim, tid, f"line {n}")
            await wait_for(pilot, partial(shown_lines, view, n))
        write_log(sim, tid, "in flight as the user leaves")

        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskListScreen))
        assert not detail.is_attached
        await wait_for(pilot, lambda: stream_requests(client, tid) == 0)
        await wait_for(pilot, lambda: server_task_streams(sim, tid) == 0)
        assert key not in scheduler.streams.live
        entry = scheduler.planner.subscriptions.get(key)  # the list may still show the row
        assert entry is None or entry.tier is not Tier.FOCUSED  # released, not just paused
        assert orphaned_connections(client) == 0
        write_log(sim, tid, "after leaving")  # nobody streams it any more
        await pilot.pause()
        assert server_task_streams(sim, tid) == 0
        assert stream_requests(client, tid) == 0
    # The app stopped the scheduler and closed the client on exit, without an error.
    assert app.return_code in (None, 0)
    assert len(pool(client)._requests) == 0
    assert all(c.is_closed() for c in pool(client).connections)
