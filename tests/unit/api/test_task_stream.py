"""TaskStream over MockTransport: merging, logs dedupe, deltas, reconnect, watchdog, closing.

These cover byte-level faults the simulator cannot script (slow loris, exact chunking, an
HTML proxy page, drops at chosen bytes); the simulator-backed versions live in
tests/integration.
"""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest

from infdash.api import (
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    StreamContentError,
    StreamError,
    StreamReconnecting,
    TaskDelta,
    TaskStatus,
    TaskStreamEvent,
    TaskUpdate,
    UnauthorizedError,
)
from infdash.api.task_stream import TaskStream

from .fakes import Recorder, ScriptedStream, Step, json_response, make_client, ndjson, sse

PATH = "/tasks/task_1/stream"
GET = "/tasks/task_1"
FULL = {"id": "task_1", "status": 2, "created_at": "2026-11-25T12:00:00Z", "logs": []}


def _log(n: int, text: str) -> dict[str, object]:
    return {"id": f"log_{n}", "log_type": 1, "content": base64.b64encode(text.encode()).decode()}


def _streams(
    rec: Recorder, *scripts: tuple[list[Step], str] | httpx.Response
) -> list[ScriptedStream]:
    """Queue stream responses for PATH; each is built fresh when requested."""
    made: list[ScriptedStream] = []
    for script in scripts:
        if isinstance(script, httpx.Response):
            rec.add("GET", PATH, script)
            continue
        steps, ctype = script

        def build(
            _: httpx.Request, steps: list[Step] = steps, ctype: str = ctype
        ) -> httpx.Response:
            stream = ScriptedStream(steps)
            made.append(stream)
            return httpx.Response(200, stream=stream, headers={"content-type": ctype})

        rec.add("GET", PATH, build)
    return made


async def _collect(stream: TaskStream) -> list[TaskStreamEvent]:
    async with stream:
        return [event async for event in stream]


async def test_ndjson_merges_partials_dedupes_logs_and_accumulates_deltas() -> None:
    rec = Recorder()
    made = _streams(
        rec,
        (
            [
                ndjson(
                    FULL,
                    {"data": {"id": "task_1", "status": 7}, "fields": ["status"]},
                    {"type": "heartbeat"},
                    {"data": {"id": "task_1", "logs": [_log(1, "hello")]}, "fields": ["logs"]},
                    {
                        "data": {"id": "task_1", "logs": [_log(1, "hello"), _log(2, "world")]},
                        "fields": ["logs"],
                    },
                    {
                        "event": "delta",
                        "data": {"resource_id": "", "seq": 1, "delta": {"response": "Hel"}},
                    },
                    {
                        "event": "delta",
                        "data": {"resource_id": "", "seq": 2, "delta": {"response": "lo"}},
                    },
                    {
                        "event": "delta",
                        "data": {"resource_id": "", "seq": 2, "delta": {"response": "lo"}},
                    },
                    {"id": "task_1", "status": 10, "output": {"text": "Hello"}, "logs": []},
                ),
            ],
            "application/x-ndjson",
        ),
    )
    client, vt = make_client(rec)
    async with client:
        events = await _collect(client.tasks.stream("task_1"))
    updates = [e for e in events if isinstance(e, TaskUpdate)]
    deltas = [e for e in events if isinstance(e, TaskDelta)]
    assert [u.task.status for u in updates] == [
        TaskStatus.QUEUED,
        TaskStatus.RUNNING,
        TaskStatus.RUNNING,
        TaskStatus.RUNNING,
        TaskStatus.COMPLETED,
    ]
    assert updates[1].fields == ("status",)
    assert updates[1].task.created_at is not None  # the partial was merged into the full task
    assert [log.content for u in updates for log in u.new_logs] == ["hello", "world"]
    assert [d.output["response"] for d in deltas] == ["Hel", "Hello"]
    assert updates[-1].task.output == {"text": "Hello"}
    assert made[0].closed
    assert rec.calls("GET", GET) == []  # ended on the terminal task: no reconcile needed
    assert vt.sleeps == []
    assert rec.calls("GET", PATH)[0].headers["accept"] == "application/x-ndjson"


