"""Rate limits end to end (R1, R2, R35) and the breaker (R5): counted on the wire."""

from __future__ import annotations

import itertools
from email.utils import parsedate_to_datetime

import pytest

from benchmarks._harness import SimHarness, open_tasks, two_schedulers
from infdash.scheduler import BreakerState, Tier
from infdash.sim.config import ErrorBurst, RateLimitStorm
from infdash.sim.world import World

GET = "get_task"


def storm(harness: SimHarness, **fields: object) -> None:
    def apply(world: World) -> None:
        storm = RateLimitStorm(path_prefix="/tasks/", **fields)  # type: ignore[arg-type]
        world.faults.rate_limit_storm = storm

    harness.sim.call(apply)


async def test_retry_after_7_silences_the_class_for_7_seconds(harness: SimHarness) -> None:
    ids = open_tasks(harness.sim, 20)
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe_many(ids, Tier.VISIBLE, "table")
            await harness.run(3, [sched])
            storm(harness, count=1, retry_after="7")
            await harness.run(30, [sched])
        finally:
            await sched.stop()
    limited = [h for h in harness.hits if h.status == 429]
    assert len(limited) == 1
    t0 = limited[0].at
    later = [h.at for h in harness.requests(GET, since=t0) if h.at > t0]
    assert later, "polling resumed"
    assert min(later) >= t0 + 7.0
    assert min(later) <= t0 + 8.0
    assert sched.budget.episodes(GET) == 1


@pytest.mark.parametrize("skew", [-300.0, 300.0])
async def test_remaining_0_and_reset_20s_ahead_under_a_skewed_server_clock(
    harness: SimHarness, skew: float
) -> None:
    ids = open_tasks(harness.sim, 20)
    harness.sim.call(lambda w: setattr(w.faults, "date_skew", skew))
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe_many(ids, Tier.VISIBLE, "table")
            await harness.run(3, [sched])
            storm(harness, count=1, retry_after=None, reset_in=20.0)
            await harness.run(40, [sched])
        finally:
            await sched.stop()
    (limited,) = [h for h in harness.hits if h.status == 429]
    assert limited.reset is not None
    # The server's reset instant, in our virtual time (its clock runs `skew` off ours).
    reset_at = harness.to_virtual(float(limited.reset) - skew)
    assert reset_at - limited.at == pytest.approx(20.0, abs=1.0)
    assert limited.date is not None
    assert parsedate_to_datetime(limited.date).timestamp() - skew == pytest.approx(
        harness.sim_origin + limited.at - harness.start, abs=1.0
    )
    later = [h.at for h in harness.requests(GET, since=limited.at) if h.at > limited.at]
    assert min(later) >= reset_at
    assert min(later) <= reset_at + 1.0


async def test_breaker_opens_on_repeated_5xx_and_closes_after(harness: SimHarness) -> None:
    ids = open_tasks(harness.sim, 20)
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe_many(ids, Tier.VISIBLE, "table")
            await harness.run(6, [sched])
            burst = ErrorBurst(count=1000, statuses=(500, 502, 503, 504))
            harness.sim.call(lambda w: setattr(w.faults, "error_burst", burst))
            t0 = harness.vt.now
            states: set[BreakerState] = set()

            def look(now: float) -> None:
                view = sched.snapshot().breaker
                assert view is not None
                states.add(view.state)

            await harness.run(30, [sched], each=look)
            during = [h for h in harness.hits if h.at > t0]
            assert BreakerState.OPEN in states
            # 20 tasks every 5 s would be ~120 polls; the breaker lets a handful through
            first = min(h.at for h in during)
            # Polls already due together when the burst began fail together; after those,
            # only the breaker's single probes go (20 tasks every 5 s would be ~120 polls).
            probes = sorted(h.at for h in during if h.at > first)
            assert len(probes) <= 10
            assert all(b > a for a, b in itertools.pairwise(probes))
            assert {h.status for h in during} <= {500, 502, 503, 504}
            harness.sim.call(lambda w: setattr(w.faults.error_burst, "count", 0))
            t1 = harness.vt.now
            await harness.run(60, [sched])
            view = sched.snapshot().breaker
            assert view is not None
            assert view.state is BreakerState.CLOSED
            after = [h for h in harness.hits if h.at > t1 + 35]
            assert len(after) >= 20  # every task polled again
            assert {h.status for h in after} == {200}
        finally:
            await sched.stop()


async def test_two_schedulers_on_one_key_stay_under_the_limit_together(
    harness: SimHarness,
) -> None:
    """R35: each alone may send 850/min; together they must stay within the server's 1000."""
    ids = open_tasks(harness.sim, 400)
    await two_schedulers(harness, ids[:300], ids[100:])
    assert harness.count_status(429) == 0
    assert harness.max_per_window(GET) <= 1000
    assert len(harness.requests(GET)) > 1200  # both did real work (one alone: <= 850/min)
