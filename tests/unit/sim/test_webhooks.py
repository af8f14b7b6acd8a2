"""Webhooks: one POST to a loopback receiver on a terminal status; others refused."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from infdash.sim import SimServer
from tests.unit.sim.helpers import client, data, eventually, run


class _Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[dict[str, Any]] = []
        self.got = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.server.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()
        self.server.got.set()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(("app", "status"), [("infsh/echo", 10), ("infsh/flaky", 11)])
def test_webhook_delivered_once(sim: SimServer, receiver: _Receiver, app: str, status: int) -> None:
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    with client(sim) as c:
        task_id = run(c, app, {"k": "v"}, webhook=url)
        sim.advance(30)
        assert receiver.got.wait(5)
        task = data(c.get(f"/tasks/{task_id}"))
        assert task["webhook"] == url
    sim.advance(60)
    # the record lands once the receiver's answer is back
    deliveries = eventually(sim, lambda w: list(w.webhook_deliveries))
    assert deliveries == [{"task_id": task_id, "url": url, "status": 200}]
    assert len(receiver.bodies) == 1
    body = receiver.bodies[0]
    assert set(body) == {"id", "status", "output", "error", "session_id", "created_at",
                         "updated_at"}  # fmt: skip
    assert body["id"] == task_id
    assert body["status"] == status
    assert body["session_id"] is None
    assert body["updated_at"] == task["updated_at"]
    if status == 10:
        assert body["error"] == ""
        assert body["output"] == {"k": "v"}
    else:
        assert body["error"] == "task interrupted, please retry"


def test_webhook_on_cancel(sim: SimServer, receiver: _Receiver) -> None:
    url = f"http://localhost:{receiver.server_address[1]}/hook"
    with client(sim) as c:
        task_id = run(c, "infsh/slow", webhook=url)
        c.post(f"/tasks/{task_id}/cancel", json={"force": True})
        assert receiver.got.wait(5)
    assert receiver.bodies[0]["status"] == 12


@pytest.mark.parametrize(
    "url",
    [
        "http://203.0.113.5/hook",
        "https://example.com/hook",
        "http://10.0.0.1:8080/",
        "ftp://127.0.0.1/x",
        "not a url",
        "http://127.0.0.1:99999/",
    ],
)
def test_non_loopback_webhook_refused(sim: SimServer, url: str) -> None:
    with client(sim) as c:
        before = sim.call(lambda w: len(w.tasks))
        r = c.post("/apps/run", json={"app": "infsh/echo", "input": {}, "webhook": url})
        assert r.status_code == 400
        assert r.json()["type"].endswith("/invalid_request")
        assert sim.call(lambda w: len(w.tasks)) == before


@pytest.mark.parametrize("host", ["[::1]", "127.0.0.2", "localhost"])
def test_loopback_forms_accepted(sim: SimServer, host: str) -> None:
    with client(sim) as c:
        task_id = run(c, "infsh/echo", webhook=f"http://{host}:9/hook")
        assert data(c.get(f"/tasks/{task_id}"))["webhook"] == f"http://{host}:9/hook"