async def test_sse_reconnects_with_last_event_id_and_drops_replays() -> None:  # R11/R12
    rec = Recorder()
    first = sse("update", FULL, 1) + sse(
        "update", {"id": "task_1", "status": 7, "logs": [_log(1, "a")]}, 2
    )
    replay = (
        sse("update", FULL, 1)  # a server that ignores Last-Event-ID replays from the start
        + sse("update", {"id": "task_1", "status": 7, "logs": [_log(1, "a")]}, 2)
        + sse("update", {"id": "task_1", "logs": [_log(2, "b")]}, 3)
        + sse("update", {"id": "task_1", "status": 10}, 4)
        + sse("done", {}, 5)
    )
    made = _streams(
        rec,
        (
            [first, b'event: update\ndata: {"id": "tas', httpx.ReadError("connection reset")],
            "text/event-stream",
        ),
        ([replay], "text/event-stream"),
    )
    rec.add("GET", GET, json_response(200, {"data": {**FULL, "status": 7}}))
    # The replay shows the server ignored Last-Event-ID: the gap is filled from REST once.
    rec.add("GET", GET + "/logs", json_response(200, {"logs": [_log(1, "a"), _log(2, "b")]}))
    client, vt = make_client(rec, stream_format="sse")
    async with client:
        stream = client.tasks.stream("task_1")
        events = await _collect(stream)
    reconnects = [e for e in events if isinstance(e, StreamReconnecting)]
    assert len(reconnects) == 1
    assert "ReadError" in reconnects[0].reason
    assert vt.sleeps == [reconnects[0].delay]
    second = rec.calls("GET", PATH)[1]
    assert second.headers["last-event-id"] == "2"
    assert second.url.params["last_event_id"] == "2"
    assert second.headers["accept"] == "text/event-stream"
    logs = [log.content for e in events if isinstance(e, TaskUpdate) for log in e.new_logs]
    assert logs == ["a", "b"]  # no duplicate, no gap
    assert len(rec.calls("GET", GET + "/logs")) == 1
    final = [e for e in events if isinstance(e, TaskUpdate)][-1]
    assert final.task.status is TaskStatus.COMPLETED
    assert stream.reconciles == 1
    assert all(s.closed for s in made)


async def test_an_unchanged_snapshot_after_reconnect_is_not_an_update() -> None:
    rec = Recorder()
    _streams(
        rec,
        ([ndjson(FULL), httpx.ReadError("reset")], "application/x-ndjson"),
        ([ndjson(FULL, {**FULL, "status": 10})], "application/x-ndjson"),
    )
    rec.add("GET", GET, json_response(200, FULL))
    rec.add("GET", GET + "/logs", json_response(200, {"logs": []}))
    client, _ = make_client(rec)
    async with client:
        events = await _collect(client.tasks.stream("task_1"))
    updates = [e for e in events if isinstance(e, TaskUpdate)]
    assert [u.task.status for u in updates] == [TaskStatus.QUEUED, TaskStatus.COMPLETED]
    assert updates[1].fields == ("status",)
    assert len([e for e in events if isinstance(e, StreamReconnecting)]) == 1


