"""Streams first: the focused task or engine follows its stream; polling is the fallback.

Tasks follow ``GET /tasks/{id}/stream`` (it ends when the task does), engines
``GET /engines/{id}/stream`` (it never ends).  One supervisor serves both: a
:class:`StreamSource` per resource kind says how to open the stream and how to merge an event
into its store, everything else — when to stream, fall back and retry — is shared.  While a
stream delivers, the planner counts the resource as streamed (only the slow reconcile poll)
and every update is merged into the store and marks it fresh.  Whenever the stream reconnects
or fails, the resource goes back to focused polling at once, so there is no gap; after
repeated reconnects or failures the stream is retried later with full-jitter backoff
(performance.md §2.3, R11–R16).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import httpx

from infdash.api import (
    ApiError,
    EngineUpdate,
    ForbiddenError,
    InferenceClient,
    NotFoundError,
    StreamReconnecting,
    TaskLog,
    TaskUpdate,
    UnauthorizedError,
)
from infdash.scheduler.backoff import full_jitter
from infdash.scheduler.planner import Planner
from infdash.scheduler.policy import Tier
from infdash.scheduler.stores import Stores
from infdash.scheduler.subscriptions import ResourceKey, Transport

Sleep = Callable[[float], Awaitable[None]]
LogListener = Callable[[tuple[TaskLog, ...]], None]
"""Hears the log entries a focused task's stream delivered that it had not delivered before."""
DropListener = Callable[[], None]
"""Hears that a focused task's stream dropped an event too large to read and reconnected (R24):
whatever that event carried is missing unless ``/logs`` has it."""
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StreamDeps:
    """What every supervised stream of the scheduler works with (its one seam to the rest)."""

    client: InferenceClient
    planner: Planner
    stores: Stores
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
    """…but never sooner than this (polling covers the resource meanwhile)."""


@dataclass(frozen=True, slots=True)
class Delivered:
    """What one merged stream event means for the planner."""

    live: bool
    """From the stream itself, not the client's reconcile GET: the stream delivers."""
    terminal: bool = False


Events = AbstractAsyncContextManager[AsyncIterator[object]]


KnownLogs = frozenset[str] | None
"""The log entry ids a task's listeners were handed by earlier streams, or None: nobody
listens to the task's log."""


@dataclass(frozen=True, slots=True)
class StreamSource:
    """How one resource kind is streamed: open the stream, merge an event into its store."""

    open: Callable[[InferenceClient, str, StreamPolicy, KnownLogs], Events]
    accept: Callable[[Stores, object], Delivered | None]


def _open_task(
    client: InferenceClient, task_id: str, policy: StreamPolicy, known_logs: KnownLogs
) -> Events:
    stream = client.tasks.stream(
        task_id, max_reconnects=policy.max_reconnects, known_log_ids=known_logs or ()
    )
    # A listener holds lines from before this stream (its backfill, its catch-ups, an earlier
    # stream that failed): a new stream starts with a snapshot, not with the lines written in
    # between, so it fetches those first — else newer live lines would come before them.
    stream.logs_gap = known_logs is not None
    return stream


def _accept_task(stores: Stores, event: object) -> Delivered | None:
    if not isinstance(event, TaskUpdate):
        return None  # log deltas are the detail view's, not the store's
    stores.tasks.apply(event.task)
    return Delivered(live=event.source == "stream", terminal=event.task.is_terminal)


def _open_engine(
    client: InferenceClient, engine_id: str, _policy: StreamPolicy, _known_logs: KnownLogs
) -> Events:
    return client.engines.stream(engine_id)  # reconnects forever: the supervisor counts them


def _accept_engine(stores: Stores, event: object) -> Delivered | None:
    if not isinstance(event, EngineUpdate):
        return None
    stores.engines.apply(event.engine)
    return Delivered(live=event.source == "stream")


SOURCES: dict[str, StreamSource] = {
    "task": StreamSource(_open_task, _accept_task),
    "engine": StreamSource(_open_engine, _accept_engine),
}


class Supervised:
    """Base of the scheduler's supervised streams and feeds: the collaborators they share."""

    def __init__(self, deps: StreamDeps) -> None:
        self._client = deps.client
        self._planner = deps.planner
        self._stores = deps.stores
        self._sleep = deps.sleep
        self._rng = deps.rng
        self._wake = deps.wake
        self._on_unauthorized = deps.on_unauthorized


