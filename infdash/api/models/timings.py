"""Phase timings of a task (``GET /tasks/{id}/timings``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from infdash.api.models.common import (
    as_dict,
    as_int,
    as_str,
    opt_int,
    parse_datetime,
    parse_items,
)
from infdash.api.models.status import TaskStatus


def _object(raw: Any, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError(f"{what} is not an object")
    return raw


@dataclass(frozen=True, slots=True)
class TimingGroup:
    """A high-level phase (queue, prepare, setup, run...)."""

    label: str
    start_at: datetime | None
    end_at: datetime | None
    duration: str
    duration_ms: int

    @classmethod
    def from_dict(cls, raw: Any) -> TimingGroup:
        data = _object(raw, "timing group")
        return cls(
            label=as_str(data.get("label")),
            start_at=parse_datetime(data.get("start_at")),
            end_at=parse_datetime(data.get("end_at")),
            duration=as_str(data.get("duration")),
            duration_ms=as_int(data.get("duration_ms")),
        )


@dataclass(frozen=True, slots=True)
class TimingEvent:
    """Time spent in one status before ``next_status``; statuses are strings on the wire."""

    status: str
    timestamp: datetime | None
    duration: str
    duration_ms: int
    next_status: str

    @classmethod
    def from_dict(cls, raw: Any) -> TimingEvent:
        data = _object(raw, "timing event")
        return cls(
            status=_status_name(data.get("status")),
            timestamp=parse_datetime(data.get("timestamp")),
            duration=as_str(data.get("duration")),
            duration_ms=as_int(data.get("duration_ms")),
            next_status=_status_name(data.get("next_status")),
        )


def _status_name(value: Any) -> str:
    status, code = TaskStatus.parse(value)
    if status is TaskStatus.UNKNOWN and isinstance(value, str):
        return value
    return status.label if code is not None else as_str(value)


@dataclass(frozen=True, slots=True)
class TaskTimings:
    task_id: str
    status: TaskStatus
    total_duration: str
    total_duration_ms: int
    groups: tuple[TimingGroup, ...]
    events: tuple[TimingEvent, ...]
    skipped: int = 0

    @classmethod
    def from_dict(cls, raw: Any, task_id: str = "") -> TaskTimings:
        data = as_dict(raw)
        status, _ = TaskStatus.parse(data.get("status"))
        groups, skipped_groups = parse_items(data.get("groups"), TimingGroup.from_dict)
        events, skipped_events = parse_items(data.get("events"), TimingEvent.from_dict)
        total_ms = opt_int(data.get("total_duration_ms"))
        return cls(
            task_id=as_str(data.get("task_id")) or task_id,
            status=status,
            total_duration=as_str(data.get("total_duration")),
            total_duration_ms=total_ms
            if total_ms is not None
            else sum(g.duration_ms for g in groups),
            groups=groups,
            events=events,
            skipped=skipped_groups + skipped_events,
        )
