"""401 stops everything (R9); pause/resume; user actions go ahead of polling."""

from __future__ import annotations

import asyncio

import pytest

from benchmarks._harness import SimHarness, open_tasks
from infdash.api import TaskStatus, UnauthorizedError
from infdash.scheduler import Priority, ResourceKey, SchedulerState, Tier


def streams_open(harness: SimHarness) -> int:
    return harness.sim.call(lambda w: w.stream_count())


async def test_401_stops_every_request_and_stream_until_reset(harness: SimHarness) -> None:
    ids = open_tasks(harness.sim, 10)
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe_many(ids[1:], Tier.VISIBLE, "table")
            sched.subscribe(ids[0], Tier.FOCUSED, "detail")
            assert await harness.until(lambda: ResourceKey.task(ids[0]) in sched.streams.live)
            await harness.run(6, [sched])
            harness.sim.call(lambda w: setattr(w, "api_key", "revoked"))
            await harness.run(10, [sched])
            assert sched.state is SchedulerState.UNAUTHORIZED
            assert isinstance(sched.auth_error, UnauthorizedError)
            assert "unauthorized" in sched.snapshot().paused
            first = min(h.at for h in harness.hits if h.status == 401)
            assert await harness.until(lambda: streams_open(harness) == 0)
            n = len(harness.hits)
            await harness.run(120, [sched])
            assert len(harness.hits) == n  # nothing at all after the 401s in flight
            assert all(h.at <= first for h in harness.hits if h.status == 401)
            with pytest.raises(UnauthorizedError):
                await sched.cancel(ids[1])

            harness.sim.call(lambda w: setattr(w, "api_key", harness.sim.api_key))
            sched.reset()  # the user entered a key again
            assert sched.state.value == "running"
            sched.subscribe_many(ids, Tier.VISIBLE, "table")
            await harness.run(3, [sched])
            assert len(harness.hits) >= n + 10
            assert {h.status for h in harness.hits[n:]} == {200}
        finally:
            await sched.stop()


async def test_pause_sends_nothing_and_closes_streams_resume_restarts(
    harness: SimHarness,
) -> None:
    ids = open_tasks(harness.sim, 10)
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe_many(ids[1:], Tier.VISIBLE, "table")
            sched.subscribe(ids[0], Tier.FOCUSED, "detail")
            assert await harness.until(lambda: streams_open(harness) == 1)
            await harness.run(6, [sched])
            sched.pause("suspended")
            assert sched.state is SchedulerState.PAUSED
            assert await harness.until(lambda: streams_open(harness) == 0)
            n = len(harness.hits)
            await harness.run(60, [sched])
            assert len(harness.hits) == n
            sched.resume("suspended")
            await harness.run(1, [sched])
            assert await harness.until(lambda: streams_open(harness) == 1)
            await harness.run(5, [sched])
            assert len(harness.hits) >= n + 9  # every stale visible task polled again
        finally:
            await sched.stop()
    assert await harness.until(lambda: streams_open(harness) == 0)


async def test_user_actions_are_not_starved_by_polling(harness: SimHarness) -> None:
    """Polling keeps the bucket at its reserve line; a cancel still goes at once."""
    ids = open_tasks(harness.sim, 1000)
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe_many(ids, Tier.VISIBLE, "table")
            await harness.run(5, [sched])
            assert sched.budget.tokens("get_task") < 7  # polling is using what it may
            before = harness.vt.now
            # the user opens a task's logs: the class polling is saturating
            logs = await sched.user_action("get_task", lambda: client.tasks.logs(ids[0]))
            assert logs is not None
            result = await sched.cancel(ids[0])
            assert result.status in (TaskStatus.CANCELLING, TaskStatus.CANCELLED)
            assert harness.vt.now == before  # no wait for a token
            run = await sched.run("infsh/echo", {"text": "hi"})
            assert run.id in sched.store
        finally:
            await sched.stop()


async def test_a_ui_poll_at_poll_priority_waits_behind_the_reserve(harness: SimHarness) -> None:
    """The task list's head poll leaves the user's reserve alone: it queues like a poll."""
    ids = open_tasks(harness.sim, 1000)
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe_many(ids, Tier.VISIBLE, "table")
            await harness.run(5, [sched])
            assert sched.budget.tokens("get_task") < 7
            before = harness.vt.now
            call = asyncio.ensure_future(
                sched.user_action(
                    "get_task", lambda: client.tasks.status(ids[0]), priority=Priority.POLL
                )
            )
            await asyncio.sleep(0)
            while not call.done():
                await harness.run(0.5, [sched])
            assert call.result().id == ids[0]
            assert harness.vt.now > before  # it waited for a token, unlike a user's action
        finally:
            await sched.stop()
