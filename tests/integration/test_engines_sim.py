"""Engines against the simulator: list/get, the lifecycle through the client (drain with tasks
in flight, update, stop, restart, refusals), the engine stream and ``GET /events``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import pytest

from infdash.api import (
    ConflictError,
    Engine,
    EngineStatus,
    EngineUpdate,
    InferenceClient,
    NotFoundError,
    ServerError,
    StreamReconnecting,
    Task,
    ValidationError,
    WorkerStatus,
    WorkspaceEvent,
)
from infdash.api.client import StreamFormat
from infdash.sim import SimConfig, SimServer
from infdash.sim.config import ErrorBurst

from .conftest import ClientFactory, count_requests, open_requests, while_time_moves

FORMATS: list[StreamFormat] = ["ndjson", "sse"]
E = TypeVar("E")


@pytest.fixture
def sim_config() -> SimConfig:
    """No tasks running at start, so every busy worker in a test is one the test started."""
    return SimConfig(seed=7, manual_clock=True, history_size=5, running_at_start=0)


async def collect(
    sim: SimServer, stream: AsyncIterator[E], *, step: float = 0.5, limit: int = 400
) -> list[E]:
    """Read a stream to its end while simulated time moves (from its first event on)."""
    events: list[E] = []
    first = asyncio.Event()

    async def consume() -> list[E]:
        async for event in stream:
            events.append(event)
            first.set()
        return events

    return await while_time_moves(sim, consume(), step, limit, start=first)


async def by_name(client: InferenceClient, name: str) -> Engine:
    page = await client.engines.list(limit=-1)
    return next(e for e in page.items if e.name == name)


async def dispatched(sim: SimServer, client: InferenceClient, app: str) -> Task:
    """Run a task and advance time until it has a worker."""
    task = await client.tasks.run(app, {"prompt": "a lighthouse", "text": "hi"})
    for _ in range(200):
        task = await client.tasks.get(task.id)
        if task.engine is not None and task.engine.id:
            return task
        await asyncio.to_thread(sim.advance, 0.25)
    raise AssertionError("the task was never dispatched")


async def test_list_both_flavours_and_get(client: InferenceClient) -> None:
    page = await client.engines.list(limit=-1)
    names = [e.name for e in page.items]
    assert names == ["rig-a", "rig-b", "rig-c", "rig-d"]
    query = await client.engines.list_query(limit=2)
    assert [e.name for e in query.items] == ["rig-a", "rig-b"]
    assert query.has_next
    assert query.next_cursor
    more = await client.engines.list_query(limit=2, cursor=query.next_cursor)
    assert [e.name for e in more.items] == ["rig-c", "rig-d"]

    rig_a, rig_b, rig_c, rig_d = page.items
    assert rig_a.status is EngineStatus.RUNNING
    assert rig_a.instance is None
    assert rig_b.is_cloud
    assert rig_b.instance is not None
    assert rig_b.instance.cloud
    assert rig_c.engine_version == "v1.9.3"
    assert rig_d.status is EngineStatus.DISCONNECTED
    assert all(w.status is WorkerStatus.INACTIVE for w in rig_d.workers)
    worker = rig_a.workers[0]
    assert worker.gpus[0].name == "RTX 4090"
    assert worker.gpus[0].vram > 20 * 2**30
    assert worker.ram_total > 0
    assert worker.cpus
    assert rig_a.system_info is not None
    assert rig_a.system_info.hostname

    one = await client.engines.get(rig_b.id)
    assert one.id == rig_b.id
    assert one.name == "rig-b"
    with pytest.raises(NotFoundError) as info:
        await client.engines.get("eng_nope")
    assert info.value.status == 404


async def test_filters_and_search(client: InferenceClient) -> None:
    from infdash.api import Filter, Sort

    page = await client.engines.list(filters=[Filter.eq("status", "disconnected")])
    assert [e.name for e in page.items] == ["rig-d"]
    page = await client.engines.list(sort=[Sort.desc("name")], limit=1)
    assert [e.name for e in page.items] == ["rig-d"]
    page = await client.engines.list(search="rig-b")
    assert [e.name for e in page.items] == ["rig-b"]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_drain_with_a_task_in_flight(
    sim: SimServer, make_client: ClientFactory, fmt: StreamFormat
) -> None:
    client = await make_client(stream_format=fmt)
    task = await dispatched(sim, client, "infsh/flux")
    assert task.engine is not None
    engine_id = task.engine.id

    drained = await client.engines.drain(engine_id)
    assert drained is not None
    assert drained.status is EngineStatus.DRAINING
    assert any(w.task_id == task.id for w in drained.workers)  # in-flight work goes on
    with pytest.raises(ConflictError) as info:
        await client.engines.drain(engine_id)
    assert info.value.code == "invalid_transition"

    stream = client.engines.stream(engine_id, until=lambda e: e.status is EngineStatus.STOPPED)
    async with stream:
        events = await collect(sim, stream)
    updates = [e for e in events if isinstance(e, EngineUpdate)]
    assert updates[0].engine.status is EngineStatus.DRAINING
    assert updates[-1].engine.status is EngineStatus.STOPPED
    assert all(w.status is WorkerStatus.INACTIVE for w in updates[-1].engine.workers)
    finished = await client.tasks.get(task.id)
    assert finished.status.label == "completed"  # the drain let it finish
    assert open_requests(client) == 0


async def test_update_to_canary_and_to_a_version(sim: SimServer, client: InferenceClient) -> None:
    rig_c = await by_name(client, "rig-c")
    updated = await client.engines.update(rig_c.id, "canary")
    assert updated is not None
    assert updated.status is EngineStatus.RESTARTING
    stream = client.engines.stream(rig_c.id, until=lambda e: e.status is EngineStatus.RUNNING)
    async with stream:
        events = await collect(sim, stream)
    final = [e for e in events if isinstance(e, EngineUpdate)][-1].engine
    assert final.engine_version == "v1.11.0-rc.2"
    assert final.engine_pin == "canary"

    await client.engines.update(rig_c.id, "v1.10.20")
    for _ in range(40):
        await asyncio.to_thread(sim.advance, 0.5)
    engine = await client.engines.get(rig_c.id)
    assert engine.status is EngineStatus.RUNNING
    assert (engine.engine_version, engine.engine_pin) == ("v1.10.20", "v1.10.20")

    await client.engines.update(rig_c.id)  # default: stable
    for _ in range(40):
        await asyncio.to_thread(sim.advance, 0.5)
    engine = await client.engines.get(rig_c.id)
    assert (engine.engine_version, engine.engine_pin) == ("v1.10.15", "")

    with pytest.raises(ValidationError):
        await client.engines.update(rig_c.id, "latest-and-greatest")


async def test_stop_connected_and_offline(sim: SimServer, client: InferenceClient) -> None:
    rig_a = await by_name(client, "rig-a")
    stopping = await client.engines.stop(rig_a.id)
    assert stopping is not None
    assert stopping.status in (EngineStatus.STOPPING, EngineStatus.STOPPED)
    for _ in range(10):
        await asyncio.to_thread(sim.advance, 0.5)
    assert (await client.engines.get(rig_a.id)).status is EngineStatus.STOPPED
    with pytest.raises(ConflictError) as info:
        await client.engines.stop(rig_a.id)
    assert info.value.code == "invalid_transition"

    rig_d = await by_name(client, "rig-d")
    stopped = await client.engines.stop(rig_d.id)
    assert stopped is not None
    assert stopped.status is EngineStatus.STOPPED


@pytest.mark.parametrize("action", ["drain", "update"])
async def test_offline_engine_refuses_with_its_code(client: InferenceClient, action: str) -> None:
    rig_d = await by_name(client, "rig-d")
    with pytest.raises(ConflictError) as info:
        await getattr(client.engines, action)(rig_d.id)
    assert info.value.status == 409
    assert info.value.code == "engine_offline"
    text = str(info.value)
    assert "\n" not in text
    assert "engine_offline" in text


async def test_restart_cloud_engine_and_refuse_private(
    sim: SimServer, client: InferenceClient
) -> None:
    rig_b = await by_name(client, "rig-b")
    restarting = await client.engines.restart(rig_b.id)
    assert restarting is not None
    assert restarting.status is EngineStatus.RESTARTING
    stream = client.engines.stream(rig_b.id, until=lambda e: e.status is EngineStatus.RUNNING)
    async with stream:
        events = await collect(sim, stream)
    seen = [e.engine.status for e in events if isinstance(e, EngineUpdate)]
    assert EngineStatus.PENDING in seen
    assert seen[-1] is EngineStatus.RUNNING

    rig_a = await by_name(client, "rig-a")
    with pytest.raises(ValidationError):
        await client.engines.restart(rig_a.id)


async def test_unknown_engine_actions_are_not_found(client: InferenceClient) -> None:
    for action in ("drain", "update", "stop", "restart"):
        with pytest.raises(NotFoundError):
            await getattr(client.engines, action)("eng_unknown")


async def test_engine_actions_are_never_retried(sim: SimServer, client: InferenceClient) -> None:
    rig_a = await by_name(client, "rig-a")
    path = f"/engines/{rig_a.id}/drain"
    burst = ErrorBurst(status=503, count=1, path_prefix=path, after_handler=True)
    sim.call(lambda w: setattr(w.faults, "error_burst", burst))
    posts = count_requests(client, "POST", path)
    with pytest.raises(ServerError):
        await client.engines.drain(rig_a.id)
    assert posts[0] == 1  # a 503 after the handler ran: retrying would drain twice
    assert (await client.engines.get(rig_a.id)).status is EngineStatus.DRAINING


@pytest.mark.parametrize("fmt", FORMATS)
async def test_engine_stream_survives_a_drop_and_stays_open_after_stopped(
    sim: SimServer, make_client: ClientFactory, fmt: StreamFormat
) -> None:
    client = await make_client(stream_format=fmt)
    rig_b = await by_name(client, "rig-b")
    sim.call(lambda w: setattr(w.faults, "stream_drop_after", 2))
    events: list[Any] = []
    first = asyncio.Event()
    stream = client.engines.stream(rig_b.id)

    async def consume() -> None:
        restarted = False
        async with stream:
            async for event in stream:
                events.append(event)
                if not first.is_set():  # after the snapshot: drain, and let time move
                    await client.engines.drain(rig_b.id)
                    first.set()
                if isinstance(event, StreamReconnecting) and not restarted:
                    restarted = True  # a stopped engine's stream stays open: revive it
                    await client.engines.restart(rig_b.id)
                if (
                    restarted
                    and isinstance(event, EngineUpdate)
                    and event.engine.status is EngineStatus.RUNNING
                ):
                    return

    await while_time_moves(sim, consume(), 0.5, start=first)
    updates = [e for e in events if isinstance(e, EngineUpdate)]
    statuses = [u.engine.status for u in updates]
    assert statuses[:2] == [EngineStatus.RUNNING, EngineStatus.DRAINING]
    stopped = next(u for u in updates if u.engine.status is EngineStatus.STOPPED)
    assert stopped.source == "reconcile"  # the frame cut by the drop was recovered over REST
    assert stream.connections >= 2
    assert statuses[-1] is EngineStatus.RUNNING
    assert open_requests(client) == 0


@pytest.mark.parametrize("fmt", FORMATS)
async def test_workspace_events_carry_partial_engine_updates(
    sim: SimServer, make_client: ClientFactory, fmt: StreamFormat
) -> None:
    client = await make_client(stream_format=fmt)
    engines = {e.id: e for e in (await client.engines.list(limit=-1)).items}
    rig_a = next(e for e in engines.values() if e.name == "rig-a")
    seen: list[WorkspaceEvent] = []

    async def consume() -> None:
        async with client.events(tables={"engines"}) as stream:
            async for event in stream:
                if isinstance(event, StreamReconnecting):
                    continue
                seen.append(event)
                engines[event.id] = event.apply_to(engines[event.id])
                if engines[rig_a.id].status is EngineStatus.DRAINING:
                    return

    reader = asyncio.create_task(consume())
    for _ in range(1000):  # events have no snapshot: change something once subscribed
        if await asyncio.to_thread(sim.call, lambda w: w.stream_count()) > 0:
            break
    await client.engines.drain(rig_a.id)
    await asyncio.wait_for(reader, 30)

    event = seen[-1]
    assert event.table == "engines"
    assert event.partial  # NDJSON says so with ``fields``; SSE sends a bare partial DTO
    assert event.engine() is None
    assert "status" in event.data
    assert "name" not in event.data
    if fmt == "ndjson":
        assert event.fields is not None
        assert "status" in event.fields
    merged = engines[rig_a.id]
    assert merged.name == "rig-a"
    assert merged.workers
    assert merged.status is EngineStatus.DRAINING
    assert open_requests(client) == 0
