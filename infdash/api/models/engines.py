"""Engine and worker DTOs (reference §7), tolerant of missing fields and unknown statuses.

Engines change by partial updates (``GET /events`` sends ``{id, status}`` with ``fields``), so
each :class:`Engine` keeps the raw dict it was parsed from and :func:`merge_engine` folds a
partial into it and re-parses: the merged engine is exactly what a full DTO would give.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infdash.api.models.common import (
    as_dict,
    as_int,
    as_list,
    as_str,
    as_str_tuple,
    opt_float,
    opt_str,
    parse_datetime,
    parse_items,
)


class EngineStatus(enum.StrEnum):
    """Every documented engine status; anything else parses as ``UNKNOWN`` (raw text kept)."""

    PENDING = "pending"
    RUNNING = "running"
    DRAINING = "draining"
    RESTARTING = "restarting"
    DISCONNECTED = "disconnected"
    STOPPING = "stopping"
    STOPPED = "stopped"
    UNKNOWN = "unknown"

    @property
    def is_online(self) -> bool:
        """Connected to the platform (drain and update need this)."""
        return self in (EngineStatus.RUNNING, EngineStatus.DRAINING, EngineStatus.RESTARTING)

    @classmethod
    def parse(cls, value: Any) -> tuple[EngineStatus, str]:
        """(status, raw text); the raw text is what to show for an unknown status."""
        raw = as_str(value).strip()
        try:
            return cls(raw.lower()), raw
        except ValueError:
            return cls.UNKNOWN, raw


class WorkerStatus(enum.StrEnum):
    RESERVED = "reserved"
    BUSY = "busy"
    IDLE = "idle"
    INACTIVE = "inactive"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: Any) -> tuple[WorkerStatus, str]:
        raw = as_str(value).strip()
        try:
            return cls(raw.lower()), raw
        except ValueError:
            return cls.UNKNOWN, raw


@dataclass(frozen=True, slots=True)
class WorkerGpu:
    name: str
    vram: int  # bytes
    type: str = ""
    id: str = ""

    @classmethod
    def from_dict(cls, raw: Any) -> WorkerGpu:
        data = as_dict(raw)
        return cls(
            name=as_str(data.get("name")),
            vram=as_int(data.get("vram")),
            type=as_str(data.get("type")),
            id=as_str(data.get("id")),
        )


@dataclass(frozen=True, slots=True)
class WorkerCpu:
    name: str
    cores: int
    frequency: float | None = None

    @classmethod
    def from_dict(cls, raw: Any) -> WorkerCpu:
        data = as_dict(raw)
        return cls(
            as_str(data.get("name")), as_int(data.get("cores")), opt_float(data.get("frequency"))
        )


@dataclass(frozen=True, slots=True)
class Worker:
    """One worker slot of an engine: status, the task it runs, and its hardware."""

    id: str
    index: int
    status: WorkerStatus
    status_raw: str = ""
    engine_id: str = ""
    task_id: str | None = None
    app_id: str = ""
    gpus: tuple[WorkerGpu, ...] = ()
    cpus: tuple[WorkerCpu, ...] = ()
    ram_total: int = 0  # bytes, summed over ``rams``
    warm_apps: tuple[str, ...] = ()

    @property
    def status_label(self) -> str:
        return self.status.value if self.status is not WorkerStatus.UNKNOWN else self.status_raw

    @property
    def vram_total(self) -> int:
        return sum(g.vram for g in self.gpus)

    @classmethod
    def from_dict(cls, raw: Any) -> Worker:
        if not isinstance(raw, dict):
            raise ValueError("worker is not an object")
        status, status_raw = WorkerStatus.parse(raw.get("status"))
        gpus, _ = parse_items(raw.get("gpus"), WorkerGpu.from_dict)
        cpus, _ = parse_items(raw.get("cpus"), WorkerCpu.from_dict)
        rams = sum(as_int(as_dict(r).get("total")) for r in as_list(raw.get("rams")))
        return cls(
            id=as_str(raw.get("id")),
            index=as_int(raw.get("index")),
            status=status,
            status_raw=status_raw,
            engine_id=as_str(raw.get("engine_id")),
            task_id=opt_str(raw.get("task_id")),
            app_id=as_str(raw.get("app_id")),
            gpus=gpus,
            cpus=cpus,
            ram_total=rams,
            warm_apps=as_str_tuple(raw.get("warm_apps")),
        )


@dataclass(frozen=True, slots=True)
class SystemInfo:
    """The summary of ``SystemInfo`` the engines screen shows."""

    hostname: str = ""
    os: str = ""
    engine_version: str = ""
    gpus: tuple[str, ...] = ()
    cpu_cores: int = 0
    ram_total: int = 0

    @classmethod
    def from_dict(cls, raw: Any) -> SystemInfo | None:
        data = as_dict(raw)
        if not data:
            return None
        gpus = tuple(as_str(as_dict(g).get("name")) for g in as_list(data.get("gpus")))
        return cls(
            hostname=as_str(data.get("hostname")),
            os=as_str(data.get("os")),
            engine_version=as_str(data.get("engine_version")),
            gpus=tuple(g for g in gpus if g),
            cpu_cores=sum(as_int(as_dict(c).get("cores")) for c in as_list(data.get("cpus"))),
            ram_total=as_int(as_dict(data.get("ram")).get("total")),
        )


@dataclass(frozen=True, slots=True)
class InstanceSummary:
    """The cloud instance behind a provisioned engine."""

    cloud: str = ""
    name: str = ""
    region: str = ""
    status: str = ""
    instance_type: str = ""
    hourly_price: float | None = None
    ip: str = ""

    @classmethod
    def from_dict(cls, raw: Any) -> InstanceSummary | None:
        data = as_dict(raw)
        if not data:
            return None
        return cls(
            cloud=as_str(data.get("cloud")),
            name=as_str(data.get("name")),
            region=as_str(data.get("region")),
            status=as_str(data.get("status")),
            instance_type=as_str(data.get("cloud_instance_type"))
            or as_str(data.get("shade_instance_type")),
            hourly_price=opt_float(data.get("hourly_price")),
            ip=as_str(data.get("ip")),
        )


@dataclass(frozen=True, slots=True)
class Engine:
    """An engine as the UI needs it; ``raw`` keeps the DTO for :func:`merge_engine`."""

    id: str
    name: str = ""
    status: EngineStatus = EngineStatus.UNKNOWN
    status_raw: str = ""
    engine_version: str = ""
    engine_pin: str = ""
    api_url: str = ""
    capabilities: tuple[str, ...] = ()
    system_info: SystemInfo | None = None
    instance: InstanceSummary | None = None
    workers: tuple[Worker, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def status_label(self) -> str:
        """The status to display: the raw text when this client does not know it."""
        if self.status is EngineStatus.UNKNOWN:
            return self.status_raw or "unknown"
        return self.status.value

    @property
    def is_cloud(self) -> bool:
        return self.instance is not None

    def busy_workers(self) -> int:
        return sum(1 for w in self.workers if w.status is WorkerStatus.BUSY)

    @classmethod
    def from_dict(cls, raw: Any) -> Engine:
        """Parse an EngineDTO (or summary). Raises ValueError without an id."""
        if not isinstance(raw, dict):
            raise ValueError("engine is not an object")
        ident = opt_str(raw.get("id"))
        if ident is None:
            raise ValueError("engine has no id")
        status, status_raw = EngineStatus.parse(raw.get("status"))
        system_info = SystemInfo.from_dict(raw.get("system_info"))
        version = as_str(raw.get("engine_version"))
        if not version and system_info is not None:
            version = system_info.engine_version
        workers, _ = parse_items(raw.get("workers"), Worker.from_dict)
        return cls(
            id=ident,
            name=as_str(raw.get("name")),
            status=status,
            status_raw=status_raw,
            engine_version=version,
            engine_pin=as_str(raw.get("engine_pin")),
            api_url=as_str(raw.get("api_url")),
            capabilities=as_str_tuple(raw.get("capabilities")),
            system_info=system_info,
            instance=InstanceSummary.from_dict(raw.get("instance")),
            workers=workers,
            created_at=parse_datetime(raw.get("created_at")),
            updated_at=parse_datetime(raw.get("updated_at")),
            raw=dict(raw),
        )


def merge_engine(
    engine: Engine, partial: Mapping[str, Any], fields: Iterable[str] | None = None
) -> Engine:
    """Fold a partial engine update into ``engine``.

    With ``fields`` (NDJSON partials) only those keys are taken; without, every key the partial
    carries. A partial for another engine is a programming error (ValueError).
    """
    other = partial.get("id")
    if other is not None and other != engine.id:
        raise ValueError(f"update for engine {other!r} applied to {engine.id!r}")
    keys = list(partial) if fields is None else [k for k in fields if k in partial]
    merged = dict(engine.raw) or {"id": engine.id}
    merged.update({k: partial[k] for k in keys if k != "id"})
    merged["id"] = engine.id
    return Engine.from_dict(merged)