async def test_ndjson_reconnect_fills_the_log_gap_from_rest() -> None:
    rec = Recorder()
    first = ndjson(FULL, {"data": {"id": "task_1", "logs": [_log(1, "a")]}, "fields": ["logs"]})
    # After the drop the server restarts from a snapshot: lines 2 and 3 were never streamed.
    second = ndjson(
        {**FULL, "status": 7},
        {"data": {"id": "task_1", "logs": [_log(4, "d")]}, "fields": ["logs"]},
        {**FULL, "status": 10},
    )
    _streams(
        rec,
        ([first, httpx.ReadError("reset")], "application/x-ndjson"),
        ([second], "application/x-ndjson"),
    )
    rec.add("GET", GET, json_response(200, {**FULL, "status": 7}))
    all_logs = [_log(0, "history"), _log(1, "a"), _log(2, "b"), _log(3, "c")]
    rec.add("GET", GET + "/logs", json_response(200, {"task_id": "task_1", "logs": all_logs}))
    client, _ = make_client(rec)
    async with client:
        events = await _collect(client.tasks.stream("task_1", known_log_ids=["log_0"]))
    logs = [log.content for e in events if isinstance(e, TaskUpdate) for log in e.new_logs]
    assert logs == ["a", "b", "c", "d"]


async def test_first_reconnect_uses_the_servers_retry_field() -> None:  # R11
    rec = Recorder()
    first = b"retry: 2500\n\n" + sse("update", FULL, 1)
    _streams(
        rec,
        ([first, b""], "text/event-stream"),
        ([b""], "text/event-stream"),
        ([sse("update", {**FULL, "status": 10}, 2)], "text/event-stream"),
    )
    rec.add("GET", GET, json_response(200, FULL))
    client, vt = make_client(rec, stream_format="sse")
    async with client:
        events = await _collect(client.tasks.stream("task_1"))
    delays = [e.delay for e in events if isinstance(e, StreamReconnecting)]
    assert delays == [2.5, 0.5]  # then full-jitter backoff: rand 0.5 × 0.5·2^1
    assert vt.sleeps == delays


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, UnauthorizedError), (403, ForbiddenError), (404, NotFoundError)],
)
async def test_final_statuses_raise_without_reconnecting(
    status: int, error: type[Exception]
) -> None:  # R9/R16
    rec = Recorder()
    rec.add("GET", PATH, json_response(status, {"type": f"x/errors/{status}", "detail": "no"}))
    client, vt = make_client(rec)
    async with client:
        with pytest.raises(error):
            await _collect(client.tasks.stream("task_1"))
    assert len(rec.requests) == 1
    assert vt.sleeps == []


async def test_429_on_stream_waits_retry_after_then_reconnects() -> None:  # R16 + R1
    rec = Recorder()
    limited = json_response(429, {"type": "x/errors/rate_limited"}, {"retry-after": "3"})
    rec.add("GET", PATH, limited)
    _streams(rec, ([ndjson({**FULL, "status": 10})], "application/x-ndjson"))
    rec.add("GET", GET, json_response(200, FULL))
    client, _vt = make_client(rec)
    async with client:
        events = await _collect(client.tasks.stream("task_1"))
    reconnect = next(e for e in events if isinstance(e, StreamReconnecting))
    assert reconnect.delay == pytest.approx(3 * 1.05)
    assert "429" in reconnect.reason
    assert isinstance(events[-1], TaskUpdate)
    assert events[-1].task.status is TaskStatus.COMPLETED


async def test_429_beyond_cap_raises() -> None:
    rec = Recorder()
    rec.add(
        "GET", PATH, json_response(429, {"type": "x/errors/rate_limited"}, {"retry-after": "600"})
    )
    rec.add("GET", GET, json_response(200, FULL))
    client, vt = make_client(rec)
    async with client:
        with pytest.raises(RateLimitedError, match="retry in 600"):
            await _collect(client.tasks.stream("task_1"))
    assert vt.sleeps == []


async def test_204_stops_and_reconciles() -> None:  # R14
    rec = Recorder()
    rec.add("GET", PATH, httpx.Response(204))
    rec.add("GET", GET, json_response(200, {**FULL, "status": 7}))
    client, vt = make_client(rec)
    async with client:
        events = await _collect(client.tasks.stream("task_1"))
    assert len(rec.calls("GET", PATH)) == 1
    assert len(events) == 1
    assert isinstance(events[0], TaskUpdate)
    assert events[0].source == "reconcile"
    assert events[0].task.status is TaskStatus.RUNNING
    assert vt.sleeps == []


