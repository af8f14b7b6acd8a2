"""Engines: list/get both ways, the lifecycle (drain, update, stop, restart), refusals, the
engine stream and the workspace events stream."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infdash.sim import SimConfig, SimServer
from tests.unit.sim.helpers import Frames, client, data, drive_to, run, sse_event, status_of

NDJSON = {"Accept": "application/x-ndjson"}


@pytest.fixture
def sim_config() -> SimConfig:
    """Two one-worker engines (rig-a private, rig-b cloud) plus the offline rig-c."""
    return SimConfig(
        seed=7, manual_clock=True, history_size=10, running_at_start=0, engines=2,
        workers_per_engine=1,
    )  # fmt: skip


def _engines(sim: SimServer) -> dict[str, dict[str, Any]]:
    with client(sim) as c:
        return {e["name"]: e for e in data(c.get("/engines", params={"limit": -1}))["items"]}


def _status(sim: SimServer, engine_id: str) -> str:
    return sim.call(lambda w: w.engines.engine(engine_id).status)  # type: ignore[union-attr]


def _engine_of(sim: SimServer, task_id: str) -> str | None:
    return sim.call(lambda w: w.tasks[task_id].engine_name)


def test_list_both_ways_and_dto(sim: SimServer) -> None:
    with client(sim) as c:
        got = data(c.get("/engines"))
        posted = data(c.post("/engines/list", json={}))
        assert got == posted
        assert [e["name"] for e in got["items"]] == ["rig-a", "rig-b", "rig-c"]
        assert got["total_items"] == 3
        a, b, cc = got["items"]
        assert a["instance"] is None
        assert b["instance"]["cloud"] == "shadeform"
        assert a["workers"][0]["gpus"][0] == {**a["workers"][0]["gpus"][0], "name": "RTX 4090",
                                              "vram": 25769803776}  # fmt: skip
        assert b["workers"][0]["gpus"][0]["name"] == "A100 80GB"
        assert cc["status"] == "disconnected"
        assert cc["engine_version"] == "v1.9.3"
        assert cc["workers"][0]["status"] == "inactive"
        assert {"index", "status", "task_id", "cpus", "rams"} <= set(a["workers"][0])
        assert a["system_info"]["engine_version"] == a["engine_version"] == "v1.10.15"
        assert a["engine_pin"] == ""
        flt = [{"field": "status", "operator": "eq", "value": "disconnected"}]
        only = data(c.post("/engines/list", json={"filters": flt}))["items"]
        assert [e["name"] for e in only] == ["rig-c"]
        page = data(c.get("/engines", params={"limit": 2, "sort": json.dumps(
            [{"field": "name", "dir": "desc"}])}))  # fmt: skip
        assert [e["name"] for e in page["items"]] == ["rig-c", "rig-b"]
        assert page["has_next"]
        rest = data(
            c.post(
                "/engines/list",
                json={
                    "limit": 2,
                    "cursor": page["next_cursor"],
                    "sort": [{"field": "name", "dir": "desc"}],
                },
            )
        )
        assert [e["name"] for e in rest["items"]] == ["rig-a"]
        assert data(c.get(f"/engines/{a['id']}"))["name"] == "rig-a"
        assert data(c.get(f"/engines/{a['short_id']}"))["id"] == a["id"]
        r = c.get("/engines/eng_nope")
        assert r.status_code == 404
        assert r.json()["type"].endswith("/not_found")
        assert c.post("/engines/eng_nope/drain").status_code == 404


def test_drain_finishes_in_flight_and_takes_no_new_task(sim: SimServer) -> None:
    eng = _engines(sim)
    with client(sim) as c:
        first = run(c, "infsh/flux")
        drive_to(sim, first, 7)
        assert _engine_of(sim, first) == "rig-a"
        drained = data(c.post(f"/engines/{eng['rig-a']['id']}/drain"))
        assert drained["status"] == "draining"
        second = run(c, "infsh/slow")
        sim.advance(1.0)
        assert _engine_of(sim, second) == "rig-b"
        third = run(c, "infsh/echo")
        sim.advance(1.0)
        assert status_of(sim, third) == 2  # waits: rig-a drains, rig-b is busy
        drive_to(sim, first, 10)
        assert _status(sim, eng["rig-a"]["id"]) == "draining"
        sim.advance(1.5)
        assert _status(sim, eng["rig-a"]["id"]) == "stopped"
        assert status_of(sim, third) == 2
        engine = data(c.get(f"/engines/{eng['rig-a']['id']}"))
        assert engine["workers"][0]["status"] == "inactive"
        r = c.post(f"/engines/{eng['rig-a']['id']}/drain")
        assert r.status_code == 409
        assert r.json()["type"].endswith("/engine_offline")


def test_update_restarts_with_new_version_after_work_drains(sim: SimServer) -> None:
    eng = _engines(sim)
    a = eng["rig-a"]["id"]
    with client(sim) as c:
        task = run(c, "infsh/echo")
        drive_to(sim, task, 7)
        bad = c.post(f"/engines/{a}/update", json={"version": "latest-please"})
        assert bad.status_code == 400
        assert bad.json()["type"].endswith("/invalid_request")
        up = data(c.post(f"/engines/{a}/update", json={"version": "v1.11.2"}))
        assert up["status"] == "restarting"
        assert up["engine_version"] == "v1.10.15"
        again = c.post(f"/engines/{a}/update")
        assert again.status_code == 409
        assert again.json()["type"].endswith("/invalid_transition")
        drive_to(sim, task, 10)
        sim.advance(2.0)
        assert _status(sim, a) == "restarting"
        sim.advance(1.5)
        now = data(c.get(f"/engines/{a}"))
        assert (now["status"], now["engine_version"], now["engine_pin"]) == (
            "running", "v1.11.2", "v1.11.2")  # fmt: skip
        assert now["workers"][0]["status"] == "idle"
        data(c.post(f"/engines/{a}/update", json={"version": "canary"}))
        sim.advance(4)
        canary = data(c.get(f"/engines/{a}"))
        assert (canary["engine_version"], canary["engine_pin"]) == ("v1.11.0-rc.2", "canary")
        data(c.post(f"/engines/{a}/update", json={}))
        sim.advance(4)
        assert data(c.get(f"/engines/{a}"))["engine_version"] == "v1.10.15"


def test_queued_work_lands_after_restart(sim: SimServer) -> None:
    eng = _engines(sim)
    with client(sim) as c:
        data(c.post(f"/engines/{eng['rig-b']['id']}/stop"))
        data(c.post(f"/engines/{eng['rig-a']['id']}/update", json={"version": "stable"}))
        task = run(c, "infsh/echo")
        sim.advance(2.0)
        assert status_of(sim, task) == 2
        sim.advance(2.0)
        assert _engine_of(sim, task) == "rig-a"


def test_stop_graceful_offline_and_refusals(sim: SimServer) -> None:
    eng = _engines(sim)
    a, b, off = (eng[n]["id"] for n in ("rig-a", "rig-b", "rig-c"))
    with client(sim) as c:
        task = run(c, "infsh/echo")
        drive_to(sim, task, 7)
        assert data(c.post(f"/engines/{a}/stop"))["status"] == "stopping"
        drive_to(sim, task, 10)  # the in-flight task finishes normally
        sim.advance(1.5)
        assert _status(sim, a) == "stopped"
        again = c.post(f"/engines/{a}/stop")
        assert again.status_code == 409
        assert again.json()["type"].endswith("/invalid_transition")
        for action in ("drain", "update"):
            r = c.post(f"/engines/{off}/{action}")
            assert r.status_code == 409, action
            assert r.json()["type"].endswith("/engine_offline")
            assert "disconnected" in r.json()["detail"]
        assert data(c.post(f"/engines/{off}/stop"))["status"] == "stopped"
        private = c.post(f"/engines/{eng['rig-a']['id']}/restart")
        assert private.status_code == 400
        data(c.post(f"/engines/{b}/drain"))
        twice = c.post(f"/engines/{b}/drain")
        assert twice.status_code == 409
        assert twice.json()["type"].endswith("/invalid_transition")


def test_restart_cloud_engine_goes_pending_then_running(sim: SimServer) -> None:
    b = _engines(sim)["rig-b"]["id"]
    with client(sim) as c:
        data(c.post(f"/engines/{b}/stop"))
        sim.advance(2)
        assert data(c.post(f"/engines/{b}/restart"))["status"] == "restarting"
        sim.advance(3.5)
        assert _status(sim, b) == "pending"
        sim.advance(1.0)
        assert _status(sim, b) == "running"


def test_engine_stream_both_framings(sim: SimServer) -> None:
    a = _engines(sim)["rig-a"]["id"]
    with client(sim) as c:
        with c.stream("GET", f"/engines/{a}/stream") as r:
            frames = Frames(r, ndjson=False)
            assert frames.next() == b"retry: 1000"
            name, seq, first = sse_event(frames.next() or b"")
            assert (name, seq, first["status"]) == ("update", None, "running")
            assert first["workers"]
            data(c.post(f"/engines/{a}/drain"))
            name, _, drained = sse_event(frames.next() or b"")
            assert (name, drained["status"]) == ("update", "draining")
            sim.advance(10)
            seen = []
            while (frame := frames.next()) is not None:
                seen.append(frame)
                if frame == b": heartbeat":
                    break
            assert any(sse_event(f)[2].get("status") == "stopped" for f in seen[:-1])
        with c.stream("GET", f"/engines/{a}/stream", headers=NDJSON) as r:
            frames = Frames(r, ndjson=True)
            line = json.loads(frames.next() or b"")
            assert line["event"] == "update"
            assert line["data"]["status"] == "stopped"
            sim.advance(10)
            assert frames.next() == b'{"type":"heartbeat"}'
        assert c.get("/engines/eng_nope/stream").status_code == 404


def test_events_stream_carries_engines_and_tasks(sim: SimServer) -> None:
    a = _engines(sim)["rig-a"]["id"]
    with client(sim) as c:
        with c.stream("GET", "/events", headers=NDJSON) as r:
            assert "x-ratelimit-remaining" not in r.headers
            frames = Frames(r, ndjson=True)
            task = run(c, "infsh/echo")
            created = json.loads(frames.next() or b"")
            assert created["event"] == "tasks"
            assert created["data"]["id"] == task
            sim.advance(1.0)
            data(c.post(f"/engines/{a}/drain"))
            engines: list[dict[str, Any]] = []
            while not any(e["data"].get("status") == "draining" for e in engines):
                line = json.loads(frames.next() or b"")
                if line.get("event") == "engines":
                    engines.append(line)
        assert engines[0]["data"]["id"] == a
        assert "workers" in engines[0]["fields"]  # the task took rig-a's worker
        last = engines[-1]
        assert set(last["fields"]) == set(last["data"]) - {"id"}
        assert "updated_at" in last["fields"]
        with c.stream("GET", "/events") as r:
            frames = Frames(r, ndjson=False)
            assert frames.next() == b"retry: 1000"
            data(c.post(f"/engines/{_engines(sim)['rig-b']['id']}/drain"))
            name, _, payload = sse_event(frames.next() or b"")
            assert name == "engines"
            assert payload["status"] == "draining"


def test_stream_faults_apply_to_new_streams(sim: SimServer) -> None:
    a = _engines(sim)["rig-a"]["id"]
    sim.call(lambda w: setattr(w.faults, "stream_status", 404))
    with client(sim) as c:
        for path in (f"/engines/{a}/stream", "/events"):
            r = c.get(path)
            assert r.status_code == 404
            assert r.headers["content-type"].startswith("application/problem+json")
        sim.call(lambda w: setattr(w.faults, "stream_status", None))
        sim.call(lambda w: setattr(w.faults, "stream_drop_after", 1))
        with c.stream("GET", f"/v1/engines/{a}/stream", headers=NDJSON) as r:
            frames = Frames(r, ndjson=True)
            assert json.loads(frames.next() or b"")["event"] == "update"
            data(c.post(f"/engines/{a}/drain"))
            assert frames.rest() == []
            assert frames.eof
            assert frames.tail  # half a frame, then the close
