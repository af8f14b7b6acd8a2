"""Streams first: the focused task follows ``GET /tasks/{id}/stream``; polling is the fallback.

While a stream delivers, the planner counts the task as streamed (only the slow reconcile
poll) and every update is merged into the store and marks it fresh.  Whenever the stream
reconnects or fails, the task goes back to focused polling at once, so there is no gap; after
repeated failures the stream is retried later with full-jitter backoff (performance.md §2.3,
R11–R16).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from infdash.api import (
    ApiError,
    ForbiddenError,
    InferenceClient,
    NotFoundError,
    StreamReconnecting,
    Task,
    TaskUpdate,
    UnauthorizedError,
)
from infdash.scheduler.backoff import full_jitter
from infdash.scheduler.planner import Planner
from infdash.scheduler.policy import Tier
from infdash.scheduler.store import Store
from infdash.scheduler.subscriptions import ResourceKey, Transport

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class StreamDeps:
    """What every supervised stream of the scheduler works with (its one seam to the rest)."""

    client: InferenceClient
    planner: Planner
    store: Store[Task]
    sleep: Sleep
    rng: random.Random
    wake: Callable[[], None]
    """Wake the scheduler loop: a stream changed what is due."""
    on_unauthorized: Callable[[ApiError], None]


def retry_delay(failures: int, base: float, cap: float, floor: float, rng: random.Random) -> float:
    """Wait before the next attempt after ``failures`` in a row: full jitter, at least ``floor``."""
    return max(floor, full_jitter(failures - 1, base, cap, rng))


@dataclass(frozen=True, slots=True)
class StreamPolicy:
    enabled: bool = True
    max_reconnects: int = 2
    """Reconnects one stream attempt may make before it counts as failed."""
    retry_base: float = 15.0
    """After a failed attempt, stream again after full-jitter backoff from this base…"""
    retry_cap: float = 120.0
    retry_floor: float = 5.0
    """…but never sooner than this (polling covers the task meanwhile)."""


class FocusedStreams:
    """One supervised stream per focused, unfinished task."""

    def __init__(self, deps: StreamDeps, policy: StreamPolicy | None = None) -> None:
        self._client = deps.client
        self._planner = deps.planner
        self._store = deps.store
        self._sleep = deps.sleep
        self._rng = deps.rng
        self._wake = deps.wake
        self._on_unauthorized = deps.on_unauthorized
        self.policy = policy or StreamPolicy()
        self._tasks: dict[ResourceKey, asyncio.Task[None]] = {}
        self.live: set[ResourceKey] = set()
        """Keys whose stream is connected and delivering."""
        self.failures: dict[ResourceKey, int] = {}

    def sync(self, allowed: bool) -> None:
        """Start streams for focused tasks that lack one; stop the rest."""
        wanted: set[ResourceKey] = set()
        if allowed and self.policy.enabled:
            wanted = {
                e.key
                for e in self._planner.subscriptions
                if e.tier is Tier.FOCUSED and e.key.kind == "task" and not e.terminal
            }
        for key in list(self._tasks):
            if key not in wanted:
                self._tasks.pop(key).cancel()
                self._fallback(key)
        for key in wanted - set(self._tasks):
            self._tasks[key] = asyncio.get_running_loop().create_task(self._follow(key))

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        self.live.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _fallback(self, key: ResourceKey) -> None:
        """Poll ``key`` again at its tier's cadence, starting now."""
        self.live.discard(key)
        self._planner.set_transport(key, Transport.POLL)
        self._planner.request_refresh(key)
        self._wake()

    def deliver(self, key: ResourceKey, update: TaskUpdate) -> None:
        """A stream delivered ``update``: merge it (monotonically) and count ``key`` as fresh."""
        self._store.apply(update.task)
        self.live.add(key)
        self._planner.set_transport(key, Transport.STREAM)
        self._planner.mark_fresh(key, terminal=update.task.is_terminal)
        self._wake()

    async def _follow(self, key: ResourceKey) -> None:
        p = self.policy
        try:
            while True:
                try:
                    stream = self._client.tasks.stream(key.id, max_reconnects=p.max_reconnects)
                    async with stream as events:
                        async for event in events:
                            if isinstance(event, TaskUpdate):
                                self.failures.pop(key, None)
                                self.deliver(key, event)
                            elif isinstance(event, StreamReconnecting):
                                self._fallback(key)
                    return  # the task finished (or the server said 204)
                except UnauthorizedError as exc:
                    self._on_unauthorized(exc)
                    return
                except (ForbiddenError, NotFoundError):
                    return  # final for this task: polling decides what happens next
                except (ApiError, httpx.HTTPError):
                    pass
                self._fallback(key)
                n = self.failures[key] = self.failures.get(key, 0) + 1
                await self._sleep(
                    retry_delay(n, p.retry_base, p.retry_cap, p.retry_floor, self._rng)
                )
        finally:
            if self._tasks.get(key) is asyncio.current_task():
                del self._tasks[key]
            with contextlib.suppress(Exception):
                self._fallback(key)
