"""A task as labelled lines of plain, cleaned text, for the detail view (no Textual).

Input and output are pretty-printed JSON; every string that came from the network is cleaned
(:mod:`infdash.ui.sanitize`) so a value cannot move the cursor or retitle the terminal.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from infdash.api import Task
from infdash.ui.sanitize import clean, clean_line
from infdash.ui.tasklist.format import ago, duration
from infdash.ui.tasklist.row import TaskRow


def pretty_json(value: Any) -> str:
    """Indented JSON of ``value``, cleaned; ``—`` when there is none."""
    if value is None or value == {}:
        return "—"
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return clean(text)


def _when(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "—"
    return f"{at.astimezone().strftime('%Y-%m-%d %H:%M:%S')} ({ago(at, now)})"


def summary(task: Task, now: datetime) -> list[tuple[str, str]]:
    """The overview of ``task`` as (label, value) pairs."""
    row = TaskRow.from_task(task)
    engine = row.engine or "—"
    if row.worker:
        engine = f"{engine} · worker {row.worker}"
    lines = [
        ("Task", clean_line(task.id)),
        ("Status", row.status_text),
        ("App", row.app or "—"),
        ("Function", clean_line(task.function) or "—"),
        ("Engine", engine),
        ("Infra", clean_line(task.infra) or "—"),
        ("Created", _when(task.created_at, now)),
        ("Started", _when(row.started_at, now)),
        ("Finished", _when(row.finished_at, now)),
        ("Duration", duration(row, now) or "—"),
    ]
    if task.session_id:
        lines.append(("Session", clean_line(task.session_id)))
    if task.webhook:
        lines.append(("Webhook", clean_line(task.webhook)))
    return lines


def history(task: Task) -> list[str]:
    """One line per status transition, oldest first."""
    lines = []
    for event in task.events:
        at = event.event_time or event.created_at
        when = at.astimezone().strftime("%H:%M:%S.%f")[:-3] if at else "?"
        lines.append(f"{when}  {clean_line(event.status.label)}")
    return lines
