"""The phase-timing waterfall of the task detail screen: one horizontal bar per phase.

Where did the time go: waiting in the queue, loading a model cold, or running?  Each phase
(queue, prepare, serving, setup, run, upload — whatever rows the screen passes, in order) is a
bar placed at its offset from the task's start and scaled so the whole task spans the width.
Bar ends use eighth blocks for sub-cell precision.  A phase still running (no duration yet)
reaches to the "now" the screen passes and is drawn in the accent colour with a ``▶`` at its
tip; a cold-start phase is called out in the warning colour, and the header sums both.

The widget draws; it keeps no clock.  The screen calls :meth:`Waterfall.update_rows` when the
task changes and once a second while a phase runs.  Names come from the network, so they are
cleaned (:func:`~infdash.ui.sanitize.clean_line`) and drawn as plain segments, never as markup.
Every colour comes from the theme through the component classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip

from infdash.ui.sanitize import clean_line
from infdash.ui.tasklist.format import fit, format_seconds
from infdash.ui.widgets.drawn import DrawnLines

NAME_WIDTH = 10
"""Cells of the phase-name column."""
DURATION_WIDTH = 7
"""Cells of the duration column ("3m 04s", "0.8 s", right-aligned)."""
COLD_START = "cold start"
"""The call-out after the duration of a cold-start phase."""
RUNNING_MARK = "▶"
"""Drawn at the tip of a running phase's bar."""
EMPTY_TEXT = "No timings yet."
"""Shown when there are no phases."""
PHASE_STYLE_NAMES: tuple[str, ...] = (
    "queue",
    "prepare",
    "serving",
    "setup",
    "run",
    "upload",
    "cancel",
    "other",
)
"""Every phase colour group: one component class ``waterfall--phase-<name>`` each."""

_ALIASES: dict[str, str] = {
    **dict.fromkeys(("queued", "received", "waiting"), "queue"),
    **dict.fromkeys(("preparing", "dispatched"), "prepare"),
    **dict.fromkeys(("serve", "load", "loading", "load model", "model load"), "serving"),
    **dict.fromkeys(("setting up", "setting_up"), "setup"),
    "running": "run",
    "uploading": "upload",
    **dict.fromkeys(("cancelling", "canceling"), "cancel"),
}
_END_BLOCKS = " ▏▎▍▌▋▊▉"
"""A cell filled from the left by 0-7 eighths."""
_BEGIN_BLOCKS = "███▐▐▐▕▕"
"""A cell filled from 0-7 eighths to its right edge (only halves and eighths exist)."""
_MIN_BAR = 4


@dataclass(frozen=True)
class WaterfallRow:
    """One phase to draw: seconds from the task's start, and how long it took."""

    name: str
    offset_s: float
    duration_s: float | None = None
    """``None`` while the phase is running: the bar reaches to the ``now`` of the update."""
    cold_start: bool = False


