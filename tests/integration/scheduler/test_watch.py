"""The optional account stream: changes reach the store at once; a full fetch follows."""

from __future__ import annotations

from benchmarks._harness import SimHarness, open_tasks, set_status
from infdash.api import TaskStatus
from infdash.scheduler import Tier, WatchPolicy
from infdash.sim.tasks import UPLOADING


async def test_account_stream_feeds_the_store_then_the_poll_fetches_in_full(
    harness: SimHarness,
) -> None:
    ids = open_tasks(harness.sim, 5)
    tid = ids[2]
    async with harness.client() as client:
        sched = harness.scheduler(client, watch=WatchPolicy(enabled=True))
        await sched.start()
        try:
            sched.subscribe_many(ids, Tier.BACKGROUND, "all")
            await harness.run(2, [sched])
            assert await harness.until(lambda: sched.watch.live)
            assert await harness.until(lambda: harness.sim.call(lambda w: w.stream_count()) == 1)
            n = len(harness.hits)
            set_status(harness.sim, tid, UPLOADING)
            # background tasks are polled every 30 s; the change arrives with no time passing
            assert await harness.until(
                lambda: (t := sched.store.get(tid)) is not None and t.status is TaskStatus.UPLOADING
            )
            assert sched.watch.changes >= 1
            await harness.run(0.5, [sched])
            # then one full fetch of that task (no status poll first), nothing else
            assert [h.path for h in harness.hits[n:]] == [f"/tasks/{tid}"]
        finally:
            await sched.stop()
    assert await harness.until(lambda: harness.sim.call(lambda w: w.stream_count()) == 0)
