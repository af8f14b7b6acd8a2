"""Engine endpoints (reference §3.2, §4.4) as the ``client.engines`` namespace, and the
reconnecting engine stream.

Engine actions (drain, update, stop, restart) are non-idempotent POSTs: they are never retried
once a byte was sent, so a lost answer raises ``OutcomeUnknownError`` instead of draining twice.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Unpack

from infdash.api.errors import ApiError
from infdash.api.models.common import CursorPage, as_dict
from infdash.api.models.engines import Engine, merge_engine
from infdash.api.query import ListArgs, path_id
from infdash.api.reconnect import FINAL_ERRORS, ReconnectingStream, StreamReconnecting
from infdash.api.streams import StreamFrame

if TYPE_CHECKING:
    from infdash.api.client import InferenceClient, StreamFormat


@dataclass(frozen=True, slots=True)
class EngineUpdate:
    """The accumulated engine after an ``update`` event (or a reconcile GET)."""

    engine: Engine
    fields: tuple[str, ...]
    source: Literal["stream", "reconcile"] = "stream"


EngineStreamEvent = EngineUpdate | StreamReconnecting


class EnginesAPI:
    """``client.engines``: list, inspect, follow and act on engines."""

    def __init__(self, client: InferenceClient) -> None:
        self._client = client

    async def list(self, **args: Unpack[ListArgs]) -> CursorPage[Engine]:
        """``POST /engines/list``: one page; follow ``next_cursor`` for more."""
        return await self._client.list_page("/engines/list", Engine.from_dict, **args)

    async def list_query(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> CursorPage[Engine]:
        """``GET /engines``: the query-string flavour of :meth:`list`."""
        return await self._client.query_page(
            "/engines", Engine.from_dict, limit=limit, cursor=cursor
        )

    async def get(self, engine_id: str) -> Engine:
        envelope = await self._client.request("GET", f"/engines/{path_id(engine_id, 'engine id')}")
        return Engine.from_dict(envelope.data)

    async def drain(self, engine_id: str) -> Engine | None:
        """Finish in-flight work, take no new tasks, then stop. Offline → ``ConflictError``."""
        return await self._action(engine_id, "drain")

    async def update(self, engine_id: str, version: str | None = None) -> Engine | None:
        """Update to ``stable`` (default), ``canary`` or a version such as ``v1.10.15``."""
        if version is not None and not version.strip():
            raise ValueError("version must be 'stable', 'canary' or e.g. 'v1.10.15', not empty")
        body = {"version": version.strip()} if version is not None else None
        return await self._action(engine_id, "update", body)

    async def stop(self, engine_id: str) -> Engine | None:
        """Graceful stop when connected; an offline engine is stopped at once."""
        return await self._action(engine_id, "stop")

    async def restart(self, engine_id: str) -> Engine | None:
        """Restart the cloud instance behind a provisioned engine."""
        return await self._action(engine_id, "restart")

    async def _action(
        self, engine_id: str, action: str, body: dict[str, Any] | None = None
    ) -> Engine | None:
        """POST an action; the body is undocumented, so an engine is returned only if sent."""
        envelope = await self._client.request(
            "POST",
            f"/engines/{path_id(engine_id, 'engine id')}/{action}",
            json=body,
            idempotent=False,
        )
        data = envelope.data
        if isinstance(data, dict) and isinstance(data.get("engine"), dict):
            data = data["engine"]
        try:
            return Engine.from_dict(data) if isinstance(data, dict) else None
        except ValueError:
            return None

    def stream(
        self,
        engine_id: str,
        *,
        fmt: StreamFormat | None = None,
        idle_timeout: float | None = None,
        until: Callable[[Engine], bool] | None = None,
    ) -> EngineStream:
        """Follow one engine: ``EngineUpdate``/``StreamReconnecting`` until closed (or until
        ``until(engine)`` is true). Use ``async with`` so the connection is always closed."""
        return EngineStream(
            self._client,
            path_id(engine_id, "engine id"),
            fmt=fmt,
            idle_timeout=idle_timeout,
            until=until,
        )


class EngineStream(ReconnectingStream[EngineUpdate]):
    """``GET /engines/{id}/stream`` with reconnects and reconciles; never ends on its own.

    A ``done`` event or a dropped connection is followed by a reconcile GET and a reconnect
    (backoff resets after progress), so a dashboard row stays live across server restarts.
    """

    def __init__(
        self,
        client: InferenceClient,
        engine_id: str,
        *,
        fmt: StreamFormat | None = None,
        idle_timeout: float | None = None,
        until: Callable[[Engine], bool] | None = None,
    ) -> None:
        self.engine_id = engine_id
        self.engine: Engine | None = None
        self._until = until
        super().__init__(
            client,
            f"/engines/{engine_id}/stream",
            fmt=fmt,
            idle_timeout=idle_timeout,
            max_reconnects=None,
        )

    async def __aenter__(self) -> EngineStream:
        return self

    @property
    def done(self) -> bool:
        return self._until is not None and self.engine is not None and self._until(self.engine)

    async def _connect_once(self) -> AsyncGenerator[EngineUpdate, None]:
        headers = {"Last-Event-ID": self.last_event_id} if self.last_event_id else None
        async with self._frames(headers=headers) as frames:
            async for frame in frames:
                if frame.heartbeat:
                    continue
                update = self._handle(frame)
                if update is not None:
                    yield update
                if self.done:
                    return
                if frame.event == "done":
                    return

    def _handle(self, frame: StreamFrame) -> EngineUpdate | None:
        self._note_retry(frame)
        if frame.id is not None:
            self.last_event_id = frame.id
        if frame.event not in ("update", "message", "engines"):
            return None
        data = as_dict(frame.data)
        if data.get("id", self.engine_id) != self.engine_id:
            self.stats.malformed += 1
            return None
        return self._apply(data, frame.fields, "stream")

    def _apply(
        self,
        data: dict[str, Any],
        fields: tuple[str, ...] | None,
        source: Literal["stream", "reconcile"],
    ) -> EngineUpdate | None:
        old = self.engine
        try:
            if old is None or source == "reconcile":
                engine = Engine.from_dict({"id": self.engine_id, **data})
            else:
                engine = merge_engine(old, data, fields)
        except ValueError:
            self.stats.malformed += 1
            return None
        if source == "stream":
            self._progress = True
        self.engine = engine
        before = old.raw if old is not None else {}
        changed = tuple(k for k, v in engine.raw.items() if k != "id" and before.get(k) != v)
        if old is not None and not changed:
            return None  # the same snapshot again after a reconnect
        return EngineUpdate(engine, changed, source)

    async def _reconcile(self) -> EngineUpdate | None:
        try:
            envelope = await self._client.request("GET", f"/engines/{self.engine_id}")
        except FINAL_ERRORS:
            raise
        except ApiError:
            return None
        self.reconciles += 1
        if not isinstance(envelope.data, dict):
            return None
        return self._apply(envelope.data, None, "reconcile")
