"""Drawing the task table's lines: the header and one row at a time, as cached strips.

The widget (:mod:`infdash.ui.widgets.task_table`) owns the state, keys, messages and
scrolling; this module owns how a line looks, so either can be read (and changed) without the
other.  :class:`TablePainter` turns a :class:`TaskRow`, the columns laid out for the width and
the widget's component-class styles into a :class:`Strip`, and caches each drawn line (keyed by
row index, width and cursor/mark state, checked against the row object and its time texts) so
only the lines whose rows changed are drawn again.

Row strings are drawn as plain segments, never parsed as markup, and every colour comes from the
theme through the widget's component classes.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from infdash.ui.tasklist.format import (
    GAP,
    MARKER_WIDTH,
    Column,
    ago,
    cost,
    duration,
    fit,
    layout_columns,
    status_glyph,
    status_style_name,
)
from infdash.ui.tasklist.row import TaskRow

MARKER = "●"
"""Drawn in the marker column of a marked row."""
PLACEHOLDER = "…loading"
"""Drawn for a row the source knows about but has not loaded yet."""

_CACHE_SIZE = 512


class _Line(NamedTuple):
    """A cached drawn row: the row object it was drawn from, its time texts and the strip."""

    row: TaskRow | None
    times: tuple[str, str]
    strip: Strip


def row_times(row: TaskRow, now: datetime) -> tuple[str, str]:
    """The texts of ``row``'s time columns at ``now``: created ("12 s ago") and duration."""
    return ago(row.created_at, now), duration(row, now)


