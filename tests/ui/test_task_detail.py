"""The task detail screen end to end against the simulator: every key of the screen and of its
Logs tab, live logs without doubles, the growing waterfall, telemetry, cost, errors, "why is
this queued?" and output files.

The simulator runs on a manual clock and the app reads the same clock (``Services.now``), so a
running task's durations and waterfall move exactly when a test calls ``sim.advance``.
"""

from __future__ import annotations

import json
import shlex
from collections import Counter
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static, TextArea

from infdash.api import InferenceClient, Task, TaskStatus
from infdash.api.models.metrics import TaskCost
from infdash.api.retry import NO_RETRY
from infdash.scheduler import ResourceKey
from infdash.sim import SimConfig, SimServer
from infdash.sim.world import World
from infdash.ui.app import InfdashApp
from infdash.ui.detail.cost import format_cost
from infdash.ui.detail.files import OutputFile
from infdash.ui.detail.logs import TaskLogLines
from infdash.ui.screens.confirm import ConfirmDialog
from infdash.ui.screens.engines import EnginesScreen
from infdash.ui.screens.run_dialog import RunDialog
from infdash.ui.screens.task_detail import TaskDetailScreen
from infdash.ui.screens.task_list import TaskListScreen
from infdash.ui.services import Services
from infdash.ui.task_help import failure_meaning
from infdash.ui.widgets.log_view import LogView
from infdash.ui.widgets.task_logs import TaskLogs
from infdash.ui.widgets.task_panes import TelemetryPane, TimingsPane
from infdash.ui.widgets.task_table import TaskTable
from infdash.ui.widgets.telemetry import Telemetry
from infdash.ui.widgets.waterfall import Waterfall
from tests.ui.harness import sim_services, wait_for

SIZE = (130, 40)
SLOW_INPUT: dict[str, Any] = {"prompt": "a long one", "steps": 3}
WORKING = {
    TaskStatus.DISPATCHED,
    TaskStatus.PREPARING,
    TaskStatus.SERVING,
    TaskStatus.SETTING_UP,
    TaskStatus.RUNNING,
}
TERMINAL = {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED}


@pytest.fixture
def sim_config() -> SimConfig:
    """Two online workers (a third task queues), none busy at start, a short history."""
    return SimConfig(
        seed=23,
        manual_clock=True,
        history_size=12,
        running_at_start=0,
        engines=2,
        workers_per_engine=1,
        offline_engines=0,
    )


# -- the simulated world ---------------------------------------------------------------------


def server_status(sim: SimServer, task_id: str) -> TaskStatus:
    """The task's status as the simulator has it right now (no HTTP)."""
    return TaskStatus(sim.call(lambda w: w.tasks[task_id].status))


def advance_until(
    sim: SimServer, task_id: str, statuses: Collection[TaskStatus], *, step: float = 1.0
) -> None:
    """Move the simulated clock in ``step`` s until the task's status is in ``statuses``."""
    for _ in range(1000):
        if server_status(sim, task_id) in statuses:
            return
        sim.advance(step)
    raise AssertionError(f"{task_id} never reached {statuses}")


async def start(
    sim: SimServer,
    app: str,
    input: dict[str, Any],
    until: Collection[TaskStatus] = (TaskStatus.RUNNING,),
) -> Task:
    """Run ``app`` and move the clock until it reaches ``until``; the task as the server has it."""
    async with InferenceClient(sim.base_url, sim.api_key, retry=NO_RETRY) as client:
        task = await client.tasks.run(app, input)
        advance_until(sim, task.id, until)
        return await client.tasks.get(task.id)


async def server_task(sim: SimServer, task_id: str) -> Task:
    async with InferenceClient(sim.base_url, sim.api_key, retry=NO_RETRY) as client:
        return await client.tasks.get(task_id)


async def server_cost(sim: SimServer, task_id: str) -> TaskCost:
    async with InferenceClient(sim.base_url, sim.api_key, retry=NO_RETRY) as client:
        return await client.tasks.cost(task_id)


