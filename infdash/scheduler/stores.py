"""The scheduler's stores, one per resource kind, and the bundle polls and streams write to.

Tasks merge by ``updated_at`` then status rank, and a final task never goes back (R26).
Engines have no final state (a stopped engine can be restarted) and no status order worth
trusting over time, so they merge by ``updated_at`` alone; a partial from ``/events`` is
folded in with :func:`merge_engine`, which re-parses the raw DTO like a full fetch would.
Chats merge by ``updated_at`` then :func:`chat_status_rank`; only ``completed`` is final.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from infdash.api import Chat, Engine, Task
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


CHAT_FINAL = "completed"

_CHAT_RANK = {"busy": 1, "waiting": 2, "awaiting_input": 3, "idle": 4, CHAT_FINAL: 5}


def chat_status_rank(status: str) -> int:
    """Order of chat statuses within one ``updated_at``: how far a turn has got.

    A turn starts ``busy``, may stop ``waiting`` (on a tool or task) or ``awaiting_input``
    (on a human), and ends ``idle``; ``completed`` ends the chat.  Two reports stamped alike
    are thus read as the later one being further along, so a stale ``busy`` never hides the
    ``idle`` that ended the turn.  A new turn bumps ``updated_at``, so it still gets through.
    An unknown status ranks lowest (as for tasks, R27): it never outranks a known one.
    """
    return _CHAT_RANK.get(status, -1)


def chat_store(clock: Clock) -> Store[Chat]:
    """The store of chats: newer ``updated_at`` wins, ties by turn rank, ``completed`` sticks."""
    return Store(
        rank=lambda c: chat_status_rank(c.status),
        is_terminal=lambda c: c.status == CHAT_FINAL,
        clock=clock,
    )


@dataclass(frozen=True, slots=True)
class Stores:
    """Every store the scheduler keeps, so a poll or stream picks its own by resource kind."""

    tasks: Store[Task]
    engines: Store[Engine]
    chats: Store[Chat]

    def clear(self) -> None:
        self.tasks.clear()
        self.engines.clear()
        self.chats.clear()
