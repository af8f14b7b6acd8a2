"""Simulated engines and their workers: the seeded fleet and the wire shapes (EngineDTO,
WorkerDTO, WorkerSummary).

Tasks only call :meth:`EnginePool.take`, :meth:`EnginePool.assign` and
:meth:`EnginePool.release`; the lifecycle (drain/update/stop/restart) lives in
``engine_lifecycle.py`` and hears about worker changes through ``EnginePool.on_change``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infdash.sim.clock import rfc3339
from infdash.sim.ids import make_id, short_id

ENGINE_NAMES = ("rig-a", "rig-b", "rig-c", "rig-d", "rig-e", "rig-f", "rig-g", "rig-h")
GPU_VRAM = {"RTX 4090": 25769803776, "A100 80GB": 85899345920, "L40S": 51539607552,
            "H100 80GB": 85899345920, "L4": 24152899584}  # fmt: skip
STABLE_VERSION = "v1.10.15"
CANARY_VERSION = "v1.11.0-rc.2"
OFFLINE = frozenset({"pending", "disconnected", "stopped"})
"""Statuses of an engine that is not connected (workers ``inactive``)."""


@dataclass(frozen=True)
class Profile:
    """How one seeded engine looks: kind, GPU model, host and version."""

    cloud: bool
    gpu: str
    version: str
    cpu: str
    cores: int
    ram: int
    instance_type: str = ""
    hourly_price: int = 0


PROFILES = (
    Profile(False, "RTX 4090", STABLE_VERSION, "AMD Ryzen 9 7950X", 16, 68719476736),
    Profile(True, "A100 80GB", STABLE_VERSION, "AMD EPYC 7J13", 30, 231928233984,
            "A100_80G", 189),
    Profile(True, "H100 80GB", "v1.9.3", "Intel Xeon Platinum 8480+", 26, 240518168576,
            "H100", 299),
    Profile(False, "L4", STABLE_VERSION, "Intel Core i9-13900K", 24, 137438953472),
    Profile(True, "L40S", STABLE_VERSION, "AMD EPYC 9354", 16, 154618822656, "L40S", 139),
)  # fmt: skip


@dataclass
class Worker:
    """One worker slot of an engine; runs at most one task at a time."""

    id: str
    index: int
    engine: Engine
    gpu_name: str
    status: str = "idle"
    task_id: str | None = None
    app_id: str | None = None
    app_version_id: str | None = None
    warm_apps: set[str] = field(default_factory=set)

    def gpus(self) -> list[dict[str, Any]]:
        """``WorkerGPU`` list (one GPU per worker)."""
        return [
            {
                "id": f"{self.id}-gpu0",
                "worker_id": self.id,
                "gpu_id": str(self.index),
                "type": "nvidia",
                "name": self.gpu_name,
                "vram": GPU_VRAM[self.gpu_name],
            }
        ]

    def summary(self) -> dict[str, Any]:
        """``WorkerSummary`` as embedded in a task."""
        return {
            "id": self.id,
            "index": self.index,
            "status": self.status,
            "engine_id": self.engine.id,
            "engine_name": self.engine.name,
            "task_id": self.task_id,
            "gpus": self.gpus(),
        }

    def dto(self) -> dict[str, Any]:
        """``WorkerDTO`` as embedded in an engine."""
        p = self.engine.profile
        stamp = rfc3339(self.engine.created_at)
        return {
            "id": self.id,
            "created_at": stamp,
            "updated_at": rfc3339(self.engine.updated_at),
            "index": self.index,
            "status": self.status,
            "engine_id": self.engine.id,
            "task_id": self.task_id,
            "app_id": self.app_id,
            "app_version_id": self.app_version_id,
            "active_session_id": None,
            "gpus": self.gpus(),
            "cpus": [
                {
                    "id": f"{self.id}-cpu0",
                    "worker_id": self.id,
                    "name": p.cpu,
                    "vendor_id": "AuthenticAMD" if "AMD" in p.cpu else "GenuineIntel",
                    "family": "25" if "AMD" in p.cpu else "6",
                    "model": "17",
                    "cores": max(1, p.cores // max(1, len(self.engine.workers))),
                    "frequency": 3600,
                }
            ],
            "rams": [
                {
                    "id": f"{self.id}-ram0",
                    "worker_id": self.id,
                    "total": p.ram // max(1, len(self.engine.workers)),
                }
            ],
            "warm_apps": sorted(self.warm_apps),
        }


@dataclass
class Engine:
    """A machine that hosts workers."""

    id: str
    name: str
    created_at: float
    profile: Profile = PROFILES[0]
    status: str = "running"
    engine_version: str = STABLE_VERSION
    engine_pin: str = ""
    updated_at: float = 0.0
    workers: list[Worker] = field(default_factory=list)
    pending_version: tuple[str, str] | None = None
    """(version, pin) an update will install when the restart completes."""
    after_restart: str = "running"
    """Status a restart ends in: ``running`` (update) or ``pending`` first (instance restart)."""

    def accepts_work(self) -> bool:
        """Only running engines take new tasks."""
        return self.status == "running"

    def busy(self) -> bool:
        """Some worker still runs a task."""
        return any(w.task_id is not None for w in self.workers)

    def summary(self) -> dict[str, Any]:
        """``EngineSummary``-like object embedded in a task (``{id, name, status}`` + extras)."""
        return {"id": self.id, "short_id": short_id(self.id), "name": self.name,
                "status": self.status}  # fmt: skip

    def instance(self) -> dict[str, Any] | None:
        """``InstanceDTO`` of a cloud engine; None for a private one."""
        p = self.profile
        if not p.cloud:
            return None
        n = ENGINE_NAMES.index(self.name[:5]) if self.name[:5] in ENGINE_NAMES else 0
        return {
            "cloud": "shadeform",
            "name": f"infsh-{self.name}",
            "region": ("us-east", "eu-west", "us-central")[n % 3],
            "shade_cloud": True,
            "shade_instance_type": p.instance_type,
            "cloud_instance_type": f"gpu_1x_{p.instance_type.lower()}",
            "status": "deleted" if self.status == "stopped" else "active",
            "hourly_price": p.hourly_price,
            "rental_type": "on_demand",
            "ip": f"203.0.113.{10 + n}",
        }

    def system_info(self) -> dict[str, Any]:
        """A ``SystemInfo`` summary."""
        p = self.profile
        return {
            "hostname": f"{self.name}.local",
            "engine_version": self.engine_version,
            "os": "Ubuntu 22.04.4 LTS",
            "ipv4": f"10.0.0.{len(self.name) + 10}",
            "cpus": [{"name": p.cpu, "cores": p.cores, "frequency": 3600}],
            "ram": {"total": p.ram},
            "gpus": [{"name": w.gpu_name, "vram": GPU_VRAM[w.gpu_name]} for w in self.workers],
        }

    def dto(self) -> dict[str, Any]:
        """The full ``EngineDTO``."""
        return {
            "id": self.id,
            "short_id": short_id(self.id),
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
            "deleted_at": None,
            "name": self.name,
            "api_url": "https://api.inference.sh",
            "status": self.status,
            "engine_version": self.engine_version,
            "engine_pin": self.engine_pin,
            "capabilities": ["egress_gateway"],
            "config": {
                "id": self.id,
                "name": self.name,
                "api_url": "https://api.inference.sh",
                "engine_port": 8090,
                "gpus": [str(w.index) for w in self.workers],
            },
            "system_info": self.system_info(),
            "instance": self.instance(),
            "workers": [w.dto() for w in self.workers],
        }


ChangeHook = Callable[[Engine, list[str]], None]


class EnginePool:
    """All engines; hands idle workers to tasks in a deterministic order."""

    def __init__(
        self, seed: int, count: int, workers_per_engine: int, now: float, offline: int = 0
    ) -> None:
        self.engines: list[Engine] = []
        self.on_change: ChangeHook | None = None
        """Called with (engine, changed fields) after a worker takes or releases a task."""
        self.on_release: Callable[[Engine], None] | None = None
        """Called after a worker of an engine became free (lifecycle checks)."""
        for e in range(count + offline):
            profile = PROFILES[e % len(PROFILES)]
            engine = Engine(
                id=make_id("eng", seed, "engine", e),
                name=ENGINE_NAMES[e % len(ENGINE_NAMES)] + ("" if e < 8 else f"-{e}"),
                created_at=now - 86400 * (30 - e),
                profile=profile,
                engine_version=profile.version,
                updated_at=now - 3600 * (e + 1),
            )
            for w in range(workers_per_engine):
                engine.workers.append(
                    Worker(
                        id=make_id("wrk", seed, f"worker-{e}", w),
                        index=w,
                        engine=engine,
                        gpu_name=profile.gpu,
                    )
                )
            if e >= count:
                engine.status = "disconnected"
                for worker in engine.workers:
                    worker.status = "inactive"
            self.engines.append(engine)

    def workers(self) -> list[Worker]:
        """Every worker of every engine, in engine then index order."""
        return [w for e in self.engines for w in e.workers]

    def worker(self, worker_id: str) -> Worker | None:
        """A worker by id."""
        return next((w for w in self.workers() if w.id == worker_id), None)

    def engine(self, engine_id: str) -> Engine | None:
        """An engine by id or short id."""
        return next((e for e in self.engines if engine_id in (e.id, short_id(e.id))), None)

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

    def assign(
        self, worker: Worker, task_id: str, app_id: str | None = None, version_id: str | None = None
    ) -> None:
        """Mark a reserved worker as running a task."""
        worker.status = "busy"
        worker.task_id = task_id
        worker.app_id = app_id
        worker.app_version_id = version_id
        if self.on_change is not None:
            self.on_change(worker.engine, ["workers"])

    def release(self, worker: Worker, app_ref: str) -> None:
        """Free a worker after its task ended; it stays warm for the app."""
        worker.status = "idle" if worker.engine.status not in OFFLINE else "inactive"
        worker.task_id = None
        worker.app_id = worker.app_version_id = None
        worker.warm_apps.add(app_ref)
        if self.on_change is not None:
            self.on_change(worker.engine, ["workers"])
        if self.on_release is not None:
            self.on_release(worker.engine)
