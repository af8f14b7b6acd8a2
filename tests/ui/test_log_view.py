"""Pilot tests of the log viewer: follow/pause, cap, search, filter, toggles, copy, save, R22."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input, Label

from infdash.ui.widgets.log_view import LogLine, LogView, SaveLogScreen

SIZE = (120, 30)
START = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
PHASES = ("build", "setup", "serve", "run", "task")


class LogApp(App[None]):
    def __init__(self, max_lines: int = 100_000) -> None:
        super().__init__()
        self.max_lines = max_lines

    def compose(self) -> ComposeResult:
        yield LogView(self.max_lines, save_name="task-x-logs.txt")

    def on_mount(self) -> None:
        self.query_one(LogView).focus()


def make_lines(count: int, start: int = 0, phase: str | None = None) -> list[LogLine]:
    return [
        LogLine(
            f"line {i} {'needle' if i % 10 == 3 else 'hay'}",
            phase or PHASES[i % len(PHASES)],
            START + timedelta(milliseconds=250 * i),
            i,
        )
        for i in range(start, start + count)
    ]


def rows(view: LogView) -> list[str]:
    """The text of every body row on screen."""
    body = view.lines
    return [
        "".join(segment.text for segment in body.render_line(y))
        for y in range(body.scrollable_content_region.height)
    ]


@asynccontextmanager
async def fed(
    count: int, max_lines: int = 100_000
) -> AsyncIterator[tuple[LogApp, Pilot[None], LogView]]:
    """A running app whose view holds ``count`` lines (``make_lines``), fed and flushed."""
    app = LogApp(max_lines)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        await feed(pilot, view, make_lines(count))
        yield app, pilot, view


async def feed(pilot: Pilot[Any], view: LogView, lines: list[LogLine]) -> None:
    view.append(lines)
    await pilot.pause(0.05)
    view.flush()
    await pilot.pause()


async def settle_status(pilot: Pilot[Any], view: LogView) -> None:
    view._update_status()
    await pilot.pause()


async def test_follows_the_tail() -> None:
    async with fed(200) as (_app, pilot, view):
        shown = [r for r in rows(view) if r.strip()]
        assert shown[-1].rstrip().endswith("line 199 hay")
        assert view.following
        await feed(pilot, view, make_lines(5, start=200))
        assert rows(view)[-1].rstrip().endswith("line 204 hay")


async def test_scroll_up_pauses_counts_and_keeps_the_view() -> None:
    async with fed(200) as (_app, pilot, view):
        await pilot.press("up", "up")
        assert not view.following
        first = rows(view)[0]
        top = view.lines.scroll_y
        await feed(pilot, view, make_lines(50, start=200))
        await feed(pilot, view, make_lines(25, start=250))
        assert rows(view)[0] == first
        assert view.lines.scroll_y == top
        assert view.new_lines == 75
        await settle_status(pilot, view)
        assert view.status.badge == "▼ 75 new lines (End)"
        assert "▼ 75 new lines (End)" in str(view.status.render())
        await pilot.press("end")
        assert view.following
        assert rows(view)[-1].rstrip().endswith("line 274 hay")
        await settle_status(pilot, view)
        assert view.status.badge == ""
        assert str(view.status.render()) == "following"


async def test_wheel_up_pauses_and_f_toggles() -> None:
    async with fed(200) as (_app, pilot, view):
        wheel = events.MouseScrollUp(view.lines, 5, 5, 0, -1, 0, False, False, False)
        view.lines.post_message(wheel)
        await pilot.pause()
        assert not view.following
        await pilot.press("f")
        assert view.following
        await pilot.press("f")
        assert not view.following


async def test_cap_drops_counts_and_keeps_a_paused_view() -> None:
    async with fed(100, max_lines=100) as (_app, pilot, view):
        await pilot.press("pageup")
        assert not view.following
        first = rows(view)[0]
        await feed(pilot, view, make_lines(20, start=100))
        assert view.dropped == 20
        assert len(view.buffer) == 100
        assert rows(view)[0] == first
        await settle_status(pilot, view)
        assert view.status.dropped == "20 older lines dropped"


async def test_search_highlights_and_moves() -> None:
    async with fed(100) as (app, pilot, view):
        await pilot.press("slash", *"NEEDLE")
        assert app.query_one("#log-search", Input).has_class("-open")
        assert view.lines.match_position() == (0, 10)
        await pilot.press("enter")
        assert app.focused is view.lines
        # following: enter jumps to the latest match
        assert view.lines.match_position() == (10, 10)
        assert not view.following
        await pilot.press("n")
        assert view.lines.match_position() == (1, 10)
        assert view.lines.current == 3
        assert any("line 3 needle" in r for r in rows(view))
        await pilot.press("n", "n")
        assert view.lines.match_position() == (3, 10)
        await pilot.press("N")
        assert view.lines.match_position() == (2, 10)
        await settle_status(pilot, view)
        assert view.status.matches == "match 2/10"
        match = view.lines.get_component_rich_style("log-view--match-current")
        strip = view.lines.render_line(view.lines.row_of(13) - round(view.lines.scroll_y))
        assert [s.text for s in strip if s.style == match] == ["needle"]


async def test_escape_clears_the_search() -> None:
    async with fed(30) as (app, pilot, view):
        await pilot.press("slash", *"needle", "escape")
        assert view.buffer.term == ""
        assert not app.query_one("#log-search", Input).has_class("-open")
        assert app.focused is view.lines


async def test_filter_shows_only_matches() -> None:
    async with fed(100) as (_app, pilot, view):
        await pilot.press("ampersand")
        assert not view.buffer.only_matches
        await pilot.press("slash", *"needle", "enter", "ampersand")
        assert view.buffer.only_matches
        shown = [r for r in rows(view) if r.strip()]
        assert len(shown) == 10
        assert all("needle" in r for r in shown)
        await feed(pilot, view, make_lines(10, start=100))
        assert view.buffer.shown_count == 11
        await pilot.press("ampersand")
        assert view.buffer.shown_count == 110


async def test_phase_filter() -> None:
    async with fed(100) as (_app, pilot, view):
        view.set_phase_filter("serve")
        await pilot.pause()
        shown = [r for r in rows(view) if r.strip()]
        assert len(shown) == 20
        assert all(r.startswith("serve │ ") for r in shown)
        view.set_phase_filter(None)
        assert view.buffer.shown_count == 100


async def test_wrap_and_timestamps_change_the_text() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        long = LogLine("x" * 250 + " end", "run", START, 0)
        await feed(pilot, view, [long, *make_lines(3, start=1)])
        assert rows(view)[0].startswith("run   │ xxx")
        assert "end" not in rows(view)[0]
        await pilot.press("w")
        wrapped = [r for r in rows(view) if r.strip()]
        assert len(wrapped) == 3 + 3
        assert "end" in "".join(wrapped[:3])
        assert view.lines.virtual_size.height == 6
        await pilot.press("t")
        first = rows(view)[0]
        assert re.match(r"\d\d:\d\d:\d\d\.\d\d\d run   │ x", first)
        assert view.lines.plain(0).startswith(first[:13])
        await pilot.press("w", "t")
        assert rows(view)[0].startswith("run   │ ")


async def test_copy_line_and_all() -> None:
    async with fed(40) as (app, pilot, _view):
        await pilot.press("y")
        assert app.clipboard == "task  │ line 39 hay"
        await pilot.press("slash", *"needle", "enter", "n")
        await pilot.press("y")
        assert app.clipboard.endswith("line 3 needle")
        await pilot.press("ampersand", "Y")
        copied = app.clipboard.splitlines()
        assert len(copied) == 4
        assert copied[0] == "run   │ line 3 needle"


async def test_save_writes_shown_lines(tmp_path: Path) -> None:
    async with fed(30) as (app, pilot, view):
        view.set_phase_filter("run")
        target = tmp_path / "out.txt"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SaveLogScreen)
        field = app.screen.query_one("#save-path", Input)
        assert field.value == "task-x-logs.txt"
        field.value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, SaveLogScreen)
        expected = [f"run   │ {line.text}" for line in make_lines(30) if line.phase == "run"]
        assert target.read_text().splitlines() == expected
        # the same name again is refused, never overwritten
        await pilot.press("ctrl+s")
        field = app.screen.query_one("#save-path", Input)
        field.value = str(target)
        await pilot.press("enter")
        assert isinstance(app.screen, SaveLogScreen)
        assert "already exists" in str(app.screen.query_one("#save-error", Label).render())
        await pilot.press("escape")
        assert not isinstance(app.screen, SaveLogScreen)
        assert len(target.read_text().splitlines()) == 6


async def test_escape_sequences_render_harmless() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        evil = "a\x1b[2Jb\x1b]0;pwned\x07c\x1b]52;c;SGVsbG8=\x07d\x9b31me"
        await feed(pilot, view, [LogLine(evil, "run", None, 0)])
        text = rows(view)[0]
        assert "\x1b" not in text
        assert "\x07" not in text
        assert "\x9b" not in text
        assert text.startswith("run   │ abcde")
        assert view.buffer.text(0) == "abcde"


async def test_clear_and_pending_before_mount() -> None:
    view = LogView(50)
    view.append(make_lines(10))
    assert view.pending == 10

    class Early(App[None]):
        def compose(self) -> ComposeResult:
            yield view

    app = Early()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        assert len(view.buffer) == 10
        view.clear()
        await pilot.pause()
        assert len(view.buffer) == 0
        assert view.dropped == 0
        assert all(not r.strip() for r in rows(view))


# -- selection -------------------------------------------------------------------------------


def shown(index: int) -> str:
    """Line ``index`` of :func:`make_lines` as shown and copied (no timestamps)."""
    line = make_lines(1, start=index)[0]
    return f"{line.phase:<5} │ {line.text}"


def selected_rows(view: LogView) -> list[str]:
    """The text of every body row drawn with the selection background."""
    body = view.lines
    selection = body.get_component_rich_style("log-view--selection").bgcolor
    out = []
    for y in range(body.scrollable_content_region.height):
        strip = body.render_line(y)
        if all(
            segment.style is not None and segment.style.bgcolor == selection for segment in strip
        ):
            out.append("".join(segment.text for segment in strip).rstrip())
    return out


async def test_keys_select_lines_and_y_copies_them() -> None:
    async with fed(40) as (app, pilot, view):
        await pilot.press("v")
        selection = view.lines.selection
        assert selection is not None
        assert (selection.anchor, selection.cursor) == (39, 39)  # the last line on screen
        assert not view.following
        await pilot.press("k", "up")
        assert selected_rows(view) == [shown(37), shown(38), shown(39)]
        await settle_status(pilot, view)
        assert view.status.selected == "3 lines selected (y copies, esc clears)"
        assert "3 lines selected (y copies, esc clears)" in str(view.status.render())
        await pilot.press("j")
        assert selected_rows(view) == [shown(38), shown(39)]
        await pilot.press("y")
        assert app.clipboard == f"{shown(38)}\n{shown(39)}"
        assert view.lines.selection is None
        assert selected_rows(view) == []
        await settle_status(pilot, view)
        assert view.status.selected == ""
        await pilot.press("y")  # no selection: the current line again
        assert app.clipboard == shown(39)


async def test_selection_moves_by_page_top_bottom_and_search() -> None:
    async with fed(100) as (app, pilot, view):
        height = view.lines.scrollable_content_region.height
        await pilot.press("v", "pageup")
        assert view.lines.selection is not None
        assert view.lines.selection.cursor == 99 - (height - 1)
        await pilot.press("g")
        assert view.lines.selection.cursor == 0
        assert view.lines.scroll_y == 0
        assert rows(view)[0].rstrip() == shown(0)
        assert view.lines.selection.count(view.buffer) == 100
        await pilot.press("k")  # clamped at the first line
        assert view.lines.selection.cursor == 0
        await pilot.press("G")  # to the last line, and following stays paused
        assert view.lines.selection.cursor == 99
        assert not view.following
        assert rows(view)[-1].rstrip() == shown(99)
        await pilot.press("v")  # v again ends the selection without copying
        assert view.lines.selection is None
        assert app.clipboard == ""
        # with a search, v starts at the current match and n extends to the next one
        await pilot.press("g", "slash", *"needle", "enter")
        assert view.lines.current == 3
        await pilot.press("v", "n")
        assert view.lines.selection is not None
        assert (view.lines.selection.anchor, view.lines.selection.cursor) == (3, 13)
        # only matching lines: the selection holds the shown lines between its ends
        await pilot.press("ampersand")
        assert view.lines.selection.count(view.buffer) == 2
        await pilot.press("y")
        assert app.clipboard == f"{shown(3)}\n{shown(13)}"


async def test_escape_ends_the_selection_before_the_search() -> None:
    async with fed(40) as (app, pilot, view):
        await pilot.press("slash", *"needle", "enter")
        await pilot.press("v", "k", "k")
        assert view.lines.selection is not None
        await pilot.press("escape")
        assert view.lines.selection is None
        assert selected_rows(view) == []
        assert view.buffer.term == "needle"  # the first escape only ended the selection
        assert app.clipboard == ""
        await settle_status(pilot, view)
        assert view.status.selected == ""
        await pilot.press("escape")
        assert view.buffer.term == ""


async def test_mouse_drag_selects_lines_and_a_click_selects_nothing() -> None:
    async with fed(100) as (app, pilot, view):
        top = view.lines.top_line()
        assert top is not None
        await pilot.click(view.lines, offset=(10, 3))
        assert view.lines.selection is None
        assert view.following
        await pilot.mouse_down(view.lines, offset=(10, 2))
        assert view.lines.selection is None  # pressed, not dragged yet
        await pilot.hover(view.lines, offset=(12, 4))
        await pilot.hover(view.lines, offset=(12, 5))
        await pilot.mouse_up(view.lines, offset=(12, 5))
        assert app.mouse_captured is None
        selection = view.lines.selection
        assert selection is not None
        assert (selection.anchor, selection.cursor) == (top + 2, top + 5)
        assert not view.following
        assert selected_rows(view) == [shown(top + k) for k in range(2, 6)]
        await settle_status(pilot, view)
        assert view.status.selected == "4 lines selected (y copies, esc clears)"
        # dragging upwards past the anchor selects the other way
        await pilot.mouse_down(view.lines, offset=(10, 8))
        await pilot.hover(view.lines, offset=(10, 6))
        await pilot.mouse_up(view.lines, offset=(10, 6))
        selection = view.lines.selection
        assert selection is not None
        assert (selection.low, selection.high) == (top + 6, top + 8)
        await pilot.press("y")
        assert app.clipboard == "\n".join(shown(top + k) for k in (6, 7, 8))
        assert view.lines.selection is None


async def test_selection_keeps_its_lines_when_the_cap_drops_lines() -> None:
    async with fed(100, max_lines=100) as (app, pilot, view):
        await pilot.press("home")
        bottom = view.lines.bottom_line()
        assert bottom is not None
        await pilot.press("v", *["k"] * 5)  # lines bottom-5 .. bottom
        first = bottom - 5
        await feed(pilot, view, make_lines(first + 2, start=100))  # drops 0 .. first+1
        assert view.dropped == first + 2
        selection = view.lines.selection
        assert selection is not None
        assert (selection.low, selection.high) == (first, bottom)  # absolute: not shifted
        assert selection.count(view.buffer) == 4
        assert selected_rows(view) == [shown(k) for k in range(first + 2, bottom + 1)]
        await settle_status(pilot, view)
        assert view.status.selected == "4 lines selected (y copies, esc clears)"
        await pilot.press("y")
        assert app.clipboard == "\n".join(shown(k) for k in range(first + 2, bottom + 1))
        # a selection whose every line is dropped ends
        await pilot.press("v")
        assert view.lines.selection is not None
        await feed(pilot, view, make_lines(100, start=100 + first + 2))
        assert view.lines.selection is None
        await settle_status(pilot, view)
        assert view.status.selected == ""


async def test_selecting_pauses_following() -> None:
    async with fed(40) as (app, pilot, view):
        assert view.following
        await pilot.press("v")
        assert not view.following
        before = rows(view)
        await feed(pilot, view, make_lines(10, start=40))
        assert rows(view) == before  # the view stays put while lines arrive
        assert view.new_lines == 10
        selection = view.lines.selection
        assert selection is not None
        assert (selection.anchor, selection.cursor) == (39, 39)
        await pilot.press("end")  # extends to the newest line instead of following
        assert not view.following
        assert selection.cursor == 49
        assert rows(view)[-1].rstrip() == shown(49)
        # scrolling down onto the last line does not resume following while selecting
        wheel = events.MouseScrollDown(view.lines, 5, 5, 0, 1, 0, False, False, False)
        view.lines.post_message(wheel)
        await pilot.pause()
        assert not view.following
        await pilot.press("f")  # f ends the selection and follows
        assert view.following
        assert view.lines.selection is None
        await pilot.press("v", "y")
        assert app.clipboard == shown(49)
        assert not view.following  # still paused after copying: End or f follows again


async def test_dragging_past_the_bottom_edge_scrolls_and_extends() -> None:
    async with fed(100) as (_app, pilot, view):
        await pilot.press("home")
        height = view.lines.scrollable_content_region.height
        await pilot.mouse_down(view.lines, offset=(10, 0))
        # onto the status line, below the body: a row a move (``mouse_up`` moves there too)
        await pilot.hover(view.lines, offset=(10, height))
        await pilot.mouse_up(view.lines, offset=(11, height))
        assert view.lines.scroll_y == 2
        selection = view.lines.selection
        assert selection is not None
        assert (selection.anchor, selection.cursor) == (0, height + 1)
        assert selection.count(view.buffer) == height + 2


async def test_selection_in_wrap_mode_covers_every_row_of_its_lines() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        long = LogLine("x" * 250 + " end", "run", START, 0)
        await feed(pilot, view, [long, *make_lines(3, start=1)])
        await pilot.press("w", "g", "v")  # the last line on screen: line 3
        await pilot.press("k", "k", "k")  # up to the long line (three rows)
        selection = view.lines.selection
        assert selection is not None
        assert (selection.low, selection.high) == (0, 3)
        assert len(selected_rows(view)) == 3 + 3
        assert view.lines.scroll_y == 0
        await pilot.press("y")
        assert app.clipboard.splitlines()[0] == f"run   │ {'x' * 250} end"
