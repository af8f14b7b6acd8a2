"""Task table: load, navigate, live churn and sort, against Textual's DataTable (B1, B3, B5, B6).

An app holding only the table runs headless at 160x50 (performance.md §5.1).  Frames are timed
at ``App._display`` and keys go through the headless driver (see ``benchmarks/_frames.py``);
each frame is also serialised to ANSI, as a terminal would receive it.  The same rows, as seven
text columns, go through Textual's ``DataTable`` in the same run for comparison.

- B1: 50,000 rows in memory → ``set_source`` → first frame (target ≤ 50 ms).
- B3: 100,000 rows; 200 alternating down/up keys, key → frame p50/p99 (target p99 ≤ 16.7 ms),
  then 200 alternating pagedown/pageup (target p99 ≤ 25 ms).  ``gc.collect(); gc.freeze()``
  after the load, as the app would after a bulk load (performance.md §1.1).
- B5: 50,000 rows, 1,000 status changes/s for 3 s, a third on visible rows, while a typist
  presses down/up every 30 ms: changed visible row → frame p99 and key → frame p99 (≤ 50 ms).
- B6: sort 50,000 rows (the list-backed source sorts itself, then ``rows_changed()``) → frame
  (target ≤ 50 ms, median of 5 sorts by different keys).

One run of each table takes about 50 s (DataTable's 50k-row load alone takes 5–7 s); targets
are medians, so run the module 3 times (or set ``INFDASH_BENCH_RUNS=3`` for in-process medians
of TaskTable).  DataTable runs with 50,000 rows throughout (B3 too: populating 100,000 would
take it ~10 s more); set ``INFDASH_BENCH_DATATABLE=0`` to skip it.  Only TaskTable figures
decide the exit code.

Run: ``python -m benchmarks.bench_task_table``.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from benchmarks._frames import FrameProbe, send_key
from infdash.api.models.status import TaskStatus
from infdash.ui.tasklist.format import ago, cost, duration, status_glyph
from infdash.ui.tasklist.row import TaskRow
from infdash.ui.widgets import TaskTable

SIZE = (160, 50)
LOAD_ROWS = 50_000
NAV_ROWS = 100_000
RUNS = int(os.environ.get("INFDASH_BENCH_RUNS", "1"))
KEYS = 200
KEY_GAP = 0.035
"""Seconds between B3 keys.  The screen paints from a 60 Hz timer that, after each frame,
sleeps to the next-but-one grid tick (16.7–33.3 ms), so a key sent sooner waits for that tick
whatever the widget costs (DataTable alike).  Keys 35 ms apart measure the table's own work;
B5's typist (30 ms apart, frames flowing) measures under that pacing."""
CHURN_RATE = 1_000
CHURN_SECONDS = 3.0
TYPIST_GAP = 0.03
SORTS = 5
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

TARGETS_MS: dict[str, float] = {
    "B1 load → first frame": 50.0,
    "B3 down/up p50": 3.0,
    "B3 down/up p99": 16.7,
    "B3 pgdn/pgup p50": 8.0,
    "B3 pgdn/pgup p99": 25.0,
    "B5 visible change → frame p99": 50.0,
    "B5 key → frame p99": 50.0,
    "B6 sort → frame": 50.0,
}

_STATUSES = list(TaskStatus)


