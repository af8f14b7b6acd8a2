"""The scheduler's stores, one per resource kind, and the bundle polls and streams write to.

Tasks merge by ``updated_at`` then status rank, and a final task never goes back (R26).
Engines have no final state (a stopped engine can be restarted) and no status order worth
trusting over time, so they merge by ``updated_at`` alone; a partial from ``/events`` is
folded in with :func:`merge_engine`, which re-parses the raw DTO like a full fetch would.
Chats merge by ``updated_at`` then :func:`chat_status_rank`; only ``completed`` is final.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from infdash.api import Chat, Engine, Task, TaskEvent
from infdash.api.models.engines import merge_engine
from infdash.scheduler.clock import Clock
from infdash.scheduler.status import task_status_rank
from infdash.scheduler.store import Store

_NO_TIME = datetime.min.replace(tzinfo=UTC)


def _event_at(event: TaskEvent) -> datetime:
    at = event.event_time or event.created_at or _NO_TIME
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def keep_history(old: Task, new: Task) -> Task:
    """``new``, with the status events ``old`` knew that ``new`` lacks.

    A task rebuilt from an account-stream partial carries the events of the snapshot it
    started from; replacing a fully fetched task with it would shorten the status history
    the detail screen shows.  Events are history: they are only ever added."""
    if len(new.events) >= len(old.events):
        return new
    seen = {(e.status, _event_at(e)) for e in new.events}
    extra = [e for e in old.events if (e.status, _event_at(e)) not in seen]
    if not extra:
        return new
    return replace(new, events=tuple(sorted((*new.events, *extra), key=_event_at)))


def task_store(clock: Clock) -> Store[Task]:
    """The store of tasks, merged by ``updated_at`` then status rank (R26); status history
    is kept (:func:`keep_history`)."""
    return Store(
        rank=lambda t: task_status_rank(t.status),
        is_terminal=lambda t: t.is_terminal,
        clock=clock,
        combine=keep_history,
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
