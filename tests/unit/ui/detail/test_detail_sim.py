"""The detail models against the real simulator: timings, telemetry, cost, why queued, logs."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from infdash.api import InferenceClient, Task, TaskStatus
from infdash.api.retry import NO_RETRY
from infdash.sim import SimConfig, SimServer
from infdash.sim.world import World
from infdash.ui.detail.cost import estimate_cost, format_cost, rate_from
from infdash.ui.detail.logs import LogFeed, TaskLogLines
from infdash.ui.detail.queued import why_queued
from infdash.ui.detail.telemetry import series
from infdash.ui.detail.timings import PHASE_NAMES, waterfall_from_events, waterfall_from_timings


@pytest.fixture
def sim_config() -> SimConfig:
    """No live tasks at start: the six online workers are free until a test fills them."""
    return SimConfig(seed=7, manual_clock=True, history_size=20, running_at_start=0)


@pytest.fixture
async def client(sim: SimServer) -> AsyncIterator[InferenceClient]:
    async with InferenceClient(sim.base_url, sim.api_key, retry=NO_RETRY) as c:
        yield c


async def advance(sim: SimServer, seconds: float) -> None:
    await asyncio.to_thread(sim.advance, seconds)


async def until_status(
    sim: SimServer, client: InferenceClient, task_id: str, done: set[TaskStatus] | None = None
) -> Task:
    for _ in range(2000):
        task = await client.tasks.get(task_id)
        if (task.status in done) if done is not None else task.is_terminal:
            return task
        await advance(sim, 0.5)
    raise AssertionError(f"task {task_id} never got there")


def is_cold(world: World, task_id: str) -> bool:
    return world.tasks[task_id].cold


def sim_now(sim: SimServer) -> datetime:
    return datetime.fromtimestamp(sim.call(lambda w: w.now()), tz=UTC)


async def test_waterfall_of_completed_tasks_matches_the_walk(
    sim: SimServer, client: InferenceClient
) -> None:
    colds: list[bool] = []
    for i in range(4):  # one after another: the first is cold, later ones find a warm worker
        tid = (await client.tasks.run("infsh/echo", {"n": i})).id
        task = await until_status(sim, client, tid)
        assert task.status is TaskStatus.COMPLETED
        from_timings = waterfall_from_timings(await client.tasks.timings(tid))
        from_events = waterfall_from_events(task)
        cold = sim.call(functools.partial(is_cold, task_id=tid))
        colds.append(cold)
        for wf in (from_timings, from_events):
            names = [p.name for p in wf.phases]
            assert names[0] == "queue"
            assert names[-1] == "upload"
            assert set(names) <= set(PHASE_NAMES)
            assert ("serving" in names) is cold
            assert wf.cold_start is cold
            assert wf.end is not None
            assert wf.start is not None
            assert all(p.end is not None for p in wf.phases)
            for a, b in zip(wf.phases, wf.phases[1:], strict=False):
                assert a.end == b.start  # contiguous
            bars = wf.bars(60, wf.end)
            assert all(length >= 1 for _, _, length in bars)
            assert all(off + length <= 60 for _, off, length in bars)
        assert [p.name for p in from_timings.phases] == [p.name for p in from_events.phases]
        assert abs(from_timings.total(sim_now(sim)) - from_events.total(sim_now(sim))) < timedelta(
            milliseconds=5
        )
    assert True in colds
    assert False in colds


async def test_the_waterfall_grows_while_the_task_runs(
    sim: SimServer, client: InferenceClient
) -> None:
    tid = (await client.tasks.run("infsh/slow", {})).id
    task = await until_status(sim, client, tid, {TaskStatus.RUNNING})
    first = waterfall_from_events(task)
    assert first.running
    assert first.phases[-1].name == "run"
    assert first.phases[-1].end is None
    await advance(sim, 30)
    later_task = await client.tasks.get(tid)
    later = waterfall_from_events(later_task)
    now = sim_now(sim)
    assert later.total(now) > first.total(task.updated_at or now)
    timings = waterfall_from_timings(await client.tasks.timings(tid))
    assert timings.end is None
    assert timings.phases[-1].end is None
    assert [p.name for p in timings.phases] == [p.name for p in later.phases]
    (run_bar,) = [b for b in timings.bars(50, now) if b[0].name == "run"]
    assert run_bar[1] + run_bar[2] == 50  # the running phase reaches the right edge


async def test_telemetry_series_from_a_running_task(
    sim: SimServer, client: InferenceClient
) -> None:
    tid = (await client.tasks.run("infsh/slow", {})).id
    await until_status(sim, client, tid, {TaskStatus.RUNNING})
    await advance(sim, 95)
    samples = await client.tasks.telemetry(tid)
    assert len(samples) >= 4
    s = series(samples)
    assert len(s.cpu) == len(s.ram) == len(s.gpu) == len(s.vram) == len(samples)
    assert s.ram_total > 0
    assert s.vram_total > 0
    assert all(0 <= v <= 100 for v in s.cpu + s.gpu)
    assert s.cpu_now is not None
    assert s.gpu_now is not None
    assert s.ram_fraction is not None
    assert 0 < s.ram_fraction < 1
    assert s.vram_fraction is not None
    assert 0 < s.vram_fraction < 1
    assert s.times == sorted(s.times)
    assert s.gpu_names
    assert s.gpu_names[0]


async def test_cost_after_completion_and_the_running_estimate(
    sim: SimServer, client: InferenceClient
) -> None:
    first = (await client.tasks.run("infsh/flux", {"prompt": "a"})).id
    done = await until_status(sim, client, first)
    cost = await client.tasks.cost(first)
    assert cost.charged > 0
    text = format_cost(cost)
    assert text.startswith("$")
    assert text == f"${cost.charged / 100_000_000:.4f}"
    rate = rate_from(done, cost)
    assert rate is not None
    assert rate.microcents_per_second == pytest.approx(30_000, rel=0.01)  # flux's sim price
    second = (await client.tasks.run("infsh/flux", {"prompt": "b"})).id
    running = await until_status(sim, client, second, {TaskStatus.RUNNING})
    estimate = estimate_cost(running, rate, sim_now(sim))
    assert estimate is not None
    assert estimate > 0
    finished = await until_status(sim, client, second)
    final = await client.tasks.cost(second)
    end = finished.events[-1].event_time
    assert end is not None
    at_end = estimate_cost(finished, rate, end)
    assert at_end == pytest.approx(final.charged, rel=0.01)
    assert estimate < final.charged


async def test_why_queued_when_every_worker_is_busy(
    sim: SimServer, client: InferenceClient
) -> None:
    ids = [(await client.tasks.run("infsh/slow", {})).id for _ in range(8)]
    await advance(sim, 3)
    tasks = [await client.tasks.get(t) for t in ids]
    queued = [t for t in tasks if t.status is TaskStatus.QUEUED]
    assert len(queued) == 2  # three online engines × two workers run the first six
    stats = await client.account.queue_stats()
    engines = (await client.engines.list(limit=50)).items
    usage = await client.account.usage()
    text = why_queued(queued[-1], stats, engines, usage, now=sim_now(sim))
    assert text.startswith("1 task ahead of it for infsh/slow; 6 of 6 workers that can run it")
    assert text.endswith("are busy (rig-a, rig-b, rig-c) — it starts when one frees up.")
    sim.call(lambda w: setattr(w.config, "concurrency_limit", 6))
    usage = await client.account.usage()
    text = why_queued(queued[0], stats, engines, usage, now=sim_now(sim))
    assert "concurrency is used up (6 of 6 tasks running)" in text
    running = next(t for t in tasks if t.status is not TaskStatus.QUEUED)
    assert why_queued(running, stats, engines).startswith("It is not queued")

    def stop_engines(world: World) -> None:
        for engine in world.engines.engines:
            engine.status = "disconnected"

    sim.call(stop_engines)
    engines = (await client.engines.list(limit=50)).items
    text = why_queued(queued[0], stats, engines, None, now=sim_now(sim))
    assert "no worker is online to take it" in text


async def test_log_feed_against_the_simulator(sim: SimServer, client: InferenceClient) -> None:
    tid = (await client.tasks.run("infsh/slow", {})).id
    await until_status(sim, client, tid, {TaskStatus.RUNNING})
    feed = LogFeed(client, tid)
    lines = await feed.backfill()
    assert {"task", "setup"} <= {ln.phase for ln in lines}
    await advance(sim, 5)
    more = await feed.catch_up()
    assert more
    assert more[0].seq == len(lines)
    assert {ln.phase for ln in more} == {"run"}
    assert await feed.catch_up() == []
    fresh = TaskLogLines().add((await client.tasks.logs(tid)).logs)
    assert [ln.text for ln in lines + more] == [ln.text for ln in fresh]
    await client.tasks.cancel(tid, force=True)
    await until_status(sim, client, tid)
    tail = await feed.catch_up()
    assert any("cancelled" in ln.text for ln in tail)
    assert feed.finished
