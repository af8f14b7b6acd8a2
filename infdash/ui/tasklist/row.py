"""One task as the task list draws it: small, immutable, already cleaned for display.

A list page carries whole task DTOs (events, logs, input); the table needs a handful of fields.
:class:`TaskRow` keeps only those, with every network string passed through
:func:`~infdash.ui.sanitize.clean_line`, so thousands of rows stay cheap and safe to draw.

Rows are made two ways that must agree: :meth:`TaskRow.from_task` from a parsed
:class:`~infdash.api.Task` (the store's live updates), and :meth:`TaskRow.from_dto` straight from
the raw DTO of a list page, reading only the fields a row shows — parsing every event, log and
input of 50k tasks only to drop them was most of the cost of paging through a big account.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from infdash.api import Task
from infdash.api.models.common import as_dict, as_int, as_list, as_str, parse_datetime, shared
from infdash.api.models.status import TaskEvent, TaskStatus, status_display
from infdash.api.models.tasks import app_fields
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
        return _row(
            task.id,
            task.short_id,
            task.app_ref,
            task.status,
            task.status_label,
            task.created_at,
            task.updated_at,
            started,
            finished if task.is_terminal else None,
            engine,
            worker,
            cost_microcents,
        )

    @classmethod
    def from_dto(cls, raw: Any) -> TaskRow:
        """The row of a raw TaskDTO from a list page, reading only what a row shows.

        Equal to ``TaskRow.from_task(Task.from_dict(raw))`` for whatever JSON decodes to:
        the same tolerant readers, and a ``ValueError`` where :meth:`Task.from_dict` raises
        one (not an object, no id, a malformed status), so a page skips and counts the item.
        Of the events, only the statuses are read, and the timestamps of the two that date
        the run (its first ``running`` event, its final one).
        """
        if not isinstance(raw, dict):
            raise ValueError("task is not an object")
        data: dict[str, Any] = raw
        get = data.get
        status, code = TaskStatus.parse(get("status"))
        task_id = as_str(get("id"))
        if not task_id:
            raise ValueError("task has no id")
        name, version = app_fields(data)
        started, finished = _dto_run_window(get("events"), status.is_terminal)
        engine_raw = as_dict(get("engine"))
        engine = as_str(engine_raw.get("name")) if engine_raw else ""
        engine = engine or as_str(get("engine_id"))
        worker_raw = as_dict(get("worker"))
        worker = ""
        if worker_raw:
            worker_engine = as_str(worker_raw.get("engine_name")) or engine
            worker = f"{worker_engine}/{as_int(worker_raw.get('index'))}"
        return _row(
            task_id,
            as_str(get("short_id")),
            f"{name}@{version}" if version else name,
            status,
            status_display(status, code),
            parse_datetime(get("created_at")),
            parse_datetime(get("updated_at")),
            started,
            finished,
            engine,
            worker,
            None,
        )


def _row(
    task_id: str,
    short_id: str,
    app: str,
    status: TaskStatus,
    status_text: str,
    created_at: datetime | None,
    updated_at: datetime | None,
    started_at: datetime | None,
    finished_at: datetime | None,
    engine: str,
    worker: str,
    cost_microcents: int | None,
) -> TaskRow:
    """A row from its raw fields: the one place they are cleaned.  The strings 50k rows
    repeat (app, status, engine, worker) are interned: one copy each, not one per row."""
    return TaskRow(
        id=task_id,
        short_id=clean_line(short_id or task_id[:8]),
        app=shared(clean_line(app)),
        status=status,
        status_text=shared(clean_line(status_text)),
        created_at=created_at,
        updated_at=updated_at,
        started_at=started_at,
        finished_at=finished_at,
        engine=shared(clean_line(engine)),
        worker=shared(clean_line(worker)),
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


# Status codes of the events that date a run (see _run_window), as plain ints: the run started
# at the first event in [RUNNING, COMPLETED); it finished at the last one in [COMPLETED, LAST].
_RUNNING = int(TaskStatus.RUNNING)
_FINAL = int(TaskStatus.COMPLETED)
_LAST = max(int(member) for member in TaskStatus)
_SKIPPED = (TypeError, ValueError, KeyError, AttributeError)
"""What :func:`~infdash.api.models.common.parse_items` skips an event for."""


def _event_code(event: Any) -> int | None:
    """An event's status as an int (an unknown one as 0), or None where
    ``TaskEvent.from_dict`` would fail and the task's events would skip it."""
    if not isinstance(event, dict):
        return None
    try:
        return int(TaskStatus.parse(event.get("status"))[0])
    except _SKIPPED:
        return None


def _event_time(event: dict[str, Any]) -> datetime | None:
    """``event_time or created_at``, as ``_run_window`` reads a parsed event."""
    at = parse_datetime(event.get("event_time"))
    return at if at is not None else parse_datetime(event.get("created_at"))


def _dto_run_window(raw: Any, terminal: bool) -> tuple[datetime | None, datetime | None]:
    """:func:`_run_window` over raw events, parsing only the timestamps it returns: the
    first dated running event (scanning forward) and the last dated final one (backward).

    The usual event (a dict with an int status) is read inline: 50k tasks carry ~400k of
    them.  A raw int outside the known codes is UNKNOWN, which is in neither range, so it
    needs no mapping."""
    events = as_list(raw)
    started: datetime | None = None
    finished: datetime | None = None
    for event in events:
        code = event.get("status") if type(event) is dict else None
        if type(code) is not int:
            code = _event_code(event)
            if code is None:
                continue
        if _RUNNING <= code < _FINAL:
            started = _event_time(event)
            if started is not None:
                break
    if terminal:
        for event in reversed(events):
            code = event.get("status") if type(event) is dict else None
            if type(code) is not int:
                code = _event_code(event)
                if code is None:
                    continue
            if _FINAL <= code <= _LAST:
                finished = _event_time(event)
                if finished is not None:
                    break
    return started, finished
