"""Gather what "why is this queued?" needs: queue stats, plan usage and the engines.

Three requests at background priority, each allowed to fail on its own: a sentence from
what did answer beats no sentence.  Engines come from the scheduler's store when the engines
screen has listed them, else one page of ``/engines/list``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from infdash.api import Engine, QueueStats, Task, Usage
from infdash.scheduler.limits import Priority
from infdash.scheduler.ratelimit import OTHER
from infdash.ui.detail.queued import why_queued
from infdash.ui.services import Services

T = TypeVar("T")
ENGINE_PAGE = 100
"""Engines asked for when none are known (accounts rarely have more)."""


async def _maybe(services: Services, call: Callable[[], Awaitable[T]]) -> T | None:
    try:
        return await services.scheduler.user_action(OTHER, call, priority=Priority.POLL)
    except Exception:  # a missing part leaves that clause out of the sentence
        return None


async def explain_queue(services: Services, task: Task) -> str:
    """One sentence: why ``task`` waits and what to do (see :func:`why_queued`)."""
    client = services.client
    known: Sequence[Engine] = list(services.scheduler.engines)

    async def engines() -> Sequence[Engine]:
        if known:
            return known
        page = await _maybe(services, lambda: client.engines.list(limit=ENGINE_PAGE))
        return page.items if page is not None else ()

    stats: QueueStats | None
    usage: Usage | None
    stats, usage, listed = await asyncio.gather(
        _maybe(services, client.account.queue_stats),
        _maybe(services, client.account.usage),
        engines(),
    )
    return why_queued(task, stats, listed, usage, now=services.now())
