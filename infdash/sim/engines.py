"""Simulated engines and their workers: just enough for tasks to take and release workers.

Kept apart from the task world because a later issue adds the engine lifecycle
(drain/update/stop) on top; tasks only call :meth:`EnginePool.take` and :meth:`EnginePool.release`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infdash.sim.ids import make_id, short_id

ENGINE_NAMES = ("rig-a", "rig-b", "rig-c", "rig-d", "rig-e", "rig-f", "rig-g", "rig-h")
GPU_NAMES = ("RTX 4090", "A100 80GB", "L40S", "H100 80GB")
GPU_VRAM = {"RTX 4090": 25769803776, "A100 80GB": 85899345920, "L40S": 51539607552,
            "H100 80GB": 85899345920}  # fmt: skip


@dataclass
class Worker:
    """One worker slot of an engine; runs at most one task at a time."""

    id: str
    index: int
    engine: Engine
    gpu_name: str
    status: str = "idle"
    task_id: str | None = None
    warm_apps: set[str] = field(default_factory=set)

    def summary(self) -> dict[str, Any]:
        """``WorkerSummary`` as embedded in a task."""
        return {
            "id": self.id,
            "index": self.index,
            "status": self.status,
            "engine_id": self.engine.id,
            "engine_name": self.engine.name,
            "task_id": self.task_id,
            "gpus": [
                {
                    "id": f"{self.id}-gpu0",
                    "worker_id": self.id,
                    "gpu_id": "0",
                    "type": "nvidia",
                    "name": self.gpu_name,
                    "vram": GPU_VRAM[self.gpu_name],
                }
            ],
        }


@dataclass
class Engine:
    """A machine that hosts workers."""

    id: str
    name: str
    created_at: float
    status: str = "running"
    engine_version: str = "v1.10.15"
    workers: list[Worker] = field(default_factory=list)

    def accepts_work(self) -> bool:
        """Only running engines take new tasks."""
        return self.status == "running"

    def summary(self) -> dict[str, Any]:
        """``EngineSummary``-like object embedded in a task (``{id, name, status}`` + extras)."""
        return {
            "id": self.id,
            "short_id": short_id(self.id),
            "name": self.name,
            "status": self.status,
        }


class EnginePool:
    """All engines; hands idle workers to tasks in a deterministic order."""

    def __init__(self, seed: int, count: int, workers_per_engine: int, now: float) -> None:
        self.engines: list[Engine] = []
        for e in range(count):
            engine = Engine(
                id=make_id("eng", seed, "engine", e),
                name=ENGINE_NAMES[e % len(ENGINE_NAMES)] + ("" if e < 8 else f"-{e}"),
                created_at=now - 86400 * (30 - e),
            )
            for w in range(workers_per_engine):
                engine.workers.append(
                    Worker(
                        id=make_id("wrk", seed, f"worker-{e}", w),
                        index=w,
                        engine=engine,
                        gpu_name=GPU_NAMES[(e + w) % len(GPU_NAMES)],
                    )
                )
            self.engines.append(engine)

    def workers(self) -> list[Worker]:
        """Every worker of every engine, in engine then index order."""
        return [w for e in self.engines for w in e.workers]

    def worker(self, worker_id: str) -> Worker | None:
        """A worker by id."""
        return next((w for w in self.workers() if w.id == worker_id), None)

    def engine(self, engine_id: str) -> Engine | None:
        """An engine by id."""
        return next((e for e in self.engines if e.id == engine_id), None)

    def take(self, app_ref: str, pinned: list[str] | None = None) -> Worker | None:
        """Reserve an idle worker (warm for the app first); None when all are busy."""
        idle = [
            w
            for w in self.workers()
            if w.status == "idle" and w.engine.accepts_work() and (not pinned or w.id in pinned)
        ]
        if not idle:
            return None
        warm = [w for w in idle if app_ref in w.warm_apps]
        worker = (warm or idle)[0]
        worker.status = "busy"
        return worker

    def assign(self, worker: Worker, task_id: str) -> None:
        """Mark a reserved worker as running a task."""
        worker.status = "busy"
        worker.task_id = task_id

    def release(self, worker: Worker, app_ref: str) -> None:
        """Free a worker after its task ended; it stays warm for the app."""
        worker.status = "idle"
        worker.task_id = None
        worker.warm_apps.add(app_ref)
