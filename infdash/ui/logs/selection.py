"""A line selection over a :class:`~infdash.ui.logs.LogBuffer`: two absolute line indices.

The ends are *absolute* indices (the n-th line ever appended), like the buffer's matches and
filtered views, so the cap dropping lines at the top never shifts what is selected: a dropped
line simply leaves the selection.  What the selection holds is every *shown* line between the
ends, so a phase filter or "only matches" narrows it without forgetting the range.  Counting
the selected lines is two binary searches, never a walk over them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from infdash.ui.logs.buffer import LogBuffer


@dataclass(slots=True)
class LineSelection:
    """The lines between ``anchor`` and ``cursor`` (absolute indices, both included)."""

    anchor: int
    """Where the selection started; it stays put."""
    cursor: int
    """The end that moves (keys, a mouse drag)."""

    @property
    def low(self) -> int:
        """The first selected absolute index (it may have been dropped since)."""
        return min(self.anchor, self.cursor)

    @property
    def high(self) -> int:
        """The last selected absolute index."""
        return max(self.anchor, self.cursor)

    def __contains__(self, index: object) -> bool:
        return isinstance(index, int) and self.low <= index <= self.high

    def gone(self, buffer: LogBuffer) -> bool:
        """Whether the cap has dropped every selected line."""
        return self.high < buffer.dropped

    def rows(self, buffer: LogBuffer) -> range:
        """The shown rows of the selected lines still retained."""
        low = max(self.low, buffer.dropped)
        high = self.high
        if low > high:
            return range(0)
        first = buffer.first_shown_at_or_after
        return range(first(low), first(high + 1))

    def count(self, buffer: LogBuffer) -> int:
        """How many shown lines are selected."""
        return len(self.rows(buffer))

    def indices(self, buffer: LogBuffer) -> Iterator[int]:
        """Absolute indices of the selected shown lines, oldest first."""
        shown = buffer.shown
        return (shown(row) for row in self.rows(buffer))