async def test_html_page_is_a_clear_error_after_reconcile() -> None:  # R15
    rec = Recorder()
    made = _streams(rec, ([b"<html>captive portal</html>"], "text/html; charset=utf-8"))
    rec.add("GET", GET, json_response(200, {**FULL, "status": 7}))
    client, _ = make_client(rec)
    async with client:
        seen: list[TaskStreamEvent] = []

        async def consume() -> None:
            async with client.tasks.stream("task_1") as stream:
                async for event in stream:
                    seen.append(event)

        with pytest.raises(StreamContentError) as info:
            await consume()
    assert "HTML page" in str(info.value)
    assert "\n" not in str(info.value)
    assert len(seen) == 1
    assert isinstance(seen[0], TaskUpdate)
    assert made[0].closed


async def test_html_page_but_task_already_done_ends_quietly() -> None:
    rec = Recorder()
    _streams(rec, ([b"<html></html>"], "text/html"))
    rec.add("GET", GET, json_response(200, {**FULL, "status": 11, "error": "boom"}))
    client, _ = make_client(rec)
    async with client:
        events = await _collect(client.tasks.stream("task_1"))
    assert isinstance(events[-1], TaskUpdate)
    assert events[-1].task.status is TaskStatus.FAILED
    assert events[-1].task.error == "boom"


async def test_malformed_frames_are_skipped_and_counted() -> None:  # R20
    rec = Recorder()
    body = (
        ndjson(FULL)
        + b"{broken json\n"
        + ndjson([1, 2], {"data": "not an object"}, {"data": {"id": "other_task", "status": 7}})
        + ndjson({"event": "delta", "data": {"seq": 1}}, {"id": "task_1", "status": 10})
    )
    _streams(rec, ([body], "application/x-ndjson"))
    client, _ = make_client(rec)
    async with client:
        stream = client.tasks.stream("task_1")
        events = await _collect(stream)
    assert [e.task.status for e in events if isinstance(e, TaskUpdate)] == [
        TaskStatus.QUEUED,
        TaskStatus.COMPLETED,
    ]
    assert stream.stats.malformed == 5


async def test_reconnects_are_bounded_and_reset_after_progress() -> None:
    rec = Recorder()
    # Six connections that each make progress then drop: never gives up.
    progress: list[tuple[list[Step], str]] = [
        ([ndjson({**FULL, "status": 3 + n})], "application/x-ndjson") for n in range(6)
    ]
    _streams(rec, *progress, ([ndjson({**FULL, "status": 10})], "application/x-ndjson"))
    rec.add("GET", GET, json_response(200, FULL))
    rec.add("GET", GET + "/logs", json_response(200, {"logs": []}))
    client, _ = make_client(rec)
    async with client:
        events = await _collect(client.tasks.stream("task_1", max_reconnects=2))
    assert [e.attempt for e in events if isinstance(e, StreamReconnecting)] == [1] * 6
    # Connections that never make progress exhaust the budget.
    rec2 = Recorder()
    empty: list[tuple[list[Step], str]] = [([b""], "application/x-ndjson") for _ in range(4)]
    _streams(rec2, *empty)
    rec2.add("GET", GET, json_response(200, FULL))
    client2, vt2 = make_client(rec2)
    async with client2:
        with pytest.raises(StreamError, match="gave up after 2 reconnects"):
            await _collect(client2.tasks.stream("task_1", max_reconnects=2))
    assert len(rec2.calls("GET", PATH)) == 3
    assert vt2.sleeps == [0.25, 0.5]  # full jitter, growing