def phase_style_name(name: str) -> str:
    """The colour group of a phase name: one of :data:`PHASE_STYLE_NAMES`."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    return key if key in PHASE_STYLE_NAMES else "other"


def bar_cells(start: float, end: float, width: int) -> tuple[int, str]:
    """The bar from fraction ``start`` to ``end`` of ``width`` cells: (first cell, characters).

    Ends are placed to the eighth of a cell (the start to the half: block elements have no
    other right-aligned fractions).  A bar is never less than one eighth wide, so a phase that
    took no measurable time still marks its place.
    """
    if width <= 0:
        return 0, ""
    full = width * 8
    start_e = min(full - 1, max(0, round(start * full)))
    end_e = min(full, max(start_e + 1, round(end * full)))
    first, start_frac = divmod(start_e, 8)
    last, end_frac = divmod(end_e, 8)
    if last == first:
        return first, _END_BLOCKS[max(1, end_frac - start_frac)]
    chars = _BEGIN_BLOCKS[start_frac] + "█" * (last - first - 1)
    if end_frac:
        chars += _END_BLOCKS[end_frac]
    return first, chars


class Waterfall(DrawnLines):
    """Horizontal bars of a task's phases, scaled to the total, with humanized durations."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "waterfall--header",
        "waterfall--name",
        "waterfall--track",
        "waterfall--duration",
        "waterfall--running",
        "waterfall--bar-running",
        "waterfall--cold-start",
        "waterfall--empty",
        *(f"waterfall--phase-{name}" for name in PHASE_STYLE_NAMES),
    }

    DEFAULT_CSS = """
    Waterfall {
        height: auto;
        color: $foreground;
        & > .waterfall--header { color: $text; text-style: bold; }
        & > .waterfall--name { color: $text-muted; }
        & > .waterfall--track { background: $boost; }
        & > .waterfall--duration { color: $text; }
        & > .waterfall--running { color: $text-accent; text-style: bold; }
        & > .waterfall--bar-running { color: $accent; }
        & > .waterfall--cold-start { color: $text-warning; text-style: bold; }
        & > .waterfall--empty { color: $text-muted; text-style: italic; }
        /* Neighbours differ in every built-in theme; $accent is kept for the running bar. */
        & > .waterfall--phase-queue { color: $text-muted; }
        & > .waterfall--phase-prepare { color: $secondary; }
        & > .waterfall--phase-serving { color: $primary; }
        & > .waterfall--phase-setup { color: $primary-lighten-2; }
        & > .waterfall--phase-run { color: $success; }
        & > .waterfall--phase-upload { color: $secondary-lighten-2; }
        & > .waterfall--phase-cancel { color: $error; }
        & > .waterfall--phase-other { color: $foreground; }
    }
    """

    def __init__(
        self,
        rows: Sequence[WaterfallRow] = (),
        now_offset_s: float | None = None,
        total_s: float | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._rows: tuple[WaterfallRow, ...] = ()
        self._now: float | None = None
        self._span: float | None = None
        self._set_rows(rows, now_offset_s, total_s)

    @property
    def rows(self) -> tuple[WaterfallRow, ...]:
        """The phases drawn, names cleaned."""
        return self._rows

    @property
    def total_s(self) -> float:
        """Seconds from the task's start to the end of the last phase (or "now", or the span)."""
        ends = (row.offset_s + self.duration_of(row) for row in self._rows)
        return max(self._span or 0.0, max(ends, default=0.0))

    @property
    def cold_start_s(self) -> float:
        """Seconds spent in phases flagged as cold starts."""
        return sum(self.duration_of(row) for row in self._rows if row.cold_start)

    @property
    def running(self) -> bool:
        """Whether any phase is still running."""
        return any(row.duration_s is None for row in self._rows)

    def duration_of(self, row: WaterfallRow) -> float:
        """``row``'s duration; a running phase's lasts until the last ``now`` (0 without one)."""
        if row.duration_s is not None:
            return max(0.0, row.duration_s)
        if self._now is None:
            return 0.0
        return max(0.0, self._now - row.offset_s)

    def update_rows(
        self,
        rows: Sequence[WaterfallRow],
        now_offset_s: float | None = None,
        total_s: float | None = None,
    ) -> None:
        """Draw ``rows``; running phases reach to ``now_offset_s`` (seconds since task start).

        ``total_s`` is the task's whole span when it is known and may outlast the phases (the
        task's end after its last phase); the bars are scaled to the longer of the two.
        """
        before = len(self._rows)
        self._set_rows(rows, now_offset_s, total_s)
        self.refresh(layout=len(self._rows) != before)

    def _set_rows(
        self, rows: Sequence[WaterfallRow], now_offset_s: float | None, total_s: float | None
    ) -> None:
        self._rows = tuple(
            WaterfallRow(clean_line(row.name), row.offset_s, row.duration_s, row.cold_start)
            for row in rows
        )
        self._now = now_offset_s
        self._span = total_s
        self._cache = None  # drawn again on the next render

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._rows) + 1 if self._rows else 1

    def draw(self, width: int) -> list[Strip]:
        base = self.rich_style
        if not self._rows:
            style = self.get_component_rich_style("waterfall--empty")
            return [Strip([Segment(EMPTY_TEXT, style)]).crop_extend(0, width, base)]
        show_tags = any(row.cold_start for row in self._rows)
        fixed = NAME_WIDTH + 1 + 1 + 1 + DURATION_WIDTH
        bar_width = width - fixed - (len(COLD_START) + 1 if show_tags else 0)
        if bar_width < _MIN_BAR:
            show_tags = False
            bar_width = max(0, width - fixed)
        total = self.total_s
        lines = [self._header(width)]
        for row in self._rows:
            lines.append(self._row(row, total, bar_width, show_tags).crop_extend(0, width, base))
        return lines

    def _header(self, width: int) -> Strip:
        get = self.get_component_rich_style
        segments = [Segment(f"total {format_seconds(self.total_s)}", get("waterfall--header"))]
        if any(row.cold_start for row in self._rows):
            cold = f"{COLD_START} +{format_seconds(self.cold_start_s)}"
            segments += [
                Segment(" · ", get("waterfall--name")),
                Segment(cold, get("waterfall--cold-start")),
            ]
        if self.running:
            segments += [
                Segment(" · ", get("waterfall--name")),
                Segment(f"{RUNNING_MARK} running", get("waterfall--running")),
            ]
        return Strip(segments).crop_extend(0, width, self.rich_style)

    def _row(self, row: WaterfallRow, total: float, bar_width: int, show_tags: bool) -> Strip:
        get = self.get_component_rich_style
        gap = Segment(" ", self.rich_style)
        running = row.duration_s is None
        duration = self.duration_of(row)
        segments = [Segment(fit(row.name, NAME_WIDTH), get("waterfall--name")), gap]
        if bar_width > 0:
            segments += self._bar(row, duration, total, bar_width)
        text = format_seconds(duration).rjust(DURATION_WIDTH)
        text_class = "waterfall--running" if running else "waterfall--duration"
        segments += [gap, Segment(text, get(text_class))]
        if show_tags and row.cold_start:
            segments += [gap, Segment(COLD_START, get("waterfall--cold-start"))]
        return Strip(segments)

    def _bar(self, row: WaterfallRow, duration: float, total: float, width: int) -> list[Segment]:
        """``width`` cells of track with the bar on it, then one cell for the running mark."""
        get = self.get_component_rich_style
        running = row.duration_s is None
        track = get("waterfall--track")
        bar_class = (
            "waterfall--bar-running"
            if running
            else f"waterfall--phase-{phase_style_name(row.name)}"
        )
        # The full style, not the partial one: its colour is already blended (``$text-muted``).
        bar_style = track + Style(color=get(bar_class).color)
        if total > 0:
            start, end = row.offset_s / total, (row.offset_s + duration) / total
            first, chars = bar_cells(start, end, width)
        else:
            first, chars = 0, _END_BLOCKS[1]
        after = width - first - len(chars)
        segments = [Segment(" " * first, track), Segment(chars, bar_style)]
        if not running:
            return [*segments, Segment(" " * after, track), Segment(" ", self.rich_style)]
        running_style = get("waterfall--running")
        mark_style = Style(color=running_style.color, bold=running_style.bold)
        if after > 0:
            # The mark sits just after the tip, on the track.
            mark = Segment(RUNNING_MARK, track + mark_style)
            return [
                *segments,
                mark,
                Segment(" " * (after - 1), track),
                Segment(" ", self.rich_style),
            ]
        return [*segments, Segment(RUNNING_MARK, self.rich_style + mark_style)]
