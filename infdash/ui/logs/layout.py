"""How a log line is laid out on screen: prefix columns, wrapped rows, highlighted slices.

Textual-free (Rich segments only), so the arithmetic the viewer relies on — which virtual row
shows which line, how many rows a wrapped line takes, where a highlight starts in a slice — is
tested without an app.
"""

from __future__ import annotations

import time
from array import array
from bisect import bisect_right
from collections.abc import Iterable

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style

from infdash.ui.logs.buffer import LogBuffer

PHASE_WIDTH = 5
"""Cells of the phase column ("build", "setup", "serve", "run  ", "task ")."""
PHASE_SEPARATOR = " │ "
TIME_WIDTH = 13
"""``HH:MM:SS.mmm`` and a space."""


def stamp(seconds: float | None) -> str:
    """``HH:MM:SS.mmm`` in local time, or blanks when unknown."""
    if seconds is None:
        return " " * (TIME_WIDTH - 1)
    millis = int(seconds * 1000) % 1000
    return time.strftime("%H:%M:%S", time.localtime(seconds)) + f".{millis:03d}"


def phase_column(phase: str) -> str:
    """The phase prefix with its separator, e.g. ``"run   │ "``."""
    return phase[:PHASE_WIDTH].ljust(PHASE_WIDTH) + PHASE_SEPARATOR


def prefix_width(timestamps: bool) -> int:
    """Cells before the text."""
    return (TIME_WIDTH if timestamps else 0) + PHASE_WIDTH + len(PHASE_SEPARATOR)


def plain(buffer: LogBuffer, index: int, timestamps: bool) -> str:
    """Line ``index`` as shown, as plain text (what copy and save write)."""
    text = phase_column(buffer.phase_of(index)) + buffer.text(index)
    if timestamps:
        return f"{stamp(buffer.timestamp(index))} {text}"
    return text


def wrapped_height(text: str, width: int) -> int:
    """Rows ``text`` takes when wrapped at ``width`` cells (at least one)."""
    return max(1, -(-cell_len(text) // max(1, width)))


class WrapIndex:
    """First virtual row of each shown line when wrapping (prefix sums of heights).

    ``starts[k]`` is where shown line ``k`` begins, offset by ``starts[0]``, so dropping lines
    from the top is a ``del`` of the front, not a rewrite.  An ``array`` keeps 100k entries out
    of the garbage collector's way.
    """

    __slots__ = ("starts",)

    def __init__(self, heights: Iterable[int] = ()) -> None:
        self.starts = array("q", [0])
        self.extend(heights)

    @property
    def lines(self) -> int:
        """Lines indexed."""
        return len(self.starts) - 1

    @property
    def rows(self) -> int:
        """Total rows."""
        return self.starts[-1] - self.starts[0]

    def extend(self, heights: Iterable[int]) -> None:
        """Index more lines at the end."""
        total = self.starts[-1]
        starts = self.starts
        for height in heights:
            total += height
            starts.append(total)

    def drop(self, count: int) -> int:
        """Forget the first ``count`` lines; the rows they took."""
        count = min(count, self.lines)
        rows = self.starts[count] - self.starts[0]
        del self.starts[:count]
        return rows

    def row_of(self, line: int) -> int:
        """First row of ``line``."""
        return self.starts[line] - self.starts[0]

    def locate(self, row: int) -> tuple[int, int]:
        """(line, sub-row within it) at ``row``; line == lines past the end."""
        starts = self.starts
        line = bisect_right(starts, row + starts[0]) - 1
        return min(line, self.lines), row + starts[0] - starts[min(line, self.lines)]


def slice_segments(
    text: str, spans: Iterable[tuple[int, int]], start: int, end: int, base: Style, hit: Style
) -> list[Segment]:
    """Characters ``start``..``end`` of ``text`` as segments, ``spans`` styled ``hit``."""
    end = min(end, len(text))
    if start >= end:
        return []
    segments: list[Segment] = []
    at = start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start >= span_end:
            continue
        if span_start > at:
            segments.append(Segment(text[at:span_start], base))
        segments.append(Segment(text[span_start:span_end], hit))
        at = span_end
    if at < end:
        segments.append(Segment(text[at:end], base))
    return segments
