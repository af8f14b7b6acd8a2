"""Engines under the scheduler: polled with ``GET /engines/{id}`` on the ``other`` class,
streamed while focused with polling as the fallback, and a 404 ends the polls."""

from __future__ import annotations

from benchmarks._harness import SimHarness
from infdash.api import EngineStatus
from infdash.scheduler import OTHER, ResourceKey, StreamPolicy, Tier, Transport, WatchPolicy
from infdash.sim.world import World

UNKNOWN = "eng_doesnotexist0000000"


def idle_engine(harness: SimHarness) -> str:
    """A running engine whose workers run nothing: a drain stops it one second later."""

    def pick(world: World) -> str:
        return next(
            e.id
            for e in world.engines.engines
            if e.status == "running" and all(w.task_id is None for w in e.workers)
        )

    return harness.sim.call(pick)


def engine_gets(harness: SimHarness, engine_id: str, since: float = 0.0) -> int:
    return sum(
        1
        for h in harness.hits
        if h.at >= since and h.method == "GET" and h.path == f"/engines/{engine_id}"
    )


async def test_visible_engine_is_polled_and_its_drain_shows_in_the_store(
    harness: SimHarness,
) -> None:
    eid = idle_engine(harness)
    key = ResourceKey.engine(eid)
    seen: list[EngineStatus] = []
    async with harness.client() as client:
        sched = harness.scheduler(client)
        sched.engines.listen(
            lambda change: seen.extend(
                e.status for i in change.updated if (e := sched.engines.get(i)) is not None
            )
        )
        await sched.start()
        try:
            sched.subscribe(key, Tier.VISIBLE, "engines")
            await harness.run(12, [sched])
            assert engine_gets(harness, eid) == 3  # at once, then every 5 s
            assert {h.limit_class for h in harness.hits} == {OTHER}
            assert sched.snapshot().class_view(OTHER).used_last_minute == 3
            assert sched.snapshot().class_view("get_task").used_last_minute == 0
            assert key not in sched.streams.live  # only the focused resource is streamed

            await sched.user_action(OTHER, lambda: client.engines.drain(eid))
            sched.refresh(key)  # as the UI does after an action
            await harness.run(0, [sched])
            engine = sched.engines.get(eid)
            assert engine is not None
            assert engine.status is EngineStatus.DRAINING
            await harness.run(6, [sched])
            engine = sched.engines.get(eid)
            assert engine is not None
            assert engine.status is EngineStatus.STOPPED
            age = sched.age(key)
            assert age is not None
            assert age < 5.0
            view = sched.snapshot().resource(key)
            assert view is not None
            assert view.transport is Transport.POLL
            assert not view.terminal
        finally:
            await sched.stop()
    assert seen == [EngineStatus.RUNNING, EngineStatus.DRAINING, EngineStatus.STOPPED]


async def test_focused_engine_is_streamed_not_polled(harness: SimHarness) -> None:
    eid = idle_engine(harness)
    key = ResourceKey.engine(eid)
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe(key, Tier.FOCUSED, "detail")
            assert await harness.until(lambda: key in sched.streams.live)
            view = sched.snapshot().resource(key)
            assert view is not None
            assert view.transport is Transport.STREAM
            t0 = harness.vt.now
            await harness.run(30, [sched])
            assert engine_gets(harness, eid, since=t0 + 0.5) == 0  # one reconcile a minute
            assert sched.age(key) == 0.0

            await sched.user_action(OTHER, lambda: client.engines.drain(eid))
            assert await harness.until(
                lambda: (
                    (e := sched.engines.get(eid)) is not None and e.status is EngineStatus.DRAINING
                )
            )
            await harness.run(2, [sched])
            assert await harness.until(
                lambda: (
                    (e := sched.engines.get(eid)) is not None and e.status is EngineStatus.STOPPED
                )
            )
            assert key in sched.streams.live  # a stopped engine's stream stays open
            assert engine_gets(harness, eid, since=t0 + 0.5) == 0
        finally:
            await sched.stop()


async def test_engine_stream_faults_fall_back_to_polling_and_streaming_returns(
    harness: SimHarness,
) -> None:
    eid = idle_engine(harness)
    key = ResourceKey.engine(eid)
    harness.sim.call(lambda w: setattr(w.faults, "stream_html", True))
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe(key, Tier.FOCUSED, "detail")
            await harness.run(4, [sched])
            polls = sched.requests
            await harness.run(4, [sched])
            assert key not in sched.streams.live
            assert sched.requests - polls >= 3  # focused polls every second meanwhile
            harness.sim.call(lambda w: setattr(w.faults, "stream_html", False))
            await harness.run(20, [sched])  # the stream is retried within 15 s
            assert await harness.until(lambda: key in sched.streams.live)
            polls = sched.requests
            await harness.run(20, [sched])
            assert sched.requests == polls
        finally:
            await sched.stop()


async def test_an_engine_stream_that_keeps_dropping_gives_way_to_polling(
    harness: SimHarness,
) -> None:
    """The engine stream reconnects forever on its own: the scheduler counts the reconnects
    and, past ``max_reconnects``, closes it and polls until the retry."""
    eid = idle_engine(harness)
    key = ResourceKey.engine(eid)
    harness.sim.call(lambda w: setattr(w.faults, "stream_drop_after", 0))
    async with harness.client() as client:
        sched = harness.scheduler(client, streams=StreamPolicy(max_reconnects=1))
        await sched.start()
        try:
            sched.subscribe(key, Tier.FOCUSED, "detail")
            await harness.run(10, [sched])
            assert sched.streams.failures.get(key, 0) >= 1
            polls = sched.requests
            await harness.run(5, [sched])
            assert sched.requests - polls >= 3
        finally:
            await sched.stop()


async def test_unknown_engine_is_gone_and_no_longer_polled(harness: SimHarness) -> None:
    key = ResourceKey.engine(UNKNOWN)
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe(key, Tier.VISIBLE, "engines")
            await harness.run(30, [sched])
            assert engine_gets(harness, UNKNOWN) == 1
            assert [h.status for h in harness.hits] == [404]
            view = sched.snapshot().resource(key)
            assert view is not None
            assert view.terminal
            assert sched.engines.get(UNKNOWN) is None
        finally:
            await sched.stop()


async def test_engine_events_push_a_drain_into_the_store_between_polls(
    harness: SimHarness,
) -> None:
    eid = idle_engine(harness)
    key = ResourceKey.engine(eid)
    async with harness.client() as client:
        sched = harness.scheduler(client, engine_events=WatchPolicy(enabled=True))
        await sched.start()
        try:
            sched.subscribe(key, Tier.VISIBLE, "engines")
            await harness.run(1, [sched])
            assert await harness.until(lambda: sched.engine_events.live)
            gets = engine_gets(harness, eid)
            assert gets == 1

            await sched.user_action(OTHER, lambda: client.engines.drain(eid))
            assert await harness.until(
                lambda: (
                    (e := sched.engines.get(eid)) is not None and e.status is EngineStatus.DRAINING
                )
            )
            await harness.run(2, [sched])  # stopped one second later; next poll only at 5 s
            assert await harness.until(
                lambda: (
                    (e := sched.engines.get(eid)) is not None and e.status is EngineStatus.STOPPED
                )
            )
            assert engine_gets(harness, eid) == gets
            assert sched.engine_events.changes >= 2
        finally:
            await sched.stop()
