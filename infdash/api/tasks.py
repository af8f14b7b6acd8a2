"""Task endpoints (reference §3.1), as the ``client.tasks`` namespace."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

from infdash.api.models.common import CursorPage, as_dict, as_str
from infdash.api.models.logs import TaskLogs
from infdash.api.models.metrics import TaskCost, TelemetrySample, parse_telemetry
from infdash.api.models.status import TaskStatus
from infdash.api.models.tasks import CancelResult, ResourceStatus, Task
from infdash.api.models.timings import TaskTimings
from infdash.api.query import ListArgs, path_id
from infdash.api.streams import read_frames
from infdash.api.task_stream import (
    DEFAULT_MAX_RECONNECTS,
    NoContent,
    TaskStream,
    check_stream_response,
)

if TYPE_CHECKING:
    from infdash.api.client import InferenceClient, StreamFormat

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TaskChange:
    """One change from the account-wide ``GET /tasks/stream``.

    A new task arrives whole (``partial`` False); a change is a partial DTO with ``id``,
    ``status``, ``updated_at`` and whatever else changed; a deletion is ``{id, deleted_at}``.
    """

    task_id: str
    data: dict[str, Any]
    fields: tuple[str, ...]
    partial: bool
    deleted: bool
    status: TaskStatus | None

    def task(self) -> Task | None:
        """The parsed task when this change carries a whole one."""
        return None if self.partial or self.deleted else Task.from_dict(self.data)


def _path_id(task_id: str) -> str:
    return path_id(task_id, "task id")


class TasksAPI:
    """``client.tasks``: run, inspect, list, stream, cancel and delete tasks."""

    def __init__(self, client: InferenceClient) -> None:
        self._client = client

    async def run(
        self,
        app: str,
        input: Mapping[str, Any] | None = None,
        *,
        setup: Mapping[str, Any] | None = None,
        infra: str | None = None,
        workers: Sequence[str] | None = None,
        webhook: str | None = None,
        session: str | None = None,
        session_timeout: int | None = None,
        run_at: str | None = None,
        function: str | None = None,
    ) -> Task:
        """``POST /run?wait=false``. Never retried once sent: a lost answer raises
        ``OutcomeUnknownError`` (the task may exist; look for it before running again)."""
        body: dict[str, Any] = {"app": app, "input": dict(input or {})}
        optional: dict[str, Any] = {
            "setup": dict(setup) if setup is not None else None,
            "infra": infra,
            "workers": list(workers) if workers is not None else None,
            "webhook": webhook,
            "session": session,
            "session_timeout": session_timeout,
            "run_at": run_at,
            "function": function,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        envelope = await self._client.request(
            "POST", "/run", json=body, params={"wait": "false"}, idempotent=False
        )
        return Task.from_dict(envelope.data)

    async def get(self, task_id: str) -> Task:
        envelope = await self._client.request("GET", f"/tasks/{_path_id(task_id)}")
        return Task.from_dict(envelope.data)

    async def status(self, task_id: str) -> ResourceStatus:
        """``GET /tasks/{id}/status``: the cheap poll."""
        envelope = await self._client.request("GET", f"/tasks/{_path_id(task_id)}/status")
        return ResourceStatus.from_dict(envelope.data)

    async def list(self, **args: Unpack[ListArgs]) -> CursorPage[Task]:
        """``POST /tasks/list``: one page; follow ``next_cursor``/``prev_cursor`` both ways."""
        return await self._client.list_page("/tasks/list", Task.from_dict, **args)

    async def list_rows(self, parse: Callable[[Any], T], **args: Unpack[ListArgs]) -> CursorPage[T]:
        """``POST /tasks/list`` with each item read by ``parse`` instead of ``Task.from_dict``.

        For a caller that keeps a few fields of many tasks (the task list's rows): ``parse``
        takes one raw TaskDTO and raises ``ValueError`` to have it skipped and counted.
        """
        return await self._client.list_page("/tasks/list", parse, **args)

    async def logs(self, task_id: str) -> TaskLogs:
        envelope = await self._client.request("GET", f"/tasks/{_path_id(task_id)}/logs")
        return TaskLogs.from_dict(envelope.data, task_id)

    async def timings(self, task_id: str) -> TaskTimings:
        envelope = await self._client.request("GET", f"/tasks/{_path_id(task_id)}/timings")
        return TaskTimings.from_dict(envelope.data, task_id)

    async def telemetry(self, task_id: str) -> tuple[TelemetrySample, ...]:
        envelope = await self._client.request("GET", f"/tasks/{_path_id(task_id)}/telemetry")
        samples, _ = parse_telemetry(envelope.data)
        return samples

    async def cost(self, task_id: str) -> TaskCost:
        """``GET /usage/tasks/{id}/cost``; ``NotFoundError`` until the task has finished."""
        envelope = await self._client.request("GET", f"/usage/tasks/{_path_id(task_id)}/cost")
        return TaskCost.from_dict(envelope.data)

    async def cancel(self, task_id: str, *, force: bool = False) -> CancelResult:
        """``POST /tasks/{id}/cancel``; a finished task raises ``InvalidTransitionError``."""
        body = {"force": True} if force else None
        envelope = await self._client.request(
            "POST", f"/tasks/{_path_id(task_id)}/cancel", json=body, idempotent=False
        )
        return CancelResult.from_dict(envelope.data, task_id)

    async def delete(self, task_id: str, *, files: bool = False) -> None:
        params = {"files": "true"} if files else None
        await self._client.request(
            "DELETE", f"/tasks/{_path_id(task_id)}", params=params, idempotent=False
        )

    def stream(
        self,
        task_id: str,
        *,
        fmt: StreamFormat | None = None,
        idle_timeout: float | None = None,
        max_reconnects: int = DEFAULT_MAX_RECONNECTS,
        known_log_ids: Iterable[str] = (),
    ) -> TaskStream:
        """Follow a task until it ends: an async iterator of ``TaskUpdate``/``TaskDelta``/
        ``StreamReconnecting`` (use ``async with`` so the connection is always closed)."""
        return TaskStream(
            self._client,
            _path_id(task_id),
            fmt=fmt,
            idle_timeout=idle_timeout,
            max_reconnects=max_reconnects,
            known_log_ids=known_log_ids,
        )

    async def watch(
        self, *, fmt: StreamFormat | None = None, idle_timeout: float | None = None
    ) -> AsyncGenerator[TaskChange, None]:
        """One connection to ``GET /tasks/stream`` (account-wide changes), until it ends.

        Low level on purpose: no reconnect, no reconcile — the scheduler owns those. Raises
        the mapped error for a bad status, ``StreamIdleError`` when the watchdog fires. Wrap
        it in ``contextlib.aclosing`` so leaving early closes the connection.
        """
        client = self._client
        path = "/tasks/stream"
        idle = client.idle_timeout if idle_timeout is None else idle_timeout
        async with client.open_stream(path, fmt=fmt) as response:
            try:
                parser = await check_stream_response(client, response, path)
            except NoContent:
                return
            frames = read_frames(response, parser, idle_timeout=idle, clock=client.monotonic)
            async with aclosing(frames):
                async for frame in frames:
                    if frame.heartbeat or frame.event not in ("tasks", "update", "message"):
                        continue
                    change = _task_change(frame.data, frame.fields)
                    if change is None:
                        parser.stats.malformed += 1
                    else:
                        yield change


def _task_change(data: Any, fields: tuple[str, ...] | None) -> TaskChange | None:
    raw = as_dict(data)
    task_id = as_str(raw.get("id"))
    if not task_id:
        return None
    deleted = raw.get("deleted_at") is not None
    partial = deleted or fields is not None or "created_at" not in raw
    status = TaskStatus.parse(raw["status"])[0] if "status" in raw else None
    changed = fields if fields is not None else tuple(k for k in raw if k != "id")
    return TaskChange(task_id, raw, changed, partial, deleted, status)
