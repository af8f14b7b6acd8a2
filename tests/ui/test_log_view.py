"""Pilot tests of the log viewer: follow/pause, cap, search, filter, toggles, copy, save, R22."""

from __future__ import annotations

import re
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


async def feed(pilot: Pilot[Any], view: LogView, lines: list[LogLine]) -> None:
    view.append(lines)
    await pilot.pause(0.05)
    view.flush()
    await pilot.pause()


async def settle_status(pilot: Pilot[Any], view: LogView) -> None:
    view._update_status()
    await pilot.pause()


async def test_follows_the_tail() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        await feed(pilot, view, make_lines(200))
        shown = [r for r in rows(view) if r.strip()]
        assert shown[-1].rstrip().endswith("line 199 hay")
        assert view.following
        await feed(pilot, view, make_lines(5, start=200))
        assert rows(view)[-1].rstrip().endswith("line 204 hay")


async def test_scroll_up_pauses_counts_and_keeps_the_view() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        await feed(pilot, view, make_lines(200))
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
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        await feed(pilot, view, make_lines(200))
        wheel = events.MouseScrollUp(view.lines, 5, 5, 0, -1, 0, False, False, False)
        view.lines.post_message(wheel)
        await pilot.pause()
        assert not view.following
        await pilot.press("f")
        assert view.following
        await pilot.press("f")
        assert not view.following


async def test_cap_drops_counts_and_keeps_a_paused_view() -> None:
    app = LogApp(max_lines=100)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        await feed(pilot, view, make_lines(100))
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
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        await feed(pilot, view, make_lines(100))
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
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        await feed(pilot, view, make_lines(30))
        await pilot.press("slash", *"needle", "escape")
        assert view.buffer.term == ""
        assert not app.query_one("#log-search", Input).has_class("-open")
        assert app.focused is view.lines


async def test_filter_shows_only_matches() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        await feed(pilot, view, make_lines(100))
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
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        await feed(pilot, view, make_lines(100))
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
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        await feed(pilot, view, make_lines(40))
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
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        await feed(pilot, view, make_lines(30))
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
