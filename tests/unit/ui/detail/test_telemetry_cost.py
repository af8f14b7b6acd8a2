"""Telemetry series and cost text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from infdash.api.models.metrics import TaskCost, parse_telemetry
from infdash.api.models.status import TaskEvent, TaskStatus
from infdash.api.models.tasks import Task
from infdash.ui.detail.cost import (
    CostRate,
    dollars,
    estimate_cost,
    format_cost,
    format_estimate,
    rate_from,
    worker_seconds,
)
from infdash.ui.detail.telemetry import series

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sample(seq: int, **info: Any) -> dict[str, Any]:
    return {
        "timestamp": (T0 + timedelta(seconds=30 * seq)).isoformat(),
        "task_seq": seq,
        "system_info": info,
    }


def test_series_orders_samples_and_reads_every_resource() -> None:
    raw = [
        sample(
            1,
            cpus=[{"usage": 50}, {"usage": 70}],
            ram={"total": 1000, "used": 400},
            gpus=[
                {"name": "L4", "usage": 80, "memory_used": 10, "memory_total": 100},
                {"name": "L4", "usage": 60, "memory_used": 20, "memory_total": 100},
            ],
        ),
        sample(0, cpus=[{"usage": 10}], ram={"total": 1000, "used": 100}, gpus=[]),
    ]
    samples, skipped = parse_telemetry(raw)
    assert skipped == 0
    s = series(samples)
    assert s.cpu == [10.0, 60.0]
    assert s.ram == [100.0, 400.0]
    assert s.ram_total == 1000
    assert s.gpu == [70.0]
    assert s.vram == [30.0]
    assert s.vram_total == 200
    assert s.cpu_now == 60.0
    assert s.gpu_now == 70.0
    assert s.vram_now == 30.0
    assert s.ram_fraction == pytest.approx(0.4)
    assert s.vram_fraction == pytest.approx(0.15)
    assert s.gpu_names == ("L4", "L4")
    assert len(s.times) == 2
    assert s.times[0] < s.times[1]
    assert not s.empty


@pytest.mark.parametrize(
    "raw",
    [
        [],
        [{}],
        [{"system_info": None}],
        [{"system_info": {"cpus": "nope", "ram": [], "gpus": [None, 3]}}],
        [{"engine_resources": {"gpus": [{"usage": "x"}]}}],
    ],
)
def test_series_survives_missing_and_junk_fields(raw: list[Any]) -> None:
    samples, _ = parse_telemetry(raw)
    s = series(samples)
    assert s.cpu_now is None
    assert s.ram_now is None
    assert s.gpu_now is None
    assert s.ram_fraction is None
    assert s.vram_fraction is None


def test_series_clamps_percentages_and_skips_gaps() -> None:
    samples, _ = parse_telemetry(
        [
            sample(0, cpus=[{"usage": 250}]),
            sample(1, ram={"used": 5}),
            sample(2, cpus=[{"usage": -3}]),
        ]
    )
    s = series(samples)
    assert s.cpu == [100.0, 0.0]
    assert s.ram == [5.0]
    assert s.ram_total == 0
    assert s.ram_fraction is None


@pytest.mark.parametrize(
    ("microcents", "text"),
    [
        (0, "$0.0000"),
        (500_000, "$0.0050"),
        (1_230_000, "$0.0123"),
        (1_000, "$0.000010"),
        (123_000_000, "$1.23"),
        (123_456_000_000, "$1,234.56"),
    ],
)
def test_dollars(microcents: int, text: str) -> None:
    assert dollars(microcents) == text


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ({"total": 1_230_000, "charged": 1_230_000}, "$0.0123"),
        ({"total": 2_000_000, "charged": 1_230_000, "discount": 770_000},
         "$0.0123 (of $0.0200, $0.0077 discount)"),
        ({"total": 1_500_000, "charged": 1_500_000, "refunded": 1_500_000},
         "$0.0000 ($0.0150 refunded)"),
        ({"total": 500, "charged": 0, "discount": 500},
         "$0.0000 (of $0.000005, $0.000005 discount)"),
    ],
)  # fmt: skip
def test_format_cost(raw: dict[str, int], text: str) -> None:
    cost = TaskCost.from_dict(raw)
    assert format_cost(cost) == text
    assert cost.usd == Decimal(cost.charged) / 100_000_000


def ev(status: TaskStatus, seconds: float) -> TaskEvent:
    return TaskEvent("", status, int(status), at(seconds), at(seconds))


FINISHED = Task(
    id="done",
    app_version_id="ver_1",
    status=TaskStatus.COMPLETED,
    updated_at=at(12),
    events=(
        ev(TaskStatus.RECEIVED, 0),
        ev(TaskStatus.QUEUED, 0.5),
        ev(TaskStatus.DISPATCHED, 2),
        ev(TaskStatus.RUNNING, 3),
        ev(TaskStatus.COMPLETED, 12),
    ),
)


def test_rate_and_running_estimate() -> None:
    assert worker_seconds(FINISHED) == 10.0
    rate = rate_from(FINISHED, TaskCost(total=50_000, charged=50_000))
    assert rate == CostRate(5000.0, "done", "ver_1")
    running = Task(
        id="live",
        app_version_id="ver_1",
        status=TaskStatus.RUNNING,
        events=(ev(TaskStatus.RECEIVED, 100), ev(TaskStatus.DISPATCHED, 101)),
    )
    assert estimate_cost(running, rate, at(105)) == 20_000
    assert format_estimate(estimate_cost(running, rate, at(105))) == "≈ $0.0002 so far (estimate)"
    other = Task(id="x", app_version_id="ver_2", status=TaskStatus.RUNNING, events=running.events)
    assert estimate_cost(other, rate, at(105)) is None  # another version: another price
    assert estimate_cost(running, None, at(105)) is None
    assert format_estimate(None) == "cost when finished"


def test_no_rate_without_worker_time() -> None:
    queued_then_cancelled = Task(
        id="c",
        status=TaskStatus.CANCELLED,
        events=(ev(TaskStatus.RECEIVED, 0), ev(TaskStatus.CANCELLED, 4)),
    )
    assert rate_from(queued_then_cancelled, TaskCost(0, 0)) is None
    still_running = Task(id="r", status=TaskStatus.RUNNING, events=FINISHED.events[:4])
    assert rate_from(still_running, TaskCost(1, 1)) is None
    waiting = Task(id="w", status=TaskStatus.QUEUED, events=FINISHED.events[:2])
    rate = CostRate(1.0, "done")
    assert estimate_cost(waiting, rate, at(50)) is None


def test_worker_seconds_from_a_stream_partial_status() -> None:
    task = Task(
        id="p", status=TaskStatus.RUNNING, updated_at=at(10), events=(ev(TaskStatus.QUEUED, 0),)
    )
    assert worker_seconds(task, at(15)) == 5.0
