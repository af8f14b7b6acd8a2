"""Streams first for the focused task, polling as the fallback; out-of-order updates (R26)."""

from __future__ import annotations

import asyncio

from benchmarks._harness import SimHarness, open_tasks, set_status
from infdash.api import TaskStatus, TaskUpdate
from infdash.scheduler import ResourceKey, Tier, Transport
from infdash.sim.tasks import RUNNING, SETTING_UP, UPLOADING


def task_gets(harness: SimHarness, task_id: str, since: float = 0.0) -> int:
    prefix = f"/tasks/{task_id}"
    return sum(
        1
        for h in harness.hits
        if h.at >= since and h.limit_class == "get_task" and h.path.startswith(prefix)
    )


def streams_open(harness: SimHarness) -> int:
    return harness.sim.call(lambda w: w.stream_count())


async def test_focused_task_is_streamed_not_polled(harness: SimHarness) -> None:
    (tid,) = open_tasks(harness.sim, 1)
    key = ResourceKey.task(tid)
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe(tid, Tier.FOCUSED, "detail")
            assert await harness.until(lambda: key in sched.streams.live)
            entry = sched.planner.subscriptions.get(key)
            assert entry is not None
            assert entry.transport is Transport.STREAM
            t0 = harness.vt.now
            await harness.run(30, [sched])
            assert task_gets(harness, tid, since=t0 + 0.5) == 0  # only a reconcile per minute
            set_status(harness.sim, tid, UPLOADING)  # pushed: no virtual time passes
            assert await harness.until(
                lambda: (t := sched.store.get(tid)) is not None and t.status is TaskStatus.UPLOADING
            )
            assert sched.age(tid) == 0.0
        finally:
            await sched.stop()
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert leftover == []  # stop() leaves no loop, poll or stream task behind
    assert await harness.until(lambda: streams_open(harness) == 0)


async def test_stream_failures_fall_back_to_polling_and_streaming_returns(
    harness: SimHarness,
) -> None:
    (tid,) = open_tasks(harness.sim, 1)
    key = ResourceKey.task(tid)
    harness.sim.call(lambda w: setattr(w.faults, "stream_html", True))
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe(tid, Tier.FOCUSED, "detail")
            await harness.run(4, [sched])
            t0 = harness.vt.now
            await harness.run(4, [sched])
            assert key not in sched.streams.live
            assert task_gets(harness, tid, since=t0 + 0.01) >= 3  # focused polls every second
            harness.sim.call(lambda w: setattr(w.faults, "stream_html", False))
            await harness.run(20, [sched])  # the stream is retried within 15 s
            assert await harness.until(lambda: key in sched.streams.live)
            t1 = harness.vt.now
            await harness.run(20, [sched])
            assert task_gets(harness, tid, since=t1 + 0.5) == 0
        finally:
            await sched.stop()


async def test_an_older_stream_update_never_regresses_the_store(harness: SimHarness) -> None:
    """R26: a poll returned UPLOADING; the stream then sends RUNNING (older) — ignored."""
    (tid,) = open_tasks(harness.sim, 1)
    key = ResourceKey.task(tid)
    seen: list[TaskStatus] = []
    async with harness.client() as client:
        old = await client.tasks.get(tid)
        assert old.status is TaskStatus.RUNNING
        sched = harness.scheduler(client, seed=3)
        sched.store.listen(
            lambda change: seen.extend(
                t.status for i in change.updated if (t := sched.store.get(i)) is not None
            )
        )
        await sched.start()
        try:
            sched.subscribe(tid, Tier.VISIBLE, "table")
            await harness.run(1, [sched])
            set_status(harness.sim, tid, SETTING_UP)
            set_status(harness.sim, tid, UPLOADING)
            await harness.run(12, [sched])
            task = sched.store.get(tid)
            assert task is not None
            assert task.status is TaskStatus.UPLOADING
            sched.streams.deliver(key, TaskUpdate(old, ("status",)))
            task = sched.store.get(tid)
            assert task is not None
            assert task.status is TaskStatus.UPLOADING
            sched.planner.set_transport(key, Transport.POLL)  # that stream ended
            set_status(harness.sim, tid, RUNNING)  # a genuinely newer RUNNING is accepted
            await harness.run(12, [sched])
            task = sched.store.get(tid)
            assert task is not None
            assert task.status is TaskStatus.RUNNING
        finally:
            await sched.stop()
    assert seen == [TaskStatus.RUNNING, TaskStatus.UPLOADING, TaskStatus.RUNNING]
