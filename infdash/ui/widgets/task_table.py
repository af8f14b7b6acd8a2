"""The task list: a virtual table over a :class:`RowSource`, drawn line by line.

Textual's ``DataTable`` measures every cell of every row and invalidates all its caches on any
update, so 50,000 live tasks cost seconds to load and O(n) per status change (performance.md
§1.2).  This table draws through the Line API instead: it asks the source only for the rows on
screen, caches each drawn line (keyed by row index, row identity, width and cursor/mark state)
and repaints only the lines whose rows changed.  Its cost is independent of the row count.

Line 0 of the viewport is a pinned header; viewport line ``y >= 1`` shows row
``scroll_y + y - 1`` (the virtual height is rows + 1, so the last row is reachable).  How a line
looks (plain segments, never markup; colours from the component classes below) is drawn by
:mod:`infdash.ui.widgets.task_table_render`; this module keeps the state, keys and messages.

Columns, and which go first when the table is narrow (hide order): ``cost``, then ``engine``,
then ``duration``; ``id``, ``status``, ``app`` and ``created`` always show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from infdash.ui.tasklist.format import GAP, STATUS_STYLE_NAMES, Column
from infdash.ui.tasklist.row import TaskRow
from infdash.ui.tasklist.source import RowSource
from infdash.ui.widgets.task_table_render import PLACEHOLDER, TablePainter, row_times


def _utc_now() -> datetime:
    return datetime.now(UTC)


class TaskTable(ScrollView, can_focus=True):
    """A virtual, keyboard-first task table over a :class:`RowSource`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="task_table.up", tooltip="Previous task"),
        Binding(
            "down,j", "cursor_down", "Down", show=False, id="task_table.down", tooltip="Next task"
        ),
        Binding(
            "pageup,ctrl+b",
            "page_up",
            "Page up",
            show=False,
            id="task_table.page_up",
            tooltip="One page of tasks up",
        ),
        Binding(
            "pagedown,ctrl+f",
            "page_down",
            "Page down",
            show=False,
            id="task_table.page_down",
            tooltip="One page of tasks down",
        ),
        Binding(
            "home,g", "first", "First", show=False, id="task_table.first", tooltip="First task"
        ),
        Binding("end,G", "last", "Last", show=False, id="task_table.last", tooltip="Last task"),
        Binding(
            "enter",
            "activate",
            "Open",
            id="task_table.open",
            tooltip="Open the task under the cursor",
        ),
        Binding(
            "space",
            "toggle_mark",
            "Mark",
            id="task_table.mark",
            tooltip="Mark or unmark the task under the cursor, then move down",
        ),
        Binding(
            "escape",
            "clear_marks",
            "Unmark all",
            id="task_table.clear_marks",
            tooltip="Clear every mark",
        ),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "task-table--header",
        "task-table--sorted",
        "task-table--cursor",
        "task-table--marked",
        "task-table--marker",
        "task-table--placeholder",
        *(f"task-table--status-{name}" for name in STATUS_STYLE_NAMES),
    }

    DEFAULT_CSS = """
    TaskTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        height: 1fr;
        & > .task-table--header { text-style: bold; color: $text-muted; background: $panel; }
        & > .task-table--sorted { text-style: bold; color: $text; background: $panel; }
        & > .task-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .task-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .task-table--marked { background: $accent 15%; }
        & > .task-table--marker { color: $accent; text-style: bold; }
        & > .task-table--placeholder { color: $text-disabled; text-style: italic; }
        /* The $text-* variants: legible on the surface in every theme ($secondary is not). */
        & > .task-table--status-waiting { color: $text-secondary; }
        & > .task-table--status-starting { color: $text-primary; }
        & > .task-table--status-running { color: $text-accent; text-style: bold; }
        & > .task-table--status-stopping { color: $text-muted; }
        & > .task-table--status-done { color: $text-success; }
        & > .task-table--status-failed { color: $text-error; }
        & > .task-table--status-cancelled { color: $text-muted; }
        & > .task-table--status-unknown { color: $text-warning; }
    }
    """

    cursor: reactive[int] = reactive(0, repaint=False, init=False)
    """Index of the row under the cursor (clamped to the rows; kept on screen)."""
    sort_column: reactive[str] = reactive("created", repaint=False, init=False)
    """The column the owner sorts by (a ``format.COLUMN_KEYS`` value); shown with ▲/▼."""
    sort_descending: reactive[bool] = reactive(True, repaint=False, init=False)
    """Whether the owner sorts :attr:`sort_column` descending (▼) or ascending (▲)."""

    @dataclass
    class CursorMoved(Message):
        """The cursor moved to another row (``task_id`` is None while that row is not loaded)."""

        table: TaskTable
        task_id: str | None
        index: int

        @property
        def control(self) -> TaskTable:
            return self.table

    @dataclass
    class RowActivated(Message):
        """Enter (or a double click) on a loaded row."""

        table: TaskTable
        task_id: str

        @property
        def control(self) -> TaskTable:
            return self.table

    @dataclass
    class SortRequested(Message):
        """A header cell was clicked: the owner decides the order and sets ``sort_*``."""

        table: TaskTable
        column: str

        @property
        def control(self) -> TaskTable:
            return self.table

    @dataclass
    class RowsNeeded(Message):
        """Rows ``start`` (inclusive) to ``end`` (exclusive) are near the viewport but not loaded.

        At most one per frame; a newer one replaces an undelivered older one.
        """

        table: TaskTable
        start: int
        end: int

        @property
        def control(self) -> TaskTable:
            return self.table

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, TaskTable.RowsNeeded) and message.table is self.table

    @dataclass
    class VisibleRowsChanged(Message):
        """The loaded rows on screen are now ``ids`` (top to bottom); at most one per frame."""

        table: TaskTable
        ids: tuple[str, ...]

        @property
        def control(self) -> TaskTable:
            return self.table

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, TaskTable.VisibleRowsChanged) and message.table is self.table

    @dataclass
    class MarksChanged(Message):
        """The set of marked tasks changed; ``count`` are marked now."""

        table: TaskTable
        count: int

        @property
        def control(self) -> TaskTable:
            return self.table

    def __init__(
        self,
        source: RowSource | None = None,
        *,
        now: Callable[[], datetime] = _utc_now,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """A table over ``source`` (or no rows until :meth:`set_source`).

        Args:
            source: The rows.
            now: The clock for relative times and running durations (frozen in tests).
            name: The name of the widget.
            id: The ID of the widget in the DOM.
            classes: The CSS classes of the widget.
            disabled: Whether the widget is disabled.
        """
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._source: RowSource | None = source
        self.now = now
        """The clock the time columns are drawn against."""
        self.marked: set[str] = set()
        """Ids of the marked tasks (by id, so a mark survives reordering)."""
        self._painter = TablePainter(self)
        self._cursor_id: str | None = None
        self._viewport_check_pending = False
        self._render_width: int | None = None
        self._last_needed: tuple[int, int] | None = None
        self._last_visible: tuple[str, ...] | None = None

    # ------------------------------------------------------------------ public API

    @property
    def source(self) -> RowSource | None:
        """The rows the table shows."""
        return self._source

    def set_source(self, source: RowSource) -> None:
        """Show ``source`` from its first row."""
        self._source = source
        self._cursor_id = None
        self.scroll_to(y=0, animate=False)
        self.set_reactive(TaskTable.cursor, 0)
        self.rows_changed(keep_cursor=False)

    def rows_changed(self, *, keep_cursor: bool = True) -> None:
        """The source's length or order changed (or a page loaded): redraw everything.

        Args:
            keep_cursor: Keep the cursor on the task it was on, on the same screen line, when
                that task is still loaded (otherwise the cursor keeps its index, clamped).
        """
        self._painter.forget_lines()
        self._update_virtual_size()
        self._last_needed = None
        cursor_id = self._cursor_id
        moved = False
        if keep_cursor and cursor_id is not None:
            moved = self.move_cursor_to(cursor_id, keep_screen_row=True)
        if not moved:
            clamped = self.validate_cursor(self.cursor)
            if clamped != self.cursor:
                self.cursor = clamped
            elif self.cursor_task_id != cursor_id:
                self._note_cursor_moved()
        self.refresh()
        self._schedule_viewport_check()

    def refresh_ids(self, ids: Iterable[str]) -> None:
        """Rows ``ids`` were updated in place: redraw the ones on screen, nothing else."""
        source = self._source
        if source is None:
            return
        first, end = self.visible_range()
        touched = False
        for task_id in ids:
            index = source.index_of(task_id)
            if index is not None and first <= index < end:
                self._refresh_row(index)
                touched = True
        if touched:
            self._remember_cursor_id()
            self._schedule_viewport_check()

    def move_cursor_to(self, task_id: str, *, keep_screen_row: bool = False) -> bool:
        """Put the cursor on ``task_id``'s row; False (nothing moves) when it is not loaded.

        Args:
            task_id: The task.
            keep_screen_row: Scroll so the cursor stays on the screen line it was on.
                :meth:`rows_changed` already does this for the task last seen under the
                cursor; call it after ``rows_changed(keep_cursor=False)`` to follow another
                task.  (Read ``cursor_task_id`` *before* changing the source, not after.)
        """
        source = self._source
        index = None if source is None else source.index_of(task_id)
        if index is None:
            return False
        if keep_screen_row:
            screen_row = self.cursor - round(self.scroll_y)
            if 0 <= screen_row < self._page_rows():
                self.scroll_to(y=max(0, index - screen_row), animate=False)
        self._cursor_id = task_id
        if index != self.cursor:
            self.cursor = index
        else:
            self._scroll_cursor_into_view()
        return True

    def visible_range(self) -> tuple[int, int]:
        """Row indexes on screen: ``(first, end)`` with ``end`` exclusive."""
        first = round(self.scroll_y)
        return first, min(self._row_count(), first + self._page_rows())

    @property
    def cursor_task_id(self) -> str | None:
        """The id of the task under the cursor, if its row is loaded."""
        row = self._row(self.cursor)
        return None if row is None else row.id

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns shown at the current width."""
        return self._painter.columns(self.scrollable_content_region.width)

    def clear_marks(self) -> None:
        """Unmark every task."""
        if self.marked:
            self.marked.clear()
            self._painter.forget_lines()
            self.refresh()
            self.post_message(self.MarksChanged(self, 0))
            self.refresh_bindings()

    # ------------------------------------------------------------------ reactives

    @property
    def allow_vertical_scroll(self) -> bool:
        """Also when the rows outgrow the view but no layout has run since: Textual decides
        from the scrollbar, which only appears at the next layout, and silently drops a scroll
        asked before it (``G`` pressed as the first page lands left the cursor off screen, so
        the rows it needed were never fetched)."""
        return self.max_scroll_y > 0 or super().allow_vertical_scroll

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, self._row_count() - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self._refresh_row(old)
        self._refresh_row(new)
        self._scroll_cursor_into_view()
        self._note_cursor_moved()

    def watch_sort_column(self) -> None:
        self._refresh_header()

    def watch_sort_descending(self) -> None:
        self._refresh_header()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self._schedule_viewport_check()

    # ------------------------------------------------------------------ actions

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_page_up(self) -> None:
        self._page(-1)

    def action_page_down(self) -> None:
        self._page(1)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = self._row_count() - 1

    def action_activate(self) -> None:
        task_id = self.cursor_task_id
        if task_id is not None:
            self.post_message(self.RowActivated(self, task_id))

    def action_toggle_mark(self) -> None:
        task_id = self.cursor_task_id
        if task_id is None:
            return
        if task_id in self.marked:
            self.marked.discard(task_id)
        else:
            self.marked.add(task_id)
        self._refresh_row(self.cursor)
        self.post_message(self.MarksChanged(self, len(self.marked)))
        self.refresh_bindings()
        self.cursor += 1

    def action_clear_marks(self) -> None:
        self.clear_marks()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Escape only means "unmark all" while something is marked; otherwise it bubbles.
        if action == "clear_marks":
            return bool(self.marked)
        return True

    # ------------------------------------------------------------------ events

    def on_mount(self) -> None:
        # ScrollView's own on_mount runs too (Textual calls each class's handler).
        self.set_interval(1.0, self._tick, name="task-table-tick")

    def on_resize(self, event: events.Resize) -> None:
        self._painter.forget_lines()
        self._painter.forget_header()
        self._update_virtual_size()
        self._scroll_cursor_into_view()
        self._schedule_viewport_check()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        if offset.y == 0:
            for column in self.columns:
                if column.x <= offset.x < column.x + column.width + GAP:
                    self.post_message(self.SortRequested(self, column.key))
                    return
            return
        index = round(self.scroll_y) + offset.y - 1
        if not 0 <= index < self._row_count():
            return
        self.cursor = index
        if event.chain == 2:
            self.action_activate()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # The theme (or focus) changed: every cached line has stale colours.
        self._painter.forget_styles()
        self.refresh()

    # ------------------------------------------------------------------ drawing

    def render_lines(self, crop: Region) -> list[Strip]:
        # Measured once per frame rather than for each line.
        self._render_width = self.scrollable_content_region.width
        try:
            return super().render_lines(crop)
        finally:
            self._render_width = None

    def render_line(self, y: int) -> Strip:
        width = self._render_width
        if width is None:
            width = self.scrollable_content_region.width
        if y == 0:
            return self._painter.header(width, self.sort_column, self.sort_descending)
        index = round(self.scroll_y) + y - 1
        if index >= self._row_count():
            return Strip.blank(width, self.rich_style)
        row = self._row(index)
        return self._painter.row(
            index,
            row,
            ("", "") if row is None else self._times(row),
            width,
            is_cursor=index == self.cursor,
            is_marked=row is not None and row.id in self.marked,
        )

    def _times(self, row: TaskRow) -> tuple[str, str]:
        return row_times(row, self.now())

    # ------------------------------------------------------------------ helpers

    def _row_count(self) -> int:
        return 0 if self._source is None else len(self._source)

    def _row(self, index: int) -> TaskRow | None:
        source = self._source
        if source is None or not 0 <= index < len(source):
            return None
        return source.row_at(index)

    def _page_rows(self) -> int:
        """Rows that fit under the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def _update_virtual_size(self) -> None:
        width = self.scrollable_content_region.width
        self.virtual_size = Size(width, self._row_count() + 1)

    def _page(self, direction: int) -> None:
        page = self._page_rows()
        target = max(0, min(round(self.scroll_y) + direction * page, self.max_scroll_y))
        self.scroll_to(y=target, animate=False)
        self.cursor = self.cursor + direction * page

    def _scroll_cursor_into_view(self) -> None:
        if not self.is_mounted or self._row_count() == 0:
            return
        top = round(self.scroll_y)
        page = self._page_rows()
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + page:
            self.scroll_to(y=self.cursor - page + 1, animate=False)

    def _refresh_row(self, index: int) -> None:
        screen_y = index - round(self.scroll_y) + 1
        if 1 <= screen_y <= self._page_rows():
            self.refresh(Region(0, screen_y, self.size.width, 1))

    def _refresh_header(self) -> None:
        self._painter.forget_header()
        self.refresh(Region(0, 0, self.size.width, 1))

    def _remember_cursor_id(self) -> None:
        row = self._row(self.cursor)
        if row is not None:
            self._cursor_id = row.id

    def _note_cursor_moved(self) -> None:
        row = self._row(self.cursor)
        self._cursor_id = None if row is None else row.id
        self.post_message(self.CursorMoved(self, self._cursor_id, self.cursor))

    def _tick(self) -> None:
        """Redraw the on-screen rows whose time texts changed (running durations, "12 s ago")."""
        first, end = self.visible_range()
        width = self.scrollable_content_region.width
        for index in range(first, end):
            row = self._row(index)
            if row is None:
                continue
            drawn = self._painter.drawn_times(
                index, width, is_cursor=index == self.cursor, is_marked=row.id in self.marked
            )
            if drawn is None or drawn != self._times(row):
                self._refresh_row(index)

    def _schedule_viewport_check(self) -> None:
        if not self._viewport_check_pending and self.is_mounted:
            self._viewport_check_pending = True
            self.call_after_refresh(self._check_viewport)

    def _check_viewport(self) -> None:
        """Post RowsNeeded / VisibleRowsChanged for what the last frame showed (once a frame)."""
        self._viewport_check_pending = False
        source = self._source
        if source is None:
            return
        first, end = self.visible_range()
        page = self._page_rows()
        count = len(source)
        low, high = max(0, first - page), min(count, end + page)
        missing = [i for i in range(low, high) if source.row_at(i) is None]
        if missing:
            needed = (missing[0], missing[-1] + 1)
            if needed != self._last_needed:
                self._last_needed = needed
                self.post_message(self.RowsNeeded(self, *needed))
        else:
            self._last_needed = None
        ids: list[str] = []
        for index in range(first, end):
            row = source.row_at(index)
            if row is not None:
                ids.append(row.id)
        visible = tuple(ids)
        if visible != self._last_visible:
            self._last_visible = visible
            self.post_message(self.VisibleRowsChanged(self, visible))
        if self._cursor_id is None:
            self._remember_cursor_id()


__all__ = ["PLACEHOLDER", "TaskTable"]
