"""The loop against the simulator: cheap status polls, full fetch on change, terminal stops."""

from __future__ import annotations

from benchmarks._harness import SimHarness, open_tasks, set_status
from infdash.api import TaskStatus
from infdash.scheduler import Plan, ResourceKey, StreamPolicy, Tier
from infdash.sim.tasks import COMPLETED, UPLOADING


def kinds(harness: SimHarness, task_id: str) -> list[str]:
    """ "status" or "full" for each GET of one task, in order."""
    out = []
    for hit in harness.hits:
        if hit.path == f"/tasks/{task_id}/status":
            out.append("status")
        elif hit.path == f"/tasks/{task_id}":
            out.append("full")
    return out


async def test_status_poll_then_full_fetch_only_on_change(harness: SimHarness) -> None:
    (tid,) = open_tasks(harness.sim, 1)
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe(tid, Tier.VISIBLE, "table")
            await harness.run(12, [sched])
            assert kinds(harness, tid) == ["full", "status", "status"]
            task = sched.store.get(tid)
            assert task is not None
            assert task.status is TaskStatus.RUNNING

            set_status(harness.sim, tid, UPLOADING)
            await harness.run(6, [sched])
            assert kinds(harness, tid)[3:] == ["status", "full"]
            task = sched.store.get(tid)
            assert task is not None
            assert task.status is TaskStatus.UPLOADING
        finally:
            await sched.stop()


async def test_terminal_task_stops_being_polled(harness: SimHarness) -> None:
    (tid,) = open_tasks(harness.sim, 1)
    async with harness.client() as client:
        sched = harness.scheduler(client, streams=StreamPolicy(enabled=False))
        await sched.start()
        try:
            sched.subscribe(tid, Tier.FOCUSED, "detail")
            await harness.run(3, [sched])
            set_status(harness.sim, tid, COMPLETED)
            await harness.run(3, [sched])
            task = sched.store.get(tid)
            assert task is not None
            assert task.status is TaskStatus.COMPLETED
            polls = len(kinds(harness, tid))
            await harness.run(60, [sched])
            assert len(kinds(harness, tid)) == polls
            assert kinds(harness, tid)[-2:] == ["status", "full"]
        finally:
            await sched.stop()


async def test_two_owners_of_one_task_coalesce_into_one_poll(harness: SimHarness) -> None:
    (tid,) = open_tasks(harness.sim, 1)
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe(tid, Tier.VISIBLE, "table")
            sched.subscribe(ResourceKey.task(tid), Tier.VISIBLE, "sidebar")
            await harness.run(21, [sched])
            # one fetch, then one status poll every 5 s: as if one owner asked
            assert kinds(harness, tid) == ["full", "status", "status", "status", "status"]
            sched.release(tid, "table")
            await harness.run(10, [sched])
            assert len(kinds(harness, tid)) == 7
            sched.release(tid, "sidebar")
            await harness.run(30, [sched])
            assert len(kinds(harness, tid)) == 7
        finally:
            await sched.stop()


async def test_a_failing_plan_is_retried_a_second_later_not_fatal(harness: SimHarness) -> None:
    (tid,) = open_tasks(harness.sim, 1)
    async with harness.client() as client:
        sched = harness.scheduler(client)
        real_plan = sched.planner.plan
        calls = 0

        def flaky_plan() -> Plan:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("bug")
            return real_plan()

        sched.planner.plan = flaky_plan  # type: ignore[method-assign]
        await sched.start()
        try:
            sched.subscribe(tid, Tier.VISIBLE, "table")
            await harness.run(7, [sched])
            assert sched.loop_errors == 1
            assert kinds(harness, tid) == ["full", "status"]
            assert harness.hits[0].at == harness.start + 1.0
        finally:
            await sched.stop()
