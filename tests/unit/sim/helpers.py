"""Helpers for simulator tests: an authorised client, frame readers and clock driving."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx

from infdash.sim import SimServer, World

TIMEOUT = httpx.Timeout(5.0)
T = TypeVar("T")


def eventually(sim: SimServer, fn: Callable[[World], T], within: float = 5.0) -> T:
    """Re-read ``fn(world)`` until it is truthy (for effects of another thread, e.g. a
    disconnect or a webhook answer); busy-polls the server loop, never sleeps."""
    deadline = time.monotonic() + within
    while True:
        value = sim.call(fn)
        if value or time.monotonic() > deadline:
            return value


def client(sim: SimServer, **headers: str) -> httpx.Client:
    """A sync client with the simulator's key (override headers per test)."""
    base = {"Authorization": f"Bearer {sim.api_key}"}
    base.update(headers)
    return httpx.Client(base_url=sim.base_url, headers=base, timeout=TIMEOUT, trust_env=False)


def data(response: httpx.Response) -> Any:
    """The ``data`` member of the default envelope (asserting a 2xx first)."""
    assert response.is_success, response.text
    return response.json()["data"]


def run(c: httpx.Client, app: str, inp: dict[str, Any] | None = None, **body: Any) -> str:
    """Start a task without waiting; returns its id."""
    payload = {"app": app, "input": inp if inp is not None else {"x": 1}, **body}
    return str(data(c.post("/apps/run", json=payload))["id"])


def task_walk(sim: SimServer, task_id: str) -> list[int]:
    """Statuses the task went through, in order."""
    return sim.call(lambda w: [s for s, _ in w.tasks[task_id].events])


def status_of(sim: SimServer, task_id: str) -> int:
    """Current status (read on the server loop)."""
    return sim.call(lambda w: w.tasks[task_id].status)


def drive_to(sim: SimServer, task_id: str, status: int, step: float = 0.05) -> None:
    """Advance in small steps until the task is in ``status`` (fails if it skips past)."""
    for _ in range(4000):
        current = status_of(sim, task_id)
        if current == status:
            return
        assert current not in (10, 11, 12), f"task ended in {current} before reaching {status}"
        sim.advance(step)
    raise AssertionError(f"task never reached {status}")


def fill_workers(sim: SimServer, c: httpx.Client) -> list[str]:
    """Occupy every worker with a long task for minutes; returns the new tasks' ids.

    Short tasks already running (seeded at start) are force-cancelled first so no worker
    frees up by surprise."""
    short = sim.call(
        lambda w: [t.id for t in w.tasks.values() if t.status == 7 and t.app.spec.name != "slow"]
    )
    for task_id in short:
        c.post(f"/tasks/{task_id}/cancel", json={"force": True})
    idle = sim.call(_idle_count)
    ids = [run(c, "infsh/slow") for _ in range(idle)]
    sim.advance(1.0)
    assert sim.call(_idle_count) == 0
    return ids


def _idle_count(w: World) -> int:
    return sum(1 for wk in w.engines.workers() if wk.status == "idle")


class Frames:
    """Splits a streamed body into frames (SSE: blank-line separated; NDJSON: lines)."""

    def __init__(self, response: httpx.Response, ndjson: bool) -> None:
        self._chunks: Iterator[bytes] = response.iter_raw()
        self._buf = b""
        self._sep = b"\n" if ndjson else b"\n\n"
        self.eof = False
        self.raw = b""

    def next(self) -> bytes | None:
        """The next complete frame, or None at end of stream (partial tail kept in ``_buf``)."""
        while self._sep not in self._buf:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self.eof = True
                return None
            self.raw += chunk
            self._buf += chunk
        frame, self._buf = self._buf.split(self._sep, 1)
        return frame

    def rest(self) -> list[bytes]:
        """Every remaining frame until the server closes."""
        out = []
        while (frame := self.next()) is not None:
            out.append(frame)
        return out

    @property
    def tail(self) -> bytes:
        """Bytes after the last complete frame (a cut frame)."""
        return self._buf


def sse_fields(frame: bytes) -> dict[str, str]:
    """Parse one SSE frame into {id, event, data, comment} (data lines joined by \\n)."""
    out: dict[str, str] = {}
    data_lines = []
    for line in frame.decode("utf-8").split("\n"):
        if line.startswith(":"):
            out["comment"] = line[1:].strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            value = value[1:] if value.startswith(" ") else value
            if key == "data":
                data_lines.append(value)
            else:
                out[key] = value
    if data_lines:
        out["data"] = "\n".join(data_lines)
    return out


def sse_event(frame: bytes) -> tuple[str, int | None, dict[str, Any]]:
    """(event name, id, decoded data) of an event frame."""
    f = sse_fields(frame)
    seq = int(f["id"]) if "id" in f else None
    return f.get("event", "message"), seq, json.loads(f.get("data", "null"))
