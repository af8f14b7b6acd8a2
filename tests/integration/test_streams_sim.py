"""Task streams against the simulator: both framings, the "done" walk, and faults R9–R23."""

from __future__ import annotations

import asyncio
import itertools
from contextlib import aclosing

import httpx
import pytest

from infdash.api import (
    ForbiddenError,
    InferenceClient,
    NotFoundError,
    StreamContentError,
    StreamReconnecting,
    TaskDelta,
    TaskStatus,
    TaskStream,
    TaskStreamEvent,
    TaskUpdate,
    UnauthorizedError,
)
from infdash.api.client import StreamFormat
from infdash.api.tasks import TaskChange
from infdash.sim import SimServer

from .conftest import ClientFactory, SimTime, count_requests, drive, open_requests

FORMATS: list[StreamFormat] = ["ndjson", "sse"]


async def follow(sim: SimServer, stream: TaskStream, step: float = 0.25) -> list[TaskStreamEvent]:
    """Read a task stream to its end while simulated time moves; the stream is closed after."""
    events: list[TaskStreamEvent] = []
    stop = asyncio.Event()
    driver: asyncio.Task[None] | None = None
    try:
        async with stream:
            async for event in stream:
                events.append(event)
                if driver is None:  # the first event is the snapshot: now let time move
                    driver = asyncio.create_task(drive(sim, stop, step))
    finally:
        stop.set()
        if driver is not None:
            await driver
    return events


def statuses(events: list[TaskStreamEvent]) -> list[TaskStatus]:
    return [e.task.status for e in events if isinstance(e, TaskUpdate)]


def streamed_log_ids(events: list[TaskStreamEvent]) -> list[str]:
    return [log.id for e in events if isinstance(e, TaskUpdate) for log in e.new_logs]


async def rest_log_ids(client: InferenceClient, task_id: str) -> list[str]:
    return [log.id for log in (await client.tasks.logs(task_id)).logs]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_done_scenario_status_walks_up_to_completed(
    sim: SimServer, make_client: ClientFactory, fmt: StreamFormat
) -> None:
    client = await make_client(stream_format=fmt)
    task = await client.tasks.run("infsh/echo", {"text": "hello"})
    history = await rest_log_ids(client, task.id)  # the UI's pattern: history, then follow
    stream = client.tasks.stream(task.id, known_log_ids=history)
    events = await follow(sim, stream)
    walk = statuses(events)
    assert walk[0] in (TaskStatus.RECEIVED, TaskStatus.QUEUED)
    assert walk[-1] is TaskStatus.COMPLETED
    assert walk == sorted(walk)  # never goes backwards
    assert {
        TaskStatus.QUEUED,
        TaskStatus.DISPATCHED,
        TaskStatus.RUNNING,
        TaskStatus.UPLOADING,
    } <= set(walk)
    final = events[-1]
    assert isinstance(final, TaskUpdate)
    assert final.task.output is not None
    assert stream.connections == 1
    assert stream.reconciles == 0
    assert stream.stats.malformed == 0
    ids = streamed_log_ids(events)
    assert len(ids) == len(set(ids))
    assert history + ids == await rest_log_ids(client, task.id)  # every line, once, in order
    assert open_requests(client) == 0


@pytest.mark.parametrize("fmt", FORMATS)
async def test_llm_deltas_accumulate(
    sim: SimServer, make_client: ClientFactory, fmt: StreamFormat
) -> None:
    client = await make_client(stream_format=fmt)
    task = await client.tasks.run("infsh/llm", {"prompt": "tell me"})
    events = await follow(sim, client.tasks.stream(task.id))
    deltas = [e for e in events if isinstance(e, TaskDelta)]
    assert deltas, "infsh/llm streams token deltas"
    texts = [d.output.get("response", "") for d in deltas]
    assert all(b.startswith(a) for a, b in itertools.pairwise(texts))  # concatenated
    final = events[-1]
    assert isinstance(final, TaskUpdate)
    assert final.task.status is TaskStatus.COMPLETED
    assert texts[-1]
    assert texts[-1] in str(final.task.output)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_drop_mid_frame_reconnects_without_duplicate_or_missing_logs(  # R11
    sim: SimServer, fake_sleeper: SimTime, make_client: ClientFactory, fmt: StreamFormat
) -> None:
    sim.call(lambda w: setattr(w.faults, "stream_drop_after", 3))
    client = await make_client(stream_format=fmt)
    stream_requests: list[str | None] = []

    async def record(request: object) -> None:
        headers = getattr(request, "headers", {})
        url = getattr(request, "url", None)
        if url is not None and url.path.endswith("/stream"):
            stream_requests.append(headers.get("last-event-id"))

    client.http.event_hooks["request"].append(record)
    task = await client.tasks.run("infsh/echo", {"text": "drop"})
    history = await rest_log_ids(client, task.id)
    stream = client.tasks.stream(task.id, max_reconnects=3, known_log_ids=history)
    events = await follow(sim, stream)
    assert statuses(events)[-1] is TaskStatus.COMPLETED
    reconnects = [e for e in events if isinstance(e, StreamReconnecting)]
    assert reconnects
    assert stream.connections == len(reconnects) + 1
    assert all(r.attempt == 1 for r in reconnects)  # every connection made progress
    ids = streamed_log_ids(events)
    assert len(ids) == len(set(ids))
    assert sorted(history + ids) == await rest_log_ids(client, task.id)
    if fmt == "sse":
        assert stream_requests[0] is None
        assert all(h is not None for h in stream_requests[1:])  # Last-Event-ID resent each time
    assert open_requests(client) == 0


