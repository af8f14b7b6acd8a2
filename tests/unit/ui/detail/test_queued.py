"""why_queued: one sentence per situation, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infdash.api.models.engines import Engine
from infdash.api.models.status import TaskStatus
from infdash.api.models.tasks import Task
from infdash.api.models.usage import QueueStats, Usage
from infdash.ui.detail.queued import queued_for_app, why_queued

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def engine(name: str, status: str, *workers: str, cloud: bool = False) -> Engine:
    raw: dict[str, Any] = {
        "id": f"eng_{name}",
        "name": name,
        "status": status,
        "workers": [{"id": f"{name}-w{i}", "index": i, "status": s} for i, s in enumerate(workers)],
    }
    if cloud:
        raw["instance"] = {"cloud": "shade"}
    return Engine.from_dict(raw)


def task(**kw: Any) -> Task:
    base: dict[str, Any] = {
        "id": "task_1",
        "status": TaskStatus.QUEUED,
        "app_name": "infsh/flux",
        "app_id": "app_flux",
        "infra": "cloud",
    }
    base.update(kw)
    return Task(**base)


STATS = QueueStats.from_dict(
    {
        "total_queued": 5,
        "by_app": [
            {"app": "infsh/flux", "app_id": "app_flux", "count": 4},
            {"app": "infsh/echo", "app_id": "app_echo", "count": 1},
        ],
    }
)
BUSY = [engine("rig-a", "running", "busy", "busy"), engine("rig-b", "running", "busy")]
FULL = Usage.from_dict([{"resource": "concurrency", "usage": 10, "limit": 10}])
ROOM = Usage.from_dict([{"resource": "concurrency", "usage": 3, "limit": 10}])


@pytest.mark.parametrize(
    ("the_task", "stats", "engines", "usage", "expected"),
    [
        (task(), STATS, BUSY, ROOM,
         "3 tasks ahead of it for infsh/flux; 3 of 3 workers that can run it are busy "
         "(rig-a, rig-b) — it starts when one frees up."),
        (task(), STATS, BUSY, FULL,
         "3 tasks ahead of it for infsh/flux; your plan's concurrency is used up (10 of 10 "
         "tasks running) — it starts when one of them finishes, or cancel one."),
        (task(app_id="app_echo", app_name="infsh/echo"), STATS,
         [engine("rig-a", "running", "busy", "idle")], None,
         "Nothing else is queued for infsh/echo; 1 idle worker can take it (rig-a) — it "
         "should be dispatched in a moment; if it stays queued, check that engine."),
        (task(infra="private"), STATS,
         [engine("rig-a", "disconnected", "inactive"), engine("rig-b", "draining", "busy")], None,
         "3 tasks ahead of it for infsh/flux; no engine is online for private infra (rig-a is "
         "disconnected; rig-b is draining) — start an engine or run it on cloud."),
        (task(infra="private"), None, [], None,
         "No engine is online for private infra — start an engine or run it on cloud."),
        (task(infra="private_first"), None, [], None,
         "No engine is online for private infra — start an engine."),
        (task(), None, [], None,
         "No worker is online to take it — start an engine, or wait for capacity."),
        (task(workers=("rig-c-w0",)), STATS,
         [*BUSY, engine("rig-c", "stopped", "inactive")], None,
         "3 tasks ahead of it for infsh/flux; none of its pinned workers is on an engine that "
         "accepts work (rig-c is stopped) — start that engine, or re-run it without pinned "
         "workers."),
        (task(workers=("rig-b-w0",)), STATS, BUSY, None,
         "3 tasks ahead of it for infsh/flux; 1 of 1 worker that can run it is busy (rig-b) — "
         "it starts when one frees up."),
        (task(status=TaskStatus.RUNNING), STATS, BUSY, None, "It is not queued: it is running."),
        (task(status=TaskStatus.SETTING_UP), STATS, BUSY, None,
         "It is not queued: it is setting up."),
        (task(status=TaskStatus.COMPLETED), STATS, BUSY, None,
         "It is not queued: it has finished (completed)."),
        (task(app_name="x\x1b]0;evil\x07/y", app_id="app_x"),
         QueueStats.from_dict({"total_queued": 2}),
         [engine("r\x1b[2Jig", "running", "busy")], None,
         "2 tasks queued in your account; 1 of 1 worker that can run it is busy (rig) — it "
         "starts when one frees up."),
    ],
)  # fmt: skip
def test_why_queued(
    the_task: Task,
    stats: QueueStats | None,
    engines: list[Engine],
    usage: Usage | None,
    expected: str,
) -> None:
    assert why_queued(the_task, stats, engines, usage, now=NOW) == expected


def test_scheduled_task() -> None:
    t = task(run_at=NOW + timedelta(minutes=5))
    text = why_queued(t, STATS, BUSY, FULL, now=NOW)
    assert text == (
        "It is scheduled to run at 2026-11-25 12:05:00 UTC (in 5m 00s) and waits until then — "
        "cancel it and run it again to start now."
    )
    assert "scheduled" not in why_queued(t, STATS, BUSY, None, now=NOW + timedelta(minutes=6))


def test_queued_for_app() -> None:
    assert queued_for_app(task(), STATS) == 4
    assert queued_for_app(task(app_id="", app_name="infsh/echo"), STATS) == 1
    assert queued_for_app(task(app_id="app_none", app_name="none"), STATS) == 0
    assert queued_for_app(task(), None) is None
    assert queued_for_app(task(), QueueStats()) is None


def test_many_engines_are_shortened() -> None:
    engines = [engine(f"rig-{c}", "running", "busy") for c in "abcde"]
    text = why_queued(task(), None, engines)
    assert "(rig-a, rig-b, rig-c, +2 more)" in text
    assert text.startswith("5 of 5 workers")
