"""A small Line API widget whose every row is drawn at once and kept until it changes.

The waterfall and the telemetry lines are a handful of rows that depend on the width and the
theme only: drawing them whole in :meth:`DrawnLines.draw` and caching by width keeps
``render_line`` a list lookup, and a theme change (``notify_style_update``) redraws.
"""

from __future__ import annotations

from textual.strip import Strip
from textual.widget import Widget


class DrawnLines(Widget):
    """Subclasses implement :meth:`draw` and call :meth:`redraw` when their data changes."""

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._cache: tuple[int, list[Strip]] | None = None

    def draw(self, width: int) -> list[Strip]:
        """Every row at ``width`` cells."""
        raise NotImplementedError

    def redraw(self, *, layout: bool = False) -> None:
        """Forget the drawn rows and repaint (``layout`` when the row count changed)."""
        self._cache = None
        self.refresh(layout=layout)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.redraw()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self._cache is None or self._cache[0] != width:
            self._cache = (width, self.draw(width))
        lines = self._cache[1]
        if 0 <= y < len(lines):
            return lines[y]
        return Strip.blank(width, self.rich_style)
