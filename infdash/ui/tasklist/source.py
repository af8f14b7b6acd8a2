"""What the task table reads rows from: a sized, indexable and partly loaded sequence."""

from __future__ import annotations

from typing import Protocol

from infdash.ui.tasklist.row import TaskRow


class RowSource(Protocol):
    """Rows by index; an index may be known to exist but not be loaded yet."""

    def __len__(self) -> int:
        """Rows the table scrolls over, loaded or not (the server's total when known)."""
        ...

    def row_at(self, index: int) -> TaskRow | None:
        """The row at ``index``, or None while it is not loaded (drawn as a placeholder)."""
        ...

    def index_of(self, task_id: str) -> int | None:
        """Where the row of ``task_id`` is, if it is loaded."""
        ...
