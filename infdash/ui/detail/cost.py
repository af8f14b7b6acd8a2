"""Cost text: the final cost once a task has finished, and a running estimate where possible.

Units: the API's amounts are microcents, 1 USD = 10^8 microcents (reference §6 and §12.15:
stated twice and matching the name; the "1 microcent = $0.000001" line is taken as the error).

**Running estimate.**  ``GET /usage/tasks/{id}/cost`` answers 404 until the task has finished,
and neither it, the task DTO nor the catalogue exposes a price per second.  So an estimate is
only possible from data we already have: the cost of a *finished* task of the same app version
divided by its worker time (dispatched → end, what the platform bills; the simulator bills
exactly that) gives a rate (:func:`rate_from`), and the running task's worker time so far
times that rate is the estimate (:func:`estimate_cost`).  Without such a finished task there
is no estimate (None) — the screen says "cost when finished", never a made-up number.  The
rate uses ``charged`` (after discounts, before refunds): what the user would pay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from infdash.api.models.metrics import MICROCENTS_PER_USD, TaskCost
from infdash.api.models.status import TaskStatus
from infdash.api.models.tasks import Task

_WORKER_STATUSES = frozenset(
    {
        TaskStatus.DISPATCHED,
        TaskStatus.PREPARING,
        TaskStatus.SERVING,
        TaskStatus.SETTING_UP,
        TaskStatus.RUNNING,
        TaskStatus.CANCELLING,
        TaskStatus.UPLOADING,
    }
)


def dollars(microcents: int | float) -> str:
    """``$0.0050`` below a dollar (4 decimals; 6 when that would read 0 but is not), else
    ``$1.23``."""
    value = microcents / MICROCENTS_PER_USD
    if abs(value) >= 1:
        return f"${value:,.2f}"
    if value != 0 and abs(value) < 0.00005:
        return f"${value:.6f}"
    return f"${value:.4f}"


def format_cost(cost: TaskCost) -> str:
    """``$0.0123`` — plus what explains it: ``$0.0123 (of $0.0200, $0.0077 discount)``,
    ``$0.0000 ($0.0150 refunded)``; a refund is subtracted from what was charged."""
    paid = cost.charged - cost.refunded
    text = dollars(paid)
    notes: list[str] = []
    if cost.discount:
        notes.append(f"{dollars(cost.discount)} discount")
    if cost.refunded:
        notes.append(f"{dollars(cost.refunded)} refunded")
    if notes:
        prefix = f"of {dollars(cost.total)}, " if cost.discount else ""
        text += f" ({prefix}{', '.join(notes)})"
    return text


def worker_seconds(task: Task, now: datetime | None = None) -> float | None:
    """Seconds from dispatch to the end (or ``now`` while unfinished); None before dispatch."""
    walk: list[tuple[datetime, TaskStatus]] = []
    for event in task.events:
        at = event.event_time or event.created_at
        if at is not None:
            walk.append((at, event.status))
    walk.sort(key=lambda pair: pair[0])
    start: datetime | None = None
    end: datetime | None = None
    for at, status in walk:
        if start is None and status in _WORKER_STATUSES:
            start = at
        if status.is_terminal:
            end = at
            break
    if start is None and task.status in _WORKER_STATUSES:
        start = task.updated_at  # a stream partial: the events predate the dispatch
    if start is None:
        return None
    if end is None:
        end = task.updated_at if task.is_terminal else now
    if end is None:
        return None
    return max(0.0, (end - start).total_seconds())


@dataclass(frozen=True, slots=True)
class CostRate:
    """Microcents per second of worker time, learnt from one finished task."""

    microcents_per_second: float
    from_task: str
    app_version_id: str = ""


def rate_from(task: Task, cost: TaskCost) -> CostRate | None:
    """The rate a finished ``task`` was billed at; None when it never ran on a worker."""
    if not task.is_terminal:
        return None
    seconds = worker_seconds(task)
    if seconds is None or seconds <= 0:
        return None
    return CostRate(cost.charged / seconds, task.id, task.app_version_id)


def estimate_cost(task: Task, rate: CostRate | None, now: datetime) -> int | None:
    """Microcents spent so far by a running ``task`` at ``rate``; None when not estimable
    (no rate, a rate of another app version, or not on a worker yet)."""
    if rate is None:
        return None
    if rate.app_version_id and task.app_version_id and rate.app_version_id != task.app_version_id:
        return None
    seconds = worker_seconds(task, now)
    if seconds is None:
        return None
    return round(seconds * rate.microcents_per_second)


def format_estimate(microcents: int | None) -> str:
    """``≈ $0.0123 so far (estimate)``, or the honest ``cost when finished``."""
    if microcents is None:
        return "cost when finished"
    return f"≈ {dollars(microcents)} so far (estimate)"
