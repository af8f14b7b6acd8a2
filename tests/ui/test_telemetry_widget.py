"""The telemetry small multiples: current values, sparkline scale and length, hostile labels."""

from __future__ import annotations

from textual.app import App, ComposeResult

from infdash.ui.widgets.telemetry import (
    EMPTY_TEXT,
    NO_VALUE,
    SPARK_BLOCKS,
    Series,
    Telemetry,
    current_text,
    sparkline,
)

SIZE = (100, 24)

FOUR = (
    Series("CPU", [10.0, 40.0, 63.0], "%"),
    Series("RAM", [8.0, 11.5, 12.3], "GiB", 64.0),
    Series("GPU", [0.0, 90.0, 97.0], "%"),
    Series("VRAM", [4.0, 20.5, 21.0], "GiB", 24.0),
)


class TelemetryApp(App[None]):
    """One telemetry widget over the given series."""

    def __init__(self, series: tuple[Series, ...] = ()) -> None:
        super().__init__()
        self._series = series

    def compose(self) -> ComposeResult:
        yield Telemetry(self._series)


def lines(widget: Telemetry) -> list[str]:
    """The widget's rendered lines as plain text."""
    return [widget.render_line(y).text for y in range(widget.size.height)]


def words(line: str) -> str:
    """``line`` with runs of spaces collapsed (the columns are padded)."""
    return " ".join(line.split())


def spark_of(line: str) -> str:
    """The sparkline characters in a rendered line."""
    return "".join(char for char in line if char in SPARK_BLOCKS)


def test_current_text() -> None:
    assert current_text(Series("CPU", [12.0, 63.4], "%")) == "63 %"
    assert current_text(Series("RAM", [12.34], "GiB", 64.0)) == "12.3 / 64 GiB"
    assert current_text(Series("VRAM", [21.0], "GiB", 23.6)) == "21.0 / 23.6 GiB"
    assert current_text(Series("Disk", [3.0], "GiB")) == "3.0 GiB"
    assert current_text(Series("GPU", [], "%")) == NO_VALUE


def test_sparkline_scale_and_buckets() -> None:
    assert sparkline(Series("CPU", [0.0, 50.0, 100.0, 250.0], "%"), 10) == "▁▅██"
    assert sparkline(Series("RAM", [0.0, 32.0, 64.0], "GiB", 64.0), 10) == "▁▅█"
    assert sparkline(Series("RAM", [1.0, 2.0], "GiB"), 10) == "▅█"  # no ceiling: the peak
    assert sparkline(Series("RAM", [0.0, 0.0], "GiB"), 10) == "▁▁"
    assert sparkline(Series("CPU", [float("nan")], "%"), 10) == "▁"
    # Four buckets of two samples each: every bucket shows its peak.
    peaks = sparkline(Series("GPU", [0, 100, 0, 0, 0, 0, 100, 0], "%"), 4)
    assert peaks == "█▁▁█"


async def test_current_values_and_sparkline_lengths() -> None:
    app = TelemetryApp(FOUR)
    async with app.run_test(size=SIZE) as pilot:
        widget = app.query_one(Telemetry)
        await pilot.pause()
        drawn = lines(widget)
        assert widget.size.height == 4
        assert [words(line) for line in drawn] == [
            "CPU 63 % ▂▄▅",
            "RAM 12.3 / 64 GiB ▂▂▂",
            "GPU 97 % ▁▇█",
            "VRAM 21.0 / 24 GiB ▂▇▇",
        ]
        assert all(len(line) == 100 for line in drawn)
        # The value column lines up: every sparkline starts in the same cell.
        assert len({line.index(spark_of(line)[0]) for line in drawn}) == 1


async def test_more_samples_than_cells_fill_the_width() -> None:
    many = (Series("CPU", [float(i % 100) for i in range(300)], "%"),)
    app = TelemetryApp(many)
    async with app.run_test(size=SIZE) as pilot:
        widget = app.query_one(Telemetry)
        await pilot.pause()
        spark = spark_of(lines(widget)[0])
        assert len(spark) == 100 - len("CPU") - len("99 %") - 3
        await pilot.resize_terminal(60, 24)
        await pilot.pause()
        assert len(spark_of(lines(widget)[0])) == 60 - len("CPU") - len("99 %") - 3


async def test_update_series_grows_the_sparkline() -> None:
    app = TelemetryApp((Series("GPU", [50.0], "%"),))
    async with app.run_test(size=SIZE) as pilot:
        widget = app.query_one(Telemetry)
        await pilot.pause()
        assert spark_of(lines(widget)[0]) == "▅"
        widget.update_series(FOUR)
        await pilot.pause()
        assert widget.size.height == 4
        assert len(spark_of(lines(widget)[0])) == 3


async def test_empty_state() -> None:
    app = TelemetryApp()
    async with app.run_test(size=SIZE) as pilot:
        widget = app.query_one(Telemetry)
        await pilot.pause()
        assert lines(widget) == [EMPTY_TEXT.ljust(100)]
        widget.update_series((Series("CPU", [], "%"), Series("RAM", [], "GiB", 64.0)))
        await pilot.pause()
        assert widget.is_empty
        assert lines(widget)[0].startswith(EMPTY_TEXT)
        widget.update_series(FOUR[:1])
        await pilot.pause()
        assert words(lines(widget)[0]) == "CPU 63 % ▂▄▅"


async def test_series_without_samples_next_to_others() -> None:
    app = TelemetryApp((FOUR[0], Series("GPU", [], "%")))
    async with app.run_test(size=SIZE) as pilot:
        widget = app.query_one(Telemetry)
        await pilot.pause()
        assert words(lines(widget)[1]) == f"GPU {NO_VALUE}"


async def test_hostile_labels_are_drawn_literally() -> None:
    app = TelemetryApp((Series("[red]x\x1b]52;c;AAAA\x07\x1b[2J", [1.0], "%"),))
    async with app.run_test(size=SIZE) as pilot:
        widget = app.query_one(Telemetry)
        await pilot.pause()
        line = lines(widget)[0]
        assert line.startswith("[red]x ")
        assert "\x1b" not in line
        assert "AAAA" not in line


async def test_update_before_mount() -> None:
    widget = Telemetry()
    widget.update_series(FOUR[:2])

    class OneApp(App[None]):
        def compose(self) -> ComposeResult:
            yield widget

    async with OneApp().run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert widget.size.height == 2
        assert words(lines(widget)[1]).startswith("RAM 12.3 / 64 GiB")