async def test_server_ignoring_last_event_id_causes_no_duplicates(  # R12
    sim: SimServer, make_client: ClientFactory
) -> None:
    def faults(w: object) -> None:
        w.faults.stream_drop_after = 4  # type: ignore[attr-defined]
        w.faults.stream_ignore_last_event_id = True  # type: ignore[attr-defined]

    sim.call(faults)
    client = await make_client(stream_format="sse")
    task = await client.tasks.run("infsh/echo", {"text": "replay"})
    history = await rest_log_ids(client, task.id)
    stream = client.tasks.stream(task.id, max_reconnects=50, known_log_ids=history)
    events = await follow(sim, stream)
    walk = statuses(events)
    assert walk[-1] is TaskStatus.COMPLETED
    assert walk == sorted(walk)  # the replayed old statuses never show
    ids = streamed_log_ids(events)
    assert len(ids) == len(set(ids))
    assert sorted(history + ids) == await rest_log_ids(client, task.id)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_malformed_frames_split_utf8_and_odd_line_endings(  # R20, R21, R23
    sim: SimServer, make_client: ClientFactory, fmt: StreamFormat
) -> None:
    def faults(w: object) -> None:
        w.faults.stream_malformed = True  # type: ignore[attr-defined]
        w.faults.stream_chunk_size = 7  # type: ignore[attr-defined]

    sim.call(faults)
    client = await make_client(stream_format=fmt)
    task = await client.tasks.run("infsh/echo", {"text": "ünïcødé ✓ 🎉"})
    stream = client.tasks.stream(task.id)
    events = await follow(sim, stream)
    walk = statuses(events)
    assert walk[-1] is TaskStatus.COMPLETED
    assert walk == sorted(walk)
    assert stream.stats.malformed >= 3
    final = events[-1]
    assert isinstance(final, TaskUpdate)
    assert "ünïcødé ✓ 🎉" in str(final.task.output) or "ünïcødé ✓ 🎉" in str(final.task.input)
    assert stream.reconciles == 0


async def test_stream_204_stops_and_reconciles(
    sim: SimServer, client: InferenceClient
) -> None:  # R14
    task = await client.tasks.run("infsh/echo", {})
    sim.call(lambda w: setattr(w.faults, "stream_status", 204))
    streams = count_requests(client, "GET", f"/tasks/{task.id}/stream")
    async with client.tasks.stream(task.id) as stream:
        events = [e async for e in stream]
    assert streams[0] == 1
    assert len(events) == 1
    assert isinstance(events[0], TaskUpdate)
    assert events[0].source == "reconcile"
    assert open_requests(client) == 0


async def test_stream_html_is_a_clear_error(sim: SimServer, client: InferenceClient) -> None:  # R15
    task = await client.tasks.run("infsh/echo", {})
    sim.call(lambda w: setattr(w.faults, "stream_html", True))

    async def consume() -> list[TaskStreamEvent]:
        async with client.tasks.stream(task.id) as stream:
            return [e async for e in stream]

    with pytest.raises(StreamContentError) as info:
        await consume()
    assert "HTML" in str(info.value)
    assert open_requests(client) == 0


