"""Task and account streams: SSE or NDJSON framing, heartbeats, replay and stream faults.

The responses are raw ASGI so the simulator controls every byte: it can stop in the middle of
a frame, split UTF-8 characters across writes, or send malformed frames on purpose. A watcher
on ``receive`` closes the subscription when the client leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from infdash.sim.config import FaultConfig
from infdash.sim.pubsub import Signal, Subscription
from infdash.sim.tasks import StreamEvent, Task

if TYPE_CHECKING:
    from infdash.sim.world import World

NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines")


def wants_ndjson(accept: str) -> bool:
    """NDJSON when the Accept header names it; SSE otherwise (the default)."""
    return any(t in accept.lower() for t in NDJSON_TYPES)


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class _Dropped(Exception):
    """The drop fault cut the stream."""


class Framer:
    """Turns stream items into bytes for one framing.

    ``typed`` streams (account, engines, events, chats) always name the event
    (``{"event", "data", "fields"?}`` / ``event: <kind>``) and carry no SSE ids; the task stream
    keeps its own shape (bare DTO lines, ``{data, fields}`` partials, SSE ids)."""

    def __init__(self, ndjson: bool, typed: bool) -> None:
        self.ndjson = ndjson
        self.typed = typed

    def event(self, ev: StreamEvent) -> bytes:
        """One event frame."""
        if self.ndjson:
            if self.typed:
                line: dict[str, Any] = {"event": ev.kind, "data": ev.data}
                if ev.fields is not None:
                    line["fields"] = ev.fields
                return (_json(line) + "\n").encode()
            if ev.kind == "delta":
                return (_json({"event": "delta", "data": ev.data}) + "\n").encode()
            if ev.fields is None:
                return (_json(ev.data) + "\n").encode()
            return (_json({"data": ev.data, "fields": ev.fields}) + "\n").encode()
        head = "" if self.typed else f"id: {ev.seq}\n"
        return f"{head}event: {ev.kind}\ndata: {_json(ev.data)}\n\n".encode()

    def oversized(self, task: Task, size: int, chunk: int = 1 << 16) -> Iterator[bytes]:
        """An event of ``size`` bytes (at least its frame), in pieces: one huge log line (R24)."""
        body = _json({"id": task.id, "logs": [{"id": f"log_oversized_{task.seq}", "content": ""}]})
        head, tail = body.encode().rsplit(b'""', 1)
        if not self.ndjson:
            head = f"id: {task.seq}\nevent: update\ndata: ".encode() + head
        end = b'"' + tail + (b"\n" if self.ndjson else b"\n\n")
        yield head + b'"'
        fill = max(0, size - len(head) - 1 - len(end))
        for at in range(0, fill, chunk):
            yield b"x" * min(chunk, fill - at)
        yield end

    def heartbeat(self) -> bytes:
        """Liveness frame."""
        return b'{"type":"heartbeat"}\n' if self.ndjson else b": heartbeat\n\n"

    def done(self) -> bytes:
        """End-of-stream frame (SSE only)."""
        return b"" if self.ndjson else b"event: done\ndata: {}\n\n"

    def malformed(self, task: Task) -> list[bytes]:
        """Frames a robust client must survive (R20, R21, R23)."""
        ok = _json({"id": task.id, "status": task.status})
        split = f'event: update\ndata: {{"id": "{task.id}",\ndata: "status": {task.status}}}\n\n'
        if self.ndjson:
            return [
                b"{not json\n",
                b'{"id": "' + task.id.encode() + b'", "sta\n',
                b"[1, 2, 3]\n",
                b'"just a string"\n',
                b'{"event": "mystery", "data": {}}\n',
                b"\n",
                b'{"type":"heartbeat"}\r\n',
                b'{"type":"heartbeat","note":"\xff\xfe"}\n',
            ]
        return [
            b"event: update\ndata: {not json\n\n",
            b'event: update\ndata: {"id": "' + task.id.encode() + b'", "sta\n\n',
            b"event: update\ndata: [1, 2, 3]\n\n",
            b'event: mystery\ndata: {"x": 1}\n\n',
            b"event: update\n\n",
            b": just a comment\n\n",
            split.encode(),
            f"event: update\r\ndata: {ok}\r\n\r\n".encode(),
            f"event: update\rdata: {ok}\r\r".encode(),
            b": \xff\xfe invalid utf-8 in a comment\n\n",
        ]


class _Writer:
    """Sends body bytes, counting event frames for the drop fault and chunking for R23."""

    def __init__(self, send: Send, faults: FaultConfig) -> None:
        self._send = send
        self._drop_after = faults.stream_drop_after
        self._chunk = faults.stream_chunk_size
        self.events = 0

    async def raw(self, data: bytes) -> None:
        if not data:
            return
        step = self._chunk if self._chunk and self._chunk > 0 else len(data)
        for i in range(0, len(data), step):
            await self._send(
                {"type": "http.response.body", "body": data[i : i + step], "more_body": True}
            )

    async def event(self, data: bytes) -> None:
        if self._drop_after is not None and self.events >= self._drop_after:
            await self.raw(data[: max(1, len(data) // 2)])
            raise _Dropped
        self.events += 1
        await self.raw(data)


class _StreamBase(Response):
    """Common ASGI plumbing: headers, disconnect watcher, subscription cleanup."""

    def __init__(self, world: World, ndjson: bool, topic: str, typed: bool) -> None:
        super().__init__()
        self.world = world
        self.framer = Framer(ndjson, typed=typed)
        self.topic = topic

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        faults = self.world.faults
        media = "application/x-ndjson" if self.framer.ndjson else "text/event-stream"
        sub = self.world.subscribe(self.topic)  # before the headers: no event can slip by

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            sub.close()

        watcher: asyncio.Task[None] | None = None
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", f"{media}; charset=utf-8".encode()),
                        (b"cache-control", b"no-cache"),
                        (b"x-accel-buffering", b"no"),
                    ],
                }
            )
            watcher = asyncio.get_running_loop().create_task(watch())
            with contextlib.suppress(_Dropped):
                await self.produce(sub, writer=_Writer(send, faults), faults=faults)
        finally:
            self.world.unsubscribe(self.topic, sub)
            if watcher is not None:
                watcher.cancel()
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def produce(self, sub: Subscription, writer: _Writer, faults: FaultConfig) -> None:
        """Write the stream; return to end it."""
        raise NotImplementedError

    async def heartbeats_only(self, sub: Subscription, writer: _Writer) -> None:
        """R19: nothing but heartbeats until the client leaves or the server stops."""
        while (item := await sub.get()) is not Signal.CLOSE:
            if item is Signal.HEARTBEAT:
                await writer.raw(self.framer.heartbeat())


class TaskStream(_StreamBase):
    """``GET /tasks/{id}/stream``: snapshot or replay, then live events until terminal."""

    def __init__(self, world: World, task: Task, ndjson: bool, last_id: int | None) -> None:
        super().__init__(world, ndjson, f"task:{task.id}", typed=False)
        self.task = task
        self.last_id = last_id

    async def produce(self, sub: Subscription, writer: _Writer, faults: FaultConfig) -> None:
        task, framer = self.task, self.framer
        if faults.stream_malformed:
            await writer.raw(b"\xef\xbb\xbf")
        if not framer.ndjson and self.world.config.sse_retry_ms is not None:
            await writer.raw(f"retry: {self.world.config.sse_retry_ms}\n\n".encode())
        if faults.stream_heartbeat_only:
            await self.heartbeats_only(sub, writer)
            return
        replay: list[StreamEvent] | None = None
        if self.last_id is not None and task.stream:
            if faults.stream_ignore_last_event_id:
                replay = list(task.stream)
            elif self.last_id <= task.seq:
                replay = [e for e in task.stream if e.seq > self.last_id]
        if replay is None:
            snapshot = StreamEvent(task.seq, "update", task.dto(), None, task.terminal)
            replay = [snapshot]
        elif not replay and task.terminal:
            # A caught-up client reconnecting after the end: nothing to replay, only the end.
            await writer.raw(framer.done())
            return
        for i, event in enumerate(replay):
            await writer.event(framer.event(event))
            if i == 0 and faults.stream_malformed:
                for frame in framer.malformed(task):
                    await writer.raw(frame)
            if event.terminal:
                await writer.raw(framer.done())
                return
        if faults.stream_oversized_event > 0:
            size, faults.stream_oversized_event = faults.stream_oversized_event, 0
            for piece in framer.oversized(task, size):
                await asyncio.sleep(0)  # let the disconnect watcher run: sends to a gone
                if sub.closed:  # client return at once, so this loop would never yield
                    return
                await writer.raw(piece)
        sent = replay[-1].seq if replay else task.seq
        while True:
            item = await sub.get()
            if item is Signal.CLOSE:
                return
            if faults.stream_stall:  # R17: half-open, nothing at all
                continue
            if item is Signal.HEARTBEAT:
                await writer.raw(b" " if faults.stream_trickle else framer.heartbeat())
                continue
            if item.seq <= sent or faults.stream_heartbeat_only or faults.stream_trickle:
                continue
            await writer.event(framer.event(item))
            if item.terminal:
                await writer.raw(framer.done())
                return


class TopicStream(_StreamBase):
    """A typed stream of one topic: optional snapshot events at connect, then live events until
    the client leaves. Serves ``/tasks/stream``, ``/events``, engine and chat streams.

    ``snapshot`` runs after subscribing, so nothing published in between is lost.
    ``drop_after_deltas`` closes the stream cleanly after that many ``delta`` events."""

    def __init__(
        self,
        world: World,
        ndjson: bool,
        topic: str,
        snapshot: Callable[[], list[StreamEvent]] | None = None,
        drop_after_deltas: int | None = None,
    ) -> None:
        super().__init__(world, ndjson, topic, typed=True)
        self.snapshot = snapshot
        self.drop_after_deltas = drop_after_deltas

    async def produce(self, sub: Subscription, writer: _Writer, faults: FaultConfig) -> None:
        if not self.framer.ndjson and self.world.config.sse_retry_ms is not None:
            await writer.raw(f"retry: {self.world.config.sse_retry_ms}\n\n".encode())
        if faults.stream_heartbeat_only:
            await self.heartbeats_only(sub, writer)
            return
        for event in self.snapshot() if self.snapshot is not None else []:
            await writer.event(self.framer.event(event))
        deltas = 0
        while True:
            item = await sub.get()
            if item is Signal.CLOSE:
                return
            if item is Signal.HEARTBEAT:
                await writer.raw(self.framer.heartbeat())
                continue
            await writer.event(self.framer.event(item))
            if item.kind == "delta" and self.drop_after_deltas is not None:
                deltas += 1
                if deltas >= self.drop_after_deltas:
                    return


def account_stream(world: World, ndjson: bool) -> TopicStream:
    """``GET /tasks/stream``: every task change of the account; no replay, never ends."""
    return TopicStream(world, ndjson, "tasks")
