"""Views derived from a task's history: logs, timings, telemetry samples and cost."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from infdash.sim.clock import rfc3339
from infdash.sim.engines import GPU_VRAM
from infdash.sim.seed import ensure_logs
from infdash.sim.tasks import STATUS_NAMES, TERMINAL, TIMING_LABEL, Task

if TYPE_CHECKING:
    from infdash.sim.world import World

TELEMETRY_INTERVAL = 30.0
TELEMETRY_MAX_POINTS = 100
VOLUME = {"name": "/", "size": 1 << 40, "used": 1 << 39, "free": 1 << 39, "usage": 50.0}


def go_duration(ms: int) -> str:
    """A Go ``time.Duration`` string: ``350ms``, ``4.2s``, ``2m3.5s``, ``1h0m2s``."""
    if ms <= 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rem = divmod(ms, 3_600_000)
    minutes, rem = divmod(rem, 60_000)
    seconds = f"{rem / 1000:.3f}".rstrip("0").rstrip(".")
    out = f"{hours}h" if hours else ""
    if hours or minutes:
        out += f"{minutes}m"
    return out + f"{seconds}s"


def logs_dto(world: World, task: Task) -> dict[str, Any]:
    """``TaskLogsDTO``: every log entry so far plus the status events."""
    ensure_logs(world, task)
    return {
        "task_id": task.id,
        "status": task.status,
        "events": task.event_dtos(),
        "logs": list(task.logs),
    }


def timings_dto(world: World, task: Task) -> dict[str, Any]:
    """``TaskTimingsDTO`` from the status walk; an unfinished last phase runs until now."""
    now = world.now()
    events: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    walk = task.events
    for i, (status, at) in enumerate(walk):
        nxt = walk[i + 1] if i + 1 < len(walk) else None
        end = nxt[1] if nxt else (at if status in TERMINAL else now)
        ms = round((end - at) * 1000)
        events.append(
            {
                "status": STATUS_NAMES[status],
                "timestamp": rfc3339(at),
                "duration": go_duration(ms),
                "duration_ms": ms,
                "next_status": STATUS_NAMES[nxt[0]] if nxt else "",
            }
        )
        label = TIMING_LABEL.get(status)
        if label is None:
            continue
        if groups and groups[-1]["label"] == label and groups[-1]["_end"] == at:
            groups[-1]["_end"] = end
        else:
            groups.append({"label": label, "_start": at, "_end": end})
    out_groups = []
    for g in groups:
        ms = round((g["_end"] - g["_start"]) * 1000)
        out_groups.append(
            {
                "label": g["label"],
                "start_at": rfc3339(g["_start"]),
                "end_at": rfc3339(g["_end"]),
                "duration": go_duration(ms),
                "duration_ms": ms,
            }
        )
    finish = task.ended_at() or now
    total = round((finish - task.created_at) * 1000)
    return {
        "task_id": task.id,
        "status": task.status,
        "total_duration": go_duration(total),
        "total_duration_ms": total,
        "groups": out_groups,
        "events": events,
    }


def _status_at(task: Task, t: float) -> int:
    current = task.events[0][0]
    for status, at in task.events:
        if at <= t:
            current = status
    return current


def telemetry(world: World, task: Task) -> list[dict[str, Any]]:
    """Resource samples every 30 s from dispatch to the end (or now), at most 100 points."""
    start = task.started_at()
    if start is None or task.worker is None:
        return []
    end = task.ended_at() or world.now()
    times: list[float] = []
    t = start
    while t < end:
        times.append(t)
        t += TELEMETRY_INTERVAL
    times.append(end)
    if len(times) > TELEMETRY_MAX_POINTS:
        step = (len(times) - 1) / (TELEMETRY_MAX_POINTS - 1)
        times = [times[round(i * step)] for i in range(TELEMETRY_MAX_POINTS)]
    worker = task.worker
    vram = GPU_VRAM[worker.gpu_name]
    ram_total = 68_719_476_736
    samples = []
    for k, at in enumerate(times):
        rng = random.Random(f"{world.config.seed}:{task.id}:telemetry:{at:.3f}")
        busy = _status_at(task, at) in (5, 7)
        cpu = rng.uniform(40, 95) if busy else rng.uniform(2, 20)
        gpu = rng.uniform(70, 99) if busy else rng.uniform(0, 10)
        ram_used = int(ram_total * rng.uniform(0.2, 0.6))
        mem_used = int(vram * (rng.uniform(0.5, 0.9) if busy else rng.uniform(0.05, 0.2)))
        resources = {
            "cpus": [
                {
                    "name": "AMD EPYC 7763 64-Core Processor",
                    "vendor_id": "AuthenticAMD",
                    "family": "25",
                    "model": "1",
                    "cores": 16,
                    "frequency": 2450,
                    "usage": round(cpu, 2),
                    "normalized_usage": round(cpu / 100, 4),
                }
            ],
            "ram": {
                "total": ram_total,
                "used": ram_used,
                "free": ram_total - ram_used,
                "available": ram_total - ram_used,
                "usage": round(ram_used / ram_total * 100, 2),
            },
            "gpus": [
                {
                    "id": "0",
                    "name": worker.gpu_name,
                    "index": 0,
                    "cuda_version": "12.4",
                    "driver_version": "550.54.15",
                    "memory_used": mem_used,
                    "memory_total": vram,
                    "temperature": round(rng.uniform(62, 81) if busy else rng.uniform(35, 45)),
                    "usage": round(gpu, 2),
                }
            ],
            "volumes": [
                {"name": "/", "size": 1 << 40, "used": 1 << 39, "free": 1 << 39, "usage": 50.0}
            ],
        }
        samples.append(
            {
                "id": f"tel_{task.id.split('_', 1)[-1]}_{k:03d}",
                "timestamp": rfc3339(at),
                "task_id": task.id,
                "task_seq": k,
                "app_id": task.app.spec.app_id,
                "app_version_id": task.app.spec.version_id(task.app.version),
                "engine_id": task.engine_id,
                "worker_id": worker.id,
                "system_info": resources,
                "engine_resources": resources,
            }
        )
    return samples


def cost(task: Task) -> dict[str, int]:
    """Microcents for worker time (dispatch → end) × the app's price; echo is free (a full
    discount); platform failures are refunded."""
    start = task.started_at()
    end = task.ended_at()
    seconds = (end - start) if start is not None and end is not None else 0.0
    total = int(seconds * task.app.spec.price)
    discount = total if task.app.spec.name == "echo" else 0
    charged = total - discount
    out = {"total": total, "charged": charged}
    if discount:
        out["discount"] = discount
    if task.refunded and charged:
        out["refunded"] = charged
    return out
