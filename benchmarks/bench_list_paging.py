"""List paging: 50,000 tasks read through the client in pages of 1,000 (time and memory).

The simulator runs in a child process (so its own memory and CPU are not counted) with 50,000
seeded tasks on a manual clock, so the list holds still while it is read. The client walks
`POST /tasks/list` forward by cursor, keeps every parsed `Task`, and checks that it saw each
task exactly once. Reported, median of 3 runs: wall time for the whole walk, and the memory
tracemalloc sees the client retain for 50k parsed tasks (its peak while paging too), from one
separate traced run.

Targets: the whole walk <= 3.0 s (the budget a dashboard can spend filling a deep scroll-back
without the user waiting on it) and <= 100 MiB retained for 50k tasks (performance.md B17 sets
120 MiB for 50k tasks plus 100k log lines and ten chats).

Run: ``python -m benchmarks.bench_list_paging``.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
import tracemalloc

from infdash.api import InferenceClient, Task

TASKS = 50_000
PAGE = 1_000
RUNS = 3
TARGET_SECONDS = 3.0
TARGET_MIB = 100.0

_SERVE = f"""
import sys
from infdash.sim import SimConfig, SimServer
from infdash.sim.config import RateLimits
config = SimConfig(seed=1, manual_clock=True, history_size={TASKS}, running_at_start=0,
                   rate_limits=RateLimits(other=100_000))
with SimServer(config) as server:
    print(server.base_url, flush=True)
    sys.stdin.read()
"""


async def walk(base_url: str, trace: bool) -> tuple[float, float, float]:
    """One forward walk; returns (seconds, retained MiB, peak MiB).

    Memory is traced only when asked: tracemalloc slows every allocation several times, so
    the timed runs go untraced and one separate run measures memory.
    """
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    kept: list[Task] = []
    async with InferenceClient(base_url, "inf_demo") as client:
        cursor: str | None = None
        while True:
            page = await client.tasks.list(limit=PAGE, cursor=cursor)
            kept.extend(page.items)
            if not page.has_next:
                break
            cursor = page.next_cursor
    elapsed = time.perf_counter() - start
    retained, peak = tracemalloc.get_traced_memory() if trace else (0, 0)
    tracemalloc.stop()
    if len({task.id for task in kept}) != len(kept) or len(kept) != TASKS:
        raise AssertionError(f"walk saw {len(kept)} tasks, {len({t.id for t in kept})} distinct")
    return elapsed, retained / 2**20, peak / 2**20


def main() -> int:
    """Print time and memory against their targets; 0 when both are met."""
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        asyncio.run(walk(base_url, trace=False))  # warm the server's caches and the pool
        timed = [asyncio.run(walk(base_url, trace=False)) for _ in range(RUNS)]
        traced = asyncio.run(walk(base_url, trace=True))
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=30)
    seconds = statistics.median(r[0] for r in timed)
    _, retained, peak = traced
    print(f"list paging 50k/1k: {seconds:.2f} s (target <= {TARGET_SECONDS} s)")
    print(f"list paging memory: {retained:.1f} MiB retained, {peak:.1f} MiB peak "
          f"(target <= {TARGET_MIB:.0f} MiB retained)")  # fmt: skip
    return 0 if seconds <= TARGET_SECONDS and retained <= TARGET_MIB else 1


if __name__ == "__main__":
    raise SystemExit(main())
