"""Byte-level faults on the log path the simulator cannot produce (performance.md §6: R23, R24).

A scripted stream over ``httpx.MockTransport`` → ``TaskStream`` (its ``new_logs``, as the
scheduler hands them to listeners) → ``LogFeed``: invalid UTF-8 inside a log line, a character
split at every possible byte, and a single 20 MB ``data:`` line.  (Split characters from a real
server are covered against the simulator in ``tests/integration/scheduler/test_log_faults``.)
"""

from __future__ import annotations

import base64
import json
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

import infdash.api.streams as streams
from infdash.api import InferenceClient, StreamReconnecting, StreamStats, TaskUpdate
from infdash.api.client import StreamFormat
from infdash.ui.detail.logs import LogFeed
from infdash.ui.logs import LogLine
from tests.unit.api.fakes import Recorder, ScriptedStream, Step, json_response, make_client

TASK = "task_1"
PATH = f"/tasks/{TASK}/stream"
RUNNING = {"id": TASK, "status": 7, "created_at": "2026-11-25T12:00:00Z", "logs": []}
DONE = {"id": TASK, "status": 10}
CTYPE = {"sse": "text/event-stream", "ndjson": "application/x-ndjson"}


def frame(fmt: StreamFormat, data: object, seq: int) -> bytes:
    body = json.dumps(data, ensure_ascii=False).encode()
    if fmt == "ndjson":
        return body + b"\n"
    return f"id: {seq}\nevent: update\ndata: ".encode() + body + b"\n\n"


def log_entry(n: int, content: str) -> dict[str, object]:
    return {"id": f"log_{n}", "log_type": 1, "content": content}


def setup(fmt: StreamFormat, steps: list[Step]) -> tuple[InferenceClient, ScriptedStream]:
    rec = Recorder()
    stream = ScriptedStream(steps)
    rec.add("GET", PATH, httpx.Response(200, stream=stream, headers={"content-type": CTYPE[fmt]}))
    rec.add("GET", f"/tasks/{TASK}/logs", json_response(200, {"task_id": TASK, "logs": []}))
    client, _ = make_client(rec, stream_format=fmt)
    return client, stream


@dataclass
class Followed:
    lines: list[LogLine]
    stats: StreamStats
    reconnects: list[StreamReconnecting]


async def follow(client: InferenceClient) -> Followed:
    """Backfill, then every stream event's new entries into the feed (the listener's job)."""
    feed = LogFeed(client, TASK)
    lines = await feed.backfill()
    reconnects: list[StreamReconnecting] = []
    async with client.tasks.stream(TASK) as events:
        async for event in events:
            if isinstance(event, TaskUpdate):
                lines += feed.feed(event.new_logs)
            elif isinstance(event, StreamReconnecting):
                reconnects.append(event)
    return Followed(lines, events.stats, reconnects)


def chunked(data: bytes, size: int) -> list[Step]:
    return [data[i : i + size] for i in range(0, len(data), size)]


TEXTS = ["héllo → 世界 🎉", "Ωμέγα ½ € 𝄞 👩\u200d💻"]


@pytest.mark.parametrize("fmt", ["sse", "ndjson"])
@pytest.mark.parametrize("size", [1, 2, 3, 5])
async def test_r23_split_characters_and_invalid_bytes_in_log_lines(
    fmt: StreamFormat, size: int
) -> None:
    logs = [log_entry(1, TEXTS[0] + "\n"), log_entry(2, TEXTS[1])]
    body = frame(fmt, RUNNING, 1) + frame(fmt, {"id": TASK, "logs": logs}, 2)
    # Raw invalid UTF-8 inside a plain log line, and inside base64 content once decoded.
    bad_plain = frame(fmt, {"id": TASK, "logs": [log_entry(3, "bad XX byte")]}, 3)
    bad_plain = bad_plain.replace(b"XX", b"\xff\xfe")
    packed = base64.b64encode(b"progress 50% \xff done ok").decode()
    bad_b64 = frame(fmt, {"id": TASK, "logs": [log_entry(4, packed)]}, 4)
    body += bad_plain + bad_b64 + frame(fmt, DONE, 5)
    client, stream = setup(fmt, chunked(body, size))
    async with client:
        followed = await follow(client)
    lines = followed.lines
    assert [line.text for line in lines] == [
        *TEXTS,
        "bad \ufffd\ufffd byte",
        "progress 50% \ufffd done ok",
    ]
    assert [line.seq for line in lines] == [0, 1, 2, 3]
    assert followed.stats.malformed == 0
    assert stream.closed


