"""The waterfall model: phase mapping, merging, cold start, bars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infdash.api.models.status import TaskEvent, TaskStatus
from infdash.api.models.tasks import Task
from infdash.api.models.timings import TaskTimings
from infdash.ui.detail.timings import (
    Phase,
    Waterfall,
    phase_name,
    waterfall_from_events,
    waterfall_from_timings,
)

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def stamp(seconds: float) -> str:
    return at(seconds).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("label", "phase"),
    [
        ("queue", "queue"),
        ("Received", "queue"),
        ("prepare", "prepare"),
        ("dispatched", "prepare"),
        ("serving", "serving"),
        ("Load model", "serving"),
        ("setting_up", "setup"),
        ("setup", "setup"),
        ("running", "run"),
        ("upload", "upload"),
        ("cancelling", "cancel"),
        ("Mystery\x1b[2J", "mystery"),
    ],
)
def test_phase_name(label: str, phase: str) -> None:
    assert phase_name(label) == phase


def group(label: str, start: float, end: float) -> dict[str, Any]:
    return {
        "label": label,
        "start_at": stamp(start),
        "end_at": stamp(end),
        "duration_ms": round((end - start) * 1000),
    }


def test_from_timings_of_a_finished_cold_task() -> None:
    raw = {
        "status": 10,
        "groups": [
            group("queue", 0, 2),
            group("prepare", 2, 3),
            group("serving", 3, 8),
            group("setup", 8, 9),
            group("run", 9, 19),
            group("upload", 19, 20),
        ],
    }
    wf = waterfall_from_timings(TaskTimings.from_dict(raw))
    assert [p.name for p in wf.phases] == ["queue", "prepare", "serving", "setup", "run", "upload"]
    assert wf.cold_start
    assert [p.cold_start for p in wf.phases] == [False, False, True, False, False, False]
    assert wf.start == at(0)
    assert wf.end == at(20)
    assert wf.total(at(999)) == timedelta(seconds=20)
    bars = wf.bars(40, at(999))
    assert [(off, length) for _, off, length in bars] == [
        (0, 4),
        (4, 2),
        (6, 10),
        (16, 2),
        (18, 20),
        (38, 2),
    ]


def test_from_timings_while_running_leaves_the_last_phase_open() -> None:
    raw = {
        "status": 7,
        "groups": [group("queue", 0, 1), group("prepare", 1, 2), group("run", 2, 5)],
    }
    wf = waterfall_from_timings(TaskTimings.from_dict(raw))
    assert not wf.cold_start
    assert wf.end is None
    assert wf.running
    assert wf.phases[-1].end is None
    assert wf.total(at(10)) == timedelta(seconds=10)  # grows with now
    assert wf.phases[-1].duration(at(10)) == timedelta(seconds=8)


def test_adjacent_groups_of_one_phase_merge() -> None:
    raw = {
        "status": 10,
        "groups": [group("received", 0, 1), group("queued", 1, 3), group("run", 3, 4)],
    }
    wf = waterfall_from_timings(TaskTimings.from_dict(raw))
    assert [(p.name, p.start, p.end) for p in wf.phases] == [
        ("queue", at(0), at(3)),
        ("run", at(3), at(4)),
    ]


def test_empty_timings() -> None:
    wf = waterfall_from_timings(TaskTimings.from_dict({}))
    assert wf.phases == ()
    assert wf.start is None
    assert wf.total(T0) == timedelta(0)
    assert wf.bars(20, T0) == []


def event(status: TaskStatus, seconds: float) -> TaskEvent:
    return TaskEvent("", status, int(status), at(seconds), at(seconds))


def test_from_events_grows_live() -> None:
    task = Task(
        id="t",
        status=TaskStatus.RUNNING,
        created_at=at(0),
        updated_at=at(6),
        events=(
            event(TaskStatus.RECEIVED, 0),
            event(TaskStatus.QUEUED, 0.5),
            event(TaskStatus.DISPATCHED, 2),
            event(TaskStatus.PREPARING, 2.2),
            event(TaskStatus.SETTING_UP, 4),
            event(TaskStatus.RUNNING, 6),
        ),
    )
    wf = waterfall_from_events(task)
    assert [(p.name, p.start, p.end) for p in wf.phases] == [
        ("queue", at(0), at(2)),
        ("prepare", at(2), at(4)),
        ("setup", at(4), at(6)),
        ("run", at(6), None),
    ]
    assert not wf.cold_start
    assert wf.end is None
    assert wf.total(at(16)) == timedelta(seconds=16)
    assert wf.bars(16, at(16))[-1][1:] == (6, 10)


def test_from_events_uses_a_newer_status_from_a_stream_partial() -> None:
    """Stream partials carry status + updated_at, not events."""
    task = Task(
        id="t",
        status=TaskStatus.SERVING,
        updated_at=at(3),
        events=(event(TaskStatus.RECEIVED, 0), event(TaskStatus.PREPARING, 1)),
    )
    wf = waterfall_from_events(task)
    assert [(p.name, p.end) for p in wf.phases] == [
        ("queue", at(1)),
        ("prepare", at(3)),
        ("serving", None),
    ]
    assert wf.cold_start


def test_from_events_of_a_finished_task() -> None:
    task = Task(
        id="t",
        status=TaskStatus.COMPLETED,
        updated_at=at(9),
        events=(
            event(TaskStatus.RECEIVED, 0),
            event(TaskStatus.RUNNING, 1),
            event(TaskStatus.UPLOADING, 8),
            event(TaskStatus.COMPLETED, 9),
        ),
    )
    wf = waterfall_from_events(task)
    assert wf.end == at(9)
    assert [p.name for p in wf.phases] == ["queue", "run", "upload"]
    assert all(p.end is not None for p in wf.phases)


def test_from_events_terminal_without_its_event() -> None:
    task = Task(
        id="t",
        status=TaskStatus.CANCELLED,
        updated_at=at(5),
        events=(event(TaskStatus.RECEIVED, 0), event(TaskStatus.RUNNING, 1)),
    )
    wf = waterfall_from_events(task)
    assert wf.end == at(5)
    assert wf.phases[-1].end == at(5)


@pytest.mark.parametrize(
    ("spans", "width", "expected"),
    [
        # a tiny phase still gets one cell; the next starts where its own offset says
        ([(0, 0.01), (0.01, 100)], 10, [(0, 1), (0, 10)]),
        # zero-duration finished phase: no cells
        ([(0, 0), (0, 10)], 10, [(0, 0), (0, 10)]),
        # width 1: everything fits in one cell
        ([(0, 5), (5, 10)], 1, [(0, 1), (0, 1)]),
        # a phase starting at the very end is pulled inside the width
        ([(0, 10), (10, 10.0001)], 10, [(0, 10), (9, 1)]),
    ],
)
def test_bars(
    spans: list[tuple[float, float]], width: int, expected: list[tuple[int, int]]
) -> None:
    phases = tuple(Phase(f"p{i}", at(a), at(b)) for i, (a, b) in enumerate(spans))
    wf = Waterfall(phases, at(spans[0][0]), at(max(b for _, b in spans)))
    got = [(off, length) for _, off, length in wf.bars(width, at(999))]
    assert got == expected
    for off, length in got:
        assert off >= 0
        assert off + length <= width


def test_bars_when_everything_starts_now() -> None:
    wf = Waterfall((Phase("queue", T0, None),), T0, None)
    assert [(off, length) for _, off, length in wf.bars(12, T0)] == [(0, 12)]
    assert wf.bars(0, T0) == []
