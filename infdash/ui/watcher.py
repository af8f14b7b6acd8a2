"""Watched tasks: a toast (and optionally the terminal bell) when one finishes.

A watched task stays subscribed at the background tier under its own owner, so it is heard
finishing even when it has scrolled out of view or another screen is showing.  Tasks the user
runs from the dashboard are watched automatically.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.notifications import SeverityLevel
from textual.widget import Widget

from infdash.api import Task
from infdash.api.models.status import TaskStatus
from infdash.scheduler import Change, ResourceKey, Tier
from infdash.ui.services import Services
from infdash.ui.tasklist.format import duration
from infdash.ui.tasklist.row import TaskRow

OWNER = "watch"


class TaskWatcher:
    """Toasts when a watched task reaches a final status."""

    def __init__(self, node: Widget, services: Services) -> None:
        self._node = node
        self._services = services
        self.watched: dict[str, TaskRow] = {}
        self._unlisten: Callable[[], None] | None = None

    def watch(self, row: TaskRow) -> None:
        if row.is_terminal:
            self._node.notify(f"{row.short_id} has already finished ({row.status_text})")
            return
        if self._unlisten is None:
            self._unlisten = self._services.scheduler.store.listen(self._changed)
        self.watched[row.id] = row
        self._services.scheduler.subscribe(ResourceKey.task(row.id), Tier.BACKGROUND, OWNER)

    def unwatch(self, task_id: str) -> None:
        if self.watched.pop(task_id, None) is not None:
            self._services.scheduler.release(ResourceKey.task(task_id), OWNER)

    def toggle(self, row: TaskRow) -> None:
        if row.id in self.watched:
            self.unwatch(row.id)
            self._node.notify(f"stopped watching {row.short_id}")
        else:
            self.watch(row)
            if row.id in self.watched:
                self._node.notify(f"watching {row.short_id}: you'll hear when it finishes")

    def close(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self._services.scheduler.release_owner(OWNER)
        self.watched.clear()

    def _changed(self, change: Change) -> None:
        for task_id in change.updated & self.watched.keys():
            task = self._services.scheduler.store.get(task_id)
            if task is not None and task.is_terminal:
                self.unwatch(task_id)
                self._announce(task)

    def _announce(self, task: Task) -> None:
        row = TaskRow.from_task(task)
        took = duration(row, self._services.now())
        text = f"{row.short_id} {row.app} {row.status_text}" + (f" in {took}" if took else "")
        severity: SeverityLevel = "information"
        if task.status in (TaskStatus.FAILED, TaskStatus.REJECTED):
            severity = "error"
        elif task.status is TaskStatus.CANCELLED:
            severity = "warning"
        self._node.notify(text, title="Task finished", severity=severity)
        if self._services.bell:
            self._node.app.bell()
