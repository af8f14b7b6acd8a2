"""Each stream fault: mid-frame drop, malformed frames, split UTF-8, heartbeat-only,
ignored Last-Event-ID, error statuses, text/html — switched on and off at runtime."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infdash.sim import SimServer, World
from tests.unit.sim.helpers import Frames, client, run, sse_event, sse_fields

NDJSON = {"Accept": "application/x-ndjson"}


def _set(sim: SimServer, **values: Any) -> None:
    def apply(w: World) -> None:
        for key, value in values.items():
            setattr(w.faults, key, value)

    sim.call(apply)


def test_drop_mid_frame_then_recover(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/echo")
        _set(sim, stream_drop_after=2)
        with c.stream("GET", f"/tasks/{task_id}/stream") as r:
            frames = Frames(r, ndjson=False)
            sim.advance(30)
            rest = frames.rest()
        events = [f for f in rest if b"event:" in f]
        assert len(events) == 2
        assert b"event: done" not in frames.raw
        assert frames.tail
        assert not frames.tail.endswith(b"\n\n")
        last_id = sse_event(events[-1])[1]
        _set(sim, stream_drop_after=None)
        with c.stream("GET", f"/tasks/{task_id}/stream",
                      headers={"Last-Event-ID": str(last_id)}) as r:  # fmt: skip
            replay = [sse_event(f) for f in Frames(r, ndjson=False).rest() if b"event:" in f]
        assert replay[0][1] == (last_id or 0) + 1
        assert replay[-1][0] == "done"


def test_drop_ndjson(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/echo")
        _set(sim, stream_drop_after=1)
        with c.stream("GET", f"/tasks/{task_id}/stream", headers=NDJSON) as r:
            frames = Frames(r, ndjson=True)
            sim.advance(30)
            assert len(frames.rest()) == 1
        assert frames.tail.startswith(b"{")
        with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
            json.loads(frames.tail)


def test_malformed_sse_frames(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/echo")
        _set(sim, stream_malformed=True)
        with c.stream("GET", f"/tasks/{task_id}/stream") as r:
            frames = Frames(r, ndjson=False)
            sim.advance(30)
            frames.rest()
        raw = frames.raw
        assert raw.startswith(b"\xef\xbb\xbf")
        for piece in (
            b"data: {not json",
            b"data: [1, 2, 3]",
            b"event: mystery",
            b"\r\n",
            b"\rdata: ",
            b"\xff\xfe",
            b": just a comment",
            b'",\ndata: "status"',
        ):
            assert piece in raw  # fmt: skip
        assert raw.endswith(b"event: done\ndata: {}\n\n")
        multi = next(f for f in raw.split(b"\n\n") if b'",\ndata: "status"' in f)
        assert json.loads(sse_fields(multi)["data"])["id"] == task_id


def test_malformed_ndjson_lines(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/echo")
        _set(sim, stream_malformed=True)
        with c.stream("GET", f"/tasks/{task_id}/stream", headers=NDJSON) as r:
            frames = Frames(r, ndjson=True)
            sim.advance(30)
            lines = frames.rest()
        for bad in (b"{not json", b"[1, 2, 3]", b'"just a string"', b""):
            assert bad in lines
        assert b'{"event": "mystery", "data": {}}' in lines
        assert any(b"\xff" in ln for ln in lines)
        assert json.loads(lines[-1])["status"] == 10


def test_split_utf8_chunks(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/echo", {"text": "東京 café ✓"})
        _set(sim, stream_chunk_size=3)
        with c.stream("GET", f"/tasks/{task_id}/stream", headers=NDJSON) as r:
            frames = Frames(r, ndjson=True)
            first = json.loads((frames.next() or b"").decode("utf-8"))
        assert first["input"] == {"text": "東京 café ✓"}


def test_heartbeat_only(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/echo")
        _set(sim, stream_heartbeat_only=True)
        with c.stream("GET", f"/tasks/{task_id}/stream") as r:
            frames = Frames(r, ndjson=False)
            assert frames.next() == b"retry: 1000"
            sim.advance(25)
            assert [frames.next(), frames.next()] == [b": heartbeat", b": heartbeat"]
        assert b"event:" not in frames.raw
        with c.stream("GET", "/tasks/stream", headers=NDJSON) as r:
            frames = Frames(r, ndjson=True)
            run(c, "infsh/echo")
            sim.advance(10)
            assert frames.next() == b'{"type":"heartbeat"}'


def test_ignore_last_event_id(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/echo")
        sim.advance(30)
        _set(sim, stream_ignore_last_event_id=True)
        with c.stream("GET", f"/tasks/{task_id}/stream", headers={"Last-Event-ID": "5"}) as r:
            ids = [sse_event(f)[1] or 0 for f in Frames(r, ndjson=False).rest() if b"id:" in f]
        assert ids[0] == 1
        assert ids == sorted(ids)


@pytest.mark.parametrize("status", [204, 401, 403, 404, 429])
def test_stream_error_status(sim: SimServer, status: int) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/echo")
        _set(sim, stream_status=status)
        for path in (f"/tasks/{task_id}/stream", "/tasks/stream"):
            r = c.get(path)
            assert r.status_code == status
            if status == 204:
                assert r.content == b""
            else:
                assert r.headers["content-type"].startswith("application/problem+json")
            if status == 429:
                assert r.headers["retry-after"] == "7"
        _set(sim, stream_status=None)
        with c.stream("GET", f"/tasks/{task_id}/stream") as r:
            assert r.status_code == 200


def test_stream_html(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/echo")
        _set(sim, stream_html=True)
        r = c.get(f"/tasks/{task_id}/stream", headers=NDJSON)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        assert b"<html>" in r.content


def _seq(sim: SimServer, task_id: str) -> int:
    return sim.call(lambda w: w.tasks[task_id].seq)


def test_stall_trickle_and_heartbeat_only_on_an_open_stream(sim: SimServer) -> None:
    """R17/R18/R19 switched on while a task stream is open: it goes silent, trickles a byte
    per heartbeat, or sends heartbeats only; the events in between are never sent on it."""
    with client(sim) as c:
        task_id = run(c, "infsh/slow")
        sim.advance(2)
        with c.stream("GET", f"/tasks/{task_id}/stream") as r:
            frames = Frames(r, ndjson=False)
            assert frames.next() == b"retry: 1000"
            _kind, last, _data = sse_event(frames.next() or b"")
            assert last == _seq(sim, task_id)  # the snapshot
            _set(sim, stream_stall=True)
            sim.advance(25)  # events and heartbeats due: nothing is sent
            _set(sim, stream_stall=False, stream_trickle=True)
            sim.advance(10)  # one heartbeat due: one byte instead
            _set(sim, stream_trickle=False, stream_heartbeat_only=True)
            sim.advance(10)
            silent = _seq(sim, task_id)
            assert silent > (last or 0) + 5  # the task went on writing meanwhile
            assert frames.next() == b" : heartbeat"  # the trickled byte, then a heartbeat
            _set(sim, stream_heartbeat_only=False)
            sim.advance(3)
            kind, seq, _data = sse_event(frames.next() or b"")
        assert kind == "update"
        assert seq is not None
        assert seq > silent  # what was swallowed is not sent later on this connection
        assert frames.raw.count(b"event:") == 2


def _events(frames: Frames, count: int) -> list[bytes]:
    """The next ``count`` event frames (SSE ``retry:`` and comment frames skipped)."""
    out: list[bytes] = []
    while len(out) < count and (frame := frames.next()) is not None:
        if not frame.startswith((b"retry:", b":")):
            out.append(frame)
    return out


@pytest.mark.parametrize("ndjson", [False, True], ids=["sse", "ndjson"])
def test_one_oversized_event_once(sim: SimServer, ndjson: bool) -> None:
    """R24: the next stream sends its snapshot, then one huge log event (not stored in the
    task), then goes on as usual; the fault is spent, so the stream after that has none."""
    end = b"\n" if ndjson else b"\n\n"
    headers = NDJSON if ndjson else {}
    with client(sim) as c:
        task_id = run(c, "infsh/echo")
        _set(sim, stream_oversized_event=300_000)
        with c.stream("GET", f"/tasks/{task_id}/stream", headers=headers) as r:
            snapshot, giant = _events(Frames(r, ndjson=ndjson), 2)
        assert len(snapshot) < 10_000
        assert len(giant) + len(end) == 300_000
        body = json.loads(giant if ndjson else sse_fields(giant)["data"])
        (entry,) = body["logs"]
        assert set(entry["content"]) == {"x"}
        assert sim.call(lambda w: w.faults.stream_oversized_event) == 0
        logs = c.get(f"/tasks/{task_id}/logs").json()["data"]["logs"]
        assert entry["id"] not in {log["id"] for log in logs}
        with c.stream("GET", f"/tasks/{task_id}/stream", headers=headers) as r:
            frames = Frames(r, ndjson=ndjson)
            sim.advance(30)  # the task finishes: the stream ends
            rest = frames.rest()
        assert rest
        assert max(len(frame) for frame in rest) < 10_000