async def test_watchdog_fires_on_slow_loris_and_heartbeats_keep_it_alive() -> None:  # R18/R19
    rec = Recorder()
    client, vt = make_client(rec, idle_timeout=30)
    trickle: list[Step] = [ndjson(FULL)]
    for _ in range(10):  # one byte every 4 s, never completing a frame
        trickle += [vt.advance(4), b" "]
    heartbeats: list[Step] = []
    for _ in range(12):  # a heartbeat every 10 s for two minutes, then the end
        heartbeats += [vt.advance(10), ndjson({"type": "heartbeat"})]
    heartbeats.append(ndjson({**FULL, "status": 10}))
    made = _streams(rec, (trickle, "application/x-ndjson"), (heartbeats, "application/x-ndjson"))
    rec.add("GET", GET, json_response(200, FULL))
    rec.add("GET", GET + "/logs", json_response(200, {"logs": []}))
    async with client:
        stream = client.tasks.stream("task_1")
        events = await _collect(stream)
    reconnects = [e for e in events if isinstance(e, StreamReconnecting)]
    assert len(reconnects) == 1
    assert "no event or heartbeat for 30 s" in reconnects[0].reason
    assert stream.connections == 2
    assert stream.stats.heartbeats == 12
    assert all(s.closed for s in made)


async def test_watchdog_fires_on_silence() -> None:  # R17: real (short) timeout, no sleep
    rec = Recorder()
    never = asyncio.Event()
    made = _streams(rec, ([ndjson(FULL), never], "application/x-ndjson"))
    rec.add("GET", GET, json_response(200, {**FULL, "status": 12}))
    rec.add("GET", GET + "/logs", json_response(200, {"logs": []}))
    client, _ = make_client(rec, idle_timeout=0.05)
    async with client:
        events = await _collect(client.tasks.stream("task_1"))
    assert isinstance(events[-1], TaskUpdate)
    assert events[-1].task.status is TaskStatus.CANCELLED
    assert events[-1].source == "reconcile"
    assert made[0].closed


async def test_consumer_leaving_early_or_cancelling_closes_the_response() -> None:  # R29
    rec = Recorder()
    gate = asyncio.Event()
    made = _streams(
        rec,
        ([ndjson(FULL), gate, ndjson({**FULL, "status": 10})], "application/x-ndjson"),
        ([ndjson(FULL), gate], "application/x-ndjson"),
    )
    client, _ = make_client(rec)
    async with client:
        stream = client.tasks.stream("task_1")
        async with stream:
            first = await stream.__anext__()
            assert isinstance(first, TaskUpdate)
        assert made[0].closed

        started = asyncio.Event()

        async def consume() -> None:
            async with client.tasks.stream("task_1") as events:
                async for _ in events:
                    started.set()

        task = asyncio.create_task(consume())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert made[1].closed


async def test_account_stream_yields_changes() -> None:
    rec = Recorder()
    body = ndjson(
        {"event": "tasks", "data": {**FULL, "id": "t9"}},
        {"type": "heartbeat"},
        {
            "event": "tasks",
            "data": {"id": "t9", "status": 7, "updated_at": "2026-11-25T12:00:01Z"},
            "fields": ["status", "updated_at"],
        },
        {"event": "tasks", "data": {"id": "t8", "deleted_at": "2026-11-25T12:00:02Z"}},
        {"event": "tasks", "data": {"no": "id"}},
    )
    stream = ScriptedStream([body])
    rec.add(
        "GET",
        "/tasks/stream",
        httpx.Response(200, stream=stream, headers={"content-type": "application/x-ndjson"}),
    )
    client, _ = make_client(rec)
    async with client:
        changes = [c async for c in client.tasks.watch()]
    assert [c.task_id for c in changes] == ["t9", "t9", "t8"]
    assert not changes[0].partial
    assert changes[0].task() is not None
    assert changes[1].partial
    assert changes[1].status is TaskStatus.RUNNING
    assert changes[1].fields == ("status", "updated_at")
    assert changes[2].deleted
    assert changes[2].task() is None
    assert stream.closed