async def server_log_lines(sim: SimServer, task_id: str) -> list[str]:
    """Every line of ``GET /tasks/{id}/logs``, split and cleaned as the screen does."""
    async with InferenceClient(sim.base_url, sim.api_key, retry=NO_RETRY) as client:
        logs = await client.tasks.logs(task_id)
    return [line.text for line in TaskLogLines().add(logs.logs)]


def sim_clock(sim: SimServer) -> Callable[[], datetime]:
    """The simulator's clock as the app's wall clock (reading a float: safe across threads)."""
    sched = sim.world.sched
    return lambda: datetime.fromtimestamp(sched.now(), UTC)


# -- the app ---------------------------------------------------------------------------------


def quiet_app(services: Services) -> InfdashApp:
    """The app without animations: a tab switch would otherwise make every key press wait
    for the underline to slide (Pilot waits for animations to finish)."""
    app = InfdashApp(services)
    app.animation_level = "none"
    return app


def list_loaded(app: InfdashApp) -> bool:
    return isinstance(app.screen, TaskListScreen) and len(app.screen.model.rows()) > 0


@asynccontextmanager
async def opened(
    sim: SimServer, task_id: str, *, tab: str = "overview", read_only: bool = False
) -> AsyncIterator[tuple[InfdashApp, Pilot[None], TaskDetailScreen]]:
    """The app on ``sim`` with the list loaded and the task's detail pushed on top."""
    services = sim_services(sim, read_only=read_only)
    services.now = sim_clock(sim)
    app = quiet_app(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: list_loaded(app))
        screen = TaskDetailScreen(services, task_id, tab=tab)
        await app.push_screen(screen)
        await wait_for(pilot, lambda: screen.current_task is not None)
        yield app, pilot, screen


def text(node: Widget | Screen[Any], selector: str) -> str:
    """What a Static shows."""
    return str(node.query_one(selector, Static).render())


def notes(app: InfdashApp) -> list[str]:
    return [n.message for n in app._notifications]


def shown_lines(view: LogView) -> list[str]:
    """The log view's shown lines, oldest first (only committed lines)."""
    return [view.buffer.text(i) for i in view.buffer.iter_shown()]


def more_lines(view: LogView, count: int) -> Callable[[], bool]:
    """A condition: the view holds more than ``count`` lines."""
    return lambda: view.buffer.total > count


def dialog_text(app: InfdashApp) -> str:
    return " ".join(str(w.render()) for w in app.screen.query(Static))


def loading(screen: TaskDetailScreen) -> bool:
    """Whether the screen's own fetch of the task is still in flight."""
    return any(w.group == "detail-load" and not w.is_finished for w in screen.app.workers)


def store_status(screen: TaskDetailScreen) -> TaskStatus | None:
    task = screen.current_task
    return task.status if task is not None else None


# -- navigation ------------------------------------------------------------------------------


async def test_brackets_cycle_the_tabs_logs_focus_the_view_telemetry_fetches(
    sim: SimServer,
) -> None:
    task = await start(sim, "infsh/slow", SLOW_INPUT)
    sim.advance(65)  # a few telemetry samples (one every 30 s)
    async with opened(sim, task.id) as (_app, pilot, screen):
        telemetry = screen.query_one(TelemetryPane)
        view = screen.query_one(TaskLogs).view
        assert screen.active_tab == "overview"
        assert telemetry.fetches == 0  # an unopened tab sends nothing
        await pilot.press("right_square_bracket")
        assert screen.active_tab == "logs"
        await wait_for(pilot, lambda: view.lines.has_focus)
        await pilot.press("right_square_bracket")
        assert screen.active_tab == "timings"
        assert telemetry.fetches == 0
        await pilot.press("right_square_bracket")
        assert screen.active_tab == "telemetry"
        await wait_for(pilot, lambda: telemetry.fetches == 1)
        async with InferenceClient(sim.base_url, sim.api_key) as client:
            samples = await client.tasks.telemetry(task.id)
        assert len(samples) >= 3
        widget = telemetry.query_one(Telemetry)
        assert [s.label for s in widget.series] == ["CPU", "RAM", "GPU", "VRAM"]
        assert all(len(s.values) == len(samples) for s in widget.series)
        note = text(telemetry, "#telemetry-note")
        assert note.startswith(f"{len(samples)} samples · ")
        assert "every 30 s while it runs" in note
        await pilot.press("right_square_bracket")
        assert screen.active_tab == "overview"  # wraps around
        await pilot.press("left_square_bracket")
        assert screen.active_tab == "telemetry"  # and back
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert screen.active_tab == "logs"
        assert telemetry.fetches == 1  # opening the tab again does not fetch again


