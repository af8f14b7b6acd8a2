"""``TaskRow.from_dto`` (a list page's DTO read straight into a row) against the long way,
``TaskRow.from_task(Task.from_dict(dto))``: equal rows, and the same DTOs skipped, for every
task of a seeded simulator world, seeded mutations of them, and hand-made edge cases."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from infdash.api import Task, TaskStatus
from infdash.api.models.common import CursorPage, parse_datetime
from infdash.sim import SimConfig, SimServer
from infdash.ui.tasklist import row as row_module
from infdash.ui.tasklist.row import TaskRow

WORLD_TASKS = 4000
MUTANTS = 6000
SKIPPED = (TypeError, ValueError, KeyError, AttributeError)
"""What a page's ``parse_items`` skips an item for; anything else fails the test."""


def long_way(raw: Any) -> TaskRow:
    return TaskRow.from_task(Task.from_dict(raw))


def outcome(parse: Callable[[Any], TaskRow], raw: Any) -> TaskRow | str:
    """The row, or ``"skipped"`` where a page would skip and count the item."""
    try:
        return parse(raw)
    except SKIPPED:
        return "skipped"


def assert_same(raw: Any) -> TaskRow | str:
    short = outcome(TaskRow.from_dto, raw)
    assert short == outcome(long_way, raw), raw
    return short


@pytest.fixture(scope="module")
def world_dtos() -> list[dict[str, Any]]:
    """Every task of a seeded world as the wire carries it (through JSON), as the list-paging
    benchmark draws them: completed, failed, cancelled before and after dispatch, running."""
    config = SimConfig(
        seed=1,
        manual_clock=True,
        history_size=WORLD_TASKS,
        running_at_start=3,
        start_time=1_780_000_000.0,
    )
    with SimServer(config) as server:
        dtos: list[dict[str, Any]] = server.call(
            lambda world: [task.dto() for task in world.tasks.values()]
        )
    wire: list[dict[str, Any]] = json.loads(json.dumps(dtos))
    return wire


def test_every_simulator_task_gives_the_same_row(world_dtos: list[dict[str, Any]]) -> None:
    assert len(world_dtos) > WORLD_TASKS
    rows = [assert_same(dto) for dto in world_dtos]
    assert "skipped" not in rows
    statuses = {row.status for row in rows if isinstance(row, TaskRow)}
    assert {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED} <= statuses
    assert TaskStatus.RUNNING in statuses
    finished = [r for r in rows if isinstance(r, TaskRow) and r.finished_at is not None]
    assert len(finished) > WORLD_TASKS // 2  # the run window is exercised, not all None
    assert any(isinstance(r, TaskRow) and r.worker == "" for r in rows)  # never dispatched


def test_a_page_parses_to_the_same_rows_and_skip_count(world_dtos: list[dict[str, Any]]) -> None:
    items: list[Any] = [*world_dtos[:500], "junk", {"status": 7}, None, {"id": ""}]
    page = {"items": items, "next_cursor": "c1", "has_next": True, "total_items": 9}
    short = CursorPage.from_dict(page, TaskRow.from_dto)
    whole = CursorPage.from_dict(page, Task.from_dict)
    assert short.items == tuple(TaskRow.from_task(task) for task in whole.items)
    assert short.skipped == whole.skipped == 4
    assert (short.next_cursor, short.has_next, short.total_items) == ("c1", True, 9)


# --- seeded mutations of the world's DTOs ---------------------------------------------------

ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    7,
    10,
    42,
    -3,
    7.0,
    9.5,
    float("nan"),
    1e300,
    "",
    " ",
    "x",
    "running",
    "RUNNING",
    "Setting-Up",
    "canceled",
    "7",
    " 11 ",
    "--5",
    "\u00b2",
    "2026-01-01T10:00:00",
    "2026-01-01T10:00:00+05:30",
    "2026-01-01T10:00:00z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-01:00",
    "not a date",
    1767225600,
    1767225600.25,
    -1e20,
    [],
    [1, "a"],
    {},
    {"name": "\x1b[2Jrig\x07"},
    "\x1b]0;owned\x07infsh/echo",
    "a\tb\nc\rd",
    "\x9b31mred\x1b[0m",
    "\x00\x7f\x85",
]
TOP_KEYS = [
    "id",
    "short_id",
    "status",
    "created_at",
    "updated_at",
    "app",
    "app_name",
    "app_version",
    "engine",
    "engine_id",
    "worker",
    "events",
]
NESTED = {
    "app": ["namespace", "name"],
    "app_version": ["version"],
    "engine": ["name", "id"],
    "worker": ["engine_name", "index"],
}
EVENT_KEYS = ["status", "event_time", "created_at"]


