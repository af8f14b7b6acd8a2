"""SimServer lifecycle and run_foreground: ports, threads, signals, /v1 prefix, health."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading

import httpx
import pytest

from infdash.sim import SimConfig, SimServer, run_foreground
from tests.unit.sim.helpers import client, data


def _sim_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("infdash-sim-")]


def test_start_stop_leaves_no_thread() -> None:
    before = set(threading.enumerate())
    server = SimServer(SimConfig(seed=1, manual_clock=True, history_size=5))
    url = server.start()
    assert url.startswith("http://127.0.0.1:")
    assert url == server.base_url
    assert httpx.get(f"{url}/health", trust_env=False).status_code == 200
    server.stop()
    server.stop()  # idempotent
    assert set(threading.enumerate()) <= before
    assert not _sim_threads()


def test_context_manager_and_open_stream_closed_on_stop() -> None:
    with SimServer(SimConfig(seed=2, manual_clock=True, history_size=5)) as server:
        c = client(server)
        with c.stream("GET", "/tasks/stream") as response:
            assert response.status_code == 200
            assert server.call(lambda w: w.stream_count()) == 1
            server.stop()  # must not hang on the open stream
            assert response.read() is not None
    assert not _sim_threads()


def test_health_needs_no_auth_and_v1_prefix_works(sim: SimServer) -> None:
    assert httpx.get(f"{sim.base_url}/health", trust_env=False).json()["data"]["status"] == "ok"
    with client(sim) as c:
        assert data(c.get("/v1/tasks", params={"limit": 3}))["items_per_page"] == 3
        assert data(c.get("/tasks", params={"limit": 3}))["items_per_page"] == 3


def test_advance_requires_manual_clock() -> None:
    with SimServer(SimConfig(history_size=0, running_at_start=0)) as server:
        with pytest.raises(RuntimeError):
            server.advance(1)
        assert server.call(lambda w: len(w.tasks)) == 0


def test_real_clock_moves_tasks_at_speed() -> None:
    config = SimConfig(seed=3, speed=200.0, history_size=0, running_at_start=0)
    with SimServer(config) as server, client(server) as c:
        task_id = data(c.post("/run", json={"app": "infsh/echo", "input": {"a": 1}}))
        assert task_id["status"] == 10  # /run waits; 200× speed makes it quick


def test_run_foreground_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        rc = run_foreground(SimConfig(history_size=0), "127.0.0.1", port)
    finally:
        blocker.close()
    out = capsys.readouterr()
    assert rc == 2
    assert out.err.strip().count("\n") == 0
    assert "address already in use" in out.err
    assert "Traceback" not in out.err


def test_run_foreground_stops_on_sigterm() -> None:
    code = (
        "import sys; from infdash.sim import SimConfig, run_foreground; "
        "sys.exit(run_foreground(SimConfig(history_size=20, seed=4), '127.0.0.1', 0))"
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("infdash simulator on http://127.0.0.1:")
        assert line.endswith("(api key: inf_demo)")
        url = line.split()[3]
        r = httpx.get(f"{url}/tasks", headers={"Authorization": "Bearer inf_demo"}, trust_env=False)
        assert r.status_code == 200
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "Traceback" not in err
