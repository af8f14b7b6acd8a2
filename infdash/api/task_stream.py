"""Follow one task to its end: ``GET /tasks/{id}/stream`` with reconnects and reconciles.

What the official SDKs get wrong and this does right (reference §10, performance.md R11–R16):
the HTTP status is checked before reading (401/403/404 are final; 429 waits ``Retry-After``;
204 means stop; an HTML page is a clear error, never a parser crash); partial updates are
merged into the accumulated task (raw dicts merged, then parsed); incremental ``logs`` are
surfaced as new lines and deduped by log id across reconnects; deltas are accumulated and
replays dropped by ``seq``; every end without a terminal status is reconciled with a REST GET
and reconnected with full-jitter backoff (the counter resets after progress) sending
``Last-Event-ID``; the response is always closed, also when the consumer stops early.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from infdash.api.errors import ApiError
from infdash.api.models.delta import DeltaAccumulator
from infdash.api.models.logs import TaskLog, TaskLogType
from infdash.api.models.tasks import Task
from infdash.api.reconnect import (
    DEFAULT_MAX_RECONNECTS,
    FINAL_ERRORS,
    NoContent,
    ReconnectingStream,
    StreamReconnecting,
    check_stream_response,
    pick_parser,
)
from infdash.api.streams import StreamFrame

if TYPE_CHECKING:
    from infdash.api.client import InferenceClient, StreamFormat

__all__ = [
    "DEFAULT_MAX_RECONNECTS",
    "FINAL_ERRORS",
    "NoContent",
    "StreamReconnecting",
    "TaskDelta",
    "TaskStream",
    "TaskStreamEvent",
    "TaskUpdate",
    "check_stream_response",
    "pick_parser",
]


@dataclass(frozen=True, slots=True)
class TaskUpdate:
    """The accumulated task after an update; ``new_logs`` are log entries not seen before."""

    task: Task
    fields: tuple[str, ...]
    new_logs: tuple[TaskLog, ...] = ()
    source: Literal["stream", "reconcile"] = "stream"


@dataclass(frozen=True, slots=True)
class TaskDelta:
    """Token output accumulated so far from ``delta`` events (``response``, ``tool_calls``...)."""

    task_id: str
    output: dict[str, Any]
    delta: dict[str, Any]
    seq: int | None


TaskStreamEvent = TaskUpdate | TaskDelta | StreamReconnecting


class TaskStream(ReconnectingStream[TaskUpdate | TaskDelta]):
    """Async iterator of :data:`TaskStreamEvent`, ending after the terminal task.

    ``async with client.tasks.stream(task_id) as events: async for event in events: ...``
    Leaving the block early (or ``aclose()``) closes the connection.
    """

    ended_reason = "stream ended before the task finished"

    def __init__(
        self,
        client: InferenceClient,
        task_id: str,
        *,
        fmt: StreamFormat | None = None,
        idle_timeout: float | None = None,
        max_reconnects: int = DEFAULT_MAX_RECONNECTS,
        known_log_ids: Iterable[str] = (),
    ) -> None:
        self.task_id = task_id
        self.task: Task | None = None
        self._raw: dict[str, Any] = {}
        self._seen_logs: set[str] = set(known_log_ids)
        self._deltas = DeltaAccumulator()
        self._streamed = False  # some connection delivered an update: a reconnect may leave a gap
        self._replayed = False  # this connection replayed frames we had (Last-Event-ID ignored)
        self.logs_gap = False
        """Set before reading: the caller's log (``known_log_ids``, or lines it read itself)
        may end before this stream starts, as when a stream replaces one that failed.  The
        first connection then fills that gap from ``/logs`` once it delivers, as every
        reconnect does — before any newer live entry, so the lines stay in order."""
        super().__init__(
            client,
            f"/tasks/{task_id}/stream",
            fmt=fmt,
            idle_timeout=idle_timeout,
            max_reconnects=max_reconnects,
        )

    async def __aenter__(self) -> TaskStream:
        return self

    @property
    def done(self) -> bool:
        return self.task is not None and self.task.is_terminal

    async def _connect_once(self) -> AsyncGenerator[TaskUpdate | TaskDelta, None]:
        headers: dict[str, str] = {}
        params: dict[str, str] = {}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
            params["last_event_id"] = self.last_event_id
        async with self._frames(params=params or None, headers=headers) as frames:
            # A reconnect that does not resume (NDJSON, no event id yet, or a server that
            # ignores Last-Event-ID and replays) misses the log lines written while we were
            # away: once the new connection delivers its first frame, fetch them from REST.
            may_gap = self._streamed or self.logs_gap
            resumable = self.last_event_id is not None
            self._replayed = False
            async for frame in frames:
                if frame.heartbeat:
                    continue
                for event in self._handle(frame):
                    yield event
                if may_gap and self.task is not None and (not resumable or self._replayed):
                    may_gap = self.logs_gap = False
                    missed = await self._missed_logs()
                    if missed:
                        yield TaskUpdate(self.task, ("logs",), missed)
                if self.done:
                    return

    def _handle(self, frame: StreamFrame) -> list[TaskUpdate | TaskDelta]:
        self._note_retry(frame)
        if frame.id is not None:
            if _is_replay(frame.id, self.last_event_id):
                self._replayed = True
                return []
            self.last_event_id = frame.id
        event = frame.event
        if event == "delta":
            return self._on_delta(frame.data)
        if event in ("update", "message", "tasks"):
            update = self._on_update(frame.data, frame.fields)
            return [update] if update is not None else []
        # "done" without a terminal task, "error", or unknown types: nothing to merge.
        return []

    def _on_delta(self, data: Any) -> list[TaskUpdate | TaskDelta]:
        if not isinstance(data, dict) or not self._deltas.apply(data):
            if not isinstance(data, dict) or not isinstance(data.get("delta"), dict):
                self.stats.malformed += 1
            return []
        self._progress = True
        output = dict(self._deltas.output)
        if isinstance(output.get("tool_calls"), list):
            output["tool_calls"] = copy.deepcopy(output["tool_calls"])
        seq = data.get("seq")
        return [
            TaskDelta(self.task_id, output, data["delta"], seq if isinstance(seq, int) else None)
        ]

    def _on_update(self, data: Any, fields: tuple[str, ...] | None) -> TaskUpdate | None:
        if not isinstance(data, dict) or data.get("id", self.task_id) != self.task_id:
            self.stats.malformed += 1
            return None
        data = dict(data)
        new_logs = self._new_logs(data.pop("logs", None))
        merged = {**self._raw, **data}
        merged.setdefault("id", self.task_id)
        try:
            task = Task.from_dict(merged)
        except ValueError:
            self.stats.malformed += 1
            return None
        if fields is None:  # a bare (full or SSE partial) DTO: report what actually changed
            changed = tuple(k for k, v in data.items() if k != "id" and self._raw.get(k) != v)
        else:
            changed = fields
        first = not self._raw
        self._raw = merged
        self.task = task
        self._progress = self._streamed = True
        if new_logs and "logs" not in changed:
            changed = (*changed, "logs")
        if not changed and not first:
            return None  # e.g. the same snapshot again after a reconnect
        return TaskUpdate(task, changed, new_logs)

    def _new_logs(self, raw: Any) -> tuple[TaskLog, ...]:
        if isinstance(raw, str) and raw:  # the docs' example: "logs": "Processing..."
            return (TaskLog(id="", log_type=TaskLogType.TASK, content=raw),)
        fresh: list[TaskLog] = []
        for entry in raw if isinstance(raw, list) else ():
            try:
                log = TaskLog.from_dict(entry)
            except ValueError:
                self.stats.malformed += 1
                continue
            if log.id:
                if log.id in self._seen_logs:
                    continue
                self._seen_logs.add(log.id)
            fresh.append(log)
        return tuple(fresh)

    async def _reconcile(self) -> TaskUpdate | None:
        """GET the task (the REST record is the truth); an update if anything changed."""
        try:
            envelope = await self._client.request("GET", f"/tasks/{self.task_id}")
        except FINAL_ERRORS:
            raise
        except ApiError:
            return None
        self.reconciles += 1
        data = envelope.data
        if not isinstance(data, dict):
            return None
        data = dict(data)
        new_logs = self._new_logs(data.pop("logs", None))
        data.setdefault("id", self.task_id)
        try:
            task = Task.from_dict(data)
        except ValueError:
            return None
        if task.is_terminal and (self._streamed or self.logs_gap):  # the last lines: from REST
            new_logs += await self._missed_logs()
        changed = tuple(k for k, v in data.items() if self._raw.get(k) != v)
        self._raw = data
        self.task = task
        if new_logs and "logs" not in changed:
            changed = (*changed, "logs")
        if not changed:
            return None
        return TaskUpdate(task, changed, new_logs, source="reconcile")

    async def _missed_logs(self) -> tuple[TaskLog, ...]:
        """Log entries from ``/tasks/{id}/logs`` not seen yet (pass ``known_log_ids`` for the
        history the caller already holds)."""
        try:
            envelope = await self._client.request("GET", f"/tasks/{self.task_id}/logs")
        except FINAL_ERRORS:
            raise
        except ApiError:
            return ()
        logs = envelope.data.get("logs") if isinstance(envelope.data, dict) else envelope.data
        return self._new_logs(logs)


def _is_replay(frame_id: str, last_id: str | None) -> bool:
    """A numeric event id at or below the last one seen was already processed."""
    if last_id is None:
        return False
    try:
        return int(frame_id) <= int(last_id)
    except ValueError:
        return False
