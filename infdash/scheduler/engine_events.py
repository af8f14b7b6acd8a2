"""The workspace's engine changes (``GET /events``, table ``engines``) as a feed into the store.

Optional (``Scheduler(engine_events=WatchPolicy(enabled=True))``): one connection tells us
about every engine of the workspace as it changes, so the engines screen shows a drain or a
worker taking a task without waiting for a poll.  A whole engine is merged as is; a partial
(``{id, status, …}`` with ``fields``) is folded into the engine we hold, which re-parses the
raw DTO exactly as a full fetch would.  A partial for an engine we never fetched cannot make a
whole one, so a subscribed engine is polled at once instead.  The feed has no resume: after a
reconnect every subscribed engine is polled again, since changes in between may be lost.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

from infdash.api import StreamReconnecting, WorkspaceEvent
from infdash.scheduler.subscriptions import ResourceKey
from infdash.scheduler.watch import Feed

TABLE = "engines"


class EngineEvents(Feed[WorkspaceEvent]):
    """Keeps one ``client.events(tables=("engines",))`` connection open while enabled."""

    def _open(
        self,
    ) -> AbstractAsyncContextManager[AsyncIterator[WorkspaceEvent | StreamReconnecting]]:
        return self._client.events(tables=(TABLE,))

    def apply(self, change: WorkspaceEvent) -> None:
        """Merge one engine change; a subscribed engine we cannot merge into is polled."""
        if change.table != TABLE or not change.id:
            return
        store = self._stores.engines
        whole = change.engine()
        if whole is not None:
            store.apply(whole)
            return
        known = store.get(change.id)
        if known is not None:
            try:
                store.apply(change.apply_to(known))
            except ValueError:  # a malformed partial: the next poll tells the truth
                self._refresh(ResourceKey.engine(change.id))
            return
        self._refresh(ResourceKey.engine(change.id))

    def _gap(self) -> None:
        for entry in self._planner.subscriptions:
            if entry.key.kind == "engine":
                self._planner.request_refresh(entry.key)
        self._wake()

    def _refresh(self, key: ResourceKey) -> None:
        if key in self._planner.subscriptions:
            self._planner.request_refresh(key)
            self._wake()
