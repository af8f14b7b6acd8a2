"""Task and account streams: SSE and NDJSON framing, deltas, heartbeats, Last-Event-ID."""

from __future__ import annotations

import json
from typing import Any

import httpx

from infdash.sim import SimServer
from tests.unit.sim.helpers import (
    Frames,
    client,
    data,
    eventually,
    run,
    sse_event,
    sse_fields,
)

NDJSON = {"Accept": "application/x-ndjson", "Cache-Control": "no-cache",
          "Accept-Encoding": "identity"}  # fmt: skip


def _seq(sim: SimServer, task_id: str) -> int:
    return sim.call(lambda w: w.tasks[task_id].seq)


def _read_events_until(frames: Frames, last_id: int) -> list[tuple[str, int | None, Any]]:
    """SSE events (heartbeats/retry skipped) up to and including id ``last_id``."""
    out = []
    while True:
        frame = frames.next()
        assert frame is not None, "stream ended early"
        if "event" not in sse_fields(frame):
            continue
        event = sse_event(frame)
        out.append(event)
        if event[1] == last_id:
            return out


def test_sse_framing_through_completion(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/echo", {"text": "héllo"})
        with c.stream("GET", f"/tasks/{task_id}/stream") as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            frames = Frames(r, ndjson=False)
            assert frames.next() == b"retry: 1000"
            name, first_id, snapshot = sse_event(frames.next() or b"")
            assert name == "update"
            assert first_id == _seq(sim, task_id)
            assert snapshot["status"] == 1
            assert snapshot["logs"] == []
            assert snapshot["created_at"]
            sim.advance(30)
            rest = [sse_event(f) for f in frames.rest()]
            assert frames.eof
            assert frames.tail == b""
    ids = [i for _, i, _ in rest if i is not None]
    assert ids == list(range(first_id + 1, first_id + 1 + len(ids)))
    assert rest[-1] == ("done", None, {})
    name, _, final = rest[-2]
    assert name == "update"
    assert final["status"] == 10
    assert final["output"] == {"text": "héllo"}
    assert "created_at" in final
    partials = [d for n, _, d in rest[:-2] if n == "update"]
    assert all("id" in p and "created_at" not in p for p in partials)
    statuses = [p["status"] for p in partials if "status" in p]
    assert statuses == sorted(statuses)
    assert statuses[0] == 2
    logs = [entry for p in partials for entry in p.get("logs", [])]
    assert logs
    assert {"id", "task_id", "log_type", "content", "created_at"} <= set(logs[0])


def test_ndjson_as_the_sdk_reads_it(sim: SimServer) -> None:
    with client(sim) as c:
        created = data(c.post("/apps/run", json={"app": "infsh/echo", "input": {"a": 1}}))
        assert created["status"] == 1
        with c.stream("GET", f"/tasks/{created['id']}/stream", headers=NDJSON) as r:
            assert r.headers["content-type"].startswith("application/x-ndjson")
            frames = Frames(r, ndjson=True)
            first = json.loads(frames.next() or b"")
            assert first["id"] == created["id"]
            assert first["status"] == 1
            sim.advance(30)
            lines = [json.loads(f) for f in frames.rest()]
    assert lines[-1]["status"] == 10
    assert lines[-1]["output"] == {"a": 1}
    for line in lines[:-1]:
        assert set(line) == {"data", "fields"}
        assert "id" in line["data"]
        assert set(line["fields"]) <= set(line["data"])
        assert "id" not in line["fields"]
    assert [ln["data"]["status"] for ln in lines if "status" in ln.get("fields", [])][:2] == [2, 3]


def test_llm_deltas_add_up_to_output(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/llm", {"text": "hi"})
        with c.stream("GET", f"/tasks/{task_id}/stream", headers=NDJSON) as r:
            frames = Frames(r, ndjson=True)
            frames.next()
            sim.advance(60)
            lines = [json.loads(f) for f in frames.rest()]
        deltas = [ln["data"] for ln in lines if ln.get("event") == "delta"]
        assert len(deltas) > 5
        assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
        assert {d["resource_id"] for d in deltas} == {""}
        text = "".join(d["delta"]["response"] for d in deltas)
        assert lines[-1]["output"]["text"] == text
        with c.stream("GET", f"/tasks/{task_id}/stream", headers={"Last-Event-ID": "0"}) as r:
            names = [sse_fields(f).get("event") for f in Frames(r, ndjson=False).rest()]
        assert names.count("delta") == len(deltas)
        assert names[-1] == "done"


def test_heartbeats_both_framings(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/slow")
        with c.stream("GET", f"/tasks/{task_id}/stream") as r:
            frames = Frames(r, ndjson=False)
            sim.advance(10)
            while (frame := frames.next()) is not None:
                if frame == b": heartbeat":
                    break
            assert frame == b": heartbeat"
        with c.stream("GET", f"/tasks/{task_id}/stream", headers=NDJSON) as r:
            frames = Frames(r, ndjson=True)
            sim.advance(10)
            while (frame := frames.next()) is not None:
                if frame == b'{"type":"heartbeat"}':
                    break
            assert frame == b'{"type":"heartbeat"}'


def test_last_event_id_replay_without_gaps(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/slow")
        sim.advance(2)
        with c.stream("GET", f"/tasks/{task_id}/stream") as r:
            frames = Frames(r, ndjson=False)
            sim.advance(3)
            seen = _read_events_until(frames, _seq(sim, task_id))
        last = seen[-1][1]
        assert last is not None
        sim.advance(20)  # events happen while we are away
        target = _seq(sim, task_id)
        assert target > last + 5
        history = sim.call(lambda w: [(e.seq, e.data) for e in w.tasks[task_id].stream])
        for how in ("header", "query"):
            headers = {"Last-Event-ID": str(last)} if how == "header" else {}
            params = {"last_event_id": str(last)} if how == "query" else {}
            with c.stream("GET", f"/tasks/{task_id}/stream", headers=headers, params=params) as r:
                replay = _read_events_until(Frames(r, ndjson=False), target)
            assert [i for _, i, _ in replay] == list(range(last + 1, target + 1))
            assert [(i, d) for _, i, d in replay] == history[last:target]


def test_stream_of_finished_task_ends_at_once(sim: SimServer) -> None:
    with client(sim) as c:
        done = data(c.post("/tasks/list", json={"limit": 1, "filters": [
            {"field": "status", "operator": "eq", "value": "completed"}]}))["items"][0]  # fmt: skip
        with c.stream("GET", f"/tasks/{done['id']}/stream") as r:
            frames = [sse_event(f) for f in Frames(r, ndjson=False).rest() if b"event:" in f]
        assert [n for n, _, _ in frames] == ["update", "done"]
        assert frames[0][2]["status"] == 10
        with c.stream("GET", f"/tasks/{done['id']}/stream", headers=NDJSON) as r:
            lines = Frames(r, ndjson=True).rest()
        assert len(lines) == 1
        assert json.loads(lines[0])["status"] == 10


def test_account_stream_ndjson(sim: SimServer) -> None:
    with client(sim) as c, c.stream("GET", "/tasks/stream", headers=NDJSON) as r:
        frames = Frames(r, ndjson=True)
        task_id = run(c, "infsh/echo")
        created = json.loads(frames.next() or b"")
        assert created["event"] == "tasks"
        assert created["data"]["id"] == task_id
        assert "fields" not in created
        assert "logs" not in created["data"]
        sim.advance(30)
        mine: list[dict[str, Any]] = []
        while not mine or mine[-1]["data"].get("status") != 10:
            line = json.loads(frames.next() or b"")
            if line.get("data", {}).get("id") == task_id:
                mine.append(line)
        assert all({"status", "updated_at"} <= set(m["fields"]) for m in mine)
        assert [m["data"]["status"] for m in mine][:2] == [2, 3]
        assert mine[-1]["data"]["output"] == {"x": 1}
        assert c.delete(f"/tasks/{task_id}").status_code == 204
        while True:
            line = json.loads(frames.next() or b"")
            if line.get("data", {}).get("id") == task_id:
                break
        assert set(line["data"]) == {"id", "deleted_at"}


def test_account_stream_sse_and_heartbeat(sim: SimServer) -> None:
    with client(sim) as c, c.stream("GET", "/tasks/stream") as r:
        frames = Frames(r, ndjson=False)
        assert frames.next() == b"retry: 1000"
        task_id = run(c, "infsh/echo")
        name, event_id, payload = sse_event(frames.next() or b"")
        assert name == "tasks"
        assert event_id is None
        assert payload["id"] == task_id
        sim.advance(10)
        while (frame := frames.next()) is not None:
            if frame == b": heartbeat":
                break
        assert frame == b": heartbeat"


def test_disconnect_releases_subscription(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/slow")
        with c.stream("GET", f"/tasks/{task_id}/stream") as r:
            frames = Frames(r, ndjson=False)
            assert frames.next() == b"retry: 1000"
            assert b"event: update" in (frames.next() or b"")
            assert sim.call(lambda w: w.stream_count()) == 1
    assert eventually(sim, lambda w: w.stream_count() == 0)


def test_unknown_task_stream_is_404(sim: SimServer) -> None:
    r = httpx.get(
        f"{sim.base_url}/tasks/task_missing/stream",
        headers={"Authorization": f"Bearer {sim.api_key}"},
        trust_env=False,
    )
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


def test_caught_up_reconnect_resumes_without_a_replay(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/slow")
        sim.advance(2)
        caught_up = _seq(sim, task_id)
        headers = {"Last-Event-ID": str(caught_up)}
        with c.stream("GET", f"/tasks/{task_id}/stream", headers=headers) as r:
            frames = Frames(r, ndjson=False)
            assert frames.next() == b"retry: 1000"
            sim.advance(3)
            resumed = _read_events_until(frames, _seq(sim, task_id))
        assert resumed[0][1] == caught_up + 1


def test_caught_up_reconnect_to_a_finished_task_only_ends(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/echo")
        sim.advance(60)
        last = _seq(sim, task_id)
        headers = {"Last-Event-ID": str(last)}
        with c.stream("GET", f"/tasks/{task_id}/stream", headers=headers) as r:
            frames = [f for f in Frames(r, ndjson=False).rest() if b"event:" in f]
        assert [sse_event(f)[0] for f in frames] == ["done"]