async def giant_data_line(
    size: int, event_id: int | None, chunk: int = 1 << 16
) -> AsyncIterator[bytes]:
    """A ``data:`` line of ``size`` bytes (a log entry of one huge line), made on the fly."""
    head = b"" if event_id is None else f"id: {event_id}\n".encode()
    head += b'event: update\ndata: {"id": "task_1", "logs": [{"id": "log_big", "content": "'
    yield head
    for _ in range((size - len(head)) // chunk):
        yield b"x" * chunk
    yield b'"}]}\n\n'


class GiantStream(httpx.AsyncByteStream):
    """``before``, then the giant event, then ``after``; counts the bytes it handed out."""

    def __init__(self, before: bytes, size: int, after: bytes, event_id: int | None) -> None:
        self.before, self.size, self.after, self.event_id = before, size, after, event_id
        self.closed = False
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.before
        async for chunk in giant_data_line(self.size, self.event_id):
            self.sent += len(chunk)
            yield chunk
        yield self.after

    async def aclose(self) -> None:
        self.closed = True


def sse(stream: httpx.AsyncByteStream) -> httpx.Response:
    return httpx.Response(200, stream=stream, headers={"content-type": CTYPE["sse"]})


@pytest.mark.parametrize("event_id", [None, 3], ids=["no-id", "id-first"])
async def test_r24_a_20_mb_data_line_is_dropped_and_the_connection_recycled(
    event_id: int | None,
) -> None:
    """The giant event is dropped at the cap in bounded memory, the connection is closed
    there (not read to the end of the 20 MB) and the stream reconnects; when the event's id
    came before its data, the reconnect resumes past it rather than asking for it again."""
    before = frame("sse", RUNNING, 1)
    before += frame("sse", {"id": TASK, "logs": [log_entry(1, "small before")]}, 2)
    giant = GiantStream(before, 20 * 2**20, b"", event_id)
    after = frame("sse", {"id": TASK, "logs": [log_entry(2, "small after")]}, 4)
    after += frame("sse", DONE, 5)
    rec = Recorder()
    rec.add("GET", PATH, sse(giant), sse(ScriptedStream([after])))
    rec.add("GET", f"/tasks/{TASK}", json_response(200, {"data": RUNNING}))
    rec.add("GET", f"/tasks/{TASK}/logs", json_response(200, {"task_id": TASK, "logs": []}))
    client, _ = make_client(rec, stream_format="sse")
    async with client:
        tracemalloc.start()
        try:
            followed = await follow(client)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    lines, stats, reconnects = followed.lines, followed.stats, followed.reconnects
    assert [line.text for line in lines] == ["small before", "small after"]
    assert (stats.oversized, stats.malformed) == (1, 1)  # one event dropped, counted once
    assert peak < 2 * streams.MAX_LINE_BYTES, f"peak {peak / 2**20:.1f} MiB"
    assert giant.closed
    assert giant.sent < streams.MAX_LINE_BYTES + 2**20  # recycled at the cap, not read on
    assert [r.oversized for r in reconnects] == [True]
    assert "larger than 8 MiB" in reconnects[0].reason
    resumed = rec.calls("GET", PATH)[1].headers.get("last-event-id")
    assert resumed == ("2" if event_id is None else "3")
