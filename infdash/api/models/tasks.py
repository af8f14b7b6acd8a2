"""Task DTOs: the task itself, its status record and the summaries embedded in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infdash.api.models.common import (
    as_bool,
    as_dict,
    as_int,
    as_list,
    as_str,
    as_str_tuple,
    opt_str,
    parse_datetime,
    parse_items,
    shared,
)
from infdash.api.models.logs import TaskLog
from infdash.api.models.status import TaskEvent, TaskStatus, status_display


def _require_dict(raw: Any, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError(f"{what} is not an object")
    return raw


def _require_id(data: dict[str, Any], what: str) -> str:
    ident = opt_str(data.get("id"))
    if ident is None:
        raise ValueError(f"{what} has no id")
    return ident


@dataclass(frozen=True, slots=True)
class EngineSummary:
    id: str
    name: str
    status: str

    @classmethod
    def from_dict(cls, raw: Any) -> EngineSummary | None:
        data = as_dict(raw)
        if not data:
            return None
        return cls(as_str(data.get("id")), as_str(data.get("name")), as_str(data.get("status")))


@dataclass(frozen=True, slots=True)
class WorkerSummary:
    id: str
    index: int
    status: str
    engine_id: str
    engine_name: str
    gpus: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, raw: Any) -> WorkerSummary | None:
        data = as_dict(raw)
        if not data:
            return None
        gpus = tuple(shared(as_str(as_dict(g).get("name"))) for g in as_list(data.get("gpus")))
        return cls(
            id=shared(as_str(data.get("id"))),
            index=as_int(data.get("index")),
            status=shared(as_str(data.get("status"))),
            engine_id=shared(as_str(data.get("engine_id"))),
            engine_name=shared(as_str(data.get("engine_name"))),
            gpus=tuple(g for g in gpus if g),
        )


def app_fields(data: dict[str, Any]) -> tuple[str, str]:
    """(``namespace/name``, version) from ``app``/``app_version`` objects or a ref string
    (shared with readers that parse only part of a task, such as the task list's rows)."""
    app = data.get("app")
    name = ""
    version = ""
    if isinstance(app, str):
        name, _, version = app.partition("@")
    elif isinstance(app, dict):
        namespace = as_str(app.get("namespace"))
        base = as_str(app.get("name"))
        name = f"{namespace}/{base}" if namespace and base else base
    name = name or as_str(data.get("app_name"))
    app_version = data.get("app_version")
    if isinstance(app_version, dict):
        version = as_str(app_version.get("version")) or version
    elif isinstance(app_version, str):
        version = app_version or version
    return name, version


@dataclass(frozen=True, slots=True)
class Task:
    """A task as the UI needs it. Unknown fields are ignored; missing ones default."""

    id: str
    short_id: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    status: TaskStatus = TaskStatus.UNKNOWN
    status_code: int | None = None
    app_name: str = ""
    app_version: str = ""
    app_id: str = ""
    app_version_id: str = ""
    function: str = ""
    infra: str = ""
    engine_id: str = ""
    engine: EngineSummary | None = None
    worker_id: str = ""
    worker: WorkerSummary | None = None
    workers: tuple[str, ...] = ()
    run_at: datetime | None = None
    webhook: str = ""
    setup: dict[str, Any] = field(default_factory=dict)
    input: Any = None
    output: Any = None
    error: str = ""
    events: tuple[TaskEvent, ...] = ()
    logs: tuple[TaskLog, ...] = ()
    session_id: str = ""
    is_featured: bool = False
    skipped: int = 0

    @property
    def app_ref(self) -> str:
        """``namespace/name@version`` (or as much of it as is known)."""
        return f"{self.app_name}@{self.app_version}" if self.app_version else self.app_name

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    @property
    def status_label(self) -> str:
        return status_display(self.status, self.status_code)

    @classmethod
    def from_dict(cls, raw: Any) -> Task:
        """Parse a TaskDTO (or the slimmer run response). Raises ValueError without an id."""
        data = _require_dict(raw, "task")
        status, code = TaskStatus.parse(data.get("status"))
        app_name, app_version = app_fields(data)
        events, skipped_events = parse_items(data.get("events"), TaskEvent.from_dict)
        logs, skipped_logs = parse_items(data.get("logs"), TaskLog.from_dict)
        error = data.get("error")
        return cls(
            id=_require_id(data, "task"),
            short_id=as_str(data.get("short_id")),
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            status=status,
            status_code=code,
            app_name=shared(app_name),
            app_version=shared(app_version),
            app_id=shared(as_str(data.get("app_id"))),
            app_version_id=shared(as_str(data.get("app_version_id"))),
            function=shared(as_str(data.get("function"))),
            infra=shared(as_str(data.get("infra"))),
            engine_id=shared(as_str(data.get("engine_id"))),
            engine=EngineSummary.from_dict(data.get("engine")),
            worker_id=shared(as_str(data.get("worker_id"))),
            worker=WorkerSummary.from_dict(data.get("worker")),
            workers=as_str_tuple(data.get("workers")),
            run_at=parse_datetime(data.get("run_at")),
            webhook=as_str(data.get("webhook")),
            setup=as_dict(data.get("setup")),
            input=data.get("input"),
            output=data.get("output"),
            error=error if isinstance(error, str) else ("" if error is None else str(error)),
            events=events,
            logs=logs,
            session_id=as_str(data.get("session_id")),
            is_featured=as_bool(data.get("is_featured")),
            skipped=skipped_events + skipped_logs,
        )


@dataclass(frozen=True, slots=True)
class ResourceStatus:
    """``GET /tasks/{id}/status``: the cheap poll."""

    id: str
    status: TaskStatus
    status_code: int | None
    updated_at: datetime | None

    @classmethod
    def from_dict(cls, raw: Any) -> ResourceStatus:
        data = _require_dict(raw, "status")
        status, code = TaskStatus.parse(data.get("status"))
        updated_at = parse_datetime(data.get("updated_at"))
        return cls(_require_id(data, "status"), status, code, updated_at)


@dataclass(frozen=True, slots=True)
class CancelResult:
    """``POST /tasks/{id}/cancel``: ``{id, status, cancelled}``."""

    id: str
    status: TaskStatus
    cancelled: bool

    @classmethod
    def from_dict(cls, raw: Any, task_id: str) -> CancelResult:
        data = as_dict(raw)
        status, _ = TaskStatus.parse(data.get("status"))
        return cls(as_str(data.get("id")) or task_id, status, as_bool(data.get("cancelled"), True))
