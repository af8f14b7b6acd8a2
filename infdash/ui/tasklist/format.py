"""Cell text for the task table: status glyphs, relative times, durations and costs.

Pure functions over :class:`~infdash.ui.tasklist.row.TaskRow` fields, plus the column layout
for a given width, with no Textual import, so they are cheap to unit-test and the table can call
them for every visible row each frame.  Every
status has a one-cell glyph as well as a colour, so the list reads on a monochrome terminal too.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from rich.cells import cell_len, set_cell_size

from infdash.api.models.status import TaskStatus
from infdash.ui.tasklist.row import TaskRow

MICROCENTS_PER_DOLLAR = 100_000_000
"""The API's cost unit: 1 USD = 10^8 microcents (the tasks and usage pages; reference §12.15)."""

_GLYPHS: dict[TaskStatus, str] = {
    TaskStatus.UNKNOWN: "?",
    TaskStatus.RECEIVED: "·",
    TaskStatus.QUEUED: "◷",
    TaskStatus.DISPATCHED: "→",
    TaskStatus.PREPARING: "◐",
    TaskStatus.SERVING: "◐",
    TaskStatus.SETTING_UP: "◐",
    TaskStatus.RUNNING: "▶",
    TaskStatus.CANCELLING: "⊘",
    TaskStatus.UPLOADING: "↑",
    TaskStatus.COMPLETED: "✓",
    TaskStatus.FAILED: "✗",
    TaskStatus.CANCELLED: "■",
    TaskStatus.REJECTED: "⊗",
}

_GROUPS: dict[TaskStatus, str] = {
    TaskStatus.UNKNOWN: "unknown",
    TaskStatus.RECEIVED: "waiting",
    TaskStatus.QUEUED: "waiting",
    TaskStatus.DISPATCHED: "waiting",
    TaskStatus.PREPARING: "starting",
    TaskStatus.SERVING: "starting",
    TaskStatus.SETTING_UP: "starting",
    TaskStatus.RUNNING: "running",
    TaskStatus.UPLOADING: "running",
    TaskStatus.CANCELLING: "stopping",
    TaskStatus.COMPLETED: "done",
    TaskStatus.FAILED: "failed",
    TaskStatus.REJECTED: "failed",
    TaskStatus.CANCELLED: "cancelled",
}

STATUS_STYLE_NAMES: tuple[str, ...] = (
    "waiting",
    "starting",
    "running",
    "stopping",
    "done",
    "failed",
    "cancelled",
    "unknown",
)
"""Every value :func:`status_style_name` returns (one component class each)."""


def status_glyph(status: TaskStatus) -> str:
    """A one-cell symbol for ``status``, so it reads without colour."""
    return _GLYPHS.get(status, "?")


def status_style_name(status: TaskStatus) -> str:
    """The style group of ``status``: one of :data:`STATUS_STYLE_NAMES`."""
    return _GROUPS.get(status, "unknown")


def ago(at: datetime | None, now: datetime) -> str:
    """How long ago ``at`` was, compactly: ``12 s ago``, ``3 min ago``, … then a date.

    A time in the future (clock skew between us and the server) reads as ``just now``.
    """
    if at is None:
        return ""
    seconds = (now - at).total_seconds()
    if seconds < 1:
        return "just now"
    if seconds < 60:
        return f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86_400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 30 * 86_400:
        return f"{int(seconds // 86_400)} d ago"
    return at.date().isoformat()


def format_seconds(seconds: float) -> str:
    """A compact duration: ``0.8 s``, ``12 s``, ``3m 04s``, ``1h 02m``, ``2d 3h``."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    if whole < 86_400:
        return f"{whole // 3600}h {whole % 3600 // 60:02d}m"
    return f"{whole // 86_400}d {whole % 86_400 // 3600}h"


def duration(row: TaskRow, now: datetime) -> str:
    """Created → finished (or → ``now`` while the task is not final); empty when unknown."""
    if row.created_at is None:
        return ""
    end = row.finished_at
    if end is None:
        # A final row without its finish event: its last update is the best end we know.
        end = row.updated_at if row.is_terminal else now
        if end is None:
            return ""
    return format_seconds((end - row.created_at).total_seconds())


def cost(microcents: int | None) -> str:
    """Dollars: ``$0.0050`` below a dollar (4 decimals), ``$1.23`` from one; empty when unknown."""
    if microcents is None:
        return ""
    dollars = microcents / MICROCENTS_PER_DOLLAR
    if abs(dollars) < 1:
        return f"${dollars:.4f}"
    return f"${dollars:,.2f}"


MARKER_WIDTH = 2
"""Cells before the first column: the mark ("● ") of a marked row."""
GAP = 1
"""Cells between two columns."""
_APP_SHARE = 0.6
_APP_MIN = 12
_ENGINE_MIN = 10


class Column(NamedTuple):
    """One laid-out column: its key, title, first cell and width."""

    key: str
    title: str
    x: int
    width: int


_TITLES: dict[str, str] = {
    "id": "ID",
    "status": "STATUS",
    "app": "APP",
    "created": "CREATED",
    "duration": "DURATION",
    "engine": "ENGINE/WORKER",
    "cost": "COST",
}
COLUMN_KEYS: tuple[str, ...] = tuple(_TITLES)
"""Every column key, in display order (also the values of ``SortRequested.column``)."""
_FIXED: dict[str, int] = {"id": 10, "status": 13, "created": 11, "duration": 9, "cost": 9}
_HIDE_ORDER: tuple[str, ...] = ("cost", "engine", "duration")


def layout_columns(width: int) -> tuple[Column, ...]:
    """The columns that fit ``width`` cells (after the marker column), and where they go.

    ``app`` and ``engine`` share what the fixed columns leave (``app`` 60%); when that is too
    little, ``cost``, then ``engine``, then ``duration`` are hidden.
    """
    shown = list(COLUMN_KEYS)
    app_width = engine_width = 0
    for hide in (None, *_HIDE_ORDER):
        if hide is not None:
            shown.remove(hide)
        fixed = sum(_FIXED.get(key, 0) for key in shown)
        rest = width - MARKER_WIDTH - fixed - GAP * (len(shown) - 1)
        if "engine" in shown:
            app_width = max(_APP_MIN, round(rest * _APP_SHARE))
            engine_width = rest - app_width
            if engine_width >= _ENGINE_MIN:
                break
        elif rest >= _APP_MIN or hide == _HIDE_ORDER[-1]:
            app_width = max(1, rest)
            break
    widths = {**_FIXED, "app": app_width, "engine": engine_width}
    columns: list[Column] = []
    x = MARKER_WIDTH
    for key in shown:
        columns.append(Column(key, _TITLES[key], x, widths[key]))
        x += widths[key] + GAP
    return tuple(columns)


def fit(text: str, width: int) -> str:
    """``text`` cut (with "…") or padded to exactly ``width`` cells."""
    if width <= 0:
        return ""
    if text.isascii():
        if len(text) <= width:
            return text.ljust(width)
        return text[: width - 1] + "…"
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    # Cutting through a wide character pads it with a space; the ellipsis goes before that.
    return set_cell_size(set_cell_size(text, width - 1).rstrip(" ") + "…", width)
