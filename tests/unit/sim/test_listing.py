"""Task list: cursor pagination both ways, filters, sort, search, GET/POST parity."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from infdash.sim import SimServer
from tests.unit.sim.helpers import client, data, run


def _all(c: httpx.Client, **body: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = data(c.post("/tasks/list", json={"limit": -1, **body}))["items"]
    return items


def _walk_forward(c: httpx.Client, limit: int, **body: Any) -> tuple[list[str], str]:
    ids: list[str] = []
    page = data(c.post("/tasks/list", json={"limit": limit, **body}))
    assert page["has_previous"] is False
    while True:
        ids += [t["id"] for t in page["items"]]
        assert page["items_per_page"] == len(page["items"]) <= limit
        if not page["has_next"]:
            return ids, page["prev_cursor"]
        cursor = page["next_cursor"]
        page = data(c.post("/tasks/list", json={"limit": limit, "cursor": cursor, **body}))


@pytest.mark.parametrize("direction", [("next", "prev"), ("forward", "backward")])
def test_pagination_both_directions(sim: SimServer, direction: tuple[str, str]) -> None:
    with client(sim) as c:
        everything = [t["id"] for t in _all(c)]
        assert len(everything) == 43
        ids, last_prev = _walk_forward(c, 7, direction=direction[0])
        assert ids == everything  # no gaps, no duplicates, default created_at desc
        back: list[str] = []
        page = data(c.post("/tasks/list", json={"limit": 7, "cursor": last_prev,
                                                "direction": direction[1]}))  # fmt: skip
        back = ids[-(len(ids) % 7 or 7) :]
        while True:
            back = [t["id"] for t in page["items"]] + back
            assert page["has_next"] is True
            if not page["has_previous"]:
                break
            page = data(
                c.post(
                    "/tasks/list",
                    json={"limit": 7, "cursor": page["prev_cursor"], "direction": direction[1]},
                )
            )
        assert back == everything


def test_pagination_stable_while_tasks_arrive(sim: SimServer) -> None:
    with client(sim) as c:
        first = data(c.post("/tasks/list", json={"limit": 10}))
        for _ in range(3):
            run(c, "infsh/echo")  # newer rows appear before the first page
        second = data(c.post("/tasks/list", json={"limit": 10, "cursor": first["next_cursor"]}))
        before = [t["id"] for t in _all(c)]
        start = before.index(first["items"][-1]["id"]) + 1
        assert [t["id"] for t in second["items"]] == before[start : start + 10]
        assert second["total_items"] == 46


def test_filters(sim: SimServer) -> None:
    with client(sim) as c:
        rows = _all(c)
        for value in (10, "completed", [10], ["completed", 7], ["RUNNING"]):
            got = _all(c, filters=[{"field": "status", "operator": "in", "value": value}])
            want = {10} if value in (10, "completed", [10]) else {10, 7}
            if value == ["RUNNING"]:
                want = {7}
            assert {t["status"] for t in got} == want
            assert len(got) == sum(t["status"] in want for t in rows)
        not_done = _all(c, filters=[{"field": "status", "operator": "not_in", "value": [10, 11]}])
        assert all(t["status"] not in (10, 11) for t in not_done)
        echo = _all(c, filters=[{"field": "app", "operator": "eq", "value": "infsh/echo"}])
        assert echo
        assert all(t["app"]["name"] == "echo" for t in echo)
        versioned = _all(c, filters=[{"field": "app", "value": echo[0]["app_ref"]}])
        assert {t["app_ref"] for t in versioned} == {echo[0]["app_ref"]}
        engine = rows[0]["engine_id"]
        on_engine = _all(c, filters=[{"field": "engine_id", "operator": "eq", "value": engine}])
        assert on_engine
        assert all(t["engine_id"] == engine for t in on_engine)
        mid = sorted(t["created_at"] for t in rows)[20]
        newer = _all(c, filters=[{"field": "created_at", "operator": "gte", "value": mid}])
        older = _all(c, filters=[{"field": "created_at", "operator": "lt", "value": mid}])
        assert len(newer) + len(older) == len(rows)
        assert all(t["created_at"] >= mid for t in newer)
        both = _all(
            c,
            filters=[
                {"field": "created_at", "operator": "gte", "value": mid},
                {"field": "status", "operator": "eq", "value": "completed"},
            ],
        )
        assert {t["id"] for t in both} == {t["id"] for t in newer if t["status"] == 10}


def test_sort_and_search(sim: SimServer) -> None:
    with client(sim) as c:
        by_app = _all(
            c, sort=[{"field": "app", "dir": "asc"}, {"field": "created_at", "dir": "asc"}]
        )
        keys = [(t["app"]["namespace"] + "/" + t["app"]["name"], t["created_at"]) for t in by_app]
        assert keys == sorted(keys)
        by_status = _all(c, sort=[{"field": "status", "dir": "desc"}])
        assert [t["status"] for t in by_status] == sorted((t["status"] for t in by_status),
                                                          reverse=True)  # fmt: skip
        paged, _ = _walk_forward(c, 5, sort=[{"field": "updated_at", "dir": "asc"}])
        assert paged == [t["id"] for t in _all(c, sort=[{"field": "updated_at", "dir": "asc"}])]
        target = by_app[3]
        hits = _all(c, search={"term": target["short_id"].upper()})
        assert [t["id"] for t in hits] == [target["id"]]
        llm = _all(c, search={"term": "infsh/llm"})
        assert llm
        assert all(t["app"]["name"] == "llm" for t in llm)


def test_get_tasks_matches_post(sim: SimServer) -> None:
    with client(sim) as c:
        body = {
            "limit": 5,
            "filters": [{"field": "status", "operator": "in", "value": ["completed", "failed"]}],
            "sort": [{"field": "created_at", "dir": "asc"}],
        }
        post = data(c.post("/tasks/list", json=body))
        params = {k: json.dumps(v) if not isinstance(v, int) else v for k, v in body.items()}
        get = data(c.get("/tasks", params=params))
        assert get == post
        nxt = data(c.get("/tasks", params={**params, "cursor": post["next_cursor"]}))
        assert nxt["items"][0]["id"] not in {t["id"] for t in post["items"]}
        assert data(c.get("/tasks", params={"search": post["items"][0]["short_id"]}))["items"]
        assert c.get("/tasks", params={"filters": "{nope"}).status_code == 400
        assert c.get("/tasks", params={"limit": "ten"}).status_code == 400


def test_list_response_shape(sim: SimServer) -> None:
    with client(sim) as c:
        page = data(c.post("/tasks/list", json={}))
        assert set(page) == {
            "items", "next_cursor", "prev_cursor", "has_next", "has_previous",
            "items_per_page", "total_items",
        }  # fmt: skip
        assert page["items_per_page"] == 10
        assert page["total_items"] == 43
        everything = data(c.post("/tasks/list", json={"limit": -1, "cursor": "ignored"}))
        assert everything["has_next"] is False
        assert everything["items_per_page"] == 43
        item = page["items"][0]
        for key in ("id", "short_id", "created_at", "updated_at", "status", "app", "app_id",
                    "app_version_id", "function", "infra", "workers", "engine_id", "engine",
                    "worker_id", "worker", "run_at", "webhook", "setup", "input", "output",
                    "error", "events", "session_id", "rating"):  # fmt: skip
            assert key in item


@pytest.mark.parametrize("sort", [None, [{"field": "app", "dir": "asc"}]])
def test_cached_order_follows_tasks_added_and_deleted(
    sim: SimServer, sort: list[dict[str, str]] | None
) -> None:
    body: dict[str, Any] = {"limit": -1} if sort is None else {"limit": -1, "sort": sort}
    with client(sim) as c:
        before = [t["id"] for t in data(c.post("/tasks/list", json=body))["items"]]
        new_id = run(c, "infsh/echo")
        after = [t["id"] for t in data(c.post("/tasks/list", json=body))["items"]]
        assert sorted(after) == sorted([*before, new_id])
        if sort is None:
            assert after[0] == new_id  # newest first
        sim.advance(60)
        assert c.delete(f"/tasks/{new_id}").status_code == 204
        again = [t["id"] for t in data(c.post("/tasks/list", json=body))["items"]]
        assert again == before