class TablePainter:
    """Draws the header and rows of a task table in ``widget``'s styles, caching what it drew.

    The caches hold colours: the owner calls :meth:`forget_styles` when its styles change,
    :meth:`forget_lines` when rows or marks change, and :meth:`forget_header` when the sort does.
    """

    def __init__(self, widget: Widget) -> None:
        """A painter for ``widget`` (its ``task-table--*`` component classes give the colours)."""
        self._widget = widget
        self._lines: OrderedDict[tuple[int, int, bool, bool], _Line] = OrderedDict()
        self._header: tuple[tuple[int, str, bool], Strip] | None = None
        self._columns: tuple[Column, ...] = ()
        self._columns_width = -1
        self._styles: dict[tuple[str, str], Style] = {}

    def columns(self, width: int) -> tuple[Column, ...]:
        """The columns shown at ``width`` (laid out again only when the width changes)."""
        if width != self._columns_width:
            self._columns = layout_columns(width)
            self._columns_width = width
        return self._columns

    def forget_lines(self) -> None:
        """Draw every row again (the rows, their order or the marks changed)."""
        self._lines.clear()

    def forget_header(self) -> None:
        """Draw the header again."""
        self._header = None

    def forget_styles(self) -> None:
        """The theme (or focus) changed: every cached style and line has stale colours."""
        self._styles.clear()
        self._lines.clear()
        self._header = None

    def header(self, width: int, sort_column: str, descending: bool) -> Strip:
        """The header line: column titles, ``sort_column``'s with ▼ (``descending``) or ▲."""
        key = (width, sort_column, descending)
        if self._header is not None and self._header[0] == key:
            return self._header[1]
        columns = self.columns(width)
        style = self._widget.get_component_rich_style("task-table--header")
        sorted_style = self._widget.get_component_rich_style("task-table--sorted")
        arrow = "▼" if descending else "▲"
        segments = [Segment(" " * MARKER_WIDTH, style)]
        for column in columns:
            if column.key == sort_column:
                title = fit(f"{column.title} {arrow}", column.width)
                segments.append(Segment(title, sorted_style))
            else:
                segments.append(Segment(fit(column.title, column.width), style))
            segments.append(Segment(" " * GAP, style))
        strip = Strip(segments).adjust_cell_length(width, style)
        self._header = (key, strip)
        return strip

    def row(
        self,
        index: int,
        row: TaskRow | None,
        times: tuple[str, str],
        width: int,
        *,
        is_cursor: bool,
        is_marked: bool,
    ) -> Strip:
        """The line of row ``index``: ``row`` (None while not loaded) with time texts ``times``.

        Drawn again only when the cached line for that index, width and cursor/mark state was
        drawn from another row object or other time texts.
        """
        key = (index, width, is_cursor, is_marked)
        cached = self._lines.get(key)
        if cached is not None and cached.row is row and cached.times == times:
            self._lines.move_to_end(key)
            return cached.strip
        strip = self._draw_row(row, times, width, is_cursor, is_marked)
        self._lines[key] = _Line(row, times, strip)
        if len(self._lines) > _CACHE_SIZE:
            self._lines.popitem(last=False)
        return strip

    def drawn_times(
        self, index: int, width: int, *, is_cursor: bool, is_marked: bool
    ) -> tuple[str, str] | None:
        """The time texts row ``index``'s cached line shows; None if it is not cached."""
        cached = self._lines.get((index, width, is_cursor, is_marked))
        return None if cached is None else cached.times

    def _style(self, role: str, part: str = "") -> Style:
        """The style of ``part`` ("", "marker", "placeholder" or a status group) in a row.

        ``role`` is the row's state: "plain", "cursor" or "marked".  Cached until the styles
        change: ``rich_style`` walks the DOM, far too slow to ask for on every line.
        """
        key = (role, part)
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = self._make_style(role, part)
        return style

    def _make_style(self, role: str, part: str) -> Style:
        get_style = self._widget.get_component_rich_style
        if role == "cursor":
            base = get_style("task-table--cursor")
        elif role == "marked":
            base = get_style("task-table--marked")
        else:
            base = self._widget.rich_style
        if not part or role == "cursor":
            return base
        # The part's own colour over the row's background (merging the component classes
        # instead would not blend the marked row's translucent background).
        component = "task-table--" + (
            part if part in ("marker", "placeholder") else "status-" + part
        )
        return get_style(component) + Style(bgcolor=base.bgcolor)

    def _draw_row(
        self,
        row: TaskRow | None,
        times: tuple[str, str],
        width: int,
        is_cursor: bool,
        is_marked: bool,
    ) -> Strip:
        role = "cursor" if is_cursor else "marked" if is_marked else "plain"
        base = self._style(role)
        if row is None:
            placeholder = Segment(PLACEHOLDER, self._style(role, "placeholder"))
            return Strip([Segment("  ", base), placeholder]).adjust_cell_length(width, base)
        columns = self.columns(width)
        # Cells of the row's style are joined into one segment (only the status cell and the
        # marker differ): fewer segments for the compositor to divide and filter each frame.
        segments: list[Segment] = []
        run: list[str] = []
        if is_marked and not is_cursor:
            segments.append(Segment(f"{MARKER} ", self._style(role, "marker")))
        else:
            run.append(f"{MARKER} " if is_marked else "  ")
        status_style = self._style(role, status_style_name(row.status))
        gap = " " * GAP
        for number, column in enumerate(columns):
            if number:
                run.append(gap)
            text = fit(_cell(row, column.key, times), column.width)
            if column.key == "status" and status_style is not base:
                if run:
                    segments.append(Segment("".join(run), base))
                    run = []
                segments.append(Segment(text, status_style))
            else:
                run.append(text)
        last = columns[-1] if columns else None
        drawn = MARKER_WIDTH if last is None else last.x + last.width
        if drawn <= width:
            # The usual case: pad, and skip measuring (and copying) the strip.
            run.append(" " * (width - drawn))
            segments.append(Segment("".join(run), base))
            return Strip(segments, width)
        if run:
            segments.append(Segment("".join(run), base))
        return Strip(segments).adjust_cell_length(width, base)


def _cell(row: TaskRow, key: str, times: tuple[str, str]) -> str:
    """The text of ``row``'s cell in column ``key`` (``times``: created and duration texts)."""
    if key == "id":
        return row.short_id or row.id
    if key == "status":
        return f"{status_glyph(row.status)} {row.status_text}"
    if key == "app":
        return row.app
    if key == "created":
        return times[0]
    if key == "duration":
        return times[1]
    if key == "engine":
        return row.worker or row.engine
    return cost(row.cost_microcents)
