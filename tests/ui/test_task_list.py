"""The task list end to end against the simulator: open, filter, facets, sort, page deep,
live inserts and updates, detail, mark + bulk cancel, copy id, run dialog, watch, read-only,
errors, mouse."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from infdash.api import InferenceClient, TaskStatus
from infdash.scheduler import ResourceKey
from infdash.sim import SimConfig, SimServer
from infdash.ui.app import InfdashApp
from infdash.ui.screens.confirm import ConfirmDialog
from infdash.ui.screens.run_dialog import RunDialog
from infdash.ui.screens.task_detail import TaskDetailScreen
from infdash.ui.screens.task_list import TaskListScreen
from infdash.ui.widgets.task_table import TaskTable
from tests.ui.harness import sim_services, wait_for

SIZE = (140, 40)


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(seed=11, manual_clock=True, history_size=600)


@pytest.fixture
def app(sim: SimServer) -> InfdashApp:
    return InfdashApp(sim_services(sim))


def screen(app: InfdashApp) -> TaskListScreen:
    assert isinstance(app.screen, TaskListScreen)
    return app.screen


def table(app: InfdashApp) -> TaskTable:
    return app.screen.query_one(TaskTable)


def loaded(app: InfdashApp) -> bool:
    return isinstance(app.screen, TaskListScreen) and len(app.screen.model.rows()) > 0


async def server_total(sim: SimServer, **filters: object) -> int:
    async with InferenceClient(sim.base_url, sim.api_key) as client:
        page = await client.tasks.list(limit=1)
    assert page.total_items is not None
    return page.total_items


async def test_opens_on_the_newest_tasks_with_the_total(sim: SimServer, app: InfdashApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        model = screen(app).model
        assert len(model) == await server_total(sim)
        rows = model.rows()
        created = [r.created_at for r in rows if r.created_at]
        assert created == sorted(created, reverse=True)
        summary = str(app.screen.query_one("#list-summary", Static).render())
        assert f"{len(model):,} tasks" in summary
        assert table(app).has_focus


async def test_filter_query_is_applied_by_the_server(sim: SimServer, app: InfdashApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        for key in "status:completed app:infsh/echo":
            await pilot.press(key if key != " " else "space")
        await pilot.press("enter")
        lst = screen(app)
        await wait_for(pilot, lambda: lst.task_query.text == "status:completed app:infsh/echo")
        await wait_for(pilot, lambda: lst.model.rows() != [] and not lst.model.loading)
        rows = lst.model.rows()
        assert rows
        assert {r.status for r in rows} == {TaskStatus.COMPLETED}
        assert all(r.app.startswith("infsh/echo") for r in rows)
        assert table(app).has_focus


async def test_an_invalid_query_explains_inline_and_keeps_the_text(app: InfdashApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        await pilot.press("slash")
        for key in "status:runing":
            await pilot.press(key)
        await pilot.press("enter")
        error = app.screen.query_one("#filter-error", Static)
        assert "did you mean running" in str(error.render())
        assert "hidden" not in error.classes
        assert app.screen.query_one("#filter-input", Input).value == "status:runing"
        assert isinstance(app.focused, Input)  # still editing
        assert screen(app).task_query.text == ""  # the bad query was not applied


async def test_facet_keys_filter_by_status(app: InfdashApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        await pilot.press("f")
        lst = screen(app)
        await wait_for(pilot, lambda: lst.task_query.text == "status:failed")
        await wait_for(pilot, lambda: bool(lst.model.rows()) and not lst.model.loading)
        assert {r.status for r in lst.model.rows()} == {TaskStatus.FAILED}
        assert app.screen.query_one("#filter-input", Input).value == "status:failed"
        await pilot.press("a")
        await wait_for(pilot, lambda: lst.task_query.text == "")


async def test_end_pages_deep_without_loading_everything(app: InfdashApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        model = screen(app).model
        total = len(model)
        await pilot.press("G")
        await wait_for(pilot, lambda: model.row_at(total - 1) is not None)
        assert table(app).cursor == total - 1
        assert len(model.rows()) < total  # the middle was never fetched
        oldest = model.row_at(total - 1)
        assert oldest is not None
        newest = model.row_at(0)
        assert newest is not None
        assert newest.created_at
        assert oldest.created_at
        assert oldest.created_at <= newest.created_at


async def test_sort_key_cycles_columns_and_reverses(app: InfdashApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        lst = screen(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: lst.sort.field == "status" and not lst.model.loading)
        assert table(app).sort_column == "status"
        await pilot.press("S")
        await wait_for(pilot, lambda: lst.sort.descending is False)
        await wait_for(pilot, lambda: bool(lst.model.rows()) and not lst.model.loading)
        statuses = [int(r.status) for r in lst.model.rows()]
        assert statuses == sorted(statuses)


async def test_enter_opens_the_detail_and_escape_returns(app: InfdashApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        await pilot.press("down", "down")
        chosen = table(app).cursor_task_id
        assert chosen is not None
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        detail = app.screen
        assert isinstance(detail, TaskDetailScreen)
        assert detail.task_id == chosen
        summary = detail.query_one("#detail-summary", Static)
        await wait_for(pilot, lambda: chosen in str(summary.render()))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskListScreen))
        assert table(app).cursor_task_id == chosen


async def test_mark_two_and_cancel_them_after_one_confirmation(
    sim: SimServer, app: InfdashApp
) -> None:
    async with InferenceClient(sim.base_url, sim.api_key) as client:
        slow = [await client.tasks.run("infsh/slow", {}) for _ in range(2)]
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        ids = {t.id for t in slow}
        await wait_for(pilot, lambda: all(screen(app).model.index_of(i) is not None for i in ids))
        tbl = table(app)
        for task_id in ids:
            tbl.move_cursor_to(task_id)
            await pilot.press("space")
        assert tbl.marked == ids
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        text = " ".join(str(w.render()) for w in app.screen.query(Static))
        for task in slow:
            assert task.id[:8] in text or (task.short_id and task.short_id in text)
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskListScreen))
        async with InferenceClient(sim.base_url, sim.api_key) as client:

            async def statuses() -> set[TaskStatus]:
                return {(await client.tasks.get(i)).status for i in ids}

            for _ in range(200):
                found = await statuses()
                if found <= {TaskStatus.CANCELLING, TaskStatus.CANCELLED}:
                    break
                await pilot.pause(0.01)
            assert found <= {TaskStatus.CANCELLING, TaskStatus.CANCELLED}
        assert tbl.marked == set()


async def test_read_only_refuses_to_cancel(sim: SimServer) -> None:
    app = InfdashApp(sim_services(sim, read_only=True))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        await pilot.press("x")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        messages = [n.message for n in app._notifications]
        assert any("read-only" in m for m in messages)


async def test_copy_id(app: InfdashApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        await pilot.press("down", "y")
        assert app.clipboard == table(app).cursor_task_id


async def test_run_dialog_starts_a_task_and_selects_it(app: InfdashApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, RunDialog))
        dialog = app.screen
        app_input = dialog.query_one("#run-app", Input)
        app_input.value = "infsh/echo"
        area = dialog.query_one("#run-input")
        area.text = '{"text": "from the dialog"}'  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskListScreen))
        lst = screen(app)
        await wait_for(pilot, lambda: table(app).cursor_task_id is not None)
        new_id = table(app).cursor_task_id
        assert new_id is not None
        row = lst.model.row_at(table(app).cursor)
        assert row is not None
        assert row.app.startswith("infsh/echo")
        assert new_id in lst.watcher.watched


async def test_a_new_task_arrives_at_the_top_without_moving_the_cursor(
    sim: SimServer, app: InfdashApp
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        await pilot.press("down", "down", "down")
        tbl = table(app)
        chosen = tbl.cursor_task_id
        screen_row = tbl.cursor - int(tbl.scroll_y)
        async with InferenceClient(sim.base_url, sim.api_key) as client:
            new = await client.tasks.run("infsh/echo", {"text": "late"})
        lst = screen(app)
        await wait_for(pilot, lambda: lst.model.index_of(new.id) == 0, rounds=1200)
        assert tbl.cursor_task_id == chosen
        assert tbl.cursor - int(tbl.scroll_y) == screen_row
        summary = str(app.screen.query_one("#list-summary", Static).render())
        assert "1 new" in summary


async def test_a_visible_row_updates_in_place(sim: SimServer, app: InfdashApp) -> None:
    async with InferenceClient(sim.base_url, sim.api_key) as client:
        task = await client.tasks.run("infsh/echo", {"text": "x"})
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        lst = screen(app)
        await wait_for(pilot, lambda: lst.model.index_of(task.id) is not None)
        sim.advance(60)
        lst.services.scheduler.refresh(ResourceKey.task(task.id))
        index = lst.model.index_of(task.id)
        assert index is not None

        def done() -> bool:
            row = lst.model.row_at(lst.model.index_of(task.id) or 0)
            return row is not None and row.status is TaskStatus.COMPLETED

        await wait_for(pilot, done, rounds=1200)


async def test_mode_keys_switch_areas(app: InfdashApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        await pilot.press("2")
        await wait_for(pilot, lambda: app.current_mode == "engines")
        await pilot.press("3")
        await wait_for(pilot, lambda: app.current_mode == "chat")
        await pilot.press("1")
        await wait_for(pilot, lambda: app.current_mode == "tasks")
        assert isinstance(app.screen, TaskListScreen)


async def test_click_a_row_a_header_and_a_facet(app: InfdashApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        tbl = table(app)
        await pilot.click(TaskTable, offset=(5, 4))
        assert tbl.cursor == 3
        status_x = next(c.x for c in tbl.columns if c.key == "status")
        await pilot.click(TaskTable, offset=(status_x + 1, 0))
        lst = screen(app)
        await wait_for(pilot, lambda: lst.sort.field == "status")
        failed = next(w for w in app.screen.query(".facet") if "failed" in str(w.render()))
        await pilot.click(failed)
        await wait_for(pilot, lambda: lst.task_query.text == "status:failed")
