""" "Why is this queued?" — one sentence with the reason and what to do.

Inputs, all already fetched by the screen: the task, ``GET /tasks/queue-stats`` (how many
tasks wait, per app), the engines (``GET /engines``: their status and workers) and, optionally,
``GET /entitlements/usage`` (the plan's ``concurrency``).  Reasons are checked in the order
that explains a wait best:

1. not queued at all → says what it is doing instead;
2. ``run_at`` in the future → scheduled, waits until then;
3. the plan's concurrency is used up → starts when one of the running tasks finishes;
4. no worker that could take it is online (none online, or its pinned workers are on engines
   that are offline, draining or restarting) → start an engine / run it elsewhere;
5. every such worker is busy → the queue ahead of it and the busy engines; it starts when one
   frees up;
6. an idle worker exists → it should be dispatched in a moment.

Workers that "can run it": the workers of engines that accept work (``running``), limited to
the task's pinned ``workers`` when it has any, and not ``inactive``.  The queue-stats counts
include the task itself, so "ahead of it" is the app's count minus one (the API gives no
position, so this is an upper bound: tasks queued after it are counted too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from infdash.api.models.engines import Engine, EngineStatus, Worker, WorkerStatus
from infdash.api.models.status import TaskStatus
from infdash.api.models.tasks import Task
from infdash.api.models.usage import QueueStats, Usage
from infdash.ui.sanitize import clean_line
from infdash.ui.tasklist.format import format_seconds

_WAITING = frozenset({TaskStatus.RECEIVED, TaskStatus.QUEUED})
_MAX_NAMES = 3


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _names(names: Sequence[str]) -> str:
    unique = list(dict.fromkeys(clean_line(n) for n in names if n))
    if len(unique) > _MAX_NAMES:
        return ", ".join(unique[:_MAX_NAMES]) + f", +{len(unique) - _MAX_NAMES} more"
    return ", ".join(unique)


def queued_for_app(task: Task, stats: QueueStats | None) -> int | None:
    """Tasks queued for the task's app (this one included), or None when unknown."""
    if stats is None:
        return None
    for entry in stats.by_app:
        if (task.app_id and entry.app_id == task.app_id) or (
            task.app_name and entry.app == task.app_name
        ):
            return entry.count
    return 0 if stats.by_app else None


def _queue_part(task: Task, stats: QueueStats | None) -> str:
    app = clean_line(task.app_name) or "this app"
    count = queued_for_app(task, stats)
    if count is None:
        if stats is not None and stats.total_queued:
            return f"{_plural(stats.total_queued, 'task')} queued in your account"
        return ""
    ahead = max(0, count - 1)
    if ahead == 0:
        return f"nothing else is queued for {app}"
    return f"{_plural(ahead, 'task')} ahead of it for {app}"


def _join(queue: str, rest: str) -> str:
    text = f"{queue}; {rest}" if queue else rest
    return text[:1].upper() + text[1:] + "."


def _candidates(task: Task, engines: Sequence[Engine]) -> list[tuple[Engine, Worker]]:
    pins = set(task.workers)
    return [
        (engine, worker)
        for engine in engines
        if engine.status is EngineStatus.RUNNING
        for worker in engine.workers
        if worker.status is not WorkerStatus.INACTIVE and (not pins or worker.id in pins)
    ]


def _unavailable(task: Task, engines: Sequence[Engine]) -> str:
    pins = set(task.workers)
    infra = (task.infra or "cloud").lower()
    off = [
        f"{clean_line(e.name or e.id)} is {clean_line(e.status_label)}"
        for e in engines
        if e.status is not EngineStatus.RUNNING
        and (not pins or any(w.id in pins for w in e.workers))
    ]
    note = f" ({'; '.join(off[:_MAX_NAMES])})" if off else ""
    if pins:
        return (
            f"none of its pinned workers is on an engine that accepts work{note} — start "
            "that engine, or re-run it without pinned workers"
        )
    if infra.startswith("private"):
        alt = "" if infra == "private_first" else " or run it on cloud"
        return f"no engine is online for private infra{note} — start an engine{alt}"
    return f"no worker is online to take it{note} — start an engine, or wait for capacity"


def why_queued(
    task: Task,
    queue_stats: QueueStats | None,
    engines: Iterable[Engine],
    usage: Usage | None = None,
    *,
    now: datetime | None = None,
) -> str:
    """One sentence: why ``task`` waits and what to do (see the module for the order)."""
    if task.status not in _WAITING:
        if task.is_terminal:
            return f"It is not queued: it has finished ({task.status_label})."
        return f"It is not queued: it is {task.status_label.replace('_', ' ')}."
    if task.run_at is not None and now is not None and task.run_at > now:
        wait = format_seconds((task.run_at - now).total_seconds())
        stamp = task.run_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
        return (
            f"It is scheduled to run at {stamp} (in {wait}) and waits until then — "
            "cancel it and run it again to start now."
        )
    engine_list = list(engines)
    queue = _queue_part(task, queue_stats)
    concurrency = usage.concurrency if usage is not None else None
    if concurrency is not None and concurrency.exhausted:
        used = int(concurrency.usage or 0)
        limit = int(concurrency.limit or 0)
        return _join(
            queue,
            f"your plan's concurrency is used up ({used} of {limit} tasks running) — it starts "
            "when one of them finishes, or cancel one",
        )
    candidates = _candidates(task, engine_list)
    if not candidates:
        return _join(queue, _unavailable(task, engine_list))
    idle = [(e, w) for e, w in candidates if w.status is WorkerStatus.IDLE]
    if not idle:
        busy = _names([e.name or e.id for e, _ in candidates])
        n = len(candidates)
        return _join(
            queue,
            f"{n} of {_plural(n, 'worker')} that can run it "
            f"{'are' if n > 1 else 'is'} busy ({busy}) — it starts when one frees up",
        )
    names = _names([e.name or e.id for e, _ in idle])
    return _join(
        queue,
        f"{_plural(len(idle), 'idle worker')} can take it ({names}) — it should be dispatched "
        "in a moment; if it stays queued, check that engine",
    )
