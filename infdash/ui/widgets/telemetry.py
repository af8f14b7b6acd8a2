"""Telemetry small multiples for the task detail screen: one sparkline per resource.

Is the GPU busy, is VRAM nearly full, how close did it come?  Each series (CPU %, RAM, GPU %,
VRAM — whatever the screen passes, in order) is one line: its label, its current value, its
peak and a sparkline of its samples ("CPU 63 %  peak 91 %", "RAM 12.3 / 64 GiB  peak 20.1").
Sparklines are scaled from zero to the series' maximum (100 for percentages), not to the
samples' own range as Textual's ``Sparkline`` is, so a flat 60 % reads as 60 %.  They span
the whole track: the samples come at a steady pace (about every 30 s), so each takes an equal
share of the width, the first at the left; more samples than cells are bucketed, keeping each
bucket's peak (a VRAM peak is what matters).

The widget draws; the screen fetches samples (about every 30 s while the task runs) and calls
:meth:`Telemetry.update_series`.  Labels are cleaned and drawn as plain segments, never markup;
every colour comes from the theme through the component classes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from textual.geometry import Size
from textual.strip import Strip

from infdash.ui.sanitize import clean_line
from infdash.ui.tasklist.format import fit
from infdash.ui.widgets.drawn import DrawnLines

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
"""Sparkline levels, lowest first (the lowest still draws, so a zero sample shows)."""
EMPTY_TEXT = "No telemetry yet (sampled about every 30 s while the task runs)."
"""Shown when no series has a sample."""
NO_VALUE = "–"
"""The current value of a series without samples."""
LABEL_WIDTH_MAX = 8
"""Labels longer than this are cut."""


@dataclass(frozen=True)
class Series:
    """One resource over time: its samples (oldest first), unit and ceiling."""

    label: str
    values: Sequence[float]
    unit: str
    maximum: float | None = None
    """The ceiling (e.g. total RAM); ``None``: 100 for ``%``, else the largest sample."""


def _number(value: float) -> str:
    """``64`` for 64.0, ``23.6`` otherwise (one decimal at most)."""
    text = f"{value:.1f}"
    return text.removesuffix(".0")


def current_text(series: Series) -> str:
    """The latest sample: ``63 %``, ``12.3 / 64 GiB``, ``12.3 GiB``; :data:`NO_VALUE` if none."""
    if not series.values:
        return NO_VALUE
    last = series.values[-1]
    if series.unit == "%":
        return f"{last:.0f} %"
    unit = f" {series.unit}" if series.unit else ""
    if series.maximum is not None:
        return f"{last:.1f} / {_number(series.maximum)}{unit}"
    return f"{last:.1f}{unit}"


def peak_text(series: Series) -> str:
    """The largest sample: ``91 %``, ``20.1 GiB``; :data:`NO_VALUE` if none."""
    values = [v for v in series.values if math.isfinite(v)]
    if not values:
        return NO_VALUE
    peak = max(values)
    if series.unit == "%":
        return f"{peak:.0f} %"
    return f"{peak:.1f} {series.unit}" if series.unit else f"{peak:.1f}"


def sparkline(series: Series, width: int) -> str:
    """``series`` as ``width`` block characters (none without samples), scaled from 0 to its
    ceiling: each sample spans an equal share of the width, or each cell shows the peak of
    its share of the samples when there are more samples than cells."""
    values = [v if math.isfinite(v) else 0.0 for v in series.values]
    if width <= 0 or not values:
        return ""
    if len(values) > width:
        # Bucket boundaries spread the samples evenly; each bucket shows its peak.
        edges = [round(i * len(values) / width) for i in range(width + 1)]
        values = [max(values[a:b]) for a, b in pairwise(edges)]
    elif len(values) < width:
        values = [values[i * len(values) // width] for i in range(width)]
    top = series.maximum
    if top is None:
        top = 100.0 if series.unit == "%" else max(values)
    if top <= 0:
        return SPARK_BLOCKS[0] * len(values)
    levels = len(SPARK_BLOCKS) - 1
    return "".join(SPARK_BLOCKS[min(levels, max(0, round(v / top * levels)))] for v in values)


class Telemetry(DrawnLines):
    """Small multiples of resource usage: label, current value, peak and sparkline per line."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "telemetry--label",
        "telemetry--spark",
        "telemetry--track",
        "telemetry--value",
        "telemetry--empty",
    }

    DEFAULT_CSS = """
    Telemetry {
        height: auto;
        color: $foreground;
        & > .telemetry--label { color: $text-muted; }
        & > .telemetry--spark { color: $primary; }
        & > .telemetry--track { background: $boost; }
        & > .telemetry--value { color: $text; text-style: bold; }
        & > .telemetry--empty { color: $text-muted; text-style: italic; }
    }
    """

    def __init__(
        self,
        series: Sequence[Series] = (),
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._series: tuple[Series, ...] = ()
        self._set_series(series)

    @property
    def series(self) -> tuple[Series, ...]:
        """The series drawn, labels cleaned."""
        return self._series

    @property
    def is_empty(self) -> bool:
        """Whether no series has a sample (the empty text shows)."""
        return not any(s.values for s in self._series)

    def update_series(self, series: Sequence[Series]) -> None:
        """Draw ``series``, one line each (the empty text when none has samples)."""
        before = self.get_content_height(Size(0, 0), Size(0, 0), 1)
        self._set_series(series)
        after = self.get_content_height(Size(0, 0), Size(0, 0), 1)
        self.refresh(layout=after != before)

    def _set_series(self, series: Sequence[Series]) -> None:
        self._series = tuple(
            Series(clean_line(s.label), tuple(s.values), s.unit, s.maximum) for s in series
        )
        self._cache = None  # drawn again on the next render

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1 if self.is_empty else len(self._series)

    def draw(self, width: int) -> list[Strip]:
        base = self.rich_style
        get = self.get_component_rich_style
        if self.is_empty:
            return [
                Strip([Segment(EMPTY_TEXT, get("telemetry--empty"))]).crop_extend(0, width, base)
            ]
        label_width = min(LABEL_WIDTH_MAX, max(cell_len(s.label) for s in self._series))
        values = [current_text(s) for s in self._series]
        peaks = [f"peak {peak_text(s)}" if s.values else "" for s in self._series]
        value_width = max(cell_len(v) for v in values)
        peak_width = max(cell_len(p) for p in peaks)
        spark_width = max(0, width - label_width - value_width - peak_width - 5)
        gap = Segment(" ", base)
        track = get("telemetry--track")
        spark_style = track + get("telemetry--spark", partial=True)
        lines: list[Strip] = []
        for series, value, peak in zip(self._series, values, peaks, strict=True):
            spark = sparkline(series, spark_width)
            segments = [
                Segment(fit(series.label, label_width), get("telemetry--label")),
                gap,
                Segment(value.rjust(value_width), get("telemetry--value")),
                gap,
                gap,
                Segment(peak.ljust(peak_width), get("telemetry--label")),
                gap,
                gap,
                Segment(spark, spark_style),
                Segment(" " * (spark_width - len(spark)), track),
            ]
            lines.append(Strip(segments).crop_extend(0, width, base))
        return lines
