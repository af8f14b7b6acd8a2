"""Acting on tasks from any screen: cancel after one confirmation that lists them.

Shared by the task list (marked tasks, or the one under the cursor) and the task detail view.
A read-only profile refuses with one line; finished tasks are left out and said so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from textual.screen import Screen

from infdash.api import Task
from infdash.ui.errors import describe
from infdash.ui.services import Services
from infdash.ui.tasklist.row import TaskRow

READ_ONLY = "read-only profile: cancelling is turned off (drop --read-only to act)"


def task_line(row: TaskRow) -> str:
    """How a task is named in a confirmation: short id, app, status."""
    return f"{row.short_id:<10} {row.app}  ({row.status_text})"


def cancel_tasks(screen: Screen[Any], services: Services, tasks: Sequence[Task | TaskRow]) -> None:
    """Ask once, then cancel every unfinished task in ``tasks``; report in one notification."""
    from infdash.ui.screens.confirm import ConfirmDialog

    if services.read_only:
        screen.notify(READ_ONLY, severity="warning")
        return
    rows = [t if isinstance(t, TaskRow) else TaskRow.from_task(t) for t in tasks]
    open_rows = [r for r in rows if not r.is_terminal]
    finished = len(rows) - len(open_rows)
    if not open_rows:
        screen.notify("nothing to cancel: the selected tasks have already finished")
        return
    noun = "task" if len(open_rows) == 1 else "tasks"
    title = f"Cancel {len(open_rows)} {noun}?"
    if finished:
        title += f" ({finished} already finished, left alone)"
    ids = [r.id for r in open_rows]

    def confirmed(ok: bool | None) -> None:
        if ok:
            screen.run_worker(
                _cancel_all(screen, services, ids),
                group="cancel",
                exit_on_error=False,
                description=f"cancel {len(ids)} {noun}",
            )

    screen.app.push_screen(
        ConfirmDialog(
            title,
            [task_line(r) for r in open_rows],
            confirm_label=f"Cancel {noun}",
            dismiss_label="Keep running",
        ),
        confirmed,
    )


async def _cancel_all(screen: Screen[Any], services: Services, ids: list[str]) -> None:
    results = await asyncio.gather(
        *(services.scheduler.cancel(task_id) for task_id in ids), return_exceptions=True
    )
    failures = [(i, r) for i, r in zip(ids, results, strict=True) if isinstance(r, BaseException)]
    done = len(ids) - len(failures)
    if not failures:
        screen.notify(f"cancelled {done} task{'s' if done != 1 else ''}")
        return
    first_id, first_error = failures[0]
    more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
    screen.notify(
        f"cancelled {done} of {len(ids)}; {first_id[:10]}: {describe(first_error)}{more}",
        severity="error",
    )


def force_cancel(screen: Screen[Any], services: Services, task: Task) -> None:
    """Ask, then cancel with ``force``: the worker is stopped without waiting for the app."""
    from infdash.ui.screens.confirm import ConfirmDialog

    if services.read_only:
        screen.notify(READ_ONLY, severity="warning")
        return
    row = TaskRow.from_task(task)
    if row.is_terminal:
        screen.notify("nothing to cancel: the task has already finished")
        return

    def confirmed(ok: bool | None) -> None:
        if ok:
            screen.run_worker(
                _force(screen, services, task.id),
                group="cancel",
                exit_on_error=False,
                description="force cancel",
            )

    screen.app.push_screen(
        ConfirmDialog(
            "Force cancel 1 task?",
            [
                task_line(row),
                "",
                "The worker is stopped now, without waiting for the app to clean up.",
            ],
            confirm_label="Force cancel",
            dismiss_label="Keep running",
        ),
        confirmed,
    )


async def _force(screen: Screen[Any], services: Services, task_id: str) -> None:
    try:
        await services.scheduler.cancel(task_id, force=True)
    except Exception as error:  # one notification; the task row says the rest
        screen.notify(f"force cancel failed: {describe(error)}", severity="error")
        return
    screen.notify(f"force-cancelled {task_id[:12]}")
