"""Log viewer under floods, against Textual's RichLog fed one line per call (B7, B8, B9, B19).

An app holding only a :class:`LogView` (``max_lines=100_000``) runs headless at 160x50
(performance.md §5.1).  Frames are timed at ``App._display`` and serialised to ANSI; keys go
through the headless driver (``benchmarks/_frames.py``).  A producer coroutine on the app's loop
appends a batch every 10 ms, as a stream reader would per network read.  Lines are ~100 ASCII
characters taken from a pre-built pool of texts (formatting 200k strings a second would measure
the generator, not the widget); the ``LogLine`` objects, each with its own sequence number, are
made per batch as a stream parser would; one timestamp per batch (one ``TaskLog``, many lines).

- B7: 50,000 lines/s (500 every 10 ms) for ``B7_SECONDS`` (30 s, as the issue asks; set
  ``INFDASH_BENCH_B7_SECONDS`` for a quicker look): lines lost (target 0: the count and every
  retained sequence number), line → frame p99 (≤ 100 ms, from the batch's append to the first frame
  that shows it), key → frame p99 (≤ 50 ms; a typist alternates ``up``/``end`` every 100 ms,
  i.e. pause/resume), fps (≥ 30).
- B8: 1,000,000 lines in ~5 s (2,000 every 10 ms): key → frame p99 (≤ 100 ms), all lines
  counted.  Memory: tracemalloc of a ``LogView`` after 300,000 lines through the 100,000 cap,
  per 100k retained lines (≤ 25 MiB).
- B9: the view scrolled back to the middle of a full (100k, capped) log while 10,000 lines/s
  arrive for 3 s: frames whose first line changed (target 0; the cap drops lines above the
  view, so ``scroll_y`` moves by design and the *line* must not), badge equal to the lines
  sent, badge repaints ≤ 4 Hz, then ``end`` → tail frame (≤ 50 ms).
- B19: 50 resizes in 2 s (on a 40 ms schedule) during a 10,000 lines/s flood that goes on until
  1.1 s after the last: no exception; fps in the 0.5 s window starting 0.5 s after the last
  resize (≥ 30).

Each LogView scenario runs ``RUNS`` (3) times; medians are printed.  The apps here do what
``InfdashApp`` does about the garbage collector:
:func:`~infdash.ui.gc_freeze.freeze_startup_objects` once the first frame is painted (full
collections skipped Textual's startup objects no more: 20-70 ms stalls, the tail of B7 key
latency), :func:`~infdash.ui.gc_freeze.unfreeze_objects` on unmount.  B7 key latency per run
is printed, and one more B7 run without the freeze (not gating) shows what it buys.

RichLog runs once, capped at ``RICHLOG_SECONDS`` (3 s) per scenario, at the same offered rates:
its achieved rate, line → frame and key p99, and its memory per 100k lines (measured on 3,000
lines, scaled).  Total runtime is about 3 minutes.

Run: ``python -m benchmarks.bench_log_view``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import RichLog

from benchmarks._frames import FrameProbe, percentile, ready, send_key
from infdash.ui.gc_freeze import freeze_startup_objects, unfreeze_objects
from infdash.ui.logs.buffer import PHASES, LogLine
from infdash.ui.widgets.log_view import LogView

SIZE = (160, 50)
RUNS = int(os.environ.get("INFDASH_BENCH_RUNS", "3"))
B7_SECONDS = float(os.environ.get("INFDASH_BENCH_B7_SECONDS", "30"))
UNFROZEN_SECONDS = 10.0
"""The B7 run without the GC freeze is a comparison, not a gate: a shorter run shows it."""
RICHLOG_SECONDS = 3.0
BATCH_GAP = 0.01
KEY_GAP = 0.1
KEY_TIMEOUT = 5.0
"""A key whose effect never shows counts as this many seconds."""
MAX_LINES = 100_000
FILLER = "worker=gpu-0 step={:>7} loss=0.{:04d} lr=3e-4 tokens/s=1234.5 msg=processing batch ok"
AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
POOL_SIZE = 10_007

TARGETS: dict[str, tuple[float, str]] = {
    "B7 lines lost": (0, ""),
    "B7 line → frame p99": (100.0, "ms"),
    "B7 key → frame p99": (50.0, "ms"),
    "B7 fps": (30.0, "fps"),
    "B8 lines lost": (0, ""),
    "B8 key → frame p99": (100.0, "ms"),
    "B8 MiB per 100k retained": (25.0, "MiB"),
    "B9 unwanted scrolls": (0, ""),
    "B9 badge repaints/s": (4.0, "Hz"),
    "B9 end → tail frame": (50.0, "ms"),
    "B19 fps after resizes": (30.0, "fps"),
}
AT_LEAST = {"B7 fps", "B19 fps after resizes"}


_POOL: list[str] = []


def batch(start: int, count: int) -> list[LogLine]:
    """``count`` lines numbered (``seq``) from ``start``; texts from a pre-built pool."""
    if not _POOL:
        _POOL.extend(FILLER.format(i, i % 10_000) for i in range(POOL_SIZE))
    phase = PHASES[(start // max(1, count)) % len(PHASES)]
    pool = _POOL
    return [LogLine(pool[i % POOL_SIZE], phase, AT, i) for i in range(start, start + count)]


class BenchApp(App[None]):
    """Treats the garbage collector as ``InfdashApp`` does (``freeze=False`` to compare)."""

    def __init__(self, *, freeze: bool = True) -> None:
        super().__init__()
        self.freeze = freeze

    def on_mount(self) -> None:
        if self.freeze:
            self.call_after_refresh(freeze_startup_objects)

    def on_unmount(self) -> None:
        if self.freeze:
            unfreeze_objects()


class ViewApp(BenchApp):
    def compose(self) -> ComposeResult:
        yield LogView(MAX_LINES)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(LogView).focus()


class RichLogApp(BenchApp):
    def compose(self) -> ComposeResult:
        yield RichLog(max_lines=MAX_LINES)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(RichLog).focus()


async def flood(
    probe: FrameProbe,
    write: Callable[[list[LogLine]], None],
    shown: Callable[[], int],
    per_batch: int,
    seconds: float,
    *,
    limit: int | None = None,
    until: Callable[[], bool] | None = None,
) -> tuple[int, list[float], float]:
    """Append ``per_batch`` lines every 10 ms; (lines sent, line → frame samples, elapsed)."""
    sent = 0
    waits: list[tuple[float, asyncio.Future[float]]] = []
    start = time.perf_counter()
    tick = start
    while (
        time.perf_counter() - start < seconds
        and (limit is None or sent < limit)
        and (until is None or not until())
    ):
        count = per_batch if limit is None else min(per_batch, limit - sent)
        lines = batch(sent, count)
        at = time.perf_counter()
        write(lines)
        sent += count
        target = sent
        waits.append((at, probe.when(lambda target=target: shown() >= target)))  # type: ignore[misc]
        tick += BATCH_GAP
        await asyncio.sleep(max(0.0, tick - time.perf_counter()))
    elapsed = time.perf_counter() - start
    samples = []
    deadline = time.perf_counter() + 30  # one deadline: a dead app must not wait 30 s a batch
    for at, future in waits:
        try:
            left = max(0.0, deadline - time.perf_counter())
            samples.append(await asyncio.wait_for(future, left) - at)
        except TimeoutError:
            samples.append(float("inf"))
    return sent, samples, elapsed


async def typist(
    app: App[Any],
    probe: FrameProbe,
    keys: tuple[tuple[str, Callable[[], bool]], ...],
    stop: asyncio.Event,
) -> list[float]:
    """Press ``keys`` in turn every 100 ms until ``stop`` is set; key → frame seconds.

    Stopped by an event, not ``Task.cancel()``: on Python 3.11 ``asyncio.wait_for`` swallows a
    cancellation that arrives as its future completes, and the typist then typed on forever
    (the module hung after B7 now and then).
    """
    samples: list[float] = []
    n = 0
    while not stop.is_set():
        key, effect = keys[n % len(keys)]
        painted = probe.when(effect)
        sent = send_key(app, key)
        try:
            samples.append(await asyncio.wait_for(painted, KEY_TIMEOUT) - sent)
        except TimeoutError:
            samples.append(KEY_TIMEOUT)
        n += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), KEY_GAP)
    return samples


def lost(view: LogView, sent: int) -> int:
    """Lines not accounted for: missing from the count, or a gap in the retained sequence."""
    buffer = view.buffer
    missing = sent - buffer.total
    first = buffer.dropped
    gaps = sum(1 for i in range(first, buffer.total) if buffer.seq(i) != i)
    return max(0, missing) + gaps


async def run_flood(
    seconds: float, per_batch: int, limit: int | None, *, freeze: bool = True
) -> dict[str, float]:
    """B7 (or B8 with ``limit``): flood with a pause/resume typist.

    ``freeze``: as the app does, hide the startup objects from the collector
    (:func:`~infdash.ui.gc_freeze.freeze_startup_objects`); ``False`` only to show what that buys.
    """
    app = ViewApp(freeze=freeze)
    async with app.run_test(size=SIZE):
        probe = FrameProbe(app)
        view = app.query_one(LogView)
        await ready(app, probe)
        keys = (("up", lambda: not view.following), ("end", lambda: view.following))
        stop = asyncio.Event()
        typing = asyncio.create_task(typist(app, probe, keys, stop))
        frames_before = len(probe.frames)
        sent, samples, elapsed = await flood(
            probe, view.append, lambda: view.buffer.total, per_batch, seconds, limit=limit
        )
        fps = (len(probe.frames) - frames_before) / elapsed
        stop.set()
        typed = await typing
        view.flush()
        missing = lost(view, sent)
    return {
        "lost": missing,
        "line p99": percentile(samples, 0.99) * 1000,
        "key p99": percentile(typed, 0.99) * 1000,
        "fps": fps,
        "rate": sent / elapsed,
    }


async def run_memory() -> float:
    """MiB per 100k retained lines, after 300k lines through the 100k cap."""
    app = ViewApp()
    async with app.run_test(size=SIZE):
        view = app.query_one(LogView)
        await asyncio.sleep(0.05)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for start in range(0, 3 * MAX_LINES, 10_000):
            # unique texts (the pool would share them): what a real log retains
            lines = [
                LogLine(FILLER.format(i, i % 10_000), "run", AT, i)
                for i in range(start, start + 10_000)
            ]
            view.append(lines)
            view.flush()
            del lines
        await asyncio.sleep(0.05)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        retained = len(view.buffer)
    return (after - before) / 2**20 * (100_000 / retained)


async def run_scrolled_back() -> dict[str, float]:
    """B9: scrolled to the middle of a capped log under 10k lines/s."""
    app = ViewApp()
    async with app.run_test(size=SIZE):
        probe = FrameProbe(app)
        view = app.query_one(LogView)
        await ready(app, probe)
        for start in range(0, MAX_LINES, 10_000):
            view.append(batch(start, 10_000))
        view.flush()
        await probe.next_frame()
        send_key(app, "pageup")
        await probe.frame(lambda: not view.following)
        view.lines.scroll_to(y=MAX_LINES // 2, animate=False)
        await probe.next_frame()
        top = view.lines.top_line()
        badge_texts: list[str] = []
        changed = 0
        watching = True
        original = app._display

        def check(screen: Any, renderable: Any) -> None:
            nonlocal changed
            original(screen, renderable)
            if not watching:
                return
            changed += view.lines.top_line() != top
            text = view.status.badge
            if not badge_texts or badge_texts[-1] != text:
                badge_texts.append(text)

        setattr(app, "_display", check)  # noqa: B010
        sent, _, elapsed = await flood(
            probe, view.append, lambda: view.buffer.total - MAX_LINES, 100, 3.0
        )
        await asyncio.sleep(0.3)
        view.flush()
        badge_ok = view.new_lines == sent
        watching = False
        sent_at = send_key(app, "end")
        last = view.buffer.total - 1
        tail = await probe.frame(lambda: view.following and view.lines.bottom_line() == last)
    return {
        "unwanted": changed + (0 if badge_ok else 10**6),
        "badge hz": (len(badge_texts) - 1) / elapsed,
        "end": (tail - sent_at) * 1000,
    }


async def run_resizes() -> dict[str, float]:
    """B19: 50 resizes in 2 s during 10k lines/s; fps 0.5–1.0 s after the last."""
    app = ViewApp()
    async with app.run_test(size=SIZE):
        probe = FrameProbe(app)
        view = app.query_one(LogView)
        await ready(app, probe)
        driver = app._driver

        last: list[float] = []

        async def storm() -> None:
            from textual.events import Resize
            from textual.geometry import Size

            tick = time.perf_counter()
            for n in range(50):
                size = Size(100 + (n % 7) * 10, 30 + (n % 5) * 5)
                if driver is not None:
                    driver._size = size
                app.post_message(Resize(size, size))
                tick += 2.0 / 50
                await asyncio.sleep(max(0.0, tick - time.perf_counter()))
            last.append(time.perf_counter())

        resizing = asyncio.create_task(storm())
        await flood(
            probe,
            view.append,
            lambda: view.buffer.total,
            100,
            30.0,
            until=lambda: bool(last) and time.perf_counter() > last[0] + 1.1,
        )
        await resizing
        window = [t for t in probe.frames if last[0] + 0.5 <= t < last[0] + 1.0]
    return {"fps": len(window) / 0.5}


async def run_richlog(per_batch: int, seconds: float) -> dict[str, float]:
    """RichLog, one ``write`` per line, same offered rate, capped at ``seconds``."""
    app = RichLogApp()
    async with app.run_test(size=SIZE):
        probe = FrameProbe(app)
        log = app.query_one(RichLog)
        await ready(app, probe)
        written = 0

        def write(lines: list[LogLine]) -> None:
            nonlocal written
            for line in lines:
                log.write(line.text)
                written += 1

        keys = (
            ("home", lambda: log.scroll_y == 0),
            ("end", lambda: log.scroll_y >= log.max_scroll_y),
        )
        stop = asyncio.Event()
        typing = asyncio.create_task(typist(app, probe, keys, stop))
        sent, samples, elapsed = await flood(
            probe, write, lambda: len(log.lines), per_batch, seconds
        )
        stop.set()
        typed = await typing
    return {
        "rate": sent / elapsed,
        "line p99": percentile(samples, 0.99) * 1000,
        "key p99": percentile(typed, 0.99) * 1000,
    }


async def run_richlog_memory() -> float:
    app = RichLogApp()
    async with app.run_test(size=SIZE):
        log = app.query_one(RichLog)
        await asyncio.sleep(0.05)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for line in batch(0, 3_000):
            log.write(line.text)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    return (after - before) / 2**20 * (100_000 / 3_000)


def _run(factory: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return asyncio.run(factory())


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def _show(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit in ("fps", "Hz", "MiB"):
        return f"{value:.1f} {unit}"
    return f"{value:,.0f}"


def main() -> int:
    """Print medians of RUNS against targets, and RichLog's figures; 0 when all are met."""
    b7 = [_run(lambda: run_flood(B7_SECONDS, 500, None)) for _ in range(RUNS)]
    b7_unfrozen = _run(lambda: run_flood(UNFROZEN_SECONDS, 500, None, freeze=False))
    b8 = [_run(lambda: run_flood(30.0, 2_000, 1_000_000)) for _ in range(RUNS)]
    memory = _run(run_memory)
    b9 = [_run(run_scrolled_back) for _ in range(RUNS)]
    b19 = [_run(run_resizes) for _ in range(RUNS)]
    ours = {
        "B7 lines lost": max(r["lost"] for r in b7),
        "B7 line → frame p99": _median(b7, "line p99"),
        "B7 key → frame p99": _median(b7, "key p99"),
        "B7 fps": _median(b7, "fps"),
        "B8 lines lost": max(r["lost"] for r in b8),
        "B8 key → frame p99": _median(b8, "key p99"),
        "B8 MiB per 100k retained": memory,
        "B9 unwanted scrolls": max(r["unwanted"] for r in b9),
        "B9 badge repaints/s": _median(b9, "badge hz"),
        "B9 end → tail frame": _median(b9, "end"),
        "B19 fps after resizes": _median(b19, "fps"),
    }
    rich7 = _run(lambda: run_richlog(500, RICHLOG_SECONDS))
    rich8 = _run(lambda: run_richlog(2_000, RICHLOG_SECONDS))
    rich_memory = _run(run_richlog_memory)
    peers = {
        "B7 line → frame p99": f"RichLog: {rich7['line p99']:.0f} ms",
        "B7 key → frame p99": f"RichLog: {rich7['key p99']:.0f} ms",
        "B8 key → frame p99": f"RichLog: {rich8['key p99']:.0f} ms",
        "B8 MiB per 100k retained": f"RichLog: {rich_memory:.0f} MiB",
    }
    missed = 0
    for name, (target, unit) in TARGETS.items():
        value = ours[name]
        ok = value >= target if name in AT_LEAST else value <= target
        missed += not ok
        bound = "≥" if name in AT_LEAST else "≤"
        peer = f" | {peers[name]}" if name in peers else ""
        print(
            f"{name}: {_show(value, unit)} (target {bound} {_show(target, unit)}) "
            f"{'ok' if ok else 'MISSED'}{peer}"
        )
    print(
        f"(LogView: median of {RUNS} run(s); B7 {B7_SECONDS:.0f} s at "
        f"{_median(b7, 'rate'):,.0f} lines/s achieved; B8 1,000,000 lines at "
        f"{_median(b8, 'rate'):,.0f} lines/s; frames serialised to ANSI)"
    )
    runs = ", ".join(f"{r['key p99']:.0f}" for r in b7)
    print(
        f"(B7 key → frame p99 per run: {runs} ms; without the app's gc freeze, one "
        f"{UNFROZEN_SECONDS:.0f} s run, not "
        f"gating: key p99 {b7_unfrozen['key p99']:.1f} ms, "
        f"line p99 {b7_unfrozen['line p99']:.1f} ms)"
    )
    print(
        f"(RichLog, one write per line, one run capped at {RICHLOG_SECONDS:.0f} s: B7 offered "
        f"50,000/s, achieved {rich7['rate']:,.0f}/s; B8 offered 200,000/s, achieved "
        f"{rich8['rate']:,.0f}/s; memory from 3,000 lines scaled to 100k)"
    )
    return 0 if missed == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