async def test_escape_goes_back_and_closes_the_task_stream(sim: SimServer) -> None:
    task = await start(sim, "infsh/slow", SLOW_INPUT)
    async with opened(sim, task.id) as (app, pilot, screen):
        live = screen.services.scheduler.streams.live
        key = ResourceKey.task(task.id)
        await wait_for(pilot, lambda: key in live)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskListScreen))
        await wait_for(pilot, lambda: key not in live)


async def test_enter_in_the_list_opens_it_and_the_cost_reaches_the_list_row(
    sim: SimServer,
) -> None:
    task = await start(sim, "infsh/flux", {"prompt": "a red fox"}, TERMINAL)
    assert task.status is TaskStatus.COMPLETED
    cost = await server_cost(sim, task.id)
    assert cost.charged > 0
    services = sim_services(sim)
    services.now = sim_clock(sim)
    app = quiet_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: list_loaded(app))
        listing = app.screen
        assert isinstance(listing, TaskListScreen)
        table = listing.query_one(TaskTable)
        assert table.move_cursor_to(task.id)
        row = listing.model.row_at(table.cursor)
        assert row is not None
        assert row.cost_microcents is None  # the list does not fetch costs itself
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        detail = app.screen
        assert isinstance(detail, TaskDetailScreen)
        assert detail.task_id == task.id
        await wait_for(pilot, lambda: detail.cost is not None)
        assert text(detail, "#detail-cost").split() == ["Cost", format_cost(cost)]
        assert format_cost(cost).startswith("$")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is listing)

        def row_cost() -> int | None:
            index = listing.model.index_of(task.id)
            found = listing.model.row_at(index) if index is not None else None
            return found.cost_microcents if found is not None else None

        await wait_for(pilot, lambda: row_cost() == cost.charged - cost.refunded)


# -- cancel ----------------------------------------------------------------------------------


async def test_x_asks_then_cancels_the_running_task(sim: SimServer) -> None:
    task = await start(sim, "infsh/slow", SLOW_INPUT)
    async with opened(sim, task.id) as (app, pilot, screen):
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "Cancel 1 task?" in dialog_text(app)
        assert task.short_id in dialog_text(app)
        await pilot.press("n")  # keep it running
        await wait_for(pilot, lambda: app.screen is screen)
        assert server_status(sim, task.id) is TaskStatus.RUNNING
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is screen)
        # A graceful cancel: the app's on_cancel hook gets its moment, the clock has not moved.
        await wait_for(pilot, lambda: server_status(sim, task.id) is TaskStatus.CANCELLING)
        await wait_for(pilot, lambda: store_status(screen) is TaskStatus.CANCELLING)
        sim.advance(3)
        assert server_status(sim, task.id) is TaskStatus.CANCELLED
        await wait_for(pilot, lambda: text(screen, "#detail-head").endswith("cancelled"))
        await wait_for(pilot, lambda: "cancelled 1 task" in notes(app))


