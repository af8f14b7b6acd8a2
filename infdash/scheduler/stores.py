"""The scheduler's stores, one per resource kind, and the bundle polls and streams write to.

Tasks merge by ``updated_at`` then status rank, and a final task never goes back (R26).
Engines have no final state (a stopped engine can be restarted) and no status order worth
trusting over time, so they merge by ``updated_at`` alone; a partial from ``/events`` is
folded in with :func:`merge_engine`, which re-parses the raw DTO like a full fetch would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from infdash.api import Engine, Task
from infdash.api.models.engines import merge_engine
from infdash.scheduler.clock import Clock
from infdash.scheduler.status import task_status_rank
from infdash.scheduler.store import Store


def task_store(clock: Clock) -> Store[Task]:
    """The store of tasks, merged by ``updated_at`` then status rank (R26)."""
    return Store(
        rank=lambda t: task_status_rank(t.status),
        is_terminal=lambda t: t.is_terminal,
        clock=clock,
    )


def _merge_engine_fields(engine: Engine, fields: Mapping[str, object]) -> Engine:
    return merge_engine(engine, fields)


def engine_store(clock: Clock) -> Store[Engine]:
    """The store of engines: newer ``updated_at`` wins, ties take the newcomer, none is final."""
    return Store(
        rank=lambda _e: 0,
        is_terminal=lambda _e: False,
        clock=clock,
        merge_fields=_merge_engine_fields,
    )


@dataclass(frozen=True, slots=True)
class Stores:
    """Every store the scheduler keeps, so a poll or stream picks its own by resource kind."""

    tasks: Store[Task]
    engines: Store[Engine]

    def clear(self) -> None:
        self.tasks.clear()
        self.engines.clear()
