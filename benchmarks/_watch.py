"""The watch scenario of B13/B14 and the done criterion: many open tasks, a few on screen.

``total`` open tasks are subscribed (``visible`` of them visible, one focused, the rest in the
background) and the harness runs ``minutes`` of virtual time.  Ages are sampled once per
virtual second after the first fetch of each task (background: a sample of 100).  The
focused task's staleness is the longest gap between two confirmations (poll or stream update)
and its age at each sample — 0 while a live stream follows it, since the server pushes every
change.  The wire log gives 429s and the busiest 60 s window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from benchmarks._harness import SimHarness, open_tasks
from infdash.scheduler import ResourceKey, StreamPolicy, Tier
from infdash.sim import SimConfig, SimServer

GET = "get_task"


@dataclass(frozen=True, slots=True)
class WatchResult:
    requests: int
    limited: int
    busiest_minute: int
    visible_p95: float
    background_p95: float
    focused_max: float


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def sim_config(seed: int = 7) -> SimConfig:
    return SimConfig(seed=seed, manual_clock=True, history_size=10, start_time=1_790_000_000.0)


async def watch(
    sim: SimServer,
    *,
    total: int,
    visible: int = 50,
    seconds: float = 600.0,
    stream_focused: bool = True,
    seed: int = 1,
) -> WatchResult:
    harness = SimHarness(sim)
    ids = open_tasks(sim, total)
    focused, shown, rest = ids[0], ids[1 : 1 + visible], ids[1 + visible :]
    visible_ages: list[float] = []
    background_ages: list[float] = []
    focused_ages: list[float] = []
    last_fresh: float | None = None
    async with harness.client() as client:
        sched = harness.scheduler(client, seed=seed, streams=StreamPolicy(enabled=stream_focused))
        await sched.start()
        try:
            sched.subscribe_many(rest, Tier.BACKGROUND, "all")
            sched.subscribe_many(shown, Tier.VISIBLE, "table")
            sched.subscribe(focused, Tier.FOCUSED, "detail")
            next_sample = harness.vt.now + 1.0

            focused_key = ResourceKey.task(focused)

            def sample(now: float) -> None:
                nonlocal next_sample, last_fresh
                # Focused: every confirmation; the gap before it is how stale it got.
                entry = sched.planner.subscriptions.get(focused_key)
                fresh = None if entry is None else entry.fresh_at
                if focused_key in sched.streams.live:
                    last_fresh = fresh  # pushed: fresh whether or not anything changed
                elif fresh is not None and fresh != last_fresh:
                    if last_fresh is not None:
                        focused_ages.append(fresh - last_fresh)
                    last_fresh = fresh
                if now < next_sample:
                    return
                next_sample = math.floor(now) + 1.0
                for tid in shown:
                    age = sched.age(tid)
                    if age is not None:
                        visible_ages.append(age)
                for tid in rest[:: max(1, len(rest) // 100)]:
                    age = sched.age(tid)
                    if age is not None:
                        background_ages.append(age)
                age = sched.age(focused)
                if age is not None and now > harness.start + 2.0:
                    focused_ages.append(age)

            await harness.run(seconds, [sched], max_step=1.0, each=sample)
        finally:
            await sched.stop()
    return WatchResult(
        requests=len(harness.requests(GET)),
        limited=harness.count_status(429),
        busiest_minute=harness.max_per_window(GET),
        visible_p95=percentile(visible_ages, 0.95),
        background_p95=percentile(background_ages, 0.95),
        focused_max=max(focused_ages, default=math.nan),
    )
