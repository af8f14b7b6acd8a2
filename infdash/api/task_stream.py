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
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from contextlib import aclosing
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import httpx

from infdash.api.envelope import parse_error
from infdash.api.errors import (
    ApiError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    StreamContentError,
    StreamError,
    UnauthorizedError,
)
from infdash.api.models.delta import DeltaAccumulator
from infdash.api.models.logs import TaskLog, TaskLogType
from infdash.api.models.tasks import Task
from infdash.api.retry import retry_delay
from infdash.api.streams import (
    NDJSONParser,
    SSEParser,
    StreamFrame,
    StreamStats,
    read_frames,
)

if TYPE_CHECKING:
    from infdash.api.client import InferenceClient, StreamFormat

# Errors after which reconnecting cannot help.
FINAL_ERRORS = (UnauthorizedError, ForbiddenError, NotFoundError)
DEFAULT_MAX_RECONNECTS = 5


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


@dataclass(frozen=True, slots=True)
class StreamReconnecting:
    """The connection ended early; the next attempt starts after ``delay`` seconds."""

    attempt: int
    delay: float
    reason: str


TaskStreamEvent = TaskUpdate | TaskDelta | StreamReconnecting


class NoContent(Exception):
    """The stream answered 204: the server says not to reconnect (WHATWG SSE)."""


def pick_parser(response: httpx.Response, path: str) -> SSEParser | NDJSONParser:
    """A parser for the response's content type; anything else is a clear StreamError."""
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if "event-stream" in ctype:
        return SSEParser()
    if "ndjson" in ctype or "jsonl" in ctype or ctype == "application/json":
        return NDJSONParser()
    what = "an HTML page (a proxy or captive portal?)" if "html" in ctype else repr(ctype)
    raise StreamContentError(
        f"stream answered with {what} instead of an event stream",
        status=response.status_code,
        method="GET",
        path=path,
    )


async def check_stream_response(
    client: InferenceClient, response: httpx.Response, path: str
) -> SSEParser | NDJSONParser:
    """Check a stream's status before reading it: raise the mapped error, or pick a parser."""
    status = response.status_code
    if status == 204:
        raise NoContent
    if not 200 <= status < 300:
        await response.aread()
        retry_after = client.observe_stream_response(path, response)
        raise parse_error(response, "GET", path, retry_after)
    return pick_parser(response, path)


class TaskStream:
    """Async iterator of :data:`TaskStreamEvent`, ending after the terminal task.

    ``async with client.tasks.stream(task_id) as events: async for event in events: ...``
    Leaving the block early (or ``aclose()``) closes the connection.
    """

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
        self._client = client
        self.task_id = task_id
        self.path = f"/tasks/{task_id}/stream"
        self.fmt: StreamFormat = fmt or client.stream_format
        self.idle_timeout = client.idle_timeout if idle_timeout is None else idle_timeout
        self.max_reconnects = max_reconnects
        self.stats = StreamStats()
        self.connections = 0
        self.reconciles = 0
        self.last_event_id: str | None = None
        self.server_retry: float | None = None
        self.task: Task | None = None
        self._raw: dict[str, Any] = {}
        self._seen_logs: set[str] = set(known_log_ids)
        self._deltas = DeltaAccumulator()
        self._progress = False
        self._streamed = False  # some connection delivered an update: a reconnect may leave a gap
        self._replayed = False  # this connection replayed frames we had (Last-Event-ID ignored)
        self._gen = self._run()

    def __aiter__(self) -> AsyncIterator[TaskStreamEvent]:
        return self

    async def __anext__(self) -> TaskStreamEvent:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        await self._gen.aclose()

    async def __aenter__(self) -> TaskStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def done(self) -> bool:
        return self.task is not None and self.task.is_terminal

    async def _run(self) -> AsyncGenerator[TaskStreamEvent, None]:
        failures = 0
        while True:
            limited: RateLimitedError | None = None
            stop = False
            self._progress = False
            try:
                async with aclosing(self._connect_once()) as events:
                    async for event in events:
                        yield event
                if self.done:
                    return
                reason = "stream ended before the task finished"
            except FINAL_ERRORS:
                raise
            except NoContent:
                stop, reason = True, "server asked not to reconnect (204)"
            except RateLimitedError as exc:
                reason, limited = str(exc), exc
            except StreamContentError:
                # A wrong content type will not fix itself: reconcile, then say so.
                update = await self._reconcile()
                if update is not None:
                    yield update
                if self.done:
                    return
                raise
            except ApiError as exc:
                if exc.status is not None and exc.status < 500:
                    raise
                reason = str(exc)
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            update = await self._reconcile()
            if update is not None:
                yield update
            if self.done or stop:
                return
            failures = 1 if self._progress else failures + 1
            if failures > self.max_reconnects:
                raise StreamError(
                    f"gave up after {self.max_reconnects} reconnects: {reason}",
                    method="GET",
                    path=self.path,
                )
            retry_after = limited.retry_after if limited is not None else None
            delay = retry_delay(failures - 1, retry_after, self._client.retry, self._client.rand)
            if delay is None:  # only a 429 whose Retry-After is beyond the cap
                raise limited or StreamError(f"not reconnecting: {reason}", path=self.path)
            if retry_after is None and failures == 1 and self.server_retry is not None:
                delay = self.server_retry  # the server's SSE ``retry:`` for the first attempt
            yield StreamReconnecting(failures, delay, reason)
            await self._client.sleep(delay)

    async def _connect_once(self) -> AsyncGenerator[TaskStreamEvent, None]:
        headers: dict[str, str] = {}
        params: dict[str, str] = {}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
            params["last_event_id"] = self.last_event_id
        async with self._client.open_stream(
            self.path, fmt=self.fmt, params=params or None, headers=headers
        ) as response:
            self.connections += 1
            parser = await check_stream_response(self._client, response, self.path)
            # A reconnect that does not resume (NDJSON, no event id yet, or a server that
            # ignores Last-Event-ID and replays) misses the log lines written while we were
            # away: once the new connection delivers its first frame, fetch them from REST.
            may_gap = self._streamed
            resumable = self.last_event_id is not None
            self._replayed = False
            frames = read_frames(
                response, parser, idle_timeout=self.idle_timeout, clock=self._client.monotonic
            )
            try:
                async with aclosing(frames):
                    async for frame in frames:
                        if frame.heartbeat:
                            continue
                        for event in self._handle(frame):
                            yield event
                        if may_gap and self.task is not None and (not resumable or self._replayed):
                            may_gap = False
                            missed = await self._missed_logs()
                            if missed:
                                yield TaskUpdate(self.task, ("logs",), missed)
                        if self.done:
                            return
            finally:
                self._add_stats(parser.stats)

    def _add_stats(self, stats: StreamStats) -> None:
        self.stats.frames += stats.frames
        self.stats.heartbeats += stats.heartbeats
        self.stats.malformed += stats.malformed
        self.stats.bytes += stats.bytes

    def _handle(self, frame: StreamFrame) -> list[TaskStreamEvent]:
        if frame.retry is not None:
            self.server_retry = min(frame.retry / 1000, self._client.retry.max_delay)
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

    def _on_delta(self, data: Any) -> list[TaskStreamEvent]:
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
        if task.is_terminal and self._streamed:  # the stream will not deliver the last lines
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