async def test_shift_x_force_cancels_at_once(sim: SimServer) -> None:
    task = await start(sim, "infsh/slow", SLOW_INPUT)
    async with opened(sim, task.id) as (app, pilot, screen):
        await pilot.press("X")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "Force cancel 1 task?" in dialog_text(app)
        assert "without waiting for the app" in dialog_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is screen)
        # force: cancelled without the clock moving (a graceful cancel would be "cancelling")
        await wait_for(pilot, lambda: server_status(sim, task.id) is TaskStatus.CANCELLED)
        await wait_for(pilot, lambda: store_status(screen) is TaskStatus.CANCELLED)
        await wait_for(pilot, lambda: f"force-cancelled {task.id[:12]}" in notes(app))


async def test_x_on_a_cancelling_task_offers_force(sim: SimServer) -> None:
    task = await start(sim, "infsh/slow", SLOW_INPUT)
    async with InferenceClient(sim.base_url, sim.api_key) as client:
        await client.tasks.cancel(task.id)
    assert server_status(sim, task.id) is TaskStatus.CANCELLING
    async with opened(sim, task.id) as (app, pilot, screen):
        await wait_for(pilot, lambda: store_status(screen) is TaskStatus.CANCELLING)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "Force cancel 1 task?" in dialog_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: server_status(sim, task.id) is TaskStatus.CANCELLED)


async def test_read_only_refuses_cancel_and_rerun(sim: SimServer) -> None:
    task = await start(sim, "infsh/slow", SLOW_INPUT)
    async with opened(sim, task.id, read_only=True) as (app, pilot, screen):
        for key in ("x", "X", "r"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen, key
        messages = notes(app)
        assert sum("read-only profile: cancelling is turned off" in m for m in messages) == 2
        assert any("read-only profile: running tasks is turned off" in m for m in messages)
        assert server_status(sim, task.id) is TaskStatus.RUNNING


# -- re-run, copy, files, engine, refresh ----------------------------------------------------


async def test_r_reruns_with_the_input_prefilled_and_shows_the_new_task(sim: SimServer) -> None:
    task = await start(sim, "infsh/slow", SLOW_INPUT)
    async with opened(sim, task.id) as (app, pilot, _screen):
        depth = len(app.screen_stack)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RunDialog))
        dialog = app.screen
        assert dialog.query_one("#run-app", Input).value == task.app_ref == "infsh/slow@1.0.0"
        area = dialog.query_one("#run-input", TextArea)
        assert json.loads(area.text) == SLOW_INPUT
        area.text = '{"prompt": "edited", "steps": 4}'
        await pilot.press("ctrl+s")

        def new_detail() -> bool:
            return isinstance(app.screen, TaskDetailScreen) and app.screen.task_id != task.id

        await wait_for(pilot, new_detail)
        fresh = app.screen
        assert isinstance(fresh, TaskDetailScreen)
        assert fresh.active_tab == "logs"
        assert len(app.screen_stack) == depth  # replaced, not stacked: escape goes to the list
        created = await server_task(sim, fresh.task_id)
        assert created.app_ref == task.app_ref
        assert created.input == {"prompt": "edited", "steps": 4}
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskListScreen))


