"""A tiny app around one :class:`TaskTable` over an in-memory row list (tests and snapshots)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar, TypeVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message

from infdash.api.models.status import TaskStatus
from infdash.ui.tasklist.row import TaskRow
from infdash.ui.widgets import TaskTable

M = TypeVar("M", bound=Message)

NOW = datetime(2026, 10, 1, 12, 0, 0, tzinfo=UTC)
"""The frozen clock every test table is drawn against."""


class ListSource:
    """A :class:`RowSource` over a list; ``None`` entries are rows not loaded yet."""

    def __init__(self, rows: list[TaskRow | None]) -> None:
        self.rows = rows
        self._index: dict[str, int] = {}
        self.reindex()

    def reindex(self) -> None:
        self._index = {row.id: i for i, row in enumerate(self.rows) if row is not None}

    def __len__(self) -> int:
        return len(self.rows)

    def row_at(self, index: int) -> TaskRow | None:
        return self.rows[index]

    def index_of(self, task_id: str) -> int | None:
        return self._index.get(task_id)

    def replace(self, row: TaskRow) -> None:
        """Swap in a new version of a loaded row."""
        self.rows[self._index[row.id]] = row

    def insert_top(self, rows: list[TaskRow]) -> None:
        self.rows[:0] = rows
        self.reindex()


_STATUSES = (
    TaskStatus.RUNNING,
    TaskStatus.COMPLETED,
    TaskStatus.FAILED,
    TaskStatus.QUEUED,
    TaskStatus.PREPARING,
    TaskStatus.CANCELLED,
    TaskStatus.CANCELLING,
    TaskStatus.UPLOADING,
    TaskStatus.REJECTED,
    TaskStatus.RECEIVED,
    TaskStatus.UNKNOWN,
    TaskStatus.DISPATCHED,
)


def make_row(i: int, status: TaskStatus | None = None, *, app: str | None = None) -> TaskRow:
    """Row ``i``: a deterministic mix of statuses, apps, engines and costs."""
    status = _STATUSES[i % len(_STATUSES)] if status is None else status
    created = NOW - timedelta(seconds=37 * i + 5)
    finished = created + timedelta(seconds=3 + 11 * (i % 7)) if status.is_terminal else None
    return TaskRow(
        id=f"task-{i:06d}-{'x' * 20}",
        short_id=f"t{i:06d}",
        app=app if app is not None else f"acme/app-{i % 5}@{i % 3}.0.{i % 4}",
        status=status,
        status_text=status.label if status is not TaskStatus.UNKNOWN else "unknown(42)",
        created_at=created,
        updated_at=finished or created,
        started_at=created,
        finished_at=finished,
        engine=f"engine-{i % 3}" if status >= TaskStatus.DISPATCHED else "",
        worker=f"gpu-box-{i % 4}/{i % 2}" if status >= TaskStatus.RUNNING else "",
        cost_microcents=(i * 123_457) if status.is_terminal else None,
    )


def make_source(count: int, gaps: range | None = None) -> ListSource:
    """``count`` rows; indexes in ``gaps`` are not loaded."""
    rows: list[TaskRow | None] = [make_row(i) for i in range(count)]
    for i in gaps or ():
        rows[i] = None
    return ListSource(rows)


class TableApp(App[None]):
    """Only the table, focused, on a settable clock; every message it posts is recorded."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "escaped", "Escape reached the app")]

    def __init__(self, source: ListSource) -> None:
        super().__init__()
        self.source = source
        self.now = NOW
        self.messages: list[Message] = []
        self.escapes = 0

    def compose(self) -> ComposeResult:
        yield TaskTable(self.source, now=lambda: self.now, id="tasks")

    def action_escaped(self) -> None:
        self.escapes += 1

    def of_type(self, kind: type[M]) -> list[M]:
        """The recorded messages of one kind, oldest first."""
        return [m for m in self.messages if isinstance(m, kind)]

    def on_mount(self) -> None:
        table = self.query_one(TaskTable)
        table.set_source(self.source)
        table.focus()

    def on_task_table_cursor_moved(self, message: TaskTable.CursorMoved) -> None:
        self.messages.append(message)

    def on_task_table_row_activated(self, message: TaskTable.RowActivated) -> None:
        self.messages.append(message)

    def on_task_table_sort_requested(self, message: TaskTable.SortRequested) -> None:
        self.messages.append(message)

    def on_task_table_rows_needed(self, message: TaskTable.RowsNeeded) -> None:
        self.messages.append(message)

    def on_task_table_visible_rows_changed(self, message: TaskTable.VisibleRowsChanged) -> None:
        self.messages.append(message)

    def on_task_table_marks_changed(self, message: TaskTable.MarksChanged) -> None:
        self.messages.append(message)
