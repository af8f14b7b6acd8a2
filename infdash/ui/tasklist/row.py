"""One task as the task list draws it: small, immutable, already cleaned for display.

A list page carries whole task DTOs (events, logs, input); the table needs a handful of fields.
:class:`TaskRow` keeps only those, with every network string passed through
:func:`~infdash.ui.sanitize.clean_line`, so thousands of rows stay cheap and safe to draw.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from infdash.api import Task
from infdash.api.models.status import TaskEvent, TaskStatus
from infdash.ui.sanitize import clean_line

_RUN_STARTED = TaskStatus.RUNNING


@dataclass(frozen=True, slots=True)
class TaskRow:
    """The fields of one task-list row."""

    id: str
    short_id: str
    app: str
    """``namespace/name@version``, cleaned."""
    status: TaskStatus
    status_text: str
    """The wire name, or ``unknown(42)`` for a code this client does not know."""
    created_at: datetime | None
    updated_at: datetime | None
    started_at: datetime | None
    """When the task started running (its first ``running`` event), if it has."""
    finished_at: datetime | None
    """When it reached a final status, if it has."""
    engine: str
    """Engine name (or id when the name is unknown), cleaned; empty before dispatch."""
    worker: str
    """``engine/index`` of the worker, cleaned; empty before dispatch."""
    cost_microcents: int | None = None
    """Known once the task finished and its cost was fetched; None until then."""

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    def with_cost(self, microcents: int | None) -> TaskRow:
        return replace(self, cost_microcents=microcents)

    @classmethod
    def from_task(cls, task: Task, cost_microcents: int | None = None) -> TaskRow:
        """The row of a parsed task."""
        started, finished = _run_window(task.events, task.status)
        engine = task.engine.name if task.engine and task.engine.name else task.engine_id
        worker = ""
        if task.worker is not None:
            worker = f"{task.worker.engine_name or engine}/{task.worker.index}"
        return cls(
            id=task.id,
            short_id=clean_line(task.short_id or task.id[:8]),
            app=clean_line(task.app_ref),
            status=task.status,
            status_text=clean_line(task.status_label),
            created_at=task.created_at,
            updated_at=task.updated_at,
            started_at=started,
            finished_at=finished if task.is_terminal else None,
            engine=clean_line(engine),
            worker=clean_line(worker),
            cost_microcents=cost_microcents,
        )


def _run_window(
    events: Iterable[TaskEvent], status: TaskStatus
) -> tuple[datetime | None, datetime | None]:
    """(first time it ran, time it reached its final status) from the status events."""
    started: datetime | None = None
    finished: datetime | None = None
    for event in events:
        at = event.event_time or event.created_at
        if at is None:
            continue
        if started is None and event.status >= _RUN_STARTED and not event.status.is_terminal:
            started = at
        if event.status.is_terminal and status.is_terminal:
            finished = at
    return started, finished
