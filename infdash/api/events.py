"""Workspace events, ``GET /events`` (reference §4.4): one feed of table changes.

Lines are ``{"event": "<table>", "data": {...}, "fields"?: [...]}`` (SSE: ``event: engines``).
There is no resume, so after a reconnect the consumer must re-list what it shows: the stream
yields :class:`StreamReconnecting` to say so, and keeps going until it is closed.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from infdash.api.models.common import as_str
from infdash.api.models.engines import Engine, merge_engine
from infdash.api.reconnect import ReconnectingStream, StreamReconnecting

if TYPE_CHECKING:
    from infdash.api.client import InferenceClient, StreamFormat


@dataclass(frozen=True, slots=True)
class WorkspaceEvent:
    """One change to a workspace table (``engines``, ``transactions``, ``users``…).

    ``partial`` is True when ``data`` carries only ``fields`` (plus ``id``): merge it into what
    you hold (for engines: :meth:`apply_to`), don't replace.
    """

    table: str
    data: dict[str, Any]
    fields: tuple[str, ...] | None
    partial: bool

    @property
    def id(self) -> str:
        return as_str(self.data.get("id"))

    def engine(self) -> Engine | None:
        """The whole engine, when this is a full ``engines`` event."""
        if self.table != "engines" or self.partial:
            return None
        try:
            return Engine.from_dict(self.data)
        except ValueError:
            return None

    def apply_to(self, engine: Engine) -> Engine:
        """Fold this ``engines`` event into ``engine`` (partial or full)."""
        return merge_engine(engine, self.data, self.fields if self.partial else None)


def workspace_event(event: str, data: Any, fields: tuple[str, ...] | None) -> WorkspaceEvent | None:
    """Build an event from a decoded frame; ``None`` for anything that is not a table change."""
    if not isinstance(data, dict) or not event or event in ("message", "update", "done"):
        return None
    # NDJSON marks partials with ``fields``; SSE sends a bare partial DTO (no ``created_at``).
    partial = fields is not None or "created_at" not in data
    return WorkspaceEvent(event, data, fields, partial)


class WorkspaceEventStream(ReconnectingStream[WorkspaceEvent]):
    """``GET /events``: ``WorkspaceEvent`` and ``StreamReconnecting`` until closed."""

    def __init__(
        self,
        client: InferenceClient,
        *,
        tables: Collection[str] | None = None,
        fmt: StreamFormat | None = None,
        idle_timeout: float | None = None,
    ) -> None:
        self.tables = frozenset(tables) if tables is not None else None
        super().__init__(client, "/events", fmt=fmt, idle_timeout=idle_timeout, max_reconnects=None)

    async def __aenter__(self) -> WorkspaceEventStream:
        return self

    async def _connect_once(self) -> AsyncGenerator[WorkspaceEvent, None]:
        async with self._frames() as frames:
            async for frame in frames:
                if frame.heartbeat:
                    continue
                self._note_retry(frame)
                event = workspace_event(frame.event, frame.data, frame.fields)
                if event is None:
                    continue
                self._progress = True
                if self.tables is None or event.table in self.tables:
                    yield event


__all__ = ["StreamReconnecting", "WorkspaceEvent", "WorkspaceEventStream", "workspace_event"]
