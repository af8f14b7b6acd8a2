"""The status walk: order per app, stickiness, cancel from every state, timings, logs,
telemetry, cost, delete, waiting runs and determinism."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor

import pytest

from infdash.sim import SimConfig, SimServer
from tests.unit.sim.helpers import client, data, drive_to, fill_workers, run, task_walk

HAPPY = [1, 2, 3, 4, 5, 6, 7, 9, 10]


def _is_walk(walk: list[int], ending: list[int]) -> bool:
    cold = [1, 2, 3, 4, 5, 6, 7, *ending]
    warm = [1, 2, 3, 4, 6, 7, *ending]
    return walk in (cold, warm)


@pytest.mark.parametrize(
    ("app", "ending", "advance"),
    [
        ("infsh/echo", [9, 10], 20),
        ("infsh/flux", [9, 10], 80),
        ("infsh/llm", [9, 10], 40),
        ("infsh/slow", [9, 10], 400),
        ("infsh/flaky", [11], 20),
    ],
)
def test_status_order_per_app(sim: SimServer, app: str, ending: list[int], advance: float) -> None:
    with client(sim) as c:
        task_id = run(c, app, {"prompt": "hi"})
        assert data(c.get(f"/tasks/{task_id}"))["status"] == 1
        seen = []
        for _ in range(int(advance / 2)):
            sim.advance(2)
            seen.append(data(c.get(f"/tasks/{task_id}/status"))["status"])
        walk = task_walk(sim, task_id)
        assert _is_walk(walk, ending), walk
        assert seen == sorted(seen, key=walk.index)  # polled statuses never go backwards
        task = data(c.get(f"/tasks/{task_id}"))
        assert [e["status"] for e in task["events"]] == walk
        assert task["worker"]["engine_id"] == task["engine_id"] == task["engine"]["id"]
        assert task["engine"]["name"]
        assert task["worker_id"] == task["worker"]["id"]
        if app == "infsh/flaky":
            assert task["error"] == "task interrupted, please retry"
            assert task["output"] is None
        elif app == "infsh/echo":
            assert task["output"] == {"prompt": "hi"}
            assert task["error"] is None
        elif app == "infsh/flux":
            assert task["output"]["image"]["uri"].startswith("https://")
        elif app == "infsh/llm":
            assert len(task["output"]["text"]) > 20
        sim.advance(600)  # terminal is sticky
        assert task_walk(sim, task_id) == walk
        assert data(c.get(f"/tasks/{task_id}"))["updated_at"] == task["updated_at"]


def test_queued_until_a_worker_frees(sim: SimServer) -> None:
    with client(sim) as c:
        blockers = fill_workers(sim, c)
        waiting = run(c, "infsh/echo")
        sim.advance(5)
        assert task_walk(sim, waiting) == [1, 2]
        c.post(f"/tasks/{blockers[0]}/cancel", json={"force": True})
        assert task_walk(sim, waiting)[-1] == 3  # dispatched the moment a worker is free
        sim.advance(30)
        assert task_walk(sim, waiting)[-1] == 10


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("target", [1, 2, 3, 4, 5, 6, 7, 9])
def test_cancel_from_every_state(sim: SimServer, target: int, force: bool) -> None:
    with client(sim) as c:
        if target == 2:
            fill_workers(sim, c)
        task_id = run(c, "infsh/flux")
        if target != 1:
            drive_to(sim, task_id, target, step=0.02)
        r = data(c.post(f"/tasks/{task_id}/cancel", json={"force": force} if force else None))
        assert r["id"] == task_id
        assert r["cancelled"] is True
        immediate = force or target in (1, 2)
        if immediate:
            assert r["status"] == 12
            assert task_walk(sim, task_id)[-2:] == [target, 12]
        else:
            assert r["status"] == 8
            again = data(c.post(f"/tasks/{task_id}/cancel"))  # graceful twice: still cancelling
            assert again["status"] == 8
            sim.advance(3)
            assert task_walk(sim, task_id)[-3:] == [target, 8, 12]
        sim.advance(120)
        assert task_walk(sim, task_id)[-1] == 12
        task = data(c.get(f"/tasks/{task_id}"))
        assert task["status"] == 12
        assert task["output"] is None
        if task["worker_id"]:
            idle = sim.call(lambda w: w.engines.worker(task["worker_id"]).status)  # type: ignore[union-attr]
            assert idle in ("idle", "busy")  # freed (and maybe re-used by a queued task)


def test_force_cancel_of_cancelling_task(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/slow")
        drive_to(sim, task_id, 7, step=0.5)
        assert data(c.post(f"/tasks/{task_id}/cancel"))["status"] == 8
        assert data(c.post(f"/tasks/{task_id}/cancel", json={"force": True}))["status"] == 12


def test_timings_consistent_with_events(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/flux")
        sim.advance(5)
        partial = data(c.get(f"/tasks/{task_id}/timings"))
        assert partial["events"][-1]["next_status"] == ""
        sim.advance(80)
        task = data(c.get(f"/tasks/{task_id}"))
        t = data(c.get(f"/tasks/{task_id}/timings"))
    assert t["task_id"] == task_id
    assert t["status"] == 10
    assert [e["timestamp"] for e in t["events"]] == [e["event_time"] for e in task["events"]]
    names = [e["status"] for e in t["events"]]
    assert names[0] == "received"
    assert names[-1] == "completed"
    assert [e["next_status"] for e in t["events"]] == [*names[1:], ""]
    labels = [g["label"] for g in t["groups"]]
    assert labels[0] == "queue"
    assert labels[-2:] == ["run", "upload"]
    assert set(labels) <= {"queue", "prepare", "serving", "setup", "run", "upload"}
    assert t["groups"][0]["start_at"] == task["created_at"]
    for a, b in zip(t["groups"], t["groups"][1:], strict=False):
        assert a["end_at"] == b["start_at"]
    assert t["groups"][-1]["end_at"] == task["updated_at"]
    assert sum(g["duration_ms"] for g in t["groups"]) == pytest.approx(
        t["total_duration_ms"], abs=len(t["groups"])
    )
    assert sum(e["duration_ms"] for e in t["events"]) == pytest.approx(
        t["total_duration_ms"], abs=len(t["events"])
    )
    assert t["total_duration"].endswith("s")


def test_logs_phase_tagged_and_encoded(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/slow")
        sim.advance(400)
        body = data(c.get(f"/tasks/{task_id}/logs"))
    assert body["task_id"] == task_id
    assert body["status"] == 10
    assert len(body["events"]) >= 8
    types = {entry["log_type"] for entry in body["logs"]}
    assert {1, 3, 4} <= types
    text = "".join(base64.b64decode(e["content"]).decode("utf-8") for e in body["logs"])
    lines = text.splitlines()
    assert len(lines) > 1000
    assert any(len(line) > 400 for line in lines)
    assert any(not line.isascii() for line in lines)
    ids = [e["id"] for e in body["logs"]]
    assert len(ids) == len(set(ids))


def test_plain_log_encoding() -> None:
    config = SimConfig(seed=5, manual_clock=True, history_size=3, log_encoding="plain")
    with SimServer(config) as server, client(server) as c:
        task_id = run(c, "infsh/echo")
        server.advance(20)
        logs = data(c.get(f"/tasks/{task_id}/logs"))["logs"]
        assert logs[0]["content"].startswith("task received: infsh/echo")
        past = data(c.post("/tasks/list", json={"limit": 1}))["items"][0]["id"]
        assert data(c.get(f"/tasks/{past}/logs"))["logs"]  # seeded logs generated on read


def test_telemetry_and_cost(sim: SimServer) -> None:
    with client(sim) as c:
        slow = run(c, "infsh/slow")
        assert data(c.get(f"/tasks/{slow}/telemetry")) == []
        r = c.get(f"/usage/tasks/{slow}/cost")
        assert r.status_code == 404
        assert r.json()["type"].endswith("/not_found")
        flaky = run(c, "infsh/flaky")
        sim.advance(400)
        samples = data(c.get(f"/tasks/{slow}/telemetry"))
        assert 5 < len(samples) <= 100
        s = samples[0]
        assert s["task_id"] == slow
        assert s["worker_id"]
        assert s["engine_id"]
        info = s["system_info"]
        assert "usage" in info["cpus"][0]
        assert "usage" in info["ram"]
        assert "usage" in info["gpus"][0]
        cost = data(c.get(f"/usage/tasks/{slow}/cost"))
        assert cost["total"] > 0
        assert cost["charged"] == cost["total"]
        assert "refunded" not in cost
        failed = data(c.get(f"/usage/tasks/{flaky}/cost"))
        assert failed["refunded"] == failed["charged"] > 0


def test_long_history_telemetry_is_capped() -> None:
    config = SimConfig(seed=6, manual_clock=True, history_size=0, running_at_start=0)
    with SimServer(config) as server, client(server) as c:
        task_id = run(c, "infsh/slow")
        server.call(lambda w: w.tasks[task_id].plan.update(run=7200.0))
        server.advance(4000)
        assert len(data(c.get(f"/tasks/{task_id}/telemetry"))) == 100


def test_delete_only_terminal(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/echo")
        sim.advance(20)
        assert c.delete(f"/tasks/{task_id}").status_code == 204
        assert c.get(f"/tasks/{task_id}").status_code == 404


def test_run_wait_semantics(sim: SimServer) -> None:
    with client(sim) as c, ThreadPoolExecutor(1) as pool:
        quick = data(c.post("/run?wait=false", json={"app": "infsh/echo", "input": {}}))
        assert quick["status"] == 1
        assert set(quick) == {
            "id", "short_id", "status", "status_text", "output", "error", "session_id",
            "created_at", "updated_at", "run_at",
        }  # fmt: skip
        body_nowait = data(c.post("/run", json={"app": "infsh/echo", "input": {}, "wait": False}))
        assert body_nowait["status"] == 1
        held = pool.submit(c.post, "/run", json={"app": "infsh/echo", "input": {"v": 2}})
        for _ in range(200):
            if held.done():
                break
            sim.advance(0.5)
        result = data(held.result(timeout=5))
        assert result["status"] == 10
        assert result["output"] == {"v": 2}
        held = pool.submit(
            c.post, "/apps/run", json={"app": "infsh/flaky", "input": {}, "wait": True}
        )
        for _ in range(200):
            if held.done():
                break
            sim.advance(0.5)
        assert data(held.result(timeout=5))["status"] == 11


def test_run_at_delays_queueing(sim: SimServer) -> None:
    with client(sim) as c:
        now = sim.call(lambda w: w.now())
        from infdash.sim.clock import rfc3339

        task_id = run(c, "infsh/echo", run_at=rfc3339(now + 60))
        sim.advance(30)
        assert task_walk(sim, task_id) == [1]
        sim.advance(60)
        assert task_walk(sim, task_id)[-1] == 10


def _world_snapshot(seed: int, start: float) -> list[object]:
    config = SimConfig(seed=seed, manual_clock=True, history_size=40, start_time=start)
    with SimServer(config) as server, client(server) as c:
        listing = data(c.post("/tasks/list", json={"limit": -1}))["items"]
        task_id = run(c, "infsh/llm")
        server.advance(60)
        timings = data(c.get(f"/tasks/{task_id}/timings"))
        logs = data(c.get(f"/tasks/{listing[5]['id']}/logs"))
        return [listing, task_id, timings, logs, data(c.get(f"/tasks/{task_id}"))]


def test_deterministic_for_a_seed() -> None:
    start = 1_790_000_000.0
    first = _world_snapshot(11, start)
    assert first == _world_snapshot(11, start)
    assert first[0] != _world_snapshot(12, start)[0]


def test_history_shape(sim: SimServer) -> None:
    with client(sim) as c:
        items = data(c.post("/tasks/list", json={"limit": -1}))["items"]
    assert len(items) == 43
    statuses = [t["status"] for t in items]
    assert sum(s in (10, 11, 12) for s in statuses) == 40
    assert statuses.count(7) == 3
    assert {t["app_ref"].split("@")[0] for t in items} >= {"infsh/echo", "infsh/flux"}
    assert len({t["id"] for t in items}) == 43


def test_background_traffic_keeps_the_world_moving() -> None:
    config = SimConfig(
        seed=8, manual_clock=True, history_size=0, running_at_start=0, traffic_interval=10.0
    )
    with SimServer(config) as server:
        assert server.call(lambda w: len(w.tasks)) == 0
        server.advance(120)
        tasks = server.call(lambda w: [(t.app.spec.ref, t.status) for t in w.tasks.values()])
    assert 7 <= len(tasks) <= 25
    assert any(status in (10, 11) for _, status in tasks)


def test_pinned_worker_waits_for_that_worker(sim: SimServer) -> None:
    with client(sim) as c:
        busy = sim.call(lambda w: next(wk.id for wk in w.engines.workers() if wk.status == "busy"))
        holder = sim.call(lambda w: next(wk.task_id for wk in w.engines.workers() if wk.id == busy))
        task_id = run(c, "infsh/echo", workers=[busy])
        sim.advance(10)
        assert task_walk(sim, task_id) == [1, 2]  # other workers are idle, but not pinned
        c.post(f"/tasks/{holder}/cancel", json={"force": True})
        sim.advance(20)
        assert task_walk(sim, task_id)[-1] == 10
        assert data(c.get(f"/tasks/{task_id}"))["worker_id"] == busy


def test_short_id_and_latest_version(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/llm@latest")
        task = data(c.get(f"/tasks/{task_id}"))
        assert task["app_version"]["version"] == "2.1.0"
        assert data(c.get(f"/tasks/{task['short_id']}"))["id"] == task_id
        assert data(c.get(f"/tasks/{task['short_id']}/status"))["id"] == task_id
