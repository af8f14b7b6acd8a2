"""The async loop around the pure planner: it performs the polls and keeps the store fresh.

One loop task asks the planner what is due, fires one request per action (never two for one
resource: the planner keeps it in flight until :meth:`Planner.complete`), then sleeps until
the plan's ``wake_at``, a completion or a subscription change — chained one-shot timing, no
fixed-rate timers.  Task polls are "cheap first": ``GET /tasks/{id}/status``, and the full
task only when the status changed; an engine poll is ``GET /engines/{id}``, a chat poll
``GET /chats/{id}`` (``polls.py``).  Every response's rate-limit headers reach the budget
through the client's tracker; results go into the kind's :class:`Store` (``store`` for tasks,
``engines``, ``chats``).  Textual-free: the UI subscribes, listens to the stores and draws
:meth:`Scheduler.snapshot`.

The client must not retry on its own (build it with ``retry=NO_RETRY``): waits after a 429 or
5xx belong to the budget and breaker here, where every poller hears about them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from enum import StrEnum
from typing import Any, TypeVar

from infdash.api import (
    ApiError,
    CancelResult,
    Chat,
    Engine,
    InferenceClient,
    RateLimitSnapshot,
    ServerError,
    Task,
    TransportError,
    UnauthorizedError,
)
from infdash.scheduler.backoff import Backoff, CircuitBreaker
from infdash.scheduler.budget import Budget
from infdash.scheduler.clock import Clock
from infdash.scheduler.engine_events import EngineEvents
from infdash.scheduler.limits import DEFAULT_CLASSES, BudgetConfig, LimitClass, Priority
from infdash.scheduler.planner import Outcome, Planner, PollAction
from infdash.scheduler.policy import SCHEDULER_POLICY, Tier, TierPolicy
from infdash.scheduler.polls import PollResult, perform_poll
from infdash.scheduler.ratelimit import (
    OTHER,
    RUN,
    observation_from_error,
    observation_from_snapshot,
)
from infdash.scheduler.snapshot import Snapshot, take_snapshot
from infdash.scheduler.store import Store
from infdash.scheduler.stores import Stores, chat_store, engine_store, task_store
from infdash.scheduler.streams import (
    DropListener,
    FocusedStreams,
    LogListener,
    Sleep,
    StreamDeps,
    StreamPolicy,
)
from infdash.scheduler.subscriptions import ResourceKey
from infdash.scheduler.watch import AccountWatch, WatchPolicy

T = TypeVar("T")
_log = logging.getLogger(__name__)
_CRASH_DELAY = 1.0
UNAUTHORIZED = "unauthorized"


class SchedulerState(StrEnum):
    STOPPED = "stopped"
    RUNNING = "running"
    PAUSED = "paused"
    UNAUTHORIZED = "unauthorized"
    """A 401: nothing is sent until :meth:`Scheduler.reset` (new key or profile), R9."""


def _key(resource: ResourceKey | str) -> ResourceKey:
    return resource if isinstance(resource, ResourceKey) else ResourceKey.task(resource)


class Scheduler:
    """Keeps subscribed resources fresh within the rate budget.  ``await start()`` … ``stop()``."""

    def __init__(
        self,
        client: InferenceClient,
        *,
        store: Store[Task] | None = None,
        engines: Store[Engine] | None = None,
        chats: Store[Chat] | None = None,
        classes: Iterable[LimitClass] = DEFAULT_CLASSES,
        budget_config: BudgetConfig | None = None,
        policy: TierPolicy | None = None,
        streams: StreamPolicy | None = None,
        watch: WatchPolicy | None = None,
        engine_events: WatchPolicy | None = None,
        breaker_threshold: int = 5,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self._clock = clock
        self._sleep = sleep
        rng = rng or random.Random()
        self.budget = Budget(classes, clock=clock, rng=rng, config=budget_config)
        backoff = Backoff(clock=clock, rng=rng, floor=0.5)
        breaker = CircuitBreaker(clock=clock, backoff=backoff, threshold=breaker_threshold)
        self.planner = Planner(
            self.budget, clock=clock, rng=rng, policy=policy or SCHEDULER_POLICY, breaker=breaker
        )
        self.store = store if store is not None else task_store(clock)
        self.engines = engines if engines is not None else engine_store(clock)
        self.chats = chats if chats is not None else chat_store(clock)
        self.stores = Stores(self.store, self.engines, self.chats)
        self.auth_error: ApiError | None = None
        self.requests = 0
        self.loop_errors = 0
        self.last_error: Exception | None = None
        """Polls sent (for the status bar and tests)."""
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._polls: set[asyncio.Task[None]] = set()
        deps = StreamDeps(
            client, self.planner, self.stores, sleep, rng, self._wake, self._unauthorized
        )
        self.streams = FocusedStreams(deps, streams)
        self.watch = AccountWatch(deps, watch)
        self.engine_events = EngineEvents(deps, engine_events)

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        if self._loop_task is not None:
            return
        self.client.rate_limits.add_listener(self._on_rate_limit)
        self._loop_task = asyncio.get_running_loop().create_task(self._run())
        self._sync_streams()

    async def stop(self) -> None:
        """Cancel the loop, every poll and every stream; nothing is left pending or open."""
        task, self._loop_task = self._loop_task, None
        if task is None:
            return
        self.client.rate_limits.remove_listener(self._on_rate_limit)
        polls = [task, *self._polls]
        for t in polls:
            t.cancel()
        await asyncio.gather(*polls, return_exceptions=True)
        self._polls.clear()
        await self.streams.close()
        await self.watch.close()
        await self.engine_events.close()

    @property
    def state(self) -> SchedulerState:
        if self.auth_error is not None:
            return SchedulerState.UNAUTHORIZED
        if self._loop_task is None:
            return SchedulerState.STOPPED
        return SchedulerState.PAUSED if self.planner.paused else SchedulerState.RUNNING

    # -- what the UI needs ---------------------------------------------------------------

    def subscribe(self, resource: ResourceKey | str, tier: Tier, owner: str) -> None:
        """``owner`` wants ``resource`` kept fresh at ``tier`` (again to change the tier)."""
        self.planner.subscribe(_key(resource), owner, tier)
        self._changed()

    def subscribe_many(
        self, resources: Iterable[ResourceKey | str], tier: Tier, owner: str
    ) -> None:
        self.planner.subscribe_many((_key(r) for r in resources), owner, tier)
        self._changed()

    def release(self, resource: ResourceKey | str, owner: str) -> None:
        self.planner.release(_key(resource), owner)
        self._changed()

    def release_owner(self, owner: str) -> None:
        self.planner.release_owner(owner)
        self._changed()

    def refresh(self, resource: ResourceKey | str) -> None:
        """Poll as soon as the budget allows (the user pressed refresh)."""
        self.planner.request_refresh(_key(resource))
        self._wake()

    def pause(self, reason: str) -> None:
        """Send nothing (app suspended, profile changing); streams close."""
        self.planner.pause(reason)
        self._changed()

    def resume(self, reason: str) -> None:
        self.planner.resume(reason)
        self._changed()

    def reset(self) -> None:
        """The profile or key changed: forget subscriptions, budget, stores and a 401."""
        for poll in self._polls:
            poll.cancel()
        self.planner.reset()
        self.budget.reset()
        self.stores.clear()
        self.auth_error = None
        self.planner.resume(UNAUTHORIZED)
        self._changed()

    def snapshot(self, resource_limit: int | None = 50) -> Snapshot:
        """What the status bar draws."""
        return take_snapshot(self.planner, now=self._clock(), resource_limit=resource_limit)

    def age(self, resource: ResourceKey | str) -> float | None:
        """Seconds since ``resource`` was last confirmed; 0 while a live stream follows it."""
        key = _key(resource)
        if key in self.streams.live:
            return 0.0
        entry = self.planner.subscriptions.get(key)
        if entry is None or entry.fresh_at is None:
            return None
        return max(0.0, self._clock() - entry.fresh_at)

    def listen_logs(
        self, task_id: str, listener: LogListener, on_dropped: DropListener | None = None
    ) -> Callable[[], None]:
        """Hear the new log entries of ``task_id``'s stream (only while it is FOCUSED, which is
        when the scheduler streams it): ``listener(new_logs)`` per batch, each entry once, and
        ``on_dropped()`` per event dropped for its size (R24).
        Returns the unlisten function.  Pair it with a ``/logs`` backfill (see
        ``infdash.ui.detail.logs.LogFeed``) for the history and the polling fallback."""
        return self.streams.listen_logs(task_id, listener, on_dropped)

    # -- user actions --------------------------------------------------------------------

    async def user_action(
        self,
        limit_class: str,
        call: Callable[[], Awaitable[T]],
        *,
        priority: Priority = Priority.USER,
    ) -> T:
        """Run a one-off request within the budget.

        At :data:`Priority.USER` (a key the user pressed) polling keeps a reserve for it, so it
        waits only for a server closure, never behind polls; a UI's own periodic request (the
        task list's head poll) passes :data:`Priority.POLL` and queues like any poll.
        """
        while True:
            if self.auth_error is not None:
                raise self.auth_error
            admission = self.budget.try_acquire(limit_class, priority)
            if admission.granted:
                break
            await self._sleep(max(0.0, admission.retry_at - self._clock()))
        try:
            return await call()
        except UnauthorizedError as exc:
            self._unauthorized(exc)
            raise
        except ServerError as exc:
            self._observe_error(limit_class, exc)
            raise
        except TransportError:
            self.budget.abandon(limit_class)
            raise

    async def cancel(self, task_id: str, *, force: bool = False) -> CancelResult:
        result = await self.user_action(
            OTHER, lambda: self.client.tasks.cancel(task_id, force=force)
        )
        self.refresh(task_id)
        return result

    async def run(self, app: str, input: dict[str, Any] | None = None, **options: Any) -> Task:
        task = await self.user_action(RUN, lambda: self.client.tasks.run(app, input, **options))
        self.store.apply(task)
        return task

    # -- test and harness support --------------------------------------------------------

    async def settle(self) -> None:
        """Return once the loop sleeps and no poll is in flight (harnesses step time then)."""
        if self._loop_task is None:
            return
        loop_task = self._loop_task
        while not (self._idle.is_set() and not self._polls and not self._wakeup.is_set()):
            waiter = asyncio.ensure_future(self._idle.wait())
            await asyncio.wait({waiter, loop_task}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if loop_task.done():
                loop_task.result()  # the loop died: say why instead of waiting forever
                return
            await asyncio.sleep(0)

    # -- the loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                plan = self.planner.plan()
                for action in plan.actions:
                    self._fire(action)
                delay = None if plan.wake_at is None else max(0.0, plan.wake_at - self._clock())
            except Exception as exc:  # a bug must not stop polling for good, nor spin
                self.loop_errors += 1
                _log.exception("scheduler loop failed; retrying in %.0f s", _CRASH_DELAY)
                self.last_error = exc
                delay = _CRASH_DELAY
            await self._park(delay)

    async def _park(self, delay: float | None) -> None:
        waiter: asyncio.Task[Any] = asyncio.ensure_future(self._wakeup.wait())
        waits: set[asyncio.Task[Any]] = {waiter}
        if delay is not None:
            waits.add(asyncio.ensure_future(self._nap(delay)))
        if not self._polls:
            self._idle.set()
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._idle.clear()
            for w in waits:
                w.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

    async def _nap(self, delay: float) -> None:
        await self._sleep(delay)
        self._idle.clear()  # in the same step as the wake-up: a harness never sees us idle

    def _fire(self, action: PollAction) -> None:
        self.requests += 1
        task = asyncio.get_running_loop().create_task(self._poll(action))
        self._polls.add(task)
        task.add_done_callback(self._polls.discard)

    async def _poll(self, action: PollAction) -> None:
        key = action.key
        result = PollResult(Outcome.CLIENT_ERROR)
        try:
            result = await perform_poll(self.client, self.stores, key, action.action)
            if isinstance(result.error, UnauthorizedError):
                self._unauthorized(result.error)
            elif isinstance(result.error, ServerError):
                self._observe_error(key.limit_class, result.error)
            if result.unanswered:
                self.budget.abandon(key.limit_class)
        finally:
            with contextlib.suppress(Exception):
                self.planner.complete(
                    key, result.outcome, changed=result.changed, terminal=result.terminal
                )
            current = asyncio.current_task()
            if current is not None:
                self._polls.discard(current)
            self._wake()
        if result.terminal:
            self._sync_streams()

    # -- reactions -----------------------------------------------------------------------

    def _on_rate_limit(self, snapshot: RateLimitSnapshot) -> None:
        self.budget.observe(observation_from_snapshot(snapshot, self._clock()))

    def _observe_error(self, limit_class: str, exc: ApiError) -> None:
        if exc.status is not None:
            obs = observation_from_error(limit_class, exc.status, exc.retry_after, self._clock())
            if obs is not None:
                self.budget.observe(obs)

    def _unauthorized(self, exc: ApiError) -> None:
        """R9: stop everything and say so; only :meth:`reset` (a new key) starts again."""
        if self.auth_error is None:
            self.auth_error = exc
            self.planner.pause(UNAUTHORIZED)
            self._changed()

    def _changed(self) -> None:
        self._sync_streams()
        self._wake()

    def _sync_streams(self) -> None:
        if self._loop_task is not None:
            self.streams.sync(allowed=not self.planner.paused)
            self.watch.sync(allowed=not self.planner.paused)
            self.engine_events.sync(allowed=not self.planner.paused)

    def _wake(self) -> None:
        self._wakeup.set()
        self._idle.clear()
