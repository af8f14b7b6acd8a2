"""Telemetry samples and task cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from infdash.api.models.common import (
    as_dict,
    as_int,
    as_list,
    as_str,
    opt_float,
    parse_datetime,
    parse_items,
)

# 1 USD = 10^8 microcents (reference §6; stated twice, and it matches the unit's name).
MICROCENTS_PER_USD = 100_000_000


@dataclass(frozen=True, slots=True)
class GpuSample:
    name: str
    index: int
    usage: float | None
    memory_used: int
    memory_total: int
    temperature: float | None

    @property
    def vram_fraction(self) -> float | None:
        return self.memory_used / self.memory_total if self.memory_total > 0 else None

    @classmethod
    def from_dict(cls, raw: Any) -> GpuSample:
        data = as_dict(raw)
        usage = opt_float(data.get("usage"))
        return cls(
            name=as_str(data.get("name")),
            index=as_int(data.get("index")),
            usage=usage if usage is not None else opt_float(data.get("utilization")),
            memory_used=as_int(data.get("memory_used")),
            memory_total=as_int(data.get("memory_total")),
            temperature=opt_float(data.get("temperature")),
        )


@dataclass(frozen=True, slots=True)
class TelemetrySample:
    """One downsampled resource sample of a running task (percentages are 0–100)."""

    timestamp: datetime | None
    cpu_usage: float | None
    ram_used: int
    ram_total: int
    ram_usage: float | None
    gpus: tuple[GpuSample, ...]
    task_seq: int = 0

    @classmethod
    def from_dict(cls, raw: Any) -> TelemetrySample:
        if not isinstance(raw, dict):
            raise ValueError("telemetry sample is not an object")
        info = as_dict(raw.get("system_info")) or as_dict(raw.get("engine_resources"))
        cpus = [opt_float(as_dict(c).get("usage")) for c in as_list(info.get("cpus"))]
        cpu_values = [c for c in cpus if c is not None]
        ram = as_dict(info.get("ram"))
        ram_used = as_int(ram.get("used"))
        ram_total = as_int(ram.get("total"))
        ram_usage = opt_float(ram.get("usage"))
        if ram_usage is None and ram_total > 0:
            ram_usage = 100.0 * ram_used / ram_total
        gpus, _ = parse_items(info.get("gpus"), GpuSample.from_dict)
        return cls(
            timestamp=parse_datetime(raw.get("timestamp")),
            cpu_usage=sum(cpu_values) / len(cpu_values) if cpu_values else None,
            ram_used=ram_used,
            ram_total=ram_total,
            ram_usage=ram_usage,
            gpus=gpus,
            task_seq=as_int(raw.get("task_seq")),
        )


def parse_telemetry(raw: Any) -> tuple[tuple[TelemetrySample, ...], int]:
    """A telemetry array (or an object holding ``items``/``samples``): (samples, skipped)."""
    if isinstance(raw, dict):
        raw = raw.get("items", raw.get("samples"))
    return parse_items(raw, TelemetrySample.from_dict)


@dataclass(frozen=True, slots=True)
class TaskCost:
    """``GET /usage/tasks/{id}/cost``: amounts in microcents."""

    total: int
    charged: int
    discount: int = 0
    refunded: int = 0

    @property
    def usd(self) -> Decimal:
        """What was charged, in US dollars (exact)."""
        return Decimal(self.charged) / MICROCENTS_PER_USD

    @property
    def total_usd(self) -> Decimal:
        return Decimal(self.total) / MICROCENTS_PER_USD

    @classmethod
    def from_dict(cls, raw: Any) -> TaskCost:
        data = as_dict(raw)
        total = as_int(data.get("total"))
        charged = data.get("charged")
        return cls(
            total=total,
            charged=as_int(charged) if charged is not None else total,
            discount=as_int(data.get("discount")),
            refunded=as_int(data.get("refunded")),
        )
