"""Change feeds into the stores: the account's task changes (``GET /tasks/stream``) and, in
``engine_events.py``, the workspace's engine changes (``GET /events``).

Both are optional (``WatchPolicy(enabled=True)``) and share :class:`Feed`: one connection kept
open while the scheduler runs, reopened after full-jitter backoff, a 401 stopping everything
(R9).  A feed makes changes arrive sooner; it does not replace the polls' reconcile, and the
monotonic store ignores a change older than what a poll already returned (R26).

The task watch: a whole task is merged as is; a partial change's status and ``updated_at`` are
merged at once (the UI shows the new status without waiting for a poll) and the task is marked
for a full fetch, which its tier's poll then makes — REST stays the truth.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, aclosing
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

from infdash.api import ApiError, StreamReconnecting, TaskChange, UnauthorizedError
from infdash.api.models.common import parse_datetime
from infdash.scheduler.streams import StreamDeps, Supervised, retry_delay
from infdash.scheduler.subscriptions import ResourceKey

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class WatchPolicy:
    enabled: bool = False
    retry_base: float = 2.0
    retry_cap: float = 120.0
    retry_floor: float = 1.0


class Feed(Supervised, Generic[T]):
    """Keeps one change feed open while the scheduler runs; subclasses open and apply."""

    def __init__(self, deps: StreamDeps, policy: WatchPolicy | None = None) -> None:
        super().__init__(deps)
        self.policy = policy or WatchPolicy()
        self._task: asyncio.Task[None] | None = None
        self.live = False
        self.changes = 0

    def _open(self) -> AbstractAsyncContextManager[AsyncIterator[T | StreamReconnecting]]:
        raise NotImplementedError

    def apply(self, change: T) -> None:
        raise NotImplementedError

    def _gap(self) -> None:
        """The feed reconnected and has no resume: changes in between may be lost."""

    def sync(self, allowed: bool) -> None:
        """Run the feed while allowed (not paused, not unauthorized) and enabled."""
        want = allowed and self.policy.enabled
        if want and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        elif not want and self._task is not None:
            self._task.cancel()
            self._task = None
            self.live = False

    async def close(self) -> None:
        task, self._task = self._task, None
        self.live = False
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        p = self.policy
        failures = 0
        while True:
            try:
                async with self._open() as changes:
                    self.live = True
                    async for change in changes:
                        if isinstance(change, StreamReconnecting):
                            self.live = False
                            self._gap()
                            continue
                        self.live = True
                        failures = 0
                        self.changes += 1
                        self.apply(change)
            except UnauthorizedError as exc:
                self.live = False
                self._on_unauthorized(exc)
                return
            except (ApiError, httpx.HTTPError):
                pass
            self.live = False
            failures += 1
            await self._sleep(
                retry_delay(failures, p.retry_base, p.retry_cap, p.retry_floor, self._rng)
            )


class AccountWatch(Feed[TaskChange]):
    """Keeps one ``client.tasks.watch()`` connection open while the scheduler runs."""

    def _open(self) -> AbstractAsyncContextManager[AsyncIterator[TaskChange | StreamReconnecting]]:
        return aclosing(self._client.tasks.watch())

    def apply(self, change: TaskChange) -> None:
        """Merge one change into the store; ask for the full record of a watched task."""
        store = self._stores.tasks
        if change.deleted:
            store.remove(change.task_id)
            return
        key = ResourceKey.task(change.task_id)
        task = change.task()
        if task is not None:
            store.apply(task)
            return
        fields: dict[str, Any] = {}
        if change.status is not None:
            fields["status"] = change.status
        if "updated_at" in change.data:
            fields["updated_at"] = parse_datetime(change.data["updated_at"])
        if fields and store.apply_partial(change.task_id, fields):
            self._planner.request_full(key)
            self._wake()
