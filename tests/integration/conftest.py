"""Fixtures for the client against the running simulator (loopback HTTP, manual clock).

The client's ``sleep`` advances the simulator's clock instead of waiting, so a ``Retry-After:
7`` is honoured in simulated time and the test never sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest

from infdash.api import InferenceClient, RetryPolicy, Task
from infdash.sim import SimServer

ClientFactory = Callable[..., Awaitable[InferenceClient]]
T = TypeVar("T")


@dataclass
class SimTime:
    """A sleep for the client that moves the simulator's clock; records what was asked."""

    sim: SimServer
    sleeps: list[float] = field(default_factory=list)
    on_sleep: list[Callable[[float], None]] = field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        for hook in self.on_sleep:
            hook(seconds)
        if seconds > 0:
            await asyncio.to_thread(self.sim.advance, seconds)


def open_requests(client: InferenceClient) -> int:
    """Requests still holding a pooled connection (openai-python's leak check)."""
    pool = client.http._transport._pool  # type: ignore[attr-defined]
    return len(pool._requests)


def pooled_connections(client: InferenceClient) -> list[Any]:
    pool = client.http._transport._pool  # type: ignore[attr-defined]
    return list(pool.connections)


@pytest.fixture
def fake_sleeper(sim: SimServer) -> SimTime:
    return SimTime(sim)


@pytest.fixture
async def make_client(sim: SimServer, fake_sleeper: SimTime) -> AsyncIterator[ClientFactory]:
    """Build clients against the simulator; all are closed after the test."""
    made: list[InferenceClient] = []

    async def factory(**kwargs: Any) -> InferenceClient:
        kwargs.setdefault("retry", RetryPolicy())
        client = InferenceClient(
            kwargs.pop("base_url", sim.base_url),
            kwargs.pop("api_key", sim.api_key),
            sleep=fake_sleeper.sleep,
            rand=lambda: 0.5,
            **kwargs,
        )
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.aclose()


@pytest.fixture
async def client(make_client: ClientFactory) -> InferenceClient:
    return await make_client()


async def drive(sim: SimServer, stop: asyncio.Event, step: float = 0.25, limit: int = 4000) -> None:
    """Move simulated time forward in small steps until ``stop`` is set (bounded)."""
    for _ in range(limit):
        if stop.is_set():
            return
        await asyncio.to_thread(sim.advance, step)
    raise AssertionError("the simulated world never reached the expected state")


async def while_time_moves(
    sim: SimServer,
    body: Awaitable[T],
    step: float = 0.25,
    limit: int = 4000,
    *,
    start: asyncio.Event | None = None,
) -> T:
    """Await ``body`` while simulated time moves in small steps (from when ``start`` is set, if
    given); if time runs out first the body is cancelled and the test fails (a stuck stream
    never hangs the suite)."""
    stop = asyncio.Event()

    async def move() -> None:
        if start is not None:
            await start.wait()
        await drive(sim, stop, step, limit)

    work = asyncio.ensure_future(body)
    driver = asyncio.create_task(move())
    try:
        await asyncio.wait({work, driver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.set()
        if not work.done():
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
        await driver  # raises when the world never reached the expected state
    return work.result()


async def run_until_terminal(sim: SimServer, client: InferenceClient, task_id: str) -> Task:
    """Advance the simulator until the task is terminal (polling the cheap status route)."""
    for _ in range(2000):
        status = await client.tasks.status(task_id)
        if status.status.is_terminal:
            return await client.tasks.get(task_id)
        await asyncio.to_thread(sim.advance, 1.0)
    raise AssertionError(f"task {task_id} never finished")


def count_requests(client: InferenceClient, method: str, path: str) -> list[int]:
    """A live counter of requests the client sends to ``method path``."""
    counter = [0]

    async def hook(request: httpx.Request) -> None:
        if request.method == method and request.url.path == path:
            counter[0] += 1

    client.http.event_hooks["request"].append(hook)
    return counter
