"""Task status as the scheduler needs it: an order to merge by, and which states are final.

The enum is the API client's (:class:`infdash.api.TaskStatus`); only the merge order lives
here, because "which of two reports is newer" is a scheduling question, not a wire one.
"""

from __future__ import annotations

from infdash.api.models.status import TaskStatus

TERMINAL_STATUSES = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.REJECTED}
)

_KNOWN = frozenset(int(s) for s in TaskStatus)


def is_terminal_status(code: int) -> bool:
    return code in TERMINAL_STATUSES


def task_status_rank(code: int) -> int:
    """Position along the life of a task; codes we do not know rank lowest (R27).

    The numeric order is the forward path (received … uploading, then the final states), so
    it is the rank, except that an unknown code must never outrank a known one.
    """
    return int(code) if code in _KNOWN else -1


__all__ = ["TERMINAL_STATUSES", "TaskStatus", "is_terminal_status", "task_status_rank"]
