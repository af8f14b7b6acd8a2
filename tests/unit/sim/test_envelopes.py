"""Envelopes (current, v2 bare, v1 legacy), problem+json, and every bad-input code."""

from __future__ import annotations

import httpx
import pytest

from infdash.sim import SimServer
from tests.unit.sim.helpers import client, data, run

PROBLEM = "application/problem+json"


def _problem(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["type"] == f"https://api.inference.sh/errors/{code}"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]


def test_three_envelopes(sim: SimServer) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/echo")
        current = c.get(f"/tasks/{task_id}").json()
        assert set(current) == {"data", "messages"}
        assert current["messages"] == []
        bare = c.get(f"/tasks/{task_id}", headers={"X-API-Version": "2"}).json()
        assert bare["id"] == task_id
        assert "data" not in bare
        v1 = c.get(f"/tasks/{task_id}", headers={"X-API-Version": "1"}).json()
        assert v1["success"] is True
        assert v1["status"] == 200
        assert v1["data"]["id"] == task_id
        assert current["data"] == bare == v1["data"]


def test_error_envelopes(sim: SimServer) -> None:
    with client(sim) as c:
        _problem(c.get("/tasks/task_nope"), 404, "not_found")
        _problem(c.get("/tasks/task_nope", headers={"X-API-Version": "2"}), 404, "not_found")
        legacy = c.get("/tasks/task_nope", headers={"X-API-Version": "1"})
        assert legacy.status_code == 404
        assert legacy.json()["success"] is False
        assert legacy.json()["error"]["code"] == "not_found"
        _problem(c.get("/no/such/route"), 404, "not_found")
        _problem(c.put("/tasks/list"), 405, "method_not_allowed")


@pytest.mark.parametrize("auth", [None, "Bearer wrong", "inf_demo", "Basic aW5mX2RlbW8="])
def test_unauthorized(sim: SimServer, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    r = httpx.get(f"{sim.base_url}/tasks", headers=headers, trust_env=False)
    _problem(r, 401, "unauthorized")


def test_key_revoked_at_runtime(sim: SimServer) -> None:
    with client(sim) as c:
        assert c.get("/tasks").status_code == 200
        sim.call(lambda w: setattr(w, "api_key", "inf_rotated"))
        _problem(c.get("/tasks"), 401, "unauthorized")
        _problem(c.get("/v1/tasks/stream"), 401, "unauthorized")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"not json", 400, "invalid_request"),
        (b"[1, 2]", 400, "invalid_request"),
        (b"", 400, "invalid_request"),
        (b'{"input": {}}', 400, "invalid_request"),
        (b'{"app": "infsh/echo"}', 400, "invalid_request"),
        (b'{"app": "infsh/echo", "input": "text"}', 400, "invalid_request"),
        (b'{"app": "infsh/nope", "input": {}}', 404, "not_found"),
        (b'{"app": "infsh/echo@9.9.9", "input": {}}', 404, "not_found"),
        (b'{"app": "nobody/echo", "input": {}}', 404, "not_found"),
        (b'{"app": "infsh/echo", "input": {}, "run_at": "yesterday"}', 400, "invalid_request"),
    ],
)
def test_run_bad_input(sim: SimServer, body: bytes, status: int, code: str) -> None:
    with client(sim) as c:
        for path in ("/apps/run", "/run?wait=false"):
            r = c.post(path, content=body, headers={"Content-Type": "application/json"})
            _problem(r, status, code)


def test_known_app_references(sim: SimServer) -> None:
    with client(sim) as c:
        for ref, version in [
            ("infsh/echo", "1.1.0"),
            ("infsh/echo@1.0.0", "1.0.0"),
            ("infsh/echo@1.0.0:run", "1.0.0"),
        ]:
            task_id = run(c, ref)
            task = data(c.get(f"/tasks/{task_id}"))
            assert task["app_ref"] == f"infsh/echo@{version}"
            assert task["app"]["namespace"] == "infsh"
            assert task["app"]["name"] == "echo"
            assert task["app_version"]["version"] == version
            assert task["app_version_id"] == task["app_version"]["id"]


def test_unknown_task_codes(sim: SimServer) -> None:
    with client(sim) as c:
        for method, path in [
            ("GET", "/tasks/task_x"),
            ("GET", "/tasks/task_x/status"),
            ("GET", "/tasks/task_x/logs"),
            ("GET", "/tasks/task_x/timings"),
            ("GET", "/tasks/task_x/telemetry"),
            ("GET", "/tasks/task_x/stream"),
            ("GET", "/usage/tasks/task_x/cost"),
            ("POST", "/tasks/task_x/cancel"),
            ("DELETE", "/tasks/task_x"),
        ]:
            _problem(c.request(method, path), 404, "not_found")


def test_invalid_filter_and_transition_codes(sim: SimServer) -> None:
    with client(sim) as c:
        bad = {"filters": [{"field": "status", "operator": "in", "value": ["runnin"]}]}
        _problem(c.post("/tasks/list", json=bad), 400, "invalid_filter")
        _problem(c.post("/tasks/list", json={"filters": [{"field": "colour"}]}), 400,
                 "invalid_request")  # fmt: skip
        _problem(c.post("/tasks/list", json={"sort": [{"field": "x"}]}), 400, "invalid_request")
        _problem(c.post("/tasks/list", json={"cursor": "%%%"}), 400, "invalid_request")
        _problem(c.post("/tasks/list", content=b"{"), 400, "invalid_request")
        task_id = run(c, "infsh/echo")
        sim.advance(30)
        assert data(c.get(f"/tasks/{task_id}/status"))["status"] == 10
        _problem(c.post(f"/tasks/{task_id}/cancel"), 409, "invalid_transition")
        running = run(c, "infsh/slow")
        sim.advance(10)
        _problem(c.delete(f"/tasks/{running}"), 409, "invalid_transition")
