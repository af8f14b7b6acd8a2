"""How the task detail's waterfall and telemetry widgets look, in textual-dark and textual-light.

Inputs are fixed (no clock: a running phase's "now" is passed in), so every frame is the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.widgets import Static

from infdash.ui.widgets.telemetry import Series, Telemetry
from infdash.ui.widgets.waterfall import Waterfall, WaterfallRow

SnapCompare = Callable[..., bool]
SIZE = (100, 24)

COLD = (
    WaterfallRow("queue", 0.0, 1.2),
    WaterfallRow("prepare", 1.2, 2.0),
    WaterfallRow("serving", 3.2, 12.4, cold_start=True),
    WaterfallRow("setup", 15.6, 3.1),
    WaterfallRow("run", 18.7, 20.05),
    WaterfallRow("upload", 38.75, 2.3),
)
RUNNING = (
    WaterfallRow("queue", 0.0, 4.0),
    WaterfallRow("prepare", 4.0, 1.5),
    WaterfallRow("serving", 5.5, 2.25),
    WaterfallRow("setup", 7.75, 0.6),
    WaterfallRow("run", 8.35, None),
)


def _wave(count: int, base: float, amplitude: float) -> list[float]:
    return [round(base + amplitude * math.sin(i * 0.4), 2) for i in range(count)]


FOUR = (
    Series("CPU", _wave(40, 55.0, 30.0), "%"),
    Series("RAM", [2.0 + i * 0.26 for i in range(40)], "GiB", 64.0),
    Series("GPU", [0.0, 0.0, 5.0, 40.0, 90.0, 97.0, 98.0, 97.0, 96.0, 97.0] * 4, "%"),
    Series("VRAM", [1.0] * 4 + [21.0] * 36, "GiB", 24.0),
)


class DetailWidgetsApp(App[None]):
    """Captioned waterfalls and telemetry widgets, stacked, in the given theme."""

    def __init__(self, parts: list[tuple[str, Waterfall | Telemetry]], theme: str) -> None:
        super().__init__()
        self._parts = parts
        self._theme = theme

    def compose(self) -> ComposeResult:
        for caption, widget in self._parts:
            yield Static(caption, markup=False, classes="caption")
            yield widget

    def on_mount(self) -> None:
        self.theme = self._theme


def test_waterfall_finished_with_cold_start(snap_compare: SnapCompare) -> None:
    parts: list[tuple[str, Waterfall | Telemetry]] = [
        ("Finished, cold start", Waterfall(COLD)),
        ("No timings", Waterfall()),
    ]
    assert snap_compare(DetailWidgetsApp(parts, "textual-dark"), terminal_size=SIZE)


def test_waterfall_running(snap_compare: SnapCompare) -> None:
    parts: list[tuple[str, Waterfall | Telemetry]] = [
        ("Running, 12 s in", Waterfall(RUNNING, 12.0)),
        ("Running, 95 s in", Waterfall(RUNNING, 95.0)),
    ]
    assert snap_compare(DetailWidgetsApp(parts, "textual-dark"), terminal_size=SIZE)


def test_telemetry_four_series(snap_compare: SnapCompare) -> None:
    parts: list[tuple[str, Waterfall | Telemetry]] = [
        ("Four series", Telemetry(FOUR)),
        ("A single sample", Telemetry([Series("CPU", [12.0], "%"), Series("GPU", [], "%")])),
        ("No telemetry", Telemetry()),
    ]
    assert snap_compare(DetailWidgetsApp(parts, "textual-dark"), terminal_size=SIZE)


def test_both_widgets_textual_light(snap_compare: SnapCompare) -> None:
    parts: list[tuple[str, Waterfall | Telemetry]] = [
        ("Finished, cold start", Waterfall(COLD)),
        ("Running", Waterfall(RUNNING, 95.0)),
        ("Telemetry", Telemetry(FOUR)),
    ]
    assert snap_compare(DetailWidgetsApp(parts, "textual-light"), terminal_size=SIZE)
