"""Task status codes as the scheduler needs them: an order to merge by, and which are final.

The scheduler must not import ``infdash.api`` (it is written in parallel and sits below us
only once wired), so it keeps its own reading of inference-sh-api.md §5 here.
"""

from __future__ import annotations

from enum import IntEnum


class TaskStatus(IntEnum):
    UNKNOWN = 0
    RECEIVED = 1
    QUEUED = 2
    DISPATCHED = 3
    PREPARING = 4
    SERVING = 5
    SETTING_UP = 6
    RUNNING = 7
    CANCELLING = 8
    UPLOADING = 9
    COMPLETED = 10
    FAILED = 11
    CANCELLED = 12
    REJECTED = 13


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