@pytest.mark.parametrize(
    ("status", "error"), [(401, UnauthorizedError), (403, ForbiddenError), (404, NotFoundError)]
)
async def test_stream_final_statuses_close_the_response_every_time(  # R16, mistral#532
    sim: SimServer, make_client: ClientFactory, status: int, error: type[Exception]
) -> None:
    client = await make_client(limits=httpx.Limits(max_connections=2, max_keepalive_connections=2))
    task = await client.tasks.run("infsh/echo", {})
    sim.call(lambda w: setattr(w.faults, "stream_status", status))
    streams = count_requests(client, "GET", f"/tasks/{task.id}/stream")

    async def consume() -> None:
        async with client.tasks.stream(task.id) as stream:
            async for _ in stream:
                pass

    for _ in range(200):
        with pytest.raises(error):
            await consume()
    assert streams[0] == 200  # one request each time: never reconnected
    assert open_requests(client) == 0


async def test_stream_429_waits_and_reconnects(  # R16 → R1
    sim: SimServer, fake_sleeper: SimTime, client: InferenceClient
) -> None:
    task = await client.tasks.run("infsh/echo", {})
    sim.call(lambda w: setattr(w.faults, "stream_status", 429))
    fake_sleeper.on_sleep.append(
        lambda _: sim.call(lambda w: setattr(w.faults, "stream_status", None))
    )
    events = await follow(sim, client.tasks.stream(task.id))
    reconnect = next(e for e in events if isinstance(e, StreamReconnecting))
    assert "429" in reconnect.reason
    assert fake_sleeper.sleeps[0] == pytest.approx(reconnect.delay)
    assert statuses(events)[-1] is TaskStatus.COMPLETED


async def test_key_revoked_mid_stream_stops_everything(  # R9
    sim: SimServer, client: InferenceClient
) -> None:
    sim.call(lambda w: setattr(w.faults, "stream_drop_after", 2))
    task = await client.tasks.run("infsh/echo", {})
    requests: list[str] = []

    async def record(request: object) -> None:
        requests.append(str(getattr(request, "url", "")))

    client.http.event_hooks["request"].append(record)
    stream = client.tasks.stream(task.id)
    seen: list[TaskStreamEvent] = []

    async def consume() -> None:
        async with stream:
            async for event in stream:
                seen.append(event)
                sim.call(lambda w: setattr(w, "api_key", "inf_rotated"))
                await asyncio.to_thread(sim.advance, 2)  # events flow, the stream drops

    with pytest.raises(UnauthorizedError):
        await consume()
    assert seen
    assert isinstance(seen[0], TaskUpdate)
    assert len(requests) == 2  # the first stream, then one 401 (reconcile or reconnect): no more
    assert open_requests(client) == 0


async def test_cancelling_the_consumer_releases_the_connection(  # R29
    sim: SimServer, client: InferenceClient
) -> None:
    task = await client.tasks.run("infsh/slow", {})
    started = asyncio.Event()

    async def consume() -> None:
        async with client.tasks.stream(task.id) as stream:
            async for _ in stream:
                started.set()

    reader = asyncio.create_task(consume())
    await started.wait()
    assert open_requests(client) == 1
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert open_requests(client) == 0


async def wait_for_server_streams(sim: SimServer, count: int) -> None:
    """Wait (without sleeping) until the simulator holds ``count`` open stream subscriptions."""
    for _ in range(10_000):
        if await asyncio.to_thread(sim.call, lambda w: w.stream_count()) == count:
            return
    raise AssertionError(f"the simulator never had {count} open streams")


async def test_account_stream_sees_new_and_changed_tasks(
    sim: SimServer, client: InferenceClient
) -> None:
    changes: list[TaskChange] = []
    target: dict[str, str] = {}
    finished = asyncio.Event()

    async def consume() -> None:
        async with aclosing(client.tasks.watch()) as watch:
            async for change in watch:
                changes.append(change)
                if change.task_id == target.get("id") and change.status is TaskStatus.COMPLETED:
                    finished.set()
                    return

    reader = asyncio.create_task(consume())
    await wait_for_server_streams(sim, 1)
    task = await client.tasks.run("infsh/echo", {"text": "watch me"})
    target["id"] = task.id
    await drive(sim, finished)
    await reader
    mine = [c for c in changes if c.task_id == task.id]
    assert not mine[0].partial
    created = mine[0].task()
    assert created is not None
    assert created.app_name == "infsh/echo"
    assert all(c.partial for c in mine[1:])
    walk = [c.status for c in mine if c.status is not None]
    assert walk == sorted(walk)
    assert walk[-1] is TaskStatus.COMPLETED
    assert open_requests(client) == 0
    await wait_for_server_streams(sim, 0)  # the server saw the connection close too
