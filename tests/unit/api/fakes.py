"""Test doubles for the client: a scripted byte stream, a recording transport, virtual time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from infdash.api.client import InferenceClient
from infdash.api.retry import RetryPolicy

KEY = "inf_secret_key_never_shown"
Step = bytes | Exception | asyncio.Event | Callable[[], None]


class ScriptedStream(httpx.AsyncByteStream):
    """Yields its steps: bytes are sent, an Event is waited on, a callable runs (e.g. to
    advance a fake clock), an exception is raised (a dropped connection). Records closing."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for step in self.steps:
            if isinstance(step, bytes):
                yield step
            elif isinstance(step, Exception):
                raise step
            elif isinstance(step, asyncio.Event):
                await step.wait()
            else:
                step()

    async def aclose(self) -> None:
        self.closed = True


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    ctype = "application/problem+json" if status >= 400 else "application/json"
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": ctype, **(headers or {})},
    )


def stream_response(
    steps: list[Step], ctype: str = "application/x-ndjson", status: int = 200
) -> tuple[httpx.Response, ScriptedStream]:
    stream = ScriptedStream(steps)
    return httpx.Response(status, stream=stream, headers={"content-type": ctype}), stream


def ndjson(*objs: Any) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objs)


def sse(event: str, data: Any, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data)}\n\n".encode()


Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class Recorder:
    """A MockTransport handler that routes by (method, path) to queued responses."""

    routes: dict[tuple[str, str], list[httpx.Response | Exception | Handler]] = field(
        default_factory=dict
    )
    requests: list[httpx.Request] = field(default_factory=list)

    def add(self, method: str, path: str, *responses: httpx.Response | Exception | Handler) -> None:
        self.routes.setdefault((method, path), []).extend(responses)

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.routes.get((request.method, request.url.path))
        if not queue:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        if callable(item) and not isinstance(item, httpx.Response):
            return item(request)
        return item


@dataclass
class VirtualTime:
    """Injectable sleep and clocks: sleeping advances time instantly."""

    now: float = 1_700_000_000.0
    mono: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.mono += seconds

    def advance(self, seconds: float) -> Callable[[], None]:
        def step() -> None:
            self.now += seconds
            self.mono += seconds

        return step


def make_client(
    recorder: Recorder, vt: VirtualTime | None = None, **kwargs: Any
) -> tuple[InferenceClient, VirtualTime]:
    vt = vt or VirtualTime()
    kwargs.setdefault("retry", RetryPolicy())
    client = InferenceClient(
        "https://api.test",
        KEY,
        transport=httpx.MockTransport(recorder),
        sleep=vt.sleep,
        clock=lambda: vt.now,
        monotonic=lambda: vt.mono,
        rand=lambda: 0.5,
        **kwargs,
    )
    return client, vt
