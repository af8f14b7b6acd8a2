"""The telemetry small multiples: current values, peaks, sparkline scale and span, hostile
labels."""

from __future__ import annotations

from textual.app import App, ComposeResult

from infdash.ui.widgets.telemetry import (
    EMPTY_TEXT,
    NO_VALUE,
    SPARK_BLOCKS,
    Series,
    Telemetry,
    current_text,
    peak_text,
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


def text_of(line: str) -> str:
    """The words of a rendered line without its sparkline."""
    return words("".join(char for char in line if char not in SPARK_BLOCKS))


def runs(spark: str) -> list[tuple[str, int]]:
    """``spark`` as (block, repeat) runs: each sample spans a run of cells."""
    out: list[tuple[str, int]] = []
    for char in spark:
        if out and out[-1][0] == char:
            out[-1] = (char, out[-1][1] + 1)
        else:
            out.append((char, 1))
    return out


def test_current_text() -> None:
    assert current_text(Series("CPU", [12.0, 63.4], "%")) == "63 %"
    assert current_text(Series("RAM", [12.34], "GiB", 64.0)) == "12.3 / 64 GiB"
    assert current_text(Series("VRAM", [21.0], "GiB", 23.6)) == "21.0 / 23.6 GiB"
    assert current_text(Series("Disk", [3.0], "GiB")) == "3.0 GiB"
    assert current_text(Series("GPU", [], "%")) == NO_VALUE


def test_peak_text() -> None:
    assert peak_text(Series("CPU", [12.0, 91.4, 63.0], "%")) == "91 %"
    assert peak_text(Series("RAM", [20.06, 12.3], "GiB", 64.0)) == "20.1 GiB"
    assert peak_text(Series("Load", [float("nan"), 2.0], "")) == "2.0"
    assert peak_text(Series("GPU", [], "%")) == NO_VALUE


def test_sparkline_scale_and_buckets() -> None:
    assert sparkline(Series("CPU", [0.0, 50.0, 100.0, 250.0], "%"), 4) == "▁▅██"
    assert sparkline(Series("RAM", [0.0, 32.0, 64.0], "GiB", 64.0), 3) == "▁▅█"
    assert sparkline(Series("RAM", [1.0, 2.0], "GiB"), 2) == "▅█"  # no ceiling: the peak
    assert sparkline(Series("RAM", [0.0, 0.0], "GiB"), 2) == "▁▁"
    assert sparkline(Series("CPU", [float("nan")], "%"), 1) == "▁"
    assert sparkline(Series("CPU", [], "%"), 10) == ""
    # Four buckets of two samples each: every bucket shows its peak.
    peaks = sparkline(Series("GPU", [0, 100, 0, 0, 0, 0, 100, 0], "%"), 4)
    assert peaks == "█▁▁█"


def test_few_samples_span_the_width_in_equal_shares() -> None:
    assert sparkline(Series("CPU", [0.0, 100.0], "%"), 5) == "▁▁▁██"
    assert sparkline(Series("CPU", [50.0], "%"), 4) == "▅▅▅▅"
    spread = sparkline(Series("GPU", [0.0, 50.0, 100.0], "%"), 65)
    assert runs(spread) == [("▁", 22), ("▅", 22), ("█", 21)]


async def test_current_values_peaks_and_sparklines() -> None:
    app = TelemetryApp(FOUR)
    async with app.run_test(size=SIZE) as pilot:
        widget = app.query_one(Telemetry)
        await pilot.pause()
        drawn = lines(widget)
        assert widget.size.height == 4
        assert [text_of(line) for line in drawn] == [
            "CPU 63 % peak 63 %",
            "RAM 12.3 / 64 GiB peak 12.3 GiB",
            "GPU 97 % peak 97 %",
            "VRAM 21.0 / 24 GiB peak 21.0 GiB",
        ]
        spark = 100 - len("VRAM") - len("12.3 / 64 GiB") - len("peak 12.3 GiB") - 5
        assert [runs(spark_of(line)) for line in drawn] == [
            [("▂", 22), ("▄", 22), ("▅", 21)],
            [("▂", 65)],  # 8, 11.5 and 12.3 of 64 GiB: one level
            [("▁", 22), ("▇", 22), ("█", 21)],
            [("▂", 22), ("▇", 43)],
        ]
        assert sum(count for _, count in runs(spark_of(drawn[0]))) == spark
        assert all(len(line) == 100 for line in drawn)
        # The columns line up: every sparkline starts in the same cell.
        assert len({line.index(spark_of(line)[0]) for line in drawn}) == 1
        assert len({line.index("peak") for line in drawn}) == 1


async def test_more_samples_than_cells_fill_the_width() -> None:
    many = (Series("CPU", [float(i % 100) for i in range(300)], "%"),)
    app = TelemetryApp(many)
    async with app.run_test(size=SIZE) as pilot:
        widget = app.query_one(Telemetry)
        await pilot.pause()
        spark = spark_of(lines(widget)[0])
        fixed = len("CPU") + len("99 %") + len("peak 99 %") + 5
        assert len(spark) == 100 - fixed
        await pilot.resize_terminal(60, 24)
        await pilot.pause()
        assert len(spark_of(lines(widget)[0])) == 60 - fixed


async def test_update_series_redraws_the_lines() -> None:
    app = TelemetryApp((Series("GPU", [50.0], "%"),))
    async with app.run_test(size=SIZE) as pilot:
        widget = app.query_one(Telemetry)
        await pilot.pause()
        fixed = len("GPU") + len("50 %") + len("peak 50 %") + 5
        assert runs(spark_of(lines(widget)[0])) == [("▅", 100 - fixed)]
        widget.update_series(FOUR)
        await pilot.pause()
        assert widget.size.height == 4
        assert text_of(lines(widget)[0]) == "CPU 63 % peak 63 %"


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
        assert text_of(lines(widget)[0]) == "CPU 63 % peak 63 %"


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