def mutate(dto: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A deep copy with one to four odd changes: a field dropped or given an odd value, a
    nested field (app, version, engine, worker) or an event changed, dropped or replaced."""
    raw = copy.deepcopy(dto)
    for _ in range(rng.randint(1, 4)):
        what = rng.random()
        if what < 0.3:
            key = rng.choice(TOP_KEYS)
            if rng.random() < 0.3:
                raw.pop(key, None)
            else:
                raw[key] = rng.choice(ODD_VALUES)
        elif what < 0.5:
            key = rng.choice(list(NESTED))
            inner = raw.get(key)
            if isinstance(inner, dict):
                inner[rng.choice(NESTED[key])] = rng.choice(ODD_VALUES)
        else:
            events = raw.get("events")
            if not isinstance(events, list) or not events:
                continue
            index = rng.randrange(len(events))
            event = events[index]
            roll = rng.random()
            if roll < 0.15:
                del events[index]
            elif roll < 0.3 or not isinstance(event, dict):
                events[index] = rng.choice(ODD_VALUES)
            elif roll < 0.45:
                event.pop(rng.choice(EVENT_KEYS), None)
            else:
                event[rng.choice(EVENT_KEYS)] = rng.choice(ODD_VALUES)
    return raw


def test_mutated_simulator_tasks_give_the_same_row_or_are_both_skipped(
    world_dtos: list[dict[str, Any]],
) -> None:
    rng = random.Random(20260101)
    outcomes = [assert_same(mutate(rng.choice(world_dtos), rng)) for _ in range(MUTANTS)]
    skipped = outcomes.count("skipped")
    assert 0 < skipped < MUTANTS // 4  # both paths exercised
    rows = [o for o in outcomes if isinstance(o, TaskRow)]
    assert any(r.status_text.startswith("unknown(") for r in rows)
    assert all(
        r.app.isprintable() and r.engine.isprintable() and r.worker.isprintable() for r in rows
    )


# --- hand-made edge cases -------------------------------------------------------------------

T0 = "2026-03-01T10:00:00Z"
T1 = "2026-03-01T10:00:05Z"
T2 = "2026-03-01T10:00:09Z"


def event(status: Any, at: Any = T0, created: Any = None) -> dict[str, Any]:
    return {"status": status, "event_time": at, "created_at": created}


EDGE_CASES: list[tuple[str, Any]] = [
    ("not an object", "task_1"),
    ("a list", [{"id": "task_1"}]),
    ("null", None),
    ("no id", {"status": 7}),
    ("empty id", {"id": ""}),
    ("null id", {"id": None}),
    ("numeric id", {"id": 12345, "status": 10}),
    ("bare id", {"id": "task_bare"}),
    ("status --5 raises", {"id": "t", "status": "--5"}),
    ("status superscript raises", {"id": "t", "status": "\u00b2"}),
    ("unknown code", {"id": "t", "status": 42}),
    ("negative code", {"id": "t", "status": -1}),
    ("status name", {"id": "t", "status": "Setting-Up"}),
    ("canceled spelling", {"id": "t", "status": "canceled"}),
    ("status as text number", {"id": "t", "status": " 11 "}),
    ("status float", {"id": "t", "status": 9.0}),
    ("status non-integral float", {"id": "t", "status": 9.5}),
    ("status bool", {"id": "t", "status": True}),
    ("naive datetimes", {"id": "t", "created_at": "2026-01-01T10:00:00", "updated_at": T1}),
    ("offset datetime", {"id": "t", "created_at": "2026-01-01T10:00:00+05:30"}),
    ("epoch datetime", {"id": "t", "created_at": 1767225600.5, "updated_at": 1767225600}),
    ("go zero time", {"id": "t", "created_at": "0001-01-01T00:00:00Z"}),
    ("overflowing datetime", {"id": "t", "updated_at": "9999-12-31T23:59:59-01:00"}),
    ("garbage datetime", {"id": "t", "created_at": "yesterday", "updated_at": []}),
    (
        "escapes in the app",
        {
            "id": "t",
            "app": {"namespace": "\x1b]0;owned\x07infsh", "name": "ec\x1b[2Jho"},
            "app_version": {"version": "1.0\n\t2"},
        },
    ),
    ("app as a ref string", {"id": "t", "app": "infsh/\x1b[31mecho@2.0.0"}),
    ("app ref and version string", {"id": "t", "app": "infsh/echo@1.0", "app_version": "3.0"}),
    ("app name only", {"id": "t", "app": {"name": "echo"}, "app_name": "ignored"}),
    ("app_name fallback", {"id": "t", "app": 5, "app_name": "infsh/fallback"}),
    ("short id with controls", {"id": "task_abcdefgh", "short_id": "ab\rcd\x00"}),
    ("short id not a string", {"id": "task_abcdefgh", "short_id": 99}),
    ("engine name", {"id": "t", "engine": {"name": "rig-\x1b[1ma"}, "engine_id": "eng_1"}),
    ("engine without name", {"id": "t", "engine": {"id": "eng_1"}, "engine_id": "eng_9"}),
    ("engine empty object", {"id": "t", "engine": {}, "engine_id": "eng_9"}),
    ("engine a string", {"id": "t", "engine": "rig-a", "engine_id": 7}),
    (
        "worker",
        {"id": "t", "engine": {"name": "rig"}, "worker": {"engine_name": "w\tx", "index": 3}},
    ),
    ("worker without engine name", {"id": "t", "engine_id": "eng_1", "worker": {"index": "2"}}),
    ("worker odd index", {"id": "t", "worker": {"index": "two", "engine_name": "rig"}}),
    ("worker float index", {"id": "t", "worker": {"index": 2.9}}),
    ("worker bool index", {"id": "t", "worker": {"index": True}}),
    ("worker empty", {"id": "t", "worker": {}}),
    ("worker a list", {"id": "t", "worker": [1]}),
    ("events not a list", {"id": "t", "status": 10, "events": {"status": 7}}),
    (
        "run window",
        {"id": "t", "status": 10, "events": [event(2), event(7, T1), event(9, T1), event(10, T2)]},
    ),
    (
        "run window of a live task",
        {"id": "t", "status": 7, "events": [event(7, T1), event(10, T2)]},
    ),
    (
        "malformed events skipped",
        {
            "id": "t",
            "status": "failed",
            "events": ["junk", None, 7, event("--5", T0), event(8, T1), event(11, T2)],
        },
    ),
    (
        "undated events skipped",
        {
            "id": "t",
            "status": 12,
            "events": [event(7, None), event(8, "bad", T1), event(12, T2), event(12, None)],
        },
    ),
    (
        "created_at when event_time is missing",
        {"id": "t", "status": 10, "events": [{"status": 7, "created_at": T0}, event(10, 0, T2)]},
    ),
    (
        "several final events: the last dated one",
        {"id": "t", "status": 11, "events": [event(10, T0), event(11, T1), event(13, "x")]},
    ),
    (
        "unknown and named event statuses",
        {
            "id": "t",
            "status": 10,
            "events": [event(42, T0), event("running", T1), event("COMPLETED", T2), event(99)],
        },
    ),
    (
        "event statuses as floats and bools",
        {"id": "t", "status": 13, "events": [event(True, T0), event(8.0, T1), event(13.0, T2)]},
    ),
    (
        "overflowing event time",
        {"id": "t", "status": 10, "events": [event(7, "9999-12-31T23:59:59-01:00", T1)]},
    ),
]


@pytest.mark.parametrize("raw", [case for _, case in EDGE_CASES], ids=[n for n, _ in EDGE_CASES])
def test_edge_cases_give_the_same_row_or_are_both_skipped(raw: Any) -> None:
    assert_same(raw)


def test_edge_case_rows_are_cleaned_and_dated() -> None:
    cases = dict(EDGE_CASES)
    for name in ("not an object", "no id", "empty id", "status --5 raises"):
        assert outcome(TaskRow.from_dto, cases[name]) == "skipped"
    app = TaskRow.from_dto(cases["escapes in the app"])
    assert app.app == "infsh/echo@1.0  2"
    assert TaskRow.from_dto(cases["unknown code"]).status_text == "unknown(42)"
    naive = TaskRow.from_dto(cases["naive datetimes"])
    assert naive.created_at == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert TaskRow.from_dto(cases["overflowing datetime"]).updated_at is None
    window = TaskRow.from_dto(cases["run window"])
    assert (window.started_at, window.finished_at) == (
        datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC),
        datetime(2026, 3, 1, 10, 0, 9, tzinfo=UTC),
    )
    live = TaskRow.from_dto(cases["run window of a live task"])
    assert live.started_at is not None
    assert live.finished_at is None
    undated = TaskRow.from_dto(cases["undated events skipped"])
    assert undated.started_at == datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC)
    assert TaskRow.from_dto(cases["worker"]).worker == "w x/3"
    assert TaskRow.from_dto(cases["worker without engine name"]).worker == "eng_1/2"


def test_only_the_timestamps_a_row_shows_are_parsed(
    world_dtos: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Of a finished task's events, only the first running one's and the last final one's
    times are read (plus created_at and updated_at): not one per event."""
    calls: list[Any] = []

    def counting(value: Any) -> datetime | None:
        calls.append(value)
        return parse_datetime(value)

    monkeypatch.setattr(row_module, "parse_datetime", counting)
    dto = next(d for d in world_dtos if d["status"] == 10 and len(d["events"]) >= 8)
    row = TaskRow.from_dto(dto)
    assert row.started_at is not None
    assert row.finished_at is not None
    assert len(calls) == 4
