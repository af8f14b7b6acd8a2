"""Telemetry samples as series for sparklines: CPU, RAM, GPU utilisation and VRAM.

The endpoint is untyped upstream (reference §6): :class:`TelemetrySample` already tolerates
missing fields; here a sample that lacks a value simply adds no point to that series (so the
series may differ in length), and the "current" value is the latest sample that had one.
Samples are ordered by timestamp (then ``task_seq``), whatever order the server sent.
Multi-GPU workers: utilisation is the mean over GPUs that report it, VRAM the sum.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from infdash.api.models.metrics import TelemetrySample

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TelemetrySeries:
    cpu: list[float] = field(default_factory=list)
    """Percent (0–100), mean over the CPUs."""
    ram: list[float] = field(default_factory=list)
    """Bytes used."""
    ram_total: int = 0
    gpu: list[float] = field(default_factory=list)
    """Utilisation percent (0–100), mean over the GPUs."""
    vram: list[float] = field(default_factory=list)
    """Bytes used, summed over the GPUs."""
    vram_total: int = 0
    times: list[datetime] = field(default_factory=list)
    """Timestamps of the samples (those that had one)."""
    gpu_names: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.cpu or self.ram or self.gpu or self.vram)

    @property
    def cpu_now(self) -> float | None:
        return self.cpu[-1] if self.cpu else None

    @property
    def ram_now(self) -> float | None:
        return self.ram[-1] if self.ram else None

    @property
    def gpu_now(self) -> float | None:
        return self.gpu[-1] if self.gpu else None

    @property
    def vram_now(self) -> float | None:
        return self.vram[-1] if self.vram else None

    @property
    def ram_fraction(self) -> float | None:
        """Current RAM use as 0–1 of the total (None without both)."""
        now = self.ram_now
        return now / self.ram_total if now is not None and self.ram_total > 0 else None

    @property
    def vram_fraction(self) -> float | None:
        now = self.vram_now
        return now / self.vram_total if now is not None and self.vram_total > 0 else None


def _order(sample: TelemetrySample) -> tuple[datetime, int]:
    at = sample.timestamp or _EPOCH
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at, sample.task_seq


def _clamp_pct(value: float) -> float:
    return min(100.0, max(0.0, value))


def series(samples: Iterable[TelemetrySample]) -> TelemetrySeries:
    """Sparkline series and totals from ``GET /tasks/{id}/telemetry`` samples."""
    ordered = sorted(samples, key=_order)
    cpu: list[float] = []
    ram: list[float] = []
    gpu: list[float] = []
    vram: list[float] = []
    times: list[datetime] = []
    ram_total = vram_total = 0
    names: tuple[str, ...] = ()
    for s in ordered:
        if s.timestamp is not None:
            times.append(s.timestamp)
        if s.cpu_usage is not None:
            cpu.append(_clamp_pct(s.cpu_usage))
        if s.ram_total > 0 or s.ram_used > 0:
            ram.append(float(max(0, s.ram_used)))
            ram_total = s.ram_total or ram_total
        if not s.gpus:
            continue
        names = tuple(g.name for g in s.gpus if g.name) or names
        usages = [g.usage for g in s.gpus if g.usage is not None]
        if usages:
            gpu.append(_clamp_pct(sum(usages) / len(usages)))
        total = sum(max(0, g.memory_total) for g in s.gpus)
        used = sum(max(0, g.memory_used) for g in s.gpus)
        if total > 0 or used > 0:
            vram.append(float(used))
            vram_total = total or vram_total
    return TelemetrySeries(cpu, ram, ram_total, gpu, vram, vram_total, times, names)
