"""Typed, tolerant models of the API's DTOs (frozen dataclasses with ``from_dict``)."""

from __future__ import annotations

from infdash.api.models.common import CursorPage
from infdash.api.models.delta import DeltaAccumulator, merge_delta
from infdash.api.models.logs import TaskLog, TaskLogs, TaskLogType, decode_log_content
from infdash.api.models.metrics import MICROCENTS_PER_USD, GpuSample, TaskCost, TelemetrySample
from infdash.api.models.status import TaskEvent, TaskStatus, status_display
from infdash.api.models.tasks import (
    CancelResult,
    EngineSummary,
    ResourceStatus,
    Task,
    WorkerSummary,
)
from infdash.api.models.timings import TaskTimings, TimingEvent, TimingGroup

__all__ = [
    "MICROCENTS_PER_USD",
    "CancelResult",
    "CursorPage",
    "DeltaAccumulator",
    "EngineSummary",
    "GpuSample",
    "ResourceStatus",
    "Task",
    "TaskCost",
    "TaskEvent",
    "TaskLog",
    "TaskLogType",
    "TaskLogs",
    "TaskStatus",
    "TaskTimings",
    "TelemetrySample",
    "TimingEvent",
    "TimingGroup",
    "WorkerSummary",
    "decode_log_content",
    "merge_delta",
    "status_display",
]