async def test_copy_keys_put_id_curl_and_input_on_the_clipboard(
    sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await start(sim, "infsh/slow", SLOW_INPUT)
    async with opened(sim, task.id) as (app, pilot, _screen):
        opened_urls: list[str] = []
        monkeypatch.setattr(app, "open_url", lambda url, **_: opened_urls.append(url))
        await pilot.press("y")
        assert app.clipboard == task.id
        await pilot.press("c")
        curl = app.clipboard
        assert "$INFERENCE_API_KEY" in curl
        assert sim.api_key not in curl
        words = shlex.split(curl)
        assert words[:4] == ["curl", "-sS", "-X", "POST"]
        assert words[4] == f"{sim.base_url}/run?wait=false"
        body = json.loads(words[words.index("-d") + 1])
        assert body["app"] == task.app_ref
        assert body["input"] == SLOW_INPUT
        await pilot.press("I")
        assert json.loads(app.clipboard) == SLOW_INPUT
        await pilot.press("O")  # a running task has no output: the clipboard keeps the input
        assert json.loads(app.clipboard) == SLOW_INPUT
        await pilot.press("b")
        await pilot.pause()
        assert opened_urls == []
        messages = notes(app)
        assert "no output yet" in messages
        assert "this task has no output files" in messages


async def test_output_files_of_an_image_app_copy_and_open(
    sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await start(sim, "infsh/flux", {"prompt": "a lighthouse"}, TERMINAL)
    assert task.status is TaskStatus.COMPLETED
    assert isinstance(task.output, dict)
    uri = task.output["image"]["uri"]
    async with opened(sim, task.id) as (app, pilot, screen):
        opened_urls: list[str] = []
        monkeypatch.setattr(app, "open_url", lambda url, **_: opened_urls.append(url))
        files = screen.query_one("#detail-files", OptionList)
        await wait_for(pilot, lambda: files.has_class("-shown"))
        assert screen.files == [OutputFile("image", uri)]
        assert files.option_count == 1
        files.focus()
        await pilot.press("enter")
        assert app.clipboard == uri
        await pilot.press("b")
        assert opened_urls == [uri]
        await pilot.press("O")
        assert json.loads(app.clipboard) == task.output


async def test_e_shows_the_engine_in_the_engines_mode(sim: SimServer) -> None:
    task = await start(sim, "infsh/slow", SLOW_INPUT)
    assert task.engine_id
    async with opened(sim, task.id) as (app, pilot, _screen):
        await pilot.press("e")

        def engine_shown() -> bool:
            shown = app.screen
            return isinstance(shown, EnginesScreen) and shown.detail_id == task.engine_id

        await wait_for(pilot, engine_shown)
        assert app.current_mode == "engines"


async def test_ctrl_r_fetches_a_change_the_stream_did_not_carry(sim: SimServer) -> None:
    task = await start(sim, "infsh/slow", SLOW_INPUT)
    async with opened(sim, task.id) as (_app, pilot, screen):
        key = ResourceKey.task(task.id)
        await wait_for(pilot, lambda: key in screen.services.scheduler.streams.live)
        await wait_for(pilot, lambda: not loading(screen))

        def edit(world: World) -> None:  # a silent change: nothing is published
            world.tasks[task.id].input = {"prompt": "changed behind the stream"}

        sim.call(edit)
        for _ in range(20):  # the open stream does not bring it
            await pilot.pause()
        assert "changed behind the stream" not in text(screen, "#detail-input")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "changed behind the stream" in text(screen, "#detail-input"))


# -- the Logs tab ----------------------------------------------------------------------------


async def test_p_and_shift_p_filter_the_log_by_phase(sim: SimServer) -> None:
    task = await start(sim, "infsh/slow", SLOW_INPUT)
    sim.advance(3)
    async with opened(sim, task.id, tab="logs") as (_app, pilot, screen):
        logs = screen.query_one(TaskLogs)
        view = logs.view
        await wait_for(pilot, lambda: logs.feed.backfilled and view.buffer.total > 0)
        await wait_for(pilot, lambda: view.lines.has_focus)
        by_phase = dict(logs.feed.lines.by_phase)
        assert by_phase["setup"] > 0
        assert by_phase["run"] > 0
        assert by_phase["task"] > 0

        def phases_shown() -> set[str]:
            return {view.buffer.phase_of(i) for i in view.buffer.iter_shown()}

        await pilot.press("p")
        assert logs.phase == "build"
        assert view.buffer.phase == "build"
        await pilot.press("p")
        assert logs.phase == "setup"
        assert view.buffer.phase == "setup"
        assert phases_shown() == {"setup"}
        assert view.buffer.shown_count == by_phase["setup"]
        await pilot.press("p", "p")
        assert logs.phase == "run"
        assert phases_shown() == {"run"}
        await pilot.press("P", "P", "P", "P")
        assert logs.phase == "all"
        assert view.buffer.phase is None
        assert view.buffer.shown_count == view.buffer.total
        assert len(phases_shown()) >= 3
        await pilot.press("P")
        assert logs.phase == "task"  # wraps to the last phase
        assert phases_shown() == {"task"}
        tab = logs.query_one("#phase-task")
        await wait_for(pilot, lambda: str(tab.render()).startswith("task "))  # counted


async def test_log_view_keys_work_through_the_screen(sim: SimServer) -> None:
    task = await start(sim, "infsh/slow", SLOW_INPUT)
    sim.advance(4)
    async with opened(sim, task.id, tab="logs") as (app, pilot, screen):
        view = screen.query_one(TaskLogs).view
        await wait_for(pilot, lambda: view.buffer.total > 0 and view.lines.has_focus)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"step")
        await pilot.press("enter")
        assert view.lines.has_focus
        assert view.buffer.term == "step"
        matches = list(view.buffer.matches)
        assert len(matches) >= 2
        first = view.lines.current
        assert first in matches
        assert not view.following  # a match pauses the view where it is
        await pilot.press("n")
        second = view.lines.current
        assert second in matches
        assert second != first
        await pilot.press("f")
        assert view.following
        await pilot.press("f")
        assert not view.following
        before = view.buffer.total
        sim.advance(3)
        await wait_for(pilot, lambda: view.new_lines > 0)  # the badge counts what came
        assert view.buffer.total > before
        await pilot.press("end")
        assert view.following
        assert view.new_lines == 0
        await pilot.press("escape")  # first clears the search …
        assert view.buffer.term == ""
        assert app.screen is screen
        await pilot.press("escape")  # … then goes back
        await wait_for(pilot, lambda: isinstance(app.screen, TaskListScreen))


