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

from infdash.api.errors import StreamIdleError, StreamOversizedError

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
    """Frames skipped: bad JSON, a wrong shape, or too large (``oversized`` counts those)."""
    oversized: int = 0
    """Events dropped because a line of theirs passed ``MAX_LINE_BYTES`` (R24)."""
    bytes: int = 0


class FrameParser(Protocol):
    stats: StreamStats

    def feed(self, chunk: bytes) -> list[StreamFrame]: ...

    def flush(self) -> list[StreamFrame]: ...


_BAD = object()  # marks a payload that is not valid JSON


def decode_batch(texts: list[str]) -> list[Any]:
    """Decode many JSON documents; a malformed one becomes ``_BAD``, an empty one ``None``.

    Fast path: one ``json.loads`` of ``[a,b,...]`` (per-call overhead dominates at ~100-byte
    events, so this is several times faster). It is taken only when every document looks like
    an object and the element count matches; anything else is decoded one by one.
    """
    if texts and all(t[:1] == "{" and t[-1:] == "}" for t in texts):
        try:
            values = json.loads("[" + ",".join(texts) + "]")
        except ValueError:
            values = None
        if isinstance(values, list) and len(values) == len(texts):
            return values
    out: list[Any] = []
    for text in texts:
        if not text or text.isspace():
            out.append(None)
            continue
        try:
            out.append(json.loads(text))
        except ValueError:
            out.append(_BAD)
    return out


class _LineSplitter:
    """Bytes → complete decoded lines, for CRLF, LF and CR endings, across any chunk split.

    Only complete lines are decoded (once per chunk), so a multi-byte character split across
    chunks is reassembled; invalid UTF-8 becomes U+FFFD.  An unfinished line is kept in pieces
    and joined once, when it ends; one that grows past ``MAX_LINE_BYTES`` is dropped at once
    and counted, and so is the rest of it up to its line end (R24: a 20 MB line costs about
    ``MAX_LINE_BYTES`` of memory, and its tail is not read as a line of its own).
    """

    __slots__ = ("_discard", "_parts", "_size", "_skip_lf", "_started", "dropped")

    def __init__(self) -> None:
        self.dropped = 0
        self._parts: list[bytes] = []  # the unfinished last line, in pieces
        self._size = 0
        self._started = False
        # The previous chunk ended in CR: a LF at the start of the next one completes a CRLF.
        self._skip_lf = False
        self._discard = False  # inside a dropped (oversized) line: skip to its end

    def split(self, chunk: bytes) -> list[str]:
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if self._discard:
            chunk = self._skip_dropped(chunk)
            if self._discard:
                return []
        if not self._started:
            chunk = b"".join((*self._parts, chunk))
            self._parts, self._size = [], 0
            if len(chunk) < len(BOM) and BOM.startswith(chunk):
                self._keep(chunk)
                return []
            self._started = True
            if chunk.startswith(BOM):
                chunk = chunk[len(BOM) :]
        if b"\n" not in chunk and b"\r" not in chunk:
            self._keep(chunk)
            return []
        data = b"".join((*self._parts, chunk)) if self._parts else chunk
        self._parts, self._size = [], 0
        if b"\r" in data:
            self._skip_lf = data.endswith(b"\r")
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        end = data.rfind(b"\n")
        self._keep(data[end + 1 :])
        return data[:end].decode("utf-8", "replace").split("\n")

    def _keep(self, piece: bytes) -> None:
        """Add ``piece`` to the unfinished line, or drop the line once it is too long."""
        if not piece:
            return
        self._size += len(piece)
        if self._size > MAX_LINE_BYTES:
            self._parts, self._size = [], 0
            self.dropped += 1
            self._discard = True
        else:
            self._parts.append(piece)

    def _skip_dropped(self, chunk: bytes) -> bytes:
        """What follows the dropped line's end in ``chunk`` (all of it is skipped before)."""
        cr, lf = chunk.find(b"\r"), chunk.find(b"\n")
        ends = [i for i in (cr, lf) if i >= 0]
        if not ends:
            return b""
        self._discard = False
        at = min(ends)
        if at == cr:
            if at + 1 == len(chunk):
                self._skip_lf = True
            elif chunk[at + 1 : at + 2] == b"\n":
                at += 1
        return chunk[at + 1 :]

    def flush(self) -> list[str]:
        rest = b"".join(self._parts)
        self._parts, self._size, self._discard = [], 0, False
        return [rest.decode("utf-8", "replace")] if rest else []


