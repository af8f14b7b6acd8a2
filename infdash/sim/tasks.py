"""The task record and its wire shapes (TaskDTO, TaskResultDTO, status, logs, timings).

A task stores epoch floats and objects; the ``*_dto`` methods turn them into the JSON the
reference describes. Nothing here schedules anything: the walk lives in ``walk.py``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from infdash.sim.catalog import AppRef
from infdash.sim.clock import Timer, rfc3339
from infdash.sim.engines import Worker
from infdash.sim.ids import short_id

RECEIVED, QUEUED, DISPATCHED, PREPARING, SERVING, SETTING_UP, RUNNING = 1, 2, 3, 4, 5, 6, 7
CANCELLING, UPLOADING, COMPLETED, FAILED, CANCELLED, REJECTED = 8, 9, 10, 11, 12, 13

STATUS_NAMES: dict[int, str] = {
    0: "unknown", 1: "received", 2: "queued", 3: "dispatched", 4: "preparing", 5: "serving",
    6: "setting_up", 7: "running", 8: "cancelling", 9: "uploading", 10: "completed",
    11: "failed", 12: "cancelled", 13: "rejected",
}  # fmt: skip
STATUS_BY_NAME: dict[str, int] = {name: code for code, name in STATUS_NAMES.items()}
TERMINAL = frozenset({COMPLETED, FAILED, CANCELLED, REJECTED})
STATUS_TEXT: dict[int, str] = {
    1: "Task received", 2: "Waiting for worker", 3: "Assigned to worker",
    4: "Setting up environment", 5: "Loading model", 6: "Task initialization", 7: "Executing",
    8: "Cancel requested", 9: "Uploading results", 10: "Done", 11: "Error occurred",
    12: "Cancelled", 13: "Rejected",
}  # fmt: skip

# Timing group of each status (docs concept page: queue, prepare, setup, run; plus ours).
TIMING_LABEL: dict[int, str] = {
    RECEIVED: "queue", QUEUED: "queue", DISPATCHED: "prepare", PREPARING: "prepare",
    SERVING: "serving", SETTING_UP: "setup", RUNNING: "run", CANCELLING: "cancel",
    UPLOADING: "upload",
}  # fmt: skip


@dataclass
class StreamEvent:
    """One event of a task's stream history (``seq`` is the SSE ``id``)."""

    seq: int
    kind: str
    """``update`` (a task DTO, full or partial) or ``delta``; ``tasks`` on the account stream."""
    data: dict[str, Any]
    fields: list[str] | None = None
    """None for a full task; the changed fields for a partial update."""
    terminal: bool = False


@dataclass
class Task:
    """A task and all simulator bookkeeping around it."""

    id: str
    app: AppRef
    created_at: float
    input: dict[str, Any]
    rng: random.Random
    status: int = RECEIVED
    updated_at: float = 0.0
    setup: dict[str, Any] | None = None
    infra: str = "cloud"
    workers: list[str] = field(default_factory=list)
    webhook: str | None = None
    run_at: float | None = None
    output: Any = None
    error: str | None = None
    worker: Worker | None = None
    engine_id: str | None = None
    engine_name: str | None = None
    cold: bool = False
    plan: dict[str, float] = field(default_factory=dict)
    events: list[tuple[int, float]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    logs_ready: bool = True
    """False for seeded past tasks until their logs are generated on first read."""
    log_count: int = 0
    run_steps: int = 0
    stream: list[StreamEvent] = field(default_factory=list)
    seq: int = 0
    delta_seq: int = 0
    timers: list[Timer] = field(default_factory=list)
    webhook_sent: bool = False
    refunded: bool = False
    deleted: bool = False

    @property
    def short_id(self) -> str:
        """Short id shown in tables."""
        return short_id(self.id)

    @property
    def terminal(self) -> bool:
        """Completed, failed, cancelled or rejected."""
        return self.status in TERMINAL

    def cancel_timers(self) -> None:
        """Drop every pending transition, log tick or delta of this task."""
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()

    def started_at(self) -> float | None:
        """When a worker took the task (dispatched), if it ever did."""
        return next((t for s, t in self.events if s == DISPATCHED), None)

    def ended_at(self) -> float | None:
        """When the task reached a terminal status."""
        return next((t for s, t in self.events if s in TERMINAL), None)

    def app_dto(self) -> dict[str, Any]:
        """``app`` object: id, namespace, name (version details in ``app_version``)."""
        spec = self.app.spec
        return {
            "id": spec.app_id,
            "namespace": spec.namespace,
            "name": spec.name,
            "description": spec.description,
            "version_id": spec.version_id(self.app.version),
        }

    def engine_dto(self) -> dict[str, Any] | None:
        """``{id, name, status}`` of the engine that ran the task (its current status)."""
        if self.engine_id is None:
            return None
        status = self.worker.engine.status if self.worker is not None else "running"
        return {"id": self.engine_id, "name": self.engine_name, "status": status}

    def event_dtos(self) -> list[dict[str, Any]]:
        """``TaskEvent`` per status transition."""
        out = []
        for i, (status, at) in enumerate(self.events):
            stamp = rfc3339(at)
            out.append(
                {
                    "id": f"tev_{self.id.split('_', 1)[-1]}_{i:03d}",
                    "created_at": stamp,
                    "event_time": stamp,
                    "task_id": self.id,
                    "status": status,
                }
            )
        return out

    def dto(self) -> dict[str, Any]:
        """The full ``TaskDTO`` (``logs`` always ``[]``: read them from ``/tasks/{id}/logs``)."""
        spec = self.app.spec
        worker = self.worker
        return {
            "id": self.id,
            "short_id": self.short_id,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
            "deleted_at": None,
            "status": self.status,
            "status_text": STATUS_TEXT.get(self.status, ""),
            "app": self.app_dto(),
            "app_ref": self.app.text,
            "app_id": spec.app_id,
            "app_version_id": spec.version_id(self.app.version),
            "app_version": {
                "id": spec.version_id(self.app.version),
                "app_id": spec.app_id,
                "version": self.app.version,
            },
            "function": self.app.function,
            "infra": self.infra,
            "workers": list(self.workers),
            "engine_id": self.engine_id,
            "engine": self.engine_dto(),
            "worker_id": worker.id if worker else None,
            "worker": worker.summary() if worker else None,
            "run_at": rfc3339(self.run_at) if self.run_at is not None else None,
            "webhook": self.webhook,
            "setup": self.setup,
            "input": self.input,
            "output": self.output,
            "error": self.error,
            "events": self.event_dtos(),
            "logs": [],
            "session_id": None,
            "rating": None,
            "visibility": "private",
        }

    def result_dto(self) -> dict[str, Any]:
        """The slim ``TaskResultDTO`` returned by ``/run`` and ``/apps/run``."""
        return {
            "id": self.id,
            "short_id": self.short_id,
            "status": self.status,
            "status_text": STATUS_TEXT.get(self.status, ""),
            "output": self.output,
            "error": self.error,
            "session_id": None,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
            "run_at": rfc3339(self.run_at) if self.run_at is not None else None,
        }

    def status_dto(self) -> dict[str, Any]:
        """``ResourceStatusDTO``."""
        return {"id": self.id, "status": self.status, "updated_at": rfc3339(self.updated_at)}
