"""The engines mode: every engine of the workspace as a live, read-only table.

Each row is kept fresh by the scheduler (``GET /engines/{id}`` at the visible tier) and the
list is fetched again every 30 s to pick up new engines; enter opens a panel with the selected
engine's workers.  Engine actions (drain, update, stop) build on this screen in their own issue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from infdash.api import Engine
from infdash.api.models.engines import EngineStatus, Worker
from infdash.scheduler import ResourceKey, Store
from infdash.ui.sanitize import clean_line
from infdash.ui.screens._live_list import LIST_LIMIT, UPDATED, LiveListScreen, plain, themed
from infdash.ui.tasklist.format import ago

_GLYPHS: dict[EngineStatus, tuple[str, str]] = {
    EngineStatus.PENDING: ("◷", "primary"),
    EngineStatus.RUNNING: ("●", "success"),
    EngineStatus.DRAINING: ("◐", "warning"),
    EngineStatus.RESTARTING: ("↻", "warning"),
    EngineStatus.DISCONNECTED: ("✗", "error"),
    EngineStatus.STOPPING: ("◌", "warning"),
    EngineStatus.STOPPED: ("■", "foreground-muted"),
    EngineStatus.UNKNOWN: ("?", "foreground-muted"),
}
"""A one-cell glyph per status (reads without colour) and the theme variable colouring it."""

GIB = 2**30


def gib(size: int) -> str:
    return f"{size / GIB:.0f} GiB"


def gpu_summary(names: Sequence[str]) -> str:
    """``2×RTX 4090, A100``: each GPU model once, with its count."""
    counts = Counter(n for n in names if n)
    return ", ".join(name if n == 1 else f"{n}×{name}" for name, n in counts.items())


def workers_text(engine: Engine) -> str:
    """``1/2 busy · 2×RTX 4090`` (GPU names from the workers, else the host's)."""
    if not engine.workers:
        return "—"
    gpus = [g.name for w in engine.workers for g in w.gpus]
    if not gpus and engine.system_info is not None:
        gpus = list(engine.system_info.gpus)
    text = f"{engine.busy_workers()}/{len(engine.workers)} busy"
    summary = gpu_summary(gpus)
    return f"{text} · {summary}" if summary else text


def host_text(engine: Engine) -> str:
    """``16 cores · 64 GiB`` from the engine's system info; a dash when it sent none."""
    info = engine.system_info
    if info is None or not (info.cpu_cores or info.ram_total):
        return "—"
    parts = []
    if info.cpu_cores:
        parts.append(f"{info.cpu_cores} cores")
    if info.ram_total:
        parts.append(gib(info.ram_total))
    return " · ".join(parts)


def worker_line(worker: Worker) -> str:
    gpus = ", ".join(f"{g.name} {gib(g.vram)}" if g.vram else g.name for g in worker.gpus)
    parts = [f"#{worker.index:<2}", f"{worker.status_label:<9}", gpus or "no GPU"]
    if worker.task_id:
        parts.append(f"task {worker.task_id}")
    if worker.app_id:
        parts.append(f"app {worker.app_id}")
    return clean_line("  ".join(parts))


class EnginesScreen(LiveListScreen[Engine]):
    """The workspace's engines, their status and their workers."""

    NOUN = "engine"
    OWNER = "engines-screen"
    EMPTY = "No engines in this workspace."
    COLUMNS = (
        ("name", "NAME"),
        ("status", "STATUS"),
        ("version", "VERSION"),
        ("workers", "WORKERS"),
        ("host", "CPU/RAM"),
        (UPDATED, "UPDATED"),
    )
    BINDING_GROUP_TITLE = "Engines"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", id="engines.refresh",
                tooltip="List the engines again now"),
        Binding("enter", "details", "Workers", id="engines.details", priority=True,
                tooltip="Show or hide the selected engine's workers"),
    ]  # fmt: skip

    async def fetch(self) -> Sequence[Engine]:
        page = await self.services.client.engines.list(limit=LIST_LIMIT)
        return page.items

    def store(self) -> Store[Engine]:
        return self.services.scheduler.engines

    def key(self, record_id: str) -> ResourceKey:
        return ResourceKey.engine(record_id)

    def cells(self, record: Engine, now: datetime) -> tuple[Text, ...]:
        glyph, colour = _GLYPHS.get(record.status, ("?", "foreground-muted"))
        return (
            plain(record.name or record.id),
            plain(f"{glyph} {record.status_label}", themed(self.app, colour)),
            plain(record.engine_version or "—"),
            plain(workers_text(record)),
            plain(host_text(record)),
            plain(ago(record.updated_at, now) or "—"),
        )

    def detail(self, record: Engine, now: datetime) -> str:
        head = [record.name or record.id, record.id, record.status_label]
        if record.engine_version:
            head.append(record.engine_version)
        lines = [clean_line("  ·  ".join(head))]
        info = record.system_info
        if info is not None:
            host = [info.hostname, info.os, host_text(record)]
            lines.append(clean_line("host  " + "  ·  ".join(p for p in host if p and p != "—")))
        instance = record.instance
        if instance is not None:
            cloud = [instance.cloud, instance.region, instance.instance_type, instance.status]
            if instance.hourly_price is not None:
                cloud.append(f"${instance.hourly_price:.2f}/h")
            lines.append(clean_line("cloud  " + "  ·  ".join(p for p in cloud if p)))
        lines.append(f"workers ({record.busy_workers()}/{len(record.workers)} busy)")
        lines.extend(f"  {worker_line(w)}" for w in sorted(record.workers, key=lambda w: w.index))
        if not record.workers:
            lines.append("  none reported")
        return "\n".join(lines)
