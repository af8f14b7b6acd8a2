"""The task table under Pilot: keys, marks, clicks, lazy rows, live updates and layout."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from textual import events
from textual.pilot import Pilot

from infdash.api.models.status import TaskStatus
from infdash.ui.tasklist.format import fit, layout_columns
from infdash.ui.widgets import TaskTable
from infdash.ui.widgets.task_table import PLACEHOLDER
from tests.ui.table_app import ListSource, TableApp, make_row, make_source

SIZE = (120, 30)
PAGE = SIZE[1] - 1  # rows under the pinned header


def _table(pilot: Pilot[None]) -> TaskTable:
    return pilot.app.query_one(TaskTable)


def _app(pilot: Pilot[None]) -> TableApp:
    assert isinstance(pilot.app, TableApp)
    return pilot.app


def _line(table: TaskTable, y: int) -> str:
    return table.render_line(y).text


async def test_header_is_pinned_and_rows_scroll_beneath_it() -> None:
    async with TableApp(make_source(500)).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        header = _line(table, 0)
        for title in ("ID", "STATUS", "APP", "CREATED ▼", "DURATION", "ENGINE/WORKER", "COST"):
            assert title in header
        assert "t000000" in _line(table, 1)
        table.scroll_to(y=100, animate=False)
        await pilot.pause()
        assert _line(table, 0) == header
        assert "t000100" in _line(table, 1)
        assert table.visible_range() == (100, 100 + PAGE)


async def test_header_shows_the_sort_the_owner_set() -> None:
    async with TableApp(make_source(10)).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        table.sort_column = "status"
        table.sort_descending = False
        await pilot.pause()
        assert "STATUS ▲" in _line(table, 0)
        assert "▼" not in _line(table, 0)


@pytest.mark.parametrize(("down", "up"), [("down", "up"), ("j", "k")])
async def test_cursor_moves_down_and_up(down: str, up: str) -> None:
    async with TableApp(make_source(50)).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        await pilot.press(down, down, down)
        assert table.cursor == 3
        assert table.cursor_task_id == make_row(3).id
        await pilot.press(up)
        assert table.cursor == 2
        await pilot.press(up, up, up)
        assert table.cursor == 0  # clamped
        moved = _app(pilot).of_type(TaskTable.CursorMoved)
        assert [m.index for m in moved] == [0, 1, 2, 3, 2, 1, 0]
        assert moved[-1].task_id == make_row(0).id


@pytest.mark.parametrize(("down", "up"), [("pagedown", "pageup"), ("ctrl+f", "ctrl+b")])
async def test_paging(down: str, up: str) -> None:
    async with TableApp(make_source(1000)).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        await pilot.press(down)
        assert table.cursor == PAGE
        assert table.visible_range()[0] == PAGE
        await pilot.press(down)
        assert table.cursor == 2 * PAGE
        await pilot.press(up)
        assert table.cursor == PAGE
        first, end = table.visible_range()
        assert first <= table.cursor < end


@pytest.mark.parametrize(("home", "end"), [("home", "end"), ("g", "G")])
async def test_first_and_last(home: str, end: str) -> None:
    async with TableApp(make_source(1000)).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        await pilot.press(end)
        await pilot.pause()
        assert table.cursor == 999
        assert table.visible_range() == (1000 - PAGE, 1000)
        assert "t000999" in _line(table, PAGE)
        await pilot.press(home)
        await pilot.pause()
        assert table.cursor == 0
        assert table.visible_range()[0] == 0


async def test_enter_activates_the_cursor_row() -> None:
    async with TableApp(make_source(10)).run_test(size=SIZE) as pilot:
        await pilot.press("down", "enter")
        activated = _app(pilot).of_type(TaskTable.RowActivated)
        assert [m.task_id for m in activated] == [make_row(1).id]
        assert activated[0].control is _table(pilot)


async def test_enter_on_a_placeholder_does_nothing() -> None:
    async with TableApp(make_source(10, gaps=range(0, 1))).run_test(size=SIZE) as pilot:
        await pilot.press("enter", "space")
        assert _app(pilot).of_type(TaskTable.RowActivated) == []
        assert _table(pilot).marked == set()


async def test_space_marks_and_moves_down_escape_clears() -> None:
    async with TableApp(make_source(10)).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        app = _app(pilot)
        await pilot.press("space", "space", "up", "space")
        assert table.marked == {make_row(0).id}
        assert table.cursor == 2
        assert [m.count for m in app.of_type(TaskTable.MarksChanged)] == [1, 2, 1]
        assert _line(table, 1).startswith("●")
        assert not _line(table, 2).startswith("●")
        await pilot.press("escape")
        assert table.marked == set()
        assert app.escapes == 0  # the table used it
        assert app.of_type(TaskTable.MarksChanged)[-1].count == 0
        await pilot.press("escape")
        assert app.escapes == 1  # nothing marked: escape bubbles to the app


async def test_marks_follow_the_task_when_rows_reorder() -> None:
    source = make_source(10)
    async with TableApp(source).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        await pilot.press("down", "space")
        source.rows.reverse()
        source.reindex()
        table.rows_changed()
        await pilot.pause()
        assert _line(table, 9).startswith("● t000001")
        assert not _line(table, 2).startswith("●")


async def test_click_a_row_moves_the_cursor_double_click_activates() -> None:
    async with TableApp(make_source(50)).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        app = _app(pilot)
        assert await pilot.click(TaskTable, offset=(20, 5))
        assert table.cursor == 4
        assert app.of_type(TaskTable.CursorMoved)[-1].index == 4
        assert app.of_type(TaskTable.RowActivated) == []
        assert await pilot.double_click(TaskTable, offset=(20, 7))
        assert table.cursor == 6
        assert [m.task_id for m in app.of_type(TaskTable.RowActivated)] == [make_row(6).id]


async def test_click_a_header_cell_requests_a_sort() -> None:
    async with TableApp(make_source(50)).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        app = _app(pilot)
        for column in table.columns:
            assert await pilot.click(TaskTable, offset=(column.x + 1, 0))
        assert [m.column for m in app.of_type(TaskTable.SortRequested)] == [
            c.key for c in table.columns
        ]
        assert table.cursor == 0


async def test_rows_needed_when_the_viewport_nears_unloaded_rows() -> None:
    async with TableApp(make_source(400, gaps=range(100, 300))).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        app = _app(pilot)
        await pilot.pause()
        assert app.of_type(TaskTable.RowsNeeded) == []
        table.scroll_to(y=80, animate=False)
        await pilot.pause()
        needed = app.of_type(TaskTable.RowsNeeded)
        assert needed, "a page below the viewport reaches the gap"
        assert needed[-1].start == 100
        assert needed[-1].end <= 300
        table.scroll_to(y=150, animate=False)
        await pilot.pause()
        assert PLACEHOLDER in _line(table, 1)
        assert app.of_type(TaskTable.RowsNeeded)[-1].start == 150 - PAGE


async def test_last_right_after_the_rows_grew_scrolls_before_any_layout() -> None:
    """The first page lands and ``G`` comes before the next layout (what a fast typist, or a
    page decoded off the loop, does): the table still scrolls to the last row and asks for
    the unloaded rows there.  Textual alone drops that scroll: its scrollbar, which it asks
    whether scrolling is allowed, only appears at the next layout."""
    source = make_source(1)
    async with TableApp(source).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        app = _app(pilot)
        await pilot.pause()
        assert not table.show_vertical_scrollbar
        source.rows = [*source.rows, *([None] * 599)]  # a total of 600 became known
        source.reindex()
        table.rows_changed()
        table.action_last()  # before any layout
        await pilot.pause()
        assert table.cursor == 599
        assert table.visible_range() == (600 - PAGE, 600)
        needed = app.of_type(TaskTable.RowsNeeded)
        assert needed
        assert needed[-1].end == 600


async def test_visible_rows_changed_names_the_loaded_rows_on_screen() -> None:
    async with TableApp(make_source(100, gaps=range(40, 45))).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        app = _app(pilot)
        await pilot.pause()
        first = app.of_type(TaskTable.VisibleRowsChanged)[-1]
        assert first.ids == tuple(make_row(i).id for i in range(PAGE))
        table.scroll_to(y=30, animate=False)
        await pilot.pause()
        last = app.of_type(TaskTable.VisibleRowsChanged)[-1]
        expected = [i for i in range(30, 30 + PAGE) if not 40 <= i < 45]
        assert last.ids == tuple(make_row(i).id for i in expected)
        count = len(app.of_type(TaskTable.VisibleRowsChanged))
        await pilot.click(TaskTable, offset=(20, 3))
        await pilot.press("down")  # the cursor moves, the visible set does not
        await pilot.pause()
        assert len(app.of_type(TaskTable.VisibleRowsChanged)) == count


async def test_refresh_ids_redraws_an_updated_row() -> None:
    source = make_source(50)
    async with TableApp(source).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        assert "▶ running" in _line(table, 1)
        source.replace(replace(make_row(0, TaskStatus.FAILED), status_text="failed"))
        table.refresh_ids([make_row(0).id, "not-a-task"])
        await pilot.pause()
        assert "✗ failed" in _line(table, 1)


async def test_rows_loaded_later_replace_placeholders() -> None:
    source = make_source(50, gaps=range(0, 50))
    async with TableApp(source).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        assert PLACEHOLDER in _line(table, 1)
        assert table.cursor_task_id is None
        source.rows[:] = [make_row(i) for i in range(50)]
        source.reindex()
        table.rows_changed()
        await pilot.pause()
        assert "t000000" in _line(table, 1)
        assert table.cursor_task_id == make_row(0).id


async def test_cursor_keeps_its_task_and_screen_line_when_rows_are_inserted_above() -> None:
    source = make_source(300)
    async with TableApp(source).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        table.scroll_to(y=100, animate=False)
        await pilot.pause()
        await pilot.click(TaskTable, offset=(20, 6))  # row 105, screen line 6
        assert table.cursor == 105
        source.insert_top([make_row(1000 + i) for i in range(7)])
        table.rows_changed()
        await pilot.pause()
        assert table.cursor == 112
        assert table.cursor_task_id == make_row(105).id
        assert "t000105" in _line(table, 6)


async def test_move_cursor_to_keeping_the_screen_row() -> None:
    source = make_source(300)
    async with TableApp(source).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        table.scroll_to(y=100, animate=False)
        await pilot.pause()
        await pilot.click(TaskTable, offset=(20, 3))  # row 102
        source.insert_top([make_row(1000 + i) for i in range(20)])
        table.rows_changed(keep_cursor=False)
        assert table.move_cursor_to(make_row(102).id, keep_screen_row=True)
        await pilot.pause()
        assert table.cursor == 122
        assert "t000102" in _line(table, 3)
        assert not table.move_cursor_to("no-such-task")


async def test_narrow_tables_hide_cost_then_engine_then_duration() -> None:
    assert [c.key for c in layout_columns(120)] == [
        "id",
        "status",
        "app",
        "created",
        "duration",
        "engine",
        "cost",
    ]
    widths = {w: [c.key for c in layout_columns(w)] for w in (84, 83, 74, 73, 61, 60)}
    assert len(widths[84]) == 7
    assert widths[83] == widths[74] == ["id", "status", "app", "created", "duration", "engine"]
    assert widths[73] == widths[61] == ["id", "status", "app", "created", "duration"]
    assert widths[60] == ["id", "status", "app", "created"]
    for width in range(20, 200):
        columns = layout_columns(width)
        assert columns[-1].x + columns[-1].width <= max(width, 40)
    async with TableApp(make_source(20)).run_test(size=(60, 20)) as pilot:
        table = _table(pilot)
        header = _line(table, 0)
        assert "COST" not in header
        assert "ENGINE" not in header
        assert "DURATION" not in header
        assert all(len(_line(table, y)) == table.scrollable_content_region.width for y in (0, 1))
        await pilot.resize_terminal(120, 20)
        await pilot.pause()
        assert "COST" in _line(table, 0)


def test_fit_pads_and_truncates_by_cells() -> None:
    assert fit("abc", 5) == "abc  "
    assert fit("abcdef", 5) == "abcd…"
    assert fit("日本語テキスト", 6) == "日本… "
    assert fit("x", 0) == ""


async def test_row_strings_are_drawn_literally_never_as_markup() -> None:
    row = replace(make_row(0), app="[bold]x[/] [red]y :smile:", worker="[/]")
    async with TableApp(ListSource([row])).run_test(size=SIZE) as pilot:
        line = _line(_table(pilot), 1)
        assert "[bold]x[/] [red]y :smile:" in line
        assert " [/] " in line


async def test_running_durations_follow_the_clock() -> None:
    async with TableApp(make_source(3)).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        app = _app(pilot)
        assert "5.0 s" in _line(table, 1)  # running, created 5 s ago
        assert "42 s ago    14 s " in _line(table, 2)  # completed after 14 s
        app.now += timedelta(seconds=60)
        table._tick()
        await pilot.pause()
        assert "1 min ago   1m 05s" in _line(table, 1)
        assert "1 min ago   14 s " in _line(table, 2)


async def test_theme_change_restyles_cached_lines() -> None:
    async with TableApp(make_source(5)).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        before = table.render_line(2)
        pilot.app.theme = "nord"
        await pilot.pause()
        after = table.render_line(2)
        assert after.text == before.text
        assert list(after)[1].style != list(before)[1].style


async def test_empty_source() -> None:
    async with TableApp(ListSource([])).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        await pilot.press("down", "end", "enter", "space")
        assert table.cursor == 0
        assert table.cursor_task_id is None
        assert "ID" in _line(table, 0)
        assert _line(table, 1).strip() == ""


async def test_cursor_dims_when_the_table_loses_focus() -> None:
    async with TableApp(make_source(5)).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        focused = next(iter(table.render_line(1))).style
        table.blur()
        await pilot.pause()
        blurred = next(iter(table.render_line(1))).style
        assert focused != blurred
        assert _line(table, 1).startswith("  t000000")


async def test_rows_needed_messages_coalesce() -> None:
    async with TableApp(make_source(5)).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        older = TaskTable.RowsNeeded(table, 0, 10)
        assert older.can_replace(TaskTable.RowsNeeded(table, 5, 20))
        assert not older.can_replace(TaskTable.VisibleRowsChanged(table, ()))
        visible = TaskTable.VisibleRowsChanged(table, ("a",))
        assert visible.can_replace(TaskTable.VisibleRowsChanged(table, ("b",)))


async def test_mouse_wheel_scrolls_and_reports_the_new_rows() -> None:
    async with TableApp(make_source(300, gaps=range(40, 300))).run_test(size=SIZE) as pilot:
        table = _table(pilot)
        app = _app(pilot)
        for _ in range(10):
            table.post_message(events.MouseScrollDown(table, 20, 5, 0, 0, 0, False, False, False))
        await pilot.pause()
        assert table.scroll_y > 0
        assert table.visible_range()[0] == round(table.scroll_y)
        assert app.of_type(TaskTable.RowsNeeded)[-1].start == 40
