"""B13–B15, R35 — the polling scheduler against the simulator, on a virtual clock.

Time scaling: the simulator runs on its manual clock and the scheduler on a ``VirtualTime``;
the harness (``benchmarks/_harness.py``) moves both together from one scheduler wake-up to the
next (at most 1 s apart) and waits for every poll to be answered before moving on.  Requests
are real HTTP over loopback and are counted on the wire, so the figures are exactly what the
server saw in simulated time; ten simulated minutes take about 25 s.  (A real clock at high
``--speed`` would measure the machine's jitter more than the scheduler.)

- B13: 200 open tasks, 50 visible, 1 focused (streamed), 10 min: 0 × 429, ≤ 850 GETs in any
  60 s, visible staleness p95 ≤ 5 s, focused ≤ 1 s (background reported; target ≤ 60 s).
- B14: 1,000 and 5,000 open tasks, 10 min, focused *polled* (streams off, the harder case):
  0 × 429, ≤ 850 in any 60 s, visible p95 ≤ 10 s, focused ≤ 1 s.
- B15: a 429 with ``Retry-After: 7``; then ``Remaining: 0`` + ``Reset`` 20 s ahead with the
  server clock skewed −5 min and +5 min: 0 requests to the class before the reset, the first
  within 1 s after it.
- R35: two clients on one key (300 visible tasks each, 100 shared), 2 min: 0 × 429 and ≤ 1000
  GETs in any 60 s together.

Run: ``python -m benchmarks.bench_scheduler`` (one run; quote medians of three).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable

from benchmarks._harness import SimHarness, open_tasks, two_schedulers
from benchmarks._watch import GET, WatchResult, sim_config, watch
from infdash.scheduler import Tier
from infdash.sim import SimServer
from infdash.sim.config import RateLimitStorm
from infdash.sim.world import World


class Report:
    def __init__(self) -> None:
        self.missed: list[str] = []

    def line(self, name: str, value: float, target: float, fmt: str = "{:.2f}") -> None:
        ok = value <= target
        if not ok:
            self.missed.append(name)
        mark = "ok" if ok else "MISSED"
        print(f"  {name}: {fmt.format(value)} (target ≤ {fmt.format(target)}) {mark}")

    def info(self, name: str, text: str) -> None:
        print(f"  {name}: {text}")


async def run_watch(report: Report, label: str, total: int, stream: bool, visible_t: float) -> None:
    with SimServer(sim_config()) as sim:
        started = time.perf_counter()
        r: WatchResult = await watch(sim, total=total, seconds=600.0, stream_focused=stream)
        wall = time.perf_counter() - started
    print(
        f"{label}: {total} open tasks, 50 visible, 1 focused ({'stream' if stream else 'polled'})"
    )
    report.line(f"{label} 429 responses", r.limited, 0, "{:.0f}")
    report.line(f"{label} max GETs in any 60 s", r.busiest_minute, 850, "{:.0f}")
    report.line(f"{label} visible staleness p95 s", r.visible_p95, visible_t)
    report.line(f"{label} focused staleness max s", r.focused_max, 1.0)
    report.info(
        f"{label} background staleness p95 s",
        f"{r.background_p95:.1f}; {r.requests} GETs in 10 min; wall {wall:.1f} s",
    )


async def obey(skew: float, storm: RateLimitStorm) -> tuple[int, float]:
    """(requests to the class before the reset, seconds from the reset to the first one)."""
    with SimServer(sim_config()) as sim:
        harness = SimHarness(sim)
        ids = open_tasks(sim, 50)
        sim.call(lambda w: setattr(w.faults, "date_skew", skew))
        async with harness.client() as client:
            sched = harness.scheduler(client)
            await sched.start()
            try:
                sched.subscribe_many(ids, Tier.VISIBLE, "table")
                await harness.run(3, [sched])

                def arm(world: World) -> None:
                    world.faults.rate_limit_storm = storm

                sim.call(arm)
                await harness.run(45, [sched])
            finally:
                await sched.stop()
    limited = [h for h in harness.hits if h.status == 429]
    first = limited[0]
    if storm.reset_in is not None:
        assert first.reset is not None
        reset_at = harness.to_virtual(float(first.reset) - skew)
    else:
        reset_at = first.at + float(storm.retry_after or 0)
    after = [h.at for h in harness.requests(GET, since=first.at) if h.at > first.at]
    early = sum(1 for t in after if t < reset_at)
    return early, min(after) - reset_at


async def two_clients(report: Report) -> None:
    with SimServer(sim_config()) as sim:
        harness = SimHarness(sim)
        ids = open_tasks(sim, 500)
        await two_schedulers(harness, ids[:300], ids[200:])
    print("R35: two clients on one key, 300 visible tasks each")
    report.line("R35 429 responses", harness.count_status(429), 0, "{:.0f}")
    report.line("R35 max GETs in any 60 s, both", harness.max_per_window(GET), 1000, "{:.0f}")
    per = [len([h for h in harness.requests(GET) if h.client == c]) for c in (0, 1)]
    report.info("R35 GETs per client in 2 min", f"{per[0]} + {per[1]}")


async def run_all() -> int:
    report = Report()
    await run_watch(report, "B13", 200, stream=True, visible_t=5.0)
    await run_watch(report, "B14", 1000, stream=False, visible_t=10.0)
    await run_watch(report, "B14", 5000, stream=False, visible_t=10.0)
    cases: list[tuple[str, float, Callable[[], RateLimitStorm]]] = [
        (
            "Retry-After 7",
            0.0,
            lambda: RateLimitStorm(count=1, retry_after="7", path_prefix="/tasks/"),
        ),
        *(
            (
                f"Remaining 0 + Reset 20 s, skew {skew:+.0f} s",
                skew,
                lambda: RateLimitStorm(
                    count=1, retry_after=None, reset_in=20.0, path_prefix="/tasks/"
                ),
            )
            for skew in (-300.0, 300.0)
        ),
    ]
    print("B15: 429 obedience")
    for name, skew, make in cases:
        early, first = await obey(skew, make())
        report.line(f"B15 {name}: requests before reset", early, 0, "{:.0f}")
        report.line(f"B15 {name}: first request after reset s", first, 1.0)
    await two_clients(report)
    if report.missed:
        print("missed: " + ", ".join(report.missed))
        return 1
    return 0


def main() -> int:
    return asyncio.run(run_all())


if __name__ == "__main__":
    sys.exit(main())
