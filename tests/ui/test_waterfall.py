"""The phase-timing waterfall: bar geometry, live growth, cold starts and hostile names.

Bars are measured on the widget's own rendered lines (``render_line(y).text``), so the tests
check what reaches the screen, not the widget's arithmetic.
"""

from __future__ import annotations

from itertools import pairwise

from textual.app import App, ComposeResult

from infdash.ui.widgets.waterfall import (
    COLD_START,
    DURATION_WIDTH,
    EMPTY_TEXT,
    NAME_WIDTH,
    RUNNING_MARK,
    Waterfall,
    WaterfallRow,
    bar_cells,
    phase_style_name,
)

BAR_CHARS = frozenset("█▏▎▍▌▋▊▉▐▕")
SIZE = (100, 24)

FINISHED = (
    WaterfallRow("queue", 0.0, 1.2),
    WaterfallRow("prepare", 1.2, 2.0),
    WaterfallRow("serving", 3.2, 12.4, cold_start=True),
    WaterfallRow("setup", 15.6, 3.1),
    WaterfallRow("run", 18.7, 184.0),
    WaterfallRow("upload", 202.7, 2.3),
)
RUNNING = (
    WaterfallRow("queue", 0.0, 4.0),
    WaterfallRow("prepare", 4.0, 1.5),
    WaterfallRow("run", 5.5, None),
)


class WaterfallApp(App[None]):
    """One waterfall over the given rows."""

    def __init__(self, rows: tuple[WaterfallRow, ...] = (), now: float | None = None) -> None:
        super().__init__()
        self._rows = rows
        self._now = now

    def compose(self) -> ComposeResult:
        yield Waterfall(self._rows, self._now)


def lines(widget: Waterfall) -> list[str]:
    """The widget's rendered lines as plain text."""
    return [widget.render_line(y).text for y in range(widget.size.height)]


def bar_of(line: str) -> tuple[int, int]:
    """(first cell, length) of the bar in a row line, counted from the bar area's start."""
    area = line[NAME_WIDTH + 1 :]
    cells = [i for i, char in enumerate(area) if char in BAR_CHARS]
    return (cells[0], len(cells)) if cells else (-1, 0)


def test_bar_cells_eighths() -> None:
    assert bar_cells(0.0, 1.0, 10) == (0, "█" * 10)
    assert bar_cells(0.0, 0.55, 10) == (0, "█████▌")
    assert bar_cells(0.5, 0.5, 10) == (5, "▏")  # zero length still marks its place
    assert bar_cells(0.25, 0.5, 10) == (2, "▐██")  # a half-cell start
    assert bar_cells(0.0, 0.0, 0) == (0, "")


def test_phase_style_names() -> None:
    assert phase_style_name("Load model") == "serving"
    assert phase_style_name(" run ") == "run"
    assert phase_style_name("cancelling") == "cancel"
    assert phase_style_name("mystery") == "other"


async def test_rows_header_and_durations() -> None:
    app = WaterfallApp(FINISHED)
    async with app.run_test(size=SIZE) as pilot:
        waterfall = app.query_one(Waterfall)
        await pilot.pause()
        drawn = lines(waterfall)
        assert waterfall.size.height == len(FINISHED) + 1
        assert drawn[0].startswith("total 3m 25s · cold start +12 s")
        names = [line[:NAME_WIDTH].strip() for line in drawn[1:]]
        assert names == ["queue", "prepare", "serving", "setup", "run", "upload"]
        assert drawn[1].rstrip().endswith(" 1.2 s")
        assert "3m 04s" in drawn[5]
        assert drawn[3].rstrip().endswith(f"12 s {COLD_START}")
        assert COLD_START not in drawn[5]


async def test_offsets_are_in_order_and_bars_fill_the_span() -> None:
    app = WaterfallApp(FINISHED)
    async with app.run_test(size=SIZE) as pilot:
        waterfall = app.query_one(Waterfall)
        await pilot.pause()
        bars = [bar_of(line) for line in lines(waterfall)[1:]]
        starts = [first for first, _ in bars]
        assert starts == sorted(starts)
        assert starts[0] == 0
        assert all(length >= 1 for _, length in bars)
        # Bars follow one another: each starts where the previous one ended (± a cell).
        for (first, length), (next_first, _) in pairwise(bars):
            assert abs(first + length - next_first) <= 1


async def test_bars_scale_with_width() -> None:
    app = WaterfallApp(FINISHED)
    async with app.run_test(size=SIZE) as pilot:
        waterfall = app.query_one(Waterfall)
        await pilot.pause()
        wide = bar_of(lines(waterfall)[5])[1]
        await pilot.resize_terminal(60, 24)
        await pilot.pause()
        assert waterfall.size.width == 60
        narrow_lines = lines(waterfall)
        narrow = bar_of(narrow_lines[5])[1]
        tags = len(COLD_START) + 1
        wide_area = 100 - NAME_WIDTH - 3 - DURATION_WIDTH - tags
        narrow_area = 60 - NAME_WIDTH - 3 - DURATION_WIDTH - tags
        run_share = 184.0 / 205.0
        # Partly filled end cells count as whole ones: up to one extra cell at each end.
        assert -1 <= wide - run_share * wide_area <= 2
        assert -1 <= narrow - run_share * narrow_area <= 2
        assert narrow < wide
        assert all(len(line) == 60 for line in narrow_lines)