async def test_live_logs_arrive_in_order_after_the_backfill(sim: SimServer) -> None:
    task = await start(sim, "infsh/slow", SLOW_INPUT)
    async with opened(sim, task.id, tab="logs") as (_app, pilot, screen):
        logs = screen.query_one(TaskLogs)
        view = logs.view
        key = ResourceKey.task(task.id)
        await wait_for(pilot, lambda: logs.feed.backfilled and view.buffer.total > 0)
        await wait_for(pilot, lambda: key in screen.services.scheduler.streams.live)
        backfilled = view.buffer.total
        fetches = logs.feed.fetches
        for _ in range(3):
            sim.advance(5)
            await wait_for(pilot, more_lines(view, view.buffer.total + 20))  # 8 lines/s
        assert logs.feed.fetches == fetches  # the lines came from the stream, not /logs
        expected = await server_log_lines(sim, task.id)
        assert len(expected) > backfilled + 60
        await wait_for(pilot, lambda: len(shown_lines(view)) >= len(expected))
        assert shown_lines(view) == expected


async def test_lines_written_while_the_screen_opens_are_shown_once(sim: SimServer) -> None:
    task = await start(sim, "infsh/slow", SLOW_INPUT)
    async with opened(sim, task.id, tab="logs") as (_app, pilot, screen):
        logs = screen.query_one(TaskLogs)
        view = logs.view
        # Written while the backfill is in flight and the stream connects: each line must come
        # from exactly one of them (or from the catch-up that closes the gap between the two).
        for _ in range(4):
            sim.advance(2)
            await pilot.pause()
        await wait_for(pilot, lambda: logs.feed.backfilled)
        key = ResourceKey.task(task.id)
        await wait_for(pilot, lambda: key in screen.services.scheduler.streams.live)
        sim.advance(5)
        expected = await server_log_lines(sim, task.id)
        # the catch-up after the stream went live runs on a 3 s tick
        await wait_for(pilot, lambda: len(shown_lines(view)) >= len(expected), rounds=800)
        assert Counter(shown_lines(view)) == Counter(expected)
        assert [view.buffer.seq(i) for i in view.buffer.iter_shown()] == list(range(len(expected)))


# -- timings, telemetry, errors, cost, queue -------------------------------------------------