def _count_dropped(lines: _LineSplitter, stats: StreamStats) -> None:
    """Move the splitter's dropped-line count into the stats (malformed and oversized)."""
    if lines.dropped:
        stats.malformed += lines.dropped
        stats.oversized += lines.dropped
        lines.dropped = 0


class SSEParser:
    """Incremental ``text/event-stream`` parser (WHATWG rules, see module docstring)."""

    def __init__(self) -> None:
        self.stats = StreamStats()
        self._lines = _LineSplitter()
        self._event = ""
        self._data: list[str] = []
        self._last_id: str | None = None
        self._block_id: str | None = None
        self._retry: int | None = None

    @property
    def last_event_id(self) -> str | None:
        return self._last_id

    def feed(self, chunk: bytes) -> list[StreamFrame]:
        self.stats.bytes += len(chunk)
        lines = self._lines.split(chunk)
        _count_dropped(self._lines, self.stats)  # at once: the stream may be closed before EOF
        return self._process(lines)

    def flush(self) -> list[StreamFrame]:
        # A half-received event at EOF is dropped (spec); a complete last line is still a field.
        self._process(self._lines.flush())
        _count_dropped(self._lines, self.stats)
        return []

    def _process(self, lines: list[str]) -> list[StreamFrame]:
        # Pass 1: fields → pending events (event, raw data, id, retry) and heartbeat markers.
        pending: list[tuple[str, str, str | None, int | None] | None] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    raw = "\n".join(data) if len(data) > 1 else data[0]
                    pending.append((self._event or "message", raw, self._block_id, self._retry))
                    self._data = data = []
                self._event = ""
                self._block_id = None
            elif line[0] == ":":  # comment — the server's heartbeat
                pending.append(None)
            else:
                name, _, value = line.partition(":")
                if value[:1] == " ":
                    value = value[1:]
                if name == "data":
                    data.append(value)
                elif name == "event":
                    self._event = value
                elif name == "id":
                    if "\0" not in value:
                        self._last_id = self._block_id = value
                elif name == "retry" and value.isdigit():
                    self._retry = int(value)
        if not pending:
            return []
        # Pass 2: decode every payload of this chunk in one go.
        payloads = decode_batch([p[1] for p in pending if p is not None])
        frames: list[StreamFrame] = []
        stats = self.stats
        values = iter(payloads)
        for item in pending:
            if item is None:
                stats.heartbeats += 1
                frames.append(HEARTBEAT)
                continue
            payload = next(values)
            if payload is _BAD:
                stats.malformed += 1
                continue
            stats.frames += 1
            frames.append(StreamFrame(item[0], payload, None, item[2], item[3]))
        return frames


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
        lines = self._lines.split(chunk)
        _count_dropped(self._lines, self.stats)  # at once: the stream may be closed before EOF
        return self._process(lines)

    def flush(self) -> list[StreamFrame]:
        frames = self._process(self._lines.flush())
        _count_dropped(self._lines, self.stats)
        return frames

    def _process(self, lines: list[str]) -> list[StreamFrame]:
        texts = [line for line in lines if line and not line.isspace()]
        if not texts:
            return []
        frames: list[StreamFrame] = []
        stats = self.stats
        for obj in decode_batch(texts):
            frame = None if obj is _BAD else ndjson_frame(obj)
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


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n:,} bytes"


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

    An event larger than ``MAX_LINE_BYTES`` raises :class:`StreamOversizedError` once the
    frames before it are yielded (R24): the caller recycles the connection rather than read
    the rest of a frame it drops.
    """
    chunks = response.aiter_bytes().__aiter__()
    deadline = clock() + idle_timeout
    oversized = parser.stats.oversized
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
            if parser.stats.oversized != oversized:
                raise StreamOversizedError(
                    f"dropped an event larger than {_size(MAX_LINE_BYTES)}",
                    resume_id=parser.last_event_id,
                )
        for frame in parser.flush():
            yield frame
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
