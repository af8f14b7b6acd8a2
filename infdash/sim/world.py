"""The simulated world: tasks, engines, the clock and the pub/sub that streams read.

Every method runs on the server's event loop (routes call it directly; tests reach it through
``SimServer.call``), so there is no locking. Status changes go through :meth:`World.set_status`,
which records the event, publishes it and keeps the account-wide stream informed.
"""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from infdash.sim.catalog import AppRef
from infdash.sim.chats import ChatEngine
from infdash.sim.clock import Scheduler, rfc3339
from infdash.sim.config import FaultConfig, SimConfig
from infdash.sim.engine_lifecycle import EngineLifecycle
from infdash.sim.engines import EnginePool
from infdash.sim.ids import make_id
from infdash.sim.listing import SortCache
from infdash.sim.logs import log_entry
from infdash.sim.pubsub import Subscription
from infdash.sim.ratelimit import RateLimiter
from infdash.sim.seed import schedule_traffic, seed_world
from infdash.sim.tasks import (
    CANCELLED,
    CANCELLING,
    QUEUED,
    RECEIVED,
    StreamEvent,
    Task,
)
from infdash.sim.walk import Walker

if TYPE_CHECKING:
    from infdash.sim.files import SimFile


class InvalidTransition(Exception):
    """The task already moved on (e.g. cancel or delete at the wrong time)."""


