"""Files (presigned upload round trip, caps, token expiry, the upload rate limit) and the
account routes: queue stats, entitlement usage, /me."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from infdash.sim import SimServer
from tests.unit.sim.helpers import client, data, fill_workers, run


def _create(c: httpx.Client, size: int = 5, name: str = "a.txt") -> httpx.Response:
    entry = {"filename": name, "content_type": "text/plain", "size": size}
    return c.post("/files", json={"files": [entry]})


def test_upload_round_trip_without_auth(sim: SimServer) -> None:
    with client(sim) as c:
        r = _create(c)
        assert r.headers["x-ratelimit-remaining"] == "49"
        [dto] = data(r)
        assert dto["upload_url"].startswith(f"{sim.base_url}/uploads/")
        assert dto["uri"].startswith("https://cloud.inference.sh/")
        assert dto["size"] == 5
        assert data(c.get(f"/files/{dto['id']}"))["upload_url"] == dto["upload_url"]
        with httpx.Client(trust_env=False) as bare:  # no Authorization header at all
            put = bare.put(dto["upload_url"], content="héllo wörld".encode(),
                           headers={"Content-Type": "text/markdown"})  # fmt: skip
            assert put.status_code == 200
            assert "x-ratelimit-remaining" not in put.headers
        got = data(c.get(f"/files/{dto['id']}"))
        assert (got["size"], got["content_type"], got["upload_url"]) == (13, "text/markdown", "")
        assert c.get("/files/file_nope").status_code == 404
        two = data(c.post("/files", json={"files": [{"filename": "x.png"}, {"filename": "y"}]}))
        assert len(two) == 2
        assert two[0]["id"] != two[1]["id"]
        assert two[0]["upload_url"] != two[1]["upload_url"]


def test_oversized_and_invalid_uploads(sim: SimServer) -> None:
    with client(sim) as c:
        big = _create(c, size=10 * 1024 * 1024 + 1, name="huge.bin")
        assert big.status_code == 413
        body = big.json()
        assert body["type"].endswith("/payload_too_large")
        assert "huge.bin" in body["detail"]
        assert "10,485,760" in body["detail"]
        bad_bodies: list[dict[str, Any]] = [
            {},
            {"files": []},
            {"files": [{"size": 3}]},
            {"files": [{"filename": "a", "size": -1}]},
        ]
        for bad in bad_bodies:
            assert c.post("/files", json=bad).status_code == 400
        sim.call(lambda w: setattr(w.config, "max_upload_bytes", 8))
        [dto] = data(_create(c, size=4))
        over = httpx.put(dto["upload_url"], content=b"x" * 9, trust_env=False)
        assert over.status_code == 413
        assert over.json()["type"].endswith("/payload_too_large")
        sim.advance(901)
        late = httpx.put(dto["upload_url"], content=b"x", trust_env=False)
        assert late.status_code == 403
        assert late.json()["type"].endswith("/forbidden")
        unknown = httpx.put(f"{sim.base_url}/uploads/nope", content=b"x", trust_env=False)
        assert unknown.status_code == 403


def test_upload_rate_limit_51st_is_429(sim: SimServer) -> None:
    with client(sim) as c:
        for _ in range(50):
            assert _create(c).status_code == 200
        r = _create(c)
        assert r.status_code == 429
        assert r.headers["retry-after"]
        assert c.get("/me").status_code == 200  # other classes unaffected
        sim.advance(61)
        assert _create(c).status_code == 200


def test_queue_stats(sim: SimServer) -> None:
    with client(sim) as c:
        fill_workers(sim, c)
        later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        run(c, "infsh/echo")
        run(c, "infsh/echo")
        run(c, "infsh/flux")
        run(c, "infsh/echo", run_at=later)
        sim.advance(1.0)
        r = c.get("/tasks/queue-stats")
        assert r.headers["x-ratelimit-remaining"]
        stats = data(r)
    assert (stats["total_queued"], stats["with_run_at"], stats["ready_to_run"]) == (4, 1, 3)
    assert stats["in_progress"] == 6
    assert [(a["app"], a["count"]) for a in stats["by_app"]] == [("infsh/echo", 3),
                                                                 ("infsh/flux", 1)]  # fmt: skip
    assert stats["by_app_function"][0] == {**stats["by_app_function"][0], "function": "run",
                                           "count": 3}  # fmt: skip


def test_usage_and_me(sim: SimServer) -> None:
    with client(sim) as c:
        usage = {u["resource"]: u for u in data(c.get("/entitlements/usage"))}
        me = data(c.get("/me"))
        r = c.get("/me", headers={"X-API-Version": "2"})
    conc = usage["concurrency"]
    assert (conc["type"], conc["limit"]) == ("limit", 10)
    assert conc["usage"] == 3  # the tasks running at start
    assert usage["agents"]["type"] == "boolean"
    assert usage["agents"]["enabled"] is True
    assert usage["rate_per_min"]["usage"] >= 1
    assert {"user", "team", "scopes"} <= set(me)
    assert "engines:write" in me["scopes"]
    assert "approvals:write" not in me["scopes"]
    assert sim.api_key not in r.text


def test_file_list_both_ways_and_delete(sim: SimServer) -> None:
    with client(sim) as c:
        ids = [data(_create(c, name=f"f{i}.txt"))[0]["id"] for i in range(3)]
        sim.advance(1)
        [png] = data(c.post("/files", json={"files": [{"filename": "p.png",
                                                       "content_type": "image/png"}]}))  # fmt: skip
        listed = data(c.get("/files"))
        assert data(c.post("/files/list", json={})) == listed
        assert next(f["id"] for f in listed["items"]) == png["id"]  # newest first
        flt = [{"field": "content_type", "operator": "eq", "value": "image/png"}]
        only = data(c.post("/files/list", json={"filters": flt}))
        assert [f["id"] for f in only["items"]] == [png["id"]]
        assert c.delete(f"/files/{ids[0]}").status_code == 204
        assert c.get(f"/files/{ids[0]}").status_code == 404
        assert c.delete(f"/files/{ids[0]}").status_code == 404
        assert data(c.get("/files"))["total_items"] == 3
