"""Rate limits on the simulated clock, Date header and skew, latency, 5xx bursts, 429 storms."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from infdash.sim import (
    ErrorBurst,
    FaultConfig,
    RateLimits,
    RateLimitStorm,
    SimConfig,
    SimServer,
    World,
)
from tests.unit.sim.helpers import client, data, run


@pytest.fixture
def sim_config() -> SimConfig:
    """A tight run budget so the limit is reached in a few requests."""
    return SimConfig(
        seed=7,
        manual_clock=True,
        history_size=40,
        rate_limits=RateLimits(run=3, get_task=5, other=50),
    )


def _now(sim: SimServer) -> float:
    return sim.call(lambda w: w.now())


def test_run_limit_429_headers_and_reset_on_sim_clock(sim: SimServer) -> None:
    with client(sim) as c:
        start = _now(sim)
        remaining = []
        for _ in range(3):
            r = c.post("/apps/run", json={"app": "infsh/echo", "input": {}})
            assert r.status_code == 200
            remaining.append(int(r.headers["x-ratelimit-remaining"]))
            assert int(r.headers["x-ratelimit-reset"]) == math.ceil(start + 60)
            sim.advance(10)
        assert remaining == [2, 1, 0]
        refused = c.post("/run", json={"app": "infsh/echo", "input": {}})
        assert refused.status_code == 429
        assert refused.json()["type"].endswith("/rate_limited")
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert int(refused.headers["retry-after"]) == 30  # oldest hit leaves at start + 60
        assert int(refused.headers["x-ratelimit-reset"]) == math.ceil(start + 60)
        assert c.get("/tasks").status_code == 200  # other classes are separate budgets
        sim.advance(30)
        again = c.post("/apps/run", json={"app": "infsh/echo", "input": {}})
        assert again.status_code == 200
        assert again.headers["x-ratelimit-remaining"] == "0"


def test_get_task_class_and_unlimited_routes(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = data(c.post("/tasks/list", json={"limit": 1}))["items"][0]["id"]
        paths = ["", "/status", "/logs", "/timings", "/telemetry"]
        codes = [c.get(f"/tasks/{task_id}{p}").status_code for p in paths]
        assert codes == [200] * 5
        assert c.get(f"/tasks/{task_id}").status_code == 429
        assert c.get("/tasks/list").status_code != 429  # `other` class
        assert "x-ratelimit-remaining" not in c.get("/health").headers
        with c.stream("GET", f"/tasks/{task_id}/stream") as stream:
            assert stream.status_code == 200
            assert "x-ratelimit-remaining" not in stream.headers


def test_date_header_follows_sim_clock_and_skew(sim: SimServer) -> None:
    with client(sim) as c:
        now = _now(sim)
        date = parsedate_to_datetime(c.get("/tasks").headers["date"]).timestamp()
        assert abs(date - now) <= 1
        sim.advance(3600)
        date = parsedate_to_datetime(c.get("/health").headers["date"]).timestamp()
        assert abs(date - (now + 3600)) <= 1
        sim.call(lambda w: setattr(w.faults, "date_skew", -300.0))
        skewed = c.get("/tasks")
        date = parsedate_to_datetime(skewed.headers["date"]).timestamp()
        assert abs(date - (now + 3300)) <= 1
        reset = int(skewed.headers["x-ratelimit-reset"])
        assert reset == math.ceil(now + 3600 + 60 - 300)  # Reset moves with Date: Reset − Date
        assert 59 <= reset - date <= 61  # is the true wait whatever the skew
        sim.call(lambda w: setattr(w.faults, "date_skew", 0.0))
        date = parsedate_to_datetime(c.get("/tasks").headers["date"]).timestamp()
        assert abs(date - (now + 3600)) <= 1
        assert "server" not in skewed.headers


def test_latency_fault(sim: SimServer) -> None:
    with client(sim) as c:
        sim.call(lambda w: setattr(w.faults, "latency", 0.3))
        t0 = time.monotonic()
        assert c.get("/tasks").status_code == 200
        assert time.monotonic() - t0 >= 0.3
        t0 = time.monotonic()
        assert c.get("/health").status_code == 200
        assert time.monotonic() - t0 < 0.3
        sim.call(lambda w: setattr(w.faults, "latency", 0.0))


def test_error_burst_by_route_prefix(sim: SimServer) -> None:
    with client(sim) as c:
        sim.call(lambda w: setattr(w.faults, "error_burst", ErrorBurst(503, 2, "/tasks/list")))
        first = c.post("/tasks/list", json={})
        assert first.status_code == 503
        assert first.headers["content-type"].startswith("application/problem+json")
        assert first.json()["type"].endswith("/internal_error")
        assert c.get("/tasks").status_code == 200  # other prefix untouched
        assert c.post("/v1/tasks/list", json={}).status_code == 503
        assert c.post("/tasks/list", json={}).status_code == 200  # burst used up


def test_run_5xx_after_the_task_was_created(sim: SimServer) -> None:
    """R7: the POST fails but the task exists; the client must reconcile, not retry."""
    with client(sim) as c:
        before = sim.call(lambda w: (len(w.tasks), w.run_requests))
        burst = ErrorBurst(status=502, count=1, path_prefix="/apps/run", after_handler=True)
        sim.call(lambda w: setattr(w.faults, "error_burst", burst))
        r = c.post("/apps/run", json={"app": "infsh/echo", "input": {"once": True}})
        assert r.status_code == 502
        after = sim.call(lambda w: (len(w.tasks), w.run_requests))
        assert after == (before[0] + 1, before[1] + 1)
        newest = data(c.post("/tasks/list", json={"limit": 1}))["items"][0]
        assert newest["input"] == {"once": True}


def _storm(**kw: Any) -> Callable[[World], None]:
    def apply(w: World) -> None:
        w.faults.rate_limit_storm = RateLimitStorm(**kw)

    return apply


def test_429_storm_variants(sim: SimServer) -> None:
    with client(sim) as c:
        sim.call(_storm(count=1))
        r = c.get("/tasks")
        assert r.status_code == 429
        assert r.headers["retry-after"] == "7"
        assert "x-ratelimit-reset" not in r.headers
        now = _now(sim)
        sim.call(_storm(count=1, retry_after=None, reset_in=20.0))
        r = c.get("/tasks")
        assert "retry-after" not in r.headers
        assert r.headers["x-ratelimit-remaining"] == "0"
        assert int(r.headers["x-ratelimit-reset"]) == int(now + 20)
        sim.call(lambda w: setattr(w.faults, "date_skew", 300.0))  # R2: skewed server clock
        sim.call(_storm(count=1, retry_after=None, reset_in=20.0))
        r = c.get("/tasks")
        date = parsedate_to_datetime(r.headers["date"]).timestamp()
        assert 19 <= int(r.headers["x-ratelimit-reset"]) - date <= 21
        sim.call(lambda w: setattr(w.faults, "date_skew", 0.0))
        sim.call(_storm(count=2, retry_after="soon", reset_raw="1e20"))
        for _ in range(2):
            r = c.get("/tasks")
            assert r.status_code == 429
            assert r.headers["retry-after"] == "soon"
            assert r.headers["x-ratelimit-reset"] == "1e20"
        assert c.get("/tasks").status_code == 200
        sim.call(_storm(count=1, path_prefix="/apps/run"))
        assert c.get("/tasks").status_code == 200
        assert c.post("/apps/run", json={"app": "infsh/echo", "input": {}}).status_code == 429


def test_faults_from_config_are_off_until_set(sim: SimServer) -> None:
    with client(sim) as c:
        assert run(c, "infsh/echo")
        faults = sim.call(lambda w: w.faults)
        assert faults.latency == 0.0
        assert faults.error_burst.count == 0
        assert faults.rate_limit_storm.count == 0
        assert faults.stream_status is None


def test_run_times_out_after_the_task_exists(sim: SimServer) -> None:
    """R7 (timeout flavour): latency on /apps/run only; the client gives up, the task exists."""
    with client(sim) as c:
        before = sim.call(lambda w: len(w.tasks))
        sim.call(lambda w: setattr(w.faults, "latency", 0.5))
        sim.call(lambda w: setattr(w.faults, "latency_path_prefix", "/apps/run"))
        with pytest.raises(httpx.ReadTimeout):
            c.post("/apps/run", json={"app": "infsh/echo", "input": {}}, timeout=0.1)
        assert sim.call(lambda w: (len(w.tasks), w.run_requests)) == (before + 1, 1)
        assert c.get("/tasks", timeout=0.4).status_code == 200  # other routes not delayed


def test_faults_from_config() -> None:
    faults = FaultConfig(date_skew=120.0, stream_status=204)
    config = SimConfig(seed=1, manual_clock=True, history_size=2, faults=faults)
    with SimServer(config) as server, client(server) as c:
        r = c.get("/tasks")
        skew = parsedate_to_datetime(r.headers["date"]).timestamp() - config.start_time
        assert 119 <= skew <= 121
        assert c.get("/tasks/stream").status_code == 204
        server.call(lambda w: setattr(w.faults, "stream_status", None))
        with c.stream("GET", "/tasks/stream") as stream:
            assert stream.status_code == 200
    assert config.faults.stream_status == 204  # the world works on its own copy


def test_error_burst_cycles_statuses(sim: SimServer) -> None:
    """R5: a burst of mixed 5xx, then healthy."""
    burst = ErrorBurst(count=5, statuses=(500, 502, 503, 504))
    sim.call(lambda w: setattr(w.faults, "error_burst", burst))
    with client(sim) as c:
        codes = [c.get("/tasks").status_code for _ in range(6)]
    assert codes == [500, 502, 503, 504, 500, 200]
