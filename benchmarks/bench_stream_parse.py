"""B10 — stream parser ceiling: 200k events over loopback through the client's readers.

A raw asyncio server on 127.0.0.1 (not the simulator, so only the client is measured) streams
200,000 events of about 110 bytes each; the client opens the stream the way it opens a task
stream (``InferenceClient.open_stream``), parses every frame with its SSE or NDJSON reader and
decodes the JSON payload. Reported: events/s, median of 3 runs per framing.
Target (performance.md §5.2, B10): >= 200,000 events/s with JSON decode.

Run: ``python -m benchmarks.bench_stream_parse``.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time

from infdash.api.client import InferenceClient, StreamFormat
from infdash.api.streams import NDJSONParser, SSEParser, read_frames

EVENTS = 200_000
RUNS = 3
TARGET = 200_000
WRITE_CHUNK = 64 * 1024


def _payload(n: int) -> dict[str, object]:
    return {"id": "task_0123456789abcdef", "status": 7, "seq": n, "log": "step ok"}


def build_body(fmt: StreamFormat, events: int = EVENTS) -> bytes:
    """The whole stream body, built once so the server costs (almost) nothing per event."""
    parts: list[bytes] = []
    for n in range(events):
        data = json.dumps(_payload(n), separators=(",", ":"))
        if fmt == "sse":
            parts.append(f"id: {n}\nevent: update\ndata: {data}\n\n".encode())
        else:
            parts.append(f'{{"data":{data},"fields":["status"]}}\n'.encode())
    return b"".join(parts)


async def _serve(body: bytes, content_type: str) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = (
            "HTTP/1.1 200 OK\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        writer.write(head)
        view = memoryview(body)
        for start in range(0, len(body), WRITE_CHUNK):
            writer.write(view[start : start + WRITE_CHUNK])
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, port


async def run_once(fmt: StreamFormat, body: bytes, events: int = EVENTS) -> float:
    """Events per second for one full read of the stream (asserts every event arrived)."""
    ctype = "text/event-stream" if fmt == "sse" else "application/x-ndjson"
    server, port = await _serve(body, ctype)
    try:
        async with InferenceClient(f"http://127.0.0.1:{port}", "inf_bench") as client:
            start = time.perf_counter()
            count = 0
            async with client.open_stream("/tasks/bench/stream", fmt=fmt) as response:
                parser = SSEParser() if fmt == "sse" else NDJSONParser()
                async for frame in read_frames(response, parser, idle_timeout=30.0):
                    if isinstance(frame.data, dict):
                        count += 1
            elapsed = time.perf_counter() - start
    finally:
        server.close()
        await server.wait_closed()
    if count != events or parser.stats.malformed:
        raise AssertionError(f"{fmt}: parsed {count}/{events}, malformed {parser.stats.malformed}")
    return events / elapsed


def measure(fmt: StreamFormat, runs: int = RUNS, events: int = EVENTS) -> float:
    body = build_body(fmt, events)
    return statistics.median(asyncio.run(run_once(fmt, body, events)) for _ in range(runs))


def main() -> int:
    """Print the B10 figures; 0 when both framings meet the target."""
    missed = 0
    for fmt, label in (("sse", "SSE"), ("ndjson", "NDJSON")):
        rate = measure(fmt)  # type: ignore[arg-type]
        print(f"B10 {label} parse: {rate:,.0f} events/s (target >= {TARGET:,})", flush=True)
        missed += rate < TARGET
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