class FocusedStreams(Supervised):
    """One supervised stream per focused, unfinished resource of a streamable kind."""

    def __init__(self, deps: StreamDeps, policy: StreamPolicy | None = None) -> None:
        super().__init__(deps)
        self.policy = policy or StreamPolicy()
        self._tasks: dict[ResourceKey, asyncio.Task[None]] = {}
        self.live: set[ResourceKey] = set()
        """Keys whose stream is connected and delivering."""
        self.failures: dict[ResourceKey, int] = {}
        self._log_listeners: dict[str, list[tuple[LogListener, DropListener | None]]] = {}
        self._log_ids: dict[str, set[str]] = {}  # entries handed to a task's listeners

    def listen_logs(
        self, task_id: str, listener: LogListener, on_dropped: DropListener | None = None
    ) -> Callable[[], None]:
        """Call ``listener`` with every batch of new log entries the stream of ``task_id``
        delivers (``TaskUpdate.new_logs``, deduped by log id by the stream, also across its
        reconnects; the reconcile GET's missed entries included).  A stream started while
        someone listens (one replacing a failed stream, too) first hands over the entries
        written since the listener's history from ``/logs``, so lines never come out of order.
        Only a FOCUSED task is streamed: nothing arrives otherwise (the listener then
        backfills from ``/logs``).
        ``on_dropped()`` hears each event the stream dropped for its size (R24).
        Returns the function that removes the listener.  A listener that raises is logged and
        kept: a display bug must not stop the stream."""
        entry = (listener, on_dropped)
        self._log_listeners.setdefault(task_id, []).append(entry)

        def unlisten() -> None:
            listeners = self._log_listeners.get(task_id)
            if listeners is not None and entry in listeners:
                listeners.remove(entry)
                if not listeners:
                    del self._log_listeners[task_id]
                    self._log_ids.pop(task_id, None)

        return unlisten

    def _emit_logs(self, key: ResourceKey, event: object) -> None:
        if key.kind != "task" or not isinstance(event, TaskUpdate) or not event.new_logs:
            return
        listeners = self._log_listeners.get(key.id)
        if not listeners:
            return
        self._log_ids.setdefault(key.id, set()).update(log.id for log in event.new_logs if log.id)
        for listener, _ in list(listeners):
            try:
                listener(event.new_logs)
            except Exception:
                _log.exception("log listener of task %s failed", key.id)

    def _emit_dropped(self, key: ResourceKey) -> None:
        listeners = self._log_listeners.get(key.id) if key.kind == "task" else None
        for _, on_dropped in list(listeners or ()):
            if on_dropped is None:
                continue
            try:
                on_dropped()
            except Exception:
                _log.exception("drop listener of task %s failed", key.id)

    def sync(self, allowed: bool) -> None:
        """Start streams for focused resources that lack one; stop the rest."""
        wanted: set[ResourceKey] = set()
        if allowed and self.policy.enabled:
            wanted = {
                e.key
                for e in self._planner.subscriptions
                if e.tier is Tier.FOCUSED and e.key.kind in SOURCES and not e.terminal
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

    def deliver(self, key: ResourceKey, event: object) -> Delivered | None:
        """A stream delivered ``event``: merge it (monotonically) and count ``key`` as fresh.

        None if the event carries no record for the store (a log delta, an unknown kind)."""
        self._emit_logs(key, event)
        source = SOURCES.get(key.kind)
        got = None if source is None else source.accept(self._stores, event)
        if got is None:
            return None
        if got.live:
            self.live.add(key)
            self._planner.set_transport(key, Transport.STREAM)
        self._planner.mark_fresh(key, terminal=got.terminal)
        self._wake()
        return got

    async def _follow(self, key: ResourceKey) -> None:
        p = self.policy
        source = SOURCES[key.kind]
        try:
            while True:
                try:
                    events_cm = source.open(self._client, key.id, p, self._known_logs(key))
                    async with events_cm as events:
                        if await self._read(key, events):
                            return  # the task finished (or the server said 204)
                except UnauthorizedError as exc:
                    self._on_unauthorized(exc)
                    return
                except (ForbiddenError, NotFoundError):
                    return  # final for this resource: polling decides what happens next
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

    def _known_logs(self, key: ResourceKey) -> KnownLogs:
        if key.kind != "task" or key.id not in self._log_listeners:
            return None
        return frozenset(self._log_ids.get(key.id, ()))

    async def _read(self, key: ResourceKey, events: AsyncIterator[object]) -> bool:
        """Deliver until the stream ends (True) or reconnects too often in a row (False)."""
        reconnects = 0
        async for event in events:
            if isinstance(event, StreamReconnecting):
                if event.oversized:
                    self._emit_dropped(key)
                self._fallback(key)
                reconnects += 1
                if reconnects > self.policy.max_reconnects:
                    return False
            elif (got := self.deliver(key, event)) is not None:
                self.failures.pop(key, None)  # the server answers: retry soon if it drops
                if got.live:
                    reconnects = 0
        return True
