"""Task-table cell texts: glyphs, style groups, relative times, durations and costs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from rich.cells import cell_len

from infdash.api.models.status import TaskStatus
from infdash.ui.tasklist.format import (
    STATUS_STYLE_NAMES,
    ago,
    cost,
    duration,
    format_seconds,
    status_glyph,
    status_style_name,
)
from infdash.ui.tasklist.row import TaskRow

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def _row(status: TaskStatus, created: datetime | None, finished: datetime | None) -> TaskRow:
    return TaskRow(
        id="t",
        short_id="t",
        app="a/b@1",
        status=status,
        status_text=status.label,
        created_at=created,
        updated_at=created,
        started_at=None,
        finished_at=finished,
        engine="",
        worker="",
    )


@pytest.mark.parametrize("status", list(TaskStatus))
def test_every_status_has_a_one_cell_glyph_and_a_known_group(status: TaskStatus) -> None:
    glyph = status_glyph(status)
    assert cell_len(glyph) == 1
    assert glyph.isprintable()
    assert status_style_name(status) in STATUS_STYLE_NAMES


def test_glyphs_tell_final_states_apart() -> None:
    finals = [s for s in TaskStatus if s.is_terminal]
    assert len({status_glyph(s) for s in finals}) == len(finals)


@pytest.mark.parametrize(
    ("status", "group"),
    [
        (TaskStatus.RECEIVED, "waiting"),
        (TaskStatus.QUEUED, "waiting"),
        (TaskStatus.DISPATCHED, "waiting"),
        (TaskStatus.PREPARING, "starting"),
        (TaskStatus.SERVING, "starting"),
        (TaskStatus.SETTING_UP, "starting"),
        (TaskStatus.RUNNING, "running"),
        (TaskStatus.UPLOADING, "running"),
        (TaskStatus.CANCELLING, "stopping"),
        (TaskStatus.COMPLETED, "done"),
        (TaskStatus.FAILED, "failed"),
        (TaskStatus.REJECTED, "failed"),
        (TaskStatus.CANCELLED, "cancelled"),
        (TaskStatus.UNKNOWN, "unknown"),
    ],
)
def test_status_groups(status: TaskStatus, group: str) -> None:
    assert status_style_name(status) == group


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=0), "just now"),
        (timedelta(seconds=-30), "just now"),
        (timedelta(seconds=12.9), "12 s ago"),
        (timedelta(minutes=3, seconds=59), "3 min ago"),
        (timedelta(hours=2, minutes=59), "2 h ago"),
        (timedelta(days=3, hours=5), "3 d ago"),
        (timedelta(days=55), "2026-10-01"),
    ],
)
def test_ago(delta: timedelta, text: str) -> None:
    assert ago(NOW - delta, NOW) == text


def test_ago_of_unknown_time_is_empty() -> None:
    assert ago(None, NOW) == ""


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.84, "0.8 s"),
        (-2, "0.0 s"),
        (12.7, "12 s"),
        (184, "3m 04s"),
        (3720, "1h 02m"),
        (2 * 86_400 + 3 * 3600 + 59, "2d 3h"),
    ],
)
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text


def test_duration_of_a_running_task_counts_to_now() -> None:
    row = _row(TaskStatus.RUNNING, NOW - timedelta(seconds=184), None)
    assert duration(row, NOW) == "3m 04s"
    assert duration(row, NOW + timedelta(seconds=60)) == "4m 04s"


def test_duration_of_a_finished_task_stops_at_its_end() -> None:
    created = NOW - timedelta(hours=5)
    row = _row(TaskStatus.COMPLETED, created, created + timedelta(seconds=12))
    assert duration(row, NOW) == "12 s"


def test_duration_of_a_final_task_without_finish_event_uses_its_last_update() -> None:
    created = NOW - timedelta(hours=5)
    row = replace(_row(TaskStatus.FAILED, created, None), updated_at=created + timedelta(seconds=3))
    assert duration(row, NOW) == "3.0 s"
    assert duration(replace(row, updated_at=None), NOW) == ""


def test_duration_unknown_without_creation_time() -> None:
    assert duration(_row(TaskStatus.RUNNING, None, None), NOW) == ""


@pytest.mark.parametrize(
    ("microcents", "text"),
    [
        (None, ""),
        (0, "$0.0000"),
        (500_000, "$0.0050"),
        (123_000_000, "$1.23"),
        (123_456_000_000, "$1,234.56"),
    ],
)
def test_cost_in_dollars(microcents: int | None, text: str) -> None:
    assert cost(microcents) == text