async def test_running_phase_grows_with_now() -> None:
    app = WaterfallApp(RUNNING, now=10.0)
    async with app.run_test(size=SIZE) as pilot:
        waterfall = app.query_one(Waterfall)
        await pilot.pause()
        before = lines(waterfall)
        assert "▶ running" in before[0]
        assert before[0].startswith("total 10 s")
        assert RUNNING_MARK in before[3]
        assert before[3].rstrip().endswith("4.5 s")
        first_run = bar_of(before[3])[1]
        first_queue = bar_of(before[1])[1]

        waterfall.update_rows(RUNNING, now_offset_s=60.0)
        await pilot.pause()
        after = lines(waterfall)
        assert after[0].startswith("total 1m 00s")
        assert after[3].rstrip().endswith("54 s")
        assert bar_of(after[3])[1] > first_run
        assert bar_of(after[1])[1] < first_queue  # the rest shrinks as the total grows

        finished = (*RUNNING[:2], WaterfallRow("run", 5.5, 60.0))
        waterfall.update_rows(finished)
        await pilot.pause()
        done = lines(waterfall)
        assert "running" not in done[0]
        assert RUNNING_MARK not in done[3]


async def test_running_without_now_draws_a_sliver() -> None:
    app = WaterfallApp((WaterfallRow("queue", 0.0, None),))
    async with app.run_test(size=SIZE) as pilot:
        waterfall = app.query_one(Waterfall)
        await pilot.pause()
        drawn = lines(waterfall)
        assert drawn[0].startswith("total 0.0 s")
        assert bar_of(drawn[1])[1] == 1


async def test_empty_state_and_height_follow_rows() -> None:
    app = WaterfallApp()
    async with app.run_test(size=SIZE) as pilot:
        waterfall = app.query_one(Waterfall)
        await pilot.pause()
        assert lines(waterfall) == [EMPTY_TEXT.ljust(100)]
        waterfall.update_rows(FINISHED[:2])
        await pilot.pause()
        assert waterfall.size.height == 3
        waterfall.update_rows(())
        await pilot.pause()
        assert waterfall.size.height == 1
        assert lines(waterfall)[0].startswith(EMPTY_TEXT)


async def test_hostile_names_are_drawn_literally() -> None:
    rows = (WaterfallRow("[b]x\x1b[2J\x1b]0;pwn\x07", 0.0, 1.0),)
    app = WaterfallApp(rows)
    async with app.run_test(size=SIZE) as pilot:
        waterfall = app.query_one(Waterfall)
        await pilot.pause()
        row = lines(waterfall)[1]
        assert row.startswith("[b]x ")
        assert "\x1b" not in row
        assert "pwn" not in row
        assert waterfall.rows[0].name == "[b]x"


async def test_span_longer_than_the_phases_scales_the_bars() -> None:
    rows = (WaterfallRow("run", 0.0, 10.0),)
    app = WaterfallApp(rows)
    async with app.run_test(size=SIZE) as pilot:
        waterfall = app.query_one(Waterfall)
        await pilot.pause()
        full = bar_of(lines(waterfall)[1])[1]
        waterfall.update_rows(rows, total_s=20.0)
        await pilot.pause()
        drawn = lines(waterfall)
        assert drawn[0].startswith("total 20 s")
        assert abs(bar_of(drawn[1])[1] - full / 2) <= 1


async def test_padding_and_updates_before_mount() -> None:
    waterfall = Waterfall()
    waterfall.update_rows(FINISHED[:2])  # not mounted yet: stored, drawn on mount
    waterfall.styles.padding = (0, 2)

    class PaddedApp(App[None]):
        def compose(self) -> ComposeResult:
            yield waterfall

    async with PaddedApp().run_test(size=SIZE) as pilot:
        await pilot.pause()
        drawn = lines(waterfall)
        assert len(drawn) == 3
        assert all(len(line) == 96 for line in drawn)
        assert drawn[2].rstrip().endswith("2.0 s")


async def test_theme_change_recolours_the_bars() -> None:
    app = WaterfallApp(FINISHED)
    async with app.run_test(size=SIZE) as pilot:
        waterfall = app.query_one(Waterfall)
        await pilot.pause()

        def queue_bar_colour() -> object:
            strip = waterfall.render_line(1)
            bar = next(s for s in strip if s.text.strip() and s.text[0] in BAR_CHARS)
            assert bar.style is not None
            return bar.style.color

        dark = queue_bar_colour()
        app.theme = "textual-light"
        await pilot.pause()
        assert queue_bar_colour() != dark


async def test_very_narrow_drops_the_call_out_then_the_bar() -> None:
    app = WaterfallApp(FINISHED)
    async with app.run_test(size=(30, 24)) as pilot:
        waterfall = app.query_one(Waterfall)
        await pilot.pause()
        drawn = lines(waterfall)
        assert all(len(line) == 30 for line in drawn)
        assert COLD_START not in drawn[3]  # no room: the header still says it
        assert all(bar_of(line)[1] >= 1 for line in drawn[1:])
        await pilot.resize_terminal(12, 24)
        await pilot.pause()
        assert all(len(line) == 12 for line in lines(waterfall))