class World:
    """All simulator state. Create it, then call :meth:`start` on the loop that will serve it."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.faults: FaultConfig = copy.deepcopy(config.faults)
        self.api_key = config.api_key
        self.sched = Scheduler(config.start_time, config.speed, config.manual_clock)
        self.rng = random.Random(config.seed)
        self.engines = EnginePool(
            config.seed,
            config.engines,
            config.workers_per_engine,
            config.start_time,
            offline=config.offline_engines,
        )
        self.tasks: dict[str, Task] = {}
        self.queue: list[str] = []
        self.limiter = RateLimiter(config.rate_limits)
        self.webhook_deliveries: list[dict[str, Any]] = []
        """One record per webhook attempt: ``{task_id, url, status | error}``."""
        self.run_requests = 0
        """How many run requests reached the handler (R7 checks count POSTs)."""
        self._counter = 0
        self._subs: dict[str, set[Subscription]] = {}
        """Stream inboxes by topic: ``task:<id>``, ``tasks`` (account), ``events``,
        ``engine:<id>``, ``chat:<id>``."""
        self._terminal_hooks: dict[str, list[Callable[[Task], None]]] = {}
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self.closing = False
        self.walker = Walker(self)
        self.lifecycle = EngineLifecycle(self)
        self.chats = ChatEngine(self)
        """Chats, messages, tool invocations and running turns (``chats.py``)."""
        self.files: dict[str, SimFile] = {}
        self.approvals_require_sign_in = config.approvals_require_sign_in
        self._id_counters: dict[str, int] = {}
        self.task_set_version = 0
        """Bumped whenever a task is added or deleted (keys the list's sort cache)."""
        self.task_sort_cache = SortCache()

    # clock -----------------------------------------------------------------------------
    def now(self) -> float:
        """Simulated epoch seconds."""
        return self.sched.now()

    def start(self) -> None:
        """Seed history and start the clock; must run on the serving loop."""
        self.sched.start()
        seed_world(self)
        schedule_traffic(self)

    async def stop(self) -> None:
        """Close every stream, release held requests, stop timers and background jobs."""
        self.closing = True
        for subs in list(self._subs.values()):
            for sub in list(subs):
                sub.close()
        for futs in self._waiters.values():
            for fut in futs:
                if not fut.done():
                    fut.set_result(None)
        await self.sched.stop()
        for job in list(self._background):
            job.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def spawn(self, coro: Any) -> None:
        """Run a background coroutine owned by the world (cancelled on stop)."""
        job: asyncio.Task[Any] = asyncio.get_running_loop().create_task(coro)
        self._background.add(job)
        job.add_done_callback(self._background.discard)

    # tasks -----------------------------------------------------------------------------
    def next_task_id(self) -> str:
        """Deterministic id of the next live task."""
        self._counter += 1
        return make_id("task", self.config.seed, "live", self._counter)

    def next_id(self, prefix: str) -> str:
        """Deterministic id of the next object of a kind (``chat``, ``msg``, ``file``, …)."""
        n = self._id_counters.get(prefix, 0) + 1
        self._id_counters[prefix] = n
        return make_id(prefix, self.config.seed, f"live-{prefix}", n)

    def add_task(self, task: Task) -> None:
        """Register a task (seeded or live) without publishing it."""
        self.tasks[task.id] = task
        self.task_set_version += 1

    def get_task(self, task_id: str) -> Task | None:
        """A task by id or short id; deleted tasks are gone."""
        task = self.tasks.get(task_id)
        if task is None:
            task = next((t for t in self.tasks.values() if t.short_id == task_id), None)
        return None if task is None or task.deleted else task

    def create_task(self, app: AppRef, body: dict[str, Any]) -> Task:
        """A new live task in status ``received``; the walk takes it from there."""
        task_id = self.next_task_id()
        now = self.now()
        task = Task(
            id=task_id,
            app=app,
            created_at=now,
            updated_at=now,
            input=body["input"],
            rng=random.Random(f"{self.config.seed}:{task_id}"),
            setup=body.get("setup"),
            infra=str(body.get("infra") or "cloud"),
            workers=[str(w) for w in body.get("workers") or []],
            webhook=body.get("webhook"),
            run_at=body.get("_run_at"),
        )
        task.events.append((RECEIVED, now))
        self.add_task(task)
        self.publish_account(task.dto(), None)
        self.walker.begin(task)
        return task

    def cancel_task(self, task: Task, force: bool) -> None:
        """Graceful: → cancelling → cancelled shortly; force or not yet dispatched: now."""
        if task.terminal:
            raise InvalidTransition(f"task {task.id} is already {task.status}")
        if force or task.status in (RECEIVED, QUEUED):
            self.walker.finish(task, CANCELLED, error=None)
            return
        if task.status == CANCELLING:
            return
        task.cancel_timers()
        self.set_status(task, CANCELLING)
        self.walker.log(task, [(4, "cancel requested: waiting for the app's on_cancel hook")])
        delay = 1.0 + task.rng.random()
        task.timers.append(
            self.sched.call_later(delay, lambda: self.walker.finish(task, CANCELLED, None))
        )

    def delete_task(self, task: Task) -> None:
        """Remove a terminal task; others raise :class:`InvalidTransition`."""
        if not task.terminal:
            raise InvalidTransition(f"task {task.id} is not finished")
        task.deleted = True
        del self.tasks[task.id]
        self.task_set_version += 1
        self.publish_account({"id": task.id, "deleted_at": rfc3339(self.now())}, None)
        for sub in self._subs.pop(f"task:{task.id}", set()):
            sub.close()

    def set_status(self, task: Task, status: int, **extra: Any) -> None:
        """Record a transition and publish it (full task when terminal)."""
        now = self.now()
        task.status = status
        task.updated_at = now
        task.events.append((status, now))
        for key, value in extra.items():
            setattr(task, key, value)
        if task.terminal:
            self.record(task, "update", task.dto(), None, terminal=True)
        else:
            data = {"id": task.id, "status": status, "updated_at": rfc3339(now)}
            data.update(self._extra_fields(task, extra))
            fields = [k for k in data if k != "id"]
            self.record(task, "update", data, fields)
        account = {"id": task.id, "status": status, "updated_at": rfc3339(now)}
        account.update(self._extra_fields(task, extra))
        if task.terminal:
            account.update({"output": task.output, "error": task.error})
        self.publish_account(account, [k for k in account if k != "id"])

    @staticmethod
    def _extra_fields(task: Task, extra: dict[str, Any]) -> dict[str, Any]:
        dto = task.dto()
        out: dict[str, Any] = {}
        for key in extra:
            if key == "worker":
                out.update({k: dto[k] for k in ("worker_id", "worker", "engine_id", "engine")})
            elif key in dto:
                out[key] = dto[key]
        return out

    def append_logs(self, task: Task, lines: list[tuple[int, str]]) -> None:
        """Write log lines as ``TaskLog`` chunks (one per run of one log type) and publish."""
        if not lines:
            return
        stamp = rfc3339(self.now())
        entries: list[dict[str, Any]] = []
        group: list[str] = []
        group_type = lines[0][0]
        for log_type, text in [*lines, (-1, "")]:
            if log_type != group_type and group:
                entries.append(
                    log_entry(
                        task.id,
                        task.log_count,
                        stamp,
                        group_type,
                        "".join(line + "\n" for line in group),
                        self.config.log_encoding,
                    )
                )
                task.log_count += 1
                group = []
            group_type = log_type
            group.append(text)
        task.logs.extend(entries)
        self.record(task, "update", {"id": task.id, "logs": entries}, ["logs"])

    def emit_delta(self, task: Task, text: str) -> None:
        """A token delta (``resource_id`` empty for plain app runs)."""
        task.delta_seq += 1
        data = {"resource_id": "", "seq": task.delta_seq, "delta": {"response": text}}
        self.record(task, "delta", data, None)

    # pub/sub ---------------------------------------------------------------------------
    def record(
        self,
        task: Task,
        kind: str,
        data: dict[str, Any],
        fields: list[str] | None,
        terminal: bool = False,
    ) -> StreamEvent:
        """Append to the task's stream history (for replay) and deliver to live readers."""
        task.seq += 1
        event = StreamEvent(task.seq, kind, data, fields, terminal)
        task.stream.append(event)
        self.publish(f"task:{task.id}", event)
        if terminal:
            for fut in self._waiters.pop(task.id, []):
                if not fut.done():
                    fut.set_result(None)
            for hook in self._terminal_hooks.pop(task.id, []):
                hook(task)
        return event

    def on_terminal(self, task: Task, hook: Callable[[Task], None]) -> None:
        """Call ``hook(task)`` once when the task ends (at once if it already has)."""
        if task.terminal:
            hook(task)
        else:
            self._terminal_hooks.setdefault(task.id, []).append(hook)

    def publish(self, topic: str, event: StreamEvent) -> None:
        """Deliver one event to every live reader of a topic."""
        for sub in list(self._subs.get(topic, ())):
            sub.put(event)

    def publish_account(self, data: dict[str, Any], fields: list[str] | None) -> None:
        """Deliver one ``tasks`` event to every account-stream reader."""
        if "logs" in data and fields is None:
            data = {k: v for k, v in data.items() if k != "logs"}
        event = StreamEvent(0, "tasks", data, fields)
        self.publish("tasks", event)
        self.publish("events", event)

    def subscribe(self, topic: str) -> Subscription:
        """A new inbox for one topic (see ``_subs``)."""
        sub = Subscription(self.sched, self.config.heartbeat_interval)
        if self.closing:
            sub.close()
        else:
            self._subs.setdefault(topic, set()).add(sub)
        return sub

    def unsubscribe(self, topic: str, sub: Subscription) -> None:
        """Forget an inbox (its stream ended)."""
        sub.close()
        subs = self._subs.get(topic)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[topic]

    def stream_count(self) -> int:
        """Open stream subscriptions (tests check none leak)."""
        return sum(len(s) for s in self._subs.values())

    def wait_terminal(self, task: Task) -> asyncio.Future[None]:
        """A future that resolves when the task ends (or the server stops)."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if task.terminal or self.closing:
            fut.set_result(None)
        else:
            self._waiters.setdefault(task.id, []).append(fut)
        return fut
