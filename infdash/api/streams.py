"""Stream frame readers: SSE and NDJSON bytes → one ``StreamFrame`` type, with a watchdog.

Why not ``EventSource.aiter_sse()`` from httpx-sse: it drops comment lines, and the server's
heartbeat *is* a comment (``: heartbeat``), which the idle watchdog must see; it also keeps a
leading BOM in the first field name. The connection itself is still opened with
``httpx_sse.aconnect_sse`` (see ``task_stream``). The parser here follows the WHATWG
event-stream rules: lines end at CRLF, LF or CR (a CRLF split across chunks is one line
end); a leading BOM is dropped; ``:`` lines are comments; ``data`` lines join with ``\\n``;
an event with no data is not dispatched; ``id`` persists and ids with NUL are ignored.
It works on bytes and decodes whole lines only, so a multi-byte character split across chunks
is reassembled, and invalid UTF-8 becomes U+FFFD.

NDJSON lines (reference §4.1): ``{"type": "heartbeat"}``; ``{"event", "data", "fields"?}``;
``{"data", "fields"}`` partial updates; bare DTOs. Malformed frames are skipped and counted.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import httpx

from infdash.api.errors import StreamIdleError

BOM = b"\xef\xbb\xbf"
DEFAULT_IDLE_TIMEOUT = 30.0
# A single line longer than this is dropped (R24: bounded memory against a runaway frame).
MAX_LINE_BYTES = 8 * 1024 * 1024


class StreamFrame(NamedTuple):
    """One decoded frame. ``heartbeat`` frames carry nothing but liveness.

    ``fields`` is the NDJSON partial-update list (SSE has none: its partials are bare partial
    DTOs). ``id`` is the id this frame itself carried (SSE ``id:``); the id to resume from after
    a reconnect is the parser's ``last_event_id``, which persists across frames per the spec.
    """

    event: str
    data: Any = None
    fields: tuple[str, ...] | None = None
    id: str | None = None
    retry: int | None = None
    heartbeat: bool = False


HEARTBEAT = StreamFrame("heartbeat", heartbeat=True)


@dataclass(slots=True)
class StreamStats:
    """Counters for one connection (or accumulated over a stream's reconnects)."""

    frames: int = 0
    heartbeats: int = 0
    malformed: int = 0
    bytes: int = 0


class FrameParser(Protocol):
    stats: StreamStats

    def feed(self, chunk: bytes) -> list[StreamFrame]: ...

    def flush(self) -> list[StreamFrame]: ...


def _loads(raw: bytes) -> Any:
    """JSON from bytes; invalid UTF-8 inside becomes U+FFFD instead of failing the frame."""
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        return json.loads(raw.decode("utf-8", "replace"))


class _LineSplitter:
    """Bytes → complete lines, for CRLF, LF and CR endings, across arbitrary chunk splits."""

    __slots__ = ("_buf", "_skip_lf", "_started", "dropped")

    def __init__(self) -> None:
        self.dropped = 0
        self._buf = b""
        self._started = False
        # The previous chunk ended in CR: a LF at the start of the next one completes a CRLF.
        self._skip_lf = False

    def split(self, chunk: bytes) -> list[bytes]:
        if self._skip_lf:
            self._skip_lf = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        data = self._buf + chunk if self._buf else chunk
        if not self._started:
            if len(data) < len(BOM) and BOM.startswith(data):
                self._buf = data
                return []
            self._started = True
            if data.startswith(BOM):
                data = data[len(BOM) :]
        if b"\r" in data:
            self._skip_lf = data.endswith(b"\r")
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = data.split(b"\n")
        rest = lines.pop()
        if len(rest) > MAX_LINE_BYTES:
            self.dropped += 1
            rest = b""
        self._buf = rest
        return lines

    def flush(self) -> list[bytes]:
        rest, self._buf = self._buf, b""
        return [rest] if rest else []


class SSEParser:
    """Incremental ``text/event-stream`` parser (WHATWG rules, see module docstring)."""

    def __init__(self) -> None:
        self.stats = StreamStats()
        self._lines = _LineSplitter()
        self._event = ""
        self._data: list[bytes] = []
        self._last_id: str | None = None
        self._block_id: str | None = None
        self._retry: int | None = None

    @property
    def last_event_id(self) -> str | None:
        return self._last_id

    def feed(self, chunk: bytes) -> list[StreamFrame]:
        self.stats.bytes += len(chunk)
        return self._process(self._lines.split(chunk))

    def flush(self) -> list[StreamFrame]:
        # A half-received event at EOF is dropped (spec); a complete last line is still a field.
        self._process(self._lines.flush())
        self.stats.malformed += self._lines.dropped
        self._lines.dropped = 0
        return []

    def _process(self, lines: list[bytes]) -> list[StreamFrame]:
        frames: list[StreamFrame] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    frame = self._dispatch()
                    data = self._data
                    if frame is not None:
                        frames.append(frame)
                else:
                    self._event = ""
                    self._block_id = None
                continue
            if line[0] == 58:  # ":" comment — the server's heartbeat
                self.stats.heartbeats += 1
                frames.append(HEARTBEAT)
                continue
            name, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                data.append(value)
            elif name == b"event":
                self._event = value.decode("utf-8", "replace")
            elif name == b"id":
                if b"\0" not in value:
                    self._last_id = self._block_id = value.decode("utf-8", "replace")
            elif name == b"retry" and value.isdigit():
                self._retry = int(value)
        return frames

    def _dispatch(self) -> StreamFrame | None:
        raw = b"\n".join(self._data) if len(self._data) > 1 else self._data[0]
        event = self._event or "message"
        block_id = self._block_id
        self._event = ""
        self._block_id = None
        self._data = []
        try:
            payload = _loads(raw) if raw.strip() else None
        except ValueError:
            self.stats.malformed += 1
            return None
        self.stats.frames += 1
        return StreamFrame(event, payload, None, block_id, self._retry)


class NDJSONParser:
    """Incremental ``application/x-ndjson`` parser."""

    def __init__(self) -> None:
        self.stats = StreamStats()
        self._lines = _LineSplitter()

    @property
    def last_event_id(self) -> str | None:
        return None

    def feed(self, chunk: bytes) -> list[StreamFrame]:
        self.stats.bytes += len(chunk)
        return self._process(self._lines.split(chunk))

    def flush(self) -> list[StreamFrame]:
        frames = self._process(self._lines.flush())
        self.stats.malformed += self._lines.dropped
        self._lines.dropped = 0
        return frames

    def _process(self, lines: list[bytes]) -> list[StreamFrame]:
        frames: list[StreamFrame] = []
        stats = self.stats
        for line in lines:
            if not line or line.isspace():
                continue
            try:
                obj = _loads(line)
            except ValueError:
                stats.malformed += 1
                continue
            frame = ndjson_frame(obj)
            if frame is None:
                stats.malformed += 1
            elif frame.heartbeat:
                stats.heartbeats += 1
                frames.append(frame)
            else:
                stats.frames += 1
                frames.append(frame)
        return frames


def ndjson_frame(obj: Any) -> StreamFrame | None:
    """Classify one decoded NDJSON line; ``None`` if it is not an object."""
    if not isinstance(obj, dict):
        return None
    event = obj.get("event")
    if "data" in obj or isinstance(event, str):
        fields = obj.get("fields")
        return StreamFrame(
            event if isinstance(event, str) and event else "update",
            obj.get("data"),
            tuple(f for f in fields if isinstance(f, str)) if isinstance(fields, list) else None,
            _opt_id(obj.get("id")),
        )
    if obj.get("type") == "heartbeat":
        return HEARTBEAT
    return StreamFrame("update", obj, None)


def _opt_id(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def make_parser(fmt: str) -> SSEParser | NDJSONParser:
    if fmt == "sse":
        return SSEParser()
    if fmt == "ndjson":
        return NDJSONParser()
    raise ValueError(f"unknown stream format {fmt!r} (use 'sse' or 'ndjson')")


async def read_frames(
    response: httpx.Response,
    parser: SSEParser | NDJSONParser,
    *,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncGenerator[StreamFrame, None]:
    """Yield frames from an open streaming response until EOF.

    The event-level watchdog raises :class:`StreamIdleError` when no complete frame (heartbeats
    included) arrived for ``idle_timeout`` seconds — also when bytes keep trickling in without
    ever completing a frame (slow loris), which a read timeout alone would never catch.
    """
    chunks = response.aiter_bytes().__aiter__()
    deadline = clock() + idle_timeout
    try:
        while True:
            remaining = deadline - clock()
            if remaining <= 0:
                raise StreamIdleError(f"no event or heartbeat for {idle_timeout:g} s")
            try:
                async with asyncio.timeout(remaining):
                    chunk = await chunks.__anext__()
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise StreamIdleError(f"no event or heartbeat for {idle_timeout:g} s") from None
            frames = parser.feed(chunk)
            if frames:
                deadline = clock() + idle_timeout
                for frame in frames:
                    yield frame
        for frame in parser.flush():
            yield frame
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