def make_rows(count: int, seed: int = 1) -> list[TaskRow]:
    """``count`` plausible rows, newest first."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        status = rng.choice(_STATUSES)
        created = NOW - timedelta(seconds=i * 7 + rng.random())
        finished = created + timedelta(seconds=rng.uniform(1, 600)) if status.is_terminal else None
        rows.append(
            TaskRow(
                id=f"{i:08d}-task-{rng.getrandbits(64):016x}",
                short_id=f"{i:08d}",
                app=f"ns-{i % 17}/app-{i % 29}@{i % 5}.{i % 3}.0",
                status=status,
                status_text=status.label,
                created_at=created,
                updated_at=finished or created,
                started_at=created,
                finished_at=finished,
                engine=f"engine-{i % 13}",
                worker=f"engine-{i % 13}/{i % 4}" if status >= TaskStatus.RUNNING else "",
                cost_microcents=rng.randrange(10**7) if status.is_terminal else None,
            )
        )
    return rows


class ListSource:
    """The list-backed :class:`RowSource` the owner would keep: rows plus an id index."""

    def __init__(self, rows: list[TaskRow]) -> None:
        self.rows = rows
        self.index = {row.id: i for i, row in enumerate(rows)}

    def __len__(self) -> int:
        return len(self.rows)

    def row_at(self, index: int) -> TaskRow | None:
        return self.rows[index]

    def index_of(self, task_id: str) -> int | None:
        return self.index.get(task_id)

    def sort(self, key: Callable[[TaskRow], Any], reverse: bool) -> None:
        self.rows.sort(key=key, reverse=reverse)
        self.index = {row.id: i for i, row in enumerate(self.rows)}


def cells(row: TaskRow) -> tuple[str, ...]:
    """The seven DataTable cells of ``row`` (formatted up front: DataTable stores text)."""
    return (
        row.short_id,
        f"{status_glyph(row.status)} {row.status_text}",
        row.app,
        ago(row.created_at, NOW),
        duration(row, NOW),
        row.worker or row.engine,
        cost(row.cost_microcents),
    )


class TaskTableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TaskTable(now=lambda: NOW)


class DataTableApp(App[None]):
    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable(cursor_type="row")
        table.add_columns(
            *(("ID", "STATUS", "APP", "CREATED", "DURATION", "ENGINE/WORKER", "COST"))
        )
        yield table


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def keys(
    app: App[Any],
    probe: FrameProbe,
    cursor: Callable[[], int],
    pair: tuple[str, str],
    step: int,
) -> list[float]:
    """Key → frame seconds for ``KEYS`` alternating keys that move the cursor by ``step``."""
    samples = []
    for n in range(KEYS):
        key, delta = (pair[0], step) if n % 2 == 0 else (pair[1], -step)
        expected = cursor() + delta
        painted = probe.when(lambda expected=expected: cursor() == expected)  # type: ignore[misc]
        sent = send_key(app, key)
        samples.append(await asyncio.wait_for(painted, 30) - sent)
        await asyncio.sleep(KEY_GAP)
    return samples


async def churn(
    app: App[Any],
    probe: FrameProbe,
    count: int,
    visible: Callable[[], tuple[int, int]],
    change: Callable[[int], None],
    cursor: Callable[[], int],
) -> tuple[list[float], list[float]]:
    """(visible change → frame, key → frame) seconds under ``CHURN_RATE`` changes a second."""
    rng = random.Random(5)
    changes: list[tuple[float, asyncio.Future[float]]] = []
    typed: list[float] = []
    stop = asyncio.Event()

    async def typist() -> None:
        n = 0
        while not stop.is_set():
            key, delta = ("down", 1) if n % 2 == 0 else ("up", -1)
            expected = cursor() + delta
            painted = probe.when(lambda expected=expected: cursor() == expected)  # type: ignore[misc]
            sent = send_key(app, key)
            typed.append(await asyncio.wait_for(painted, 30) - sent)
            n += 1
            await asyncio.sleep(TYPIST_GAP)

    typing = asyncio.create_task(typist())
    start = time.perf_counter()
    done = 0
    while (elapsed := time.perf_counter() - start) < CHURN_SECONDS:
        target = int(elapsed * CHURN_RATE)
        while done < target:
            if rng.random() < 1 / 3:
                first, end = visible()
                index = rng.randrange(first, max(first + 1, end))
                at = time.perf_counter()
                change(index)
                changes.append((at, probe.when(lambda: True)))
            else:
                change(rng.randrange(count))
            done += 1
        await asyncio.sleep(0.004)
    stop.set()
    await typing
    shown = [await asyncio.wait_for(future, 30) - at for at, future in changes]
    return shown, typed


async def sorts(
    probe: FrameProbe, sort: Callable[[int], None], check: Callable[[], None]
) -> list[float]:
    """Sort → frame seconds, ``SORTS`` times with different keys."""
    samples = []
    for n in range(SORTS):
        start = time.perf_counter()
        sort(n)
        samples.append(await probe.next_frame() - start)
    check()
    return samples


_SORT_KEYS: list[tuple[str, Callable[[TaskRow], Any], bool]] = [
    ("status", lambda r: r.status, False),
    ("created", lambda r: r.created_at, False),
    ("app", lambda r: r.app, True),
    ("id", lambda r: r.short_id, False),
    ("created", lambda r: r.created_at, True),
]


def _summary(
    load: float, nav: list[float], page: list[float], shown: list[float], typed: list[float],
    sorted_: list[float],
) -> dict[str, float]:  # fmt: skip
    return {
        "B1 load → first frame": load * 1000,
        "B3 down/up p50": percentile(nav, 0.5) * 1000,
        "B3 down/up p99": percentile(nav, 0.99) * 1000,
        "B3 pgdn/pgup p50": percentile(page, 0.5) * 1000,
        "B3 pgdn/pgup p99": percentile(page, 0.99) * 1000,
        "B5 visible change → frame p99": percentile(shown, 0.99) * 1000,
        "B5 key → frame p99": percentile(typed, 0.99) * 1000,
        "B6 sort → frame": statistics.median(sorted_) * 1000,
    }


async def run_task_table(load_rows: list[TaskRow], nav_rows: list[TaskRow]) -> dict[str, float]:
    app = TaskTableApp()
    async with app.run_test(size=SIZE) as pilot:
        probe = FrameProbe(app)
        table = app.query_one(TaskTable)
        table.focus()
        await pilot.pause()
        table.refresh()
        await probe.next_frame()
        probe.check()

        source = ListSource(list(load_rows))
        start = time.perf_counter()
        table.set_source(source)
        load = await probe.next_frame() - start

        table.set_source(ListSource(list(nav_rows)))
        table.cursor = NAV_ROWS // 2
        await probe.next_frame()
        gc.collect()
        gc.freeze()
        page_rows = table.visible_range()[1] - table.visible_range()[0]
        nav = await keys(app, probe, lambda: table.cursor, ("down", "up"), 1)
        page = await keys(app, probe, lambda: table.cursor, ("pagedown", "pageup"), page_rows)

        table.set_source(source)
        table.cursor = LOAD_ROWS // 2
        await probe.next_frame()

        def change(index: int) -> None:
            row = source.rows[index]
            status = _STATUSES[(row.status + 1) % len(_STATUSES)]
            source.rows[index] = replace(row, status=status, status_text=status.label)
            table.refresh_ids((row.id,))

        shown, typed = await churn(
            app, probe, LOAD_ROWS, table.visible_range, change, lambda: table.cursor
        )

        def sort(n: int) -> None:
            _, key, reverse = _SORT_KEYS[n % len(_SORT_KEYS)]
            source.sort(key, reverse)
            table.rows_changed()

        def check_sorted() -> None:
            _, key, reverse = _SORT_KEYS[(SORTS - 1) % len(_SORT_KEYS)]
            assert source.rows == sorted(source.rows, key=key, reverse=reverse)

        sorted_ = await sorts(probe, sort, check_sorted)
        gc.unfreeze()
    return _summary(load, nav, page, shown, typed, sorted_)


async def run_data_table(rows: list[TaskRow]) -> dict[str, float]:
    app = DataTableApp()
    texts = [cells(row) for row in rows]
    async with app.run_test(size=SIZE) as pilot:
        probe = FrameProbe(app)
        table: DataTable[str] = app.query_one(DataTable)
        table.focus()
        await pilot.pause()
        table.refresh()
        await probe.next_frame()
        probe.check()

        start = time.perf_counter()
        keys_ = table.add_rows(texts)
        load = await probe.frame(lambda: not table._new_rows, 120) - start

        def cursor() -> int:
            return table.cursor_coordinate.row

        table.move_cursor(row=len(rows) // 2, animate=False)
        await probe.next_frame()
        gc.collect()
        gc.freeze()
        page_rows = table.scrollable_content_region.height - 1
        nav = await keys(app, probe, cursor, ("down", "up"), 1)
        page = await keys(app, probe, cursor, ("pagedown", "pageup"), page_rows)

        status_column = list(table.columns)[1]
        statuses = [f"{status_glyph(s)} {s.label}" for s in _STATUSES]

        def visible() -> tuple[int, int]:
            first = round(table.scroll_y)
            return first, min(len(rows), first + page_rows)

        def change(index: int) -> None:
            table.update_cell(keys_[index], status_column, random.choice(statuses))

        shown, typed = await churn(app, probe, len(rows), visible, change, cursor)

        columns = list(table.columns)

        def sort(n: int) -> None:
            table.sort(columns[n % len(columns)], reverse=n % 2 == 1)

        sorted_ = await sorts(probe, sort, lambda: None)
        gc.unfreeze()
    return _summary(load, nav, page, shown, typed, sorted_)


def _format(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.1f} ms"


def main() -> int:
    """Print TaskTable (median of RUNS) and DataTable figures; 0 when TaskTable meets all."""
    load_rows = make_rows(LOAD_ROWS)
    nav_rows = make_rows(NAV_ROWS, seed=2)

    def run(coro: Callable[[], Awaitable[dict[str, float]]]) -> dict[str, float]:
        async def go() -> dict[str, float]:
            return await coro()

        return asyncio.run(go())

    runs = [run(lambda: run_task_table(load_rows, nav_rows)) for _ in range(RUNS)]
    ours = {name: statistics.median(r[name] for r in runs) for name in TARGETS_MS}
    theirs: dict[str, float] | None = None
    if os.environ.get("INFDASH_BENCH_DATATABLE", "1") != "0":
        theirs = run(lambda: run_data_table(load_rows))
    missed = 0
    for name, target in TARGETS_MS.items():
        ok = ours[name] <= target
        missed += not ok
        peer = "" if theirs is None else f" | DataTable: {_format(theirs[name])}"
        print(
            f"{name} TaskTable: {_format(ours[name])} (target ≤ {_format(target)}) "
            f"{'ok' if ok else 'MISSED'}{peer}"
        )
    print(
        f"(TaskTable: median of {RUNS} run(s), B3 at {NAV_ROWS:,} rows; DataTable: one run at "
        f"{LOAD_ROWS:,} rows; gc.freeze() after each load; frames serialised to ANSI)"
    )
    return 0 if missed == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