async def test_the_waterfall_grows_and_turns_exact_when_the_task_ends(sim: SimServer) -> None:
    task = await start(sim, "infsh/slow", SLOW_INPUT)
    async with opened(sim, task.id, tab="timings") as (_app, pilot, screen):
        pane = screen.query_one(TimingsPane)
        waterfall = pane.query_one(Waterfall)
        await wait_for(pilot, lambda: waterfall.running and waterfall.total_s > 0)
        assert text(pane, "#timings-note") == "growing live from the task's status events"
        first = waterfall.total_s
        sim.advance(30)
        await wait_for(pilot, lambda: waterfall.total_s >= first + 30)
        assert [r.name for r in waterfall.rows][-1] == "run"
        assert pane.exact is None
        advance_until(sim, task.id, TERMINAL, step=20)
        await wait_for(pilot, lambda: pane.exact is not None)
        assert not waterfall.running
        assert text(pane, "#timings-note") == "exact phases from /timings"
        names = [r.name for r in waterfall.rows]
        assert names[0] == "queue"
        assert names[-2:] == ["run", "upload"]
        async with InferenceClient(sim.base_url, sim.api_key) as client:
            timings = await client.tasks.timings(task.id)
        end = timings.groups[-1].end_at
        begin = timings.groups[0].start_at
        assert end is not None
        assert begin is not None
        assert waterfall.total_s == pytest.approx((end - begin).total_seconds(), abs=0.01)


async def test_telemetry_of_a_finished_task_opened_on_its_tab_is_final(sim: SimServer) -> None:
    task = await start(sim, "infsh/flux", {"prompt": "a harbour"}, TERMINAL)
    async with opened(sim, task.id, tab="telemetry") as (_app, pilot, screen):
        pane = screen.query_one(TelemetryPane)
        note = pane.query_one("#telemetry-note", Static)
        await wait_for(pilot, lambda: str(note.render()).endswith(" · final"))
        async with InferenceClient(sim.base_url, sim.api_key) as client:
            samples = await client.tasks.telemetry(task.id)
        assert str(note.render()).startswith(f"{len(samples)} samples · ")
        assert not pane.query_one(Telemetry).is_empty


async def test_a_failed_task_shows_its_error_and_what_it_means(sim: SimServer) -> None:
    task = await start(sim, "infsh/flaky", {"x": 1}, TERMINAL)
    assert task.status is TaskStatus.FAILED
    assert task.error
    meaning = failure_meaning(task.error)
    assert meaning is not None
    async with opened(sim, task.id) as (_app, pilot, screen):
        await wait_for(pilot, lambda: text(screen, "#detail-error") == f"Error: {task.error}")
        assert not screen.query_one("#detail-error").has_class("-empty")
        assert text(screen, "#detail-meaning") == meaning
        assert not screen.query_one("#detail-meaning").has_class("-empty")
        assert text(screen, "#detail-head").endswith("failed")
        await wait_for(pilot, lambda: "refunded" in text(screen, "#detail-cost"))


async def test_a_queued_task_says_why_and_has_no_engine_yet(sim: SimServer) -> None:
    busy = [await start(sim, "infsh/slow", {"n": n}, WORKING) for n in range(2)]
    task = await start(sim, "infsh/slow", {"n": 3}, (TaskStatus.QUEUED,))
    async with opened(sim, task.id) as (app, pilot, screen):
        box = screen.query_one("#detail-queued", Static)
        await wait_for(pilot, lambda: box.has_class("-shown"))
        reason = text(screen, "#detail-queued")
        assert reason.startswith("Why is this queued? ")
        assert "busy" in reason
        assert reason == f"Why is this queued? {screen.queue_reason}"
        await pilot.press("e")
        await pilot.pause()
        assert "this task has not been given to an engine yet" in notes(app)
        assert app.screen is screen
        async with InferenceClient(sim.base_url, sim.api_key) as client:
            await client.tasks.cancel(busy[0].id, force=True)  # a worker frees up
        await wait_for(pilot, lambda: store_status(screen) in WORKING)
        await wait_for(pilot, lambda: not box.has_class("-shown"))
