"""The client over httpx.MockTransport: headers, secrets, retries (R1, R3, R7, R8), endpoints.

MockTransport is used only for what the simulator cannot produce: connect errors before
sending, read timeouts after sending, 5xx bursts with exact counts.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from infdash.api import (
    Filter,
    InferenceClient,
    InvalidTransitionError,
    LimitClass,
    OutcomeUnknownError,
    RateLimitedError,
    ResponseMessage,
    RetryPolicy,
    ServerError,
    Sort,
    TaskStatus,
    TransportError,
    UnauthorizedError,
)
from infdash.api.models import common

from .fakes import KEY, Recorder, json_response, make_client

TASK = {"id": "task_1", "status": 1, "created_at": "2026-11-25T12:00:00Z"}
PROBLEM_503 = {"type": "https://api.inference.sh/errors/internal_error", "detail": "busy"}


async def test_auth_header_sent_and_key_never_shown() -> None:
    rec = Recorder()
    rec.add(
        "GET",
        "/tasks/task_1",
        json_response(401, {"type": "x/errors/unauthorized", "detail": "bad key"}),
    )
    client, _ = make_client(rec)
    async with client:
        with pytest.raises(UnauthorizedError) as info:
            await client.tasks.get("task_1")
        assert rec.requests[0].headers["authorization"] == f"Bearer {KEY}"
        shown = [
            repr(client),
            str(client.http.headers),
            repr(client.http.auth),
            str(info.value),
            repr(info.value),
        ]
        assert all(KEY not in text for text in shown)
        assert "check the API key" in str(info.value)
        assert len(rec.requests) == 1  # no retry against 401 (R9)
    assert client.is_closed


async def test_transport_error_does_not_leak_key() -> None:
    rec = Recorder()
    rec.add("GET", "/tasks/t", httpx.ConnectError("connection refused"))
    client, vt = make_client(rec)
    async with client:
        with pytest.raises(TransportError) as info:
            await client.tasks.get("t")
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)
    assert len(rec.requests) == 3
    assert len(vt.sleeps) == 2
    assert "check the network" in str(info.value)


@pytest.mark.parametrize("version", [None, 1, 2])
async def test_api_version_header_and_all_envelopes(version: int | None) -> None:
    rec = Recorder()
    bodies = {
        None: {"data": TASK, "messages": []},
        1: {"success": True, "status": 200, "data": TASK},
        2: TASK,
    }
    rec.add("GET", "/tasks/task_1", json_response(200, bodies[version]))
    client, _ = make_client(rec, api_version=version)
    async with client:
        task = await client.tasks.get("task_1")
    assert task.status is TaskStatus.RECEIVED
    assert rec.requests[0].headers.get("x-api-version") == (
        None if version is None else str(version)
    )


async def test_messages_go_to_on_message() -> None:
    seen: list[ResponseMessage] = []
    rec = Recorder()
    body = {
        "data": TASK,
        "messages": [{"level": "warning", "code": "concurrency_limit", "message": "queued"}],
    }
    rec.add("POST", "/run", json_response(200, body))
    client, _ = make_client(rec, on_message=seen.append)
    async with client:
        await client.tasks.run("infsh/echo", {"text": "hi"})
    assert [m.code for m in seen] == ["concurrency_limit"]
    assert seen[0].is_warning


async def test_get_retries_5xx_with_backoff_then_succeeds() -> None:
    rec = Recorder()
    rec.add(
        "GET",
        "/tasks/task_1",
        json_response(503, PROBLEM_503),
        json_response(502, PROBLEM_503),
        json_response(200, TASK),
    )
    client, vt = make_client(rec)
    async with client:
        task = await client.tasks.get("task_1")
    assert task.id == "task_1"
    assert len(rec.requests) == 3
    assert vt.sleeps == [0.25, 0.5]  # full jitter with rand=0.5: 0.5·[0.5, 1.0]


async def test_get_gives_up_after_max_retries() -> None:
    rec = Recorder()
    rec.add("GET", "/tasks/task_1", json_response(504, PROBLEM_503))
    client, vt = make_client(rec, retry=RetryPolicy(max_retries=4))
    async with client:
        with pytest.raises(ServerError):
            await client.tasks.get("task_1")
    assert len(rec.requests) == 5
    assert len(vt.sleeps) == 4


async def test_500_is_not_retried() -> None:
    rec = Recorder()
    rec.add("GET", "/tasks/task_1", json_response(500, PROBLEM_503))
    client, _ = make_client(rec)
    async with client:
        with pytest.raises(ServerError):
            await client.tasks.get("task_1")
    assert len(rec.requests) == 1


async def test_429_waits_retry_after_and_records_headers() -> None:  # R1
    rec = Recorder()
    limited = json_response(
        429,
        {"type": "https://api.inference.sh/errors/rate_limited", "detail": "slow down"},
        {"retry-after": "7", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000030"},
    )
    rec.add(
        "GET", "/tasks/task_1/status", limited, json_response(200, {"id": "task_1", "status": 7})
    )
    client, vt = make_client(rec)
    async with client:
        status = await client.tasks.status("task_1")
        snap = client.rate_limits.snapshot(LimitClass.GET_TASK)
    assert status.status is TaskStatus.RUNNING
    assert len(rec.requests) == 2
    assert vt.sleeps == [pytest.approx(7 * 1.05)]  # Retry-After plus 0–10 % jitter
    # The 200 carried no rate-limit headers, so the 429's snapshot stands.
    assert snap is not None
    assert snap.status == 429
    assert snap.remaining == 0
    assert snap.retry_after == 7
    assert snap.reset_at == 1_700_000_030


async def test_retry_after_above_cap_is_raised_not_waited() -> None:  # R3/R6
    rec = Recorder()
    rec.add(
        "GET",
        "/tasks/task_1",
        json_response(
            429, {"type": "https://api.inference.sh/errors/rate_limited"}, {"retry-after": "3600"}
        ),
    )
    client, vt = make_client(rec)
    async with client:
        with pytest.raises(RateLimitedError) as info:
            await client.tasks.get("task_1")
        snap = client.rate_limits.snapshot(LimitClass.GET_TASK)
    assert info.value.retry_after == 3600
    assert len(rec.requests) == 1
    assert vt.sleeps == []
    assert snap is not None
    assert snap.retry_after == 3600
    assert snap.exhausted


async def test_run_connect_error_before_send_is_retried() -> None:  # R8
    rec = Recorder()
    rec.add("POST", "/run", httpx.ConnectError("refused"), json_response(200, {"data": TASK}))
    client, vt = make_client(rec)
    async with client:
        task = await client.tasks.run("infsh/echo", {"text": "hi"})
    assert task.id == "task_1"
    assert len(rec.calls("POST", "/run")) == 2
    assert len(vt.sleeps) == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("peer closed"),
        json_response(503, PROBLEM_503),
        json_response(502, PROBLEM_503),
        json_response(429, {"type": "x/errors/rate_limited"}, {"retry-after": "1"}),
    ],
)
async def test_run_is_never_retried_once_sent(failure: httpx.Response | Exception) -> None:  # R7
    rec = Recorder()
    rec.add("POST", "/run", failure, json_response(200, {"data": TASK}))
    client, vt = make_client(rec)
    async with client:
        with pytest.raises((OutcomeUnknownError, ServerError, RateLimitedError)) as info:
            await client.tasks.run("infsh/echo", {"text": "hi"})
    assert len(rec.calls("POST", "/run")) == 1
    assert vt.sleeps == []
    if isinstance(failure, Exception):
        assert isinstance(info.value, OutcomeUnknownError)
        assert "check the task list" in str(info.value)


async def test_idempotent_get_retries_read_errors() -> None:
    rec = Recorder()
    rec.add("GET", "/tasks/task_1/logs", httpx.ReadError("reset"), json_response(200, {"logs": []}))
    client, _ = make_client(rec)
    async with client:
        logs = await client.tasks.logs("task_1")
    assert logs.logs == ()
    assert len(rec.requests) == 2


async def test_run_request_shape() -> None:
    rec = Recorder()
    rec.add("POST", "/run", json_response(200, {"data": TASK}))
    client, _ = make_client(rec)
    async with client:
        await client.tasks.run(
            "infsh/echo@1",
            {"text": "hi"},
            setup={"s": 1},
            infra="private",
            workers=["w1"],
            webhook="https://hook.invalid",
            session="new",
            run_at="2026-11-25T13:00:00Z",
            function="main",
        )
    request = rec.requests[0]
    assert request.url.params["wait"] == "false"
    assert json.loads(request.content) == {
        "app": "infsh/echo@1",
        "input": {"text": "hi"},
        "setup": {"s": 1},
        "infra": "private",
        "workers": ["w1"],
        "webhook": "https://hook.invalid",
        "session": "new",
        "run_at": "2026-11-25T13:00:00Z",
        "function": "main",
    }


async def test_list_cancel_delete_cost_timings_telemetry_shapes() -> None:
    rec = Recorder()
    page = {"items": [TASK, "bad"], "next_cursor": "n", "has_next": True, "items_per_page": 2}
    rec.add("POST", "/tasks/list", json_response(200, {"data": page}))
    rec.add(
        "POST",
        "/tasks/task_1/cancel",
        json_response(200, {"data": {"id": "task_1", "status": 12, "cancelled": True}}),
    )
    rec.add("DELETE", "/tasks/task_1", httpx.Response(204))
    rec.add(
        "GET",
        "/usage/tasks/task_1/cost",
        json_response(200, {"data": {"total": 100000000, "charged": 100000000}}),
    )
    rec.add(
        "GET",
        "/tasks/task_1/timings",
        json_response(200, {"data": {"groups": [{"label": "run", "duration_ms": 5}]}}),
    )
    rec.add(
        "GET",
        "/tasks/task_1/telemetry",
        json_response(200, {"data": [{"system_info": {"cpus": [{"usage": 10}]}}]}),
    )
    client, _ = make_client(rec)
    async with client:
        result = await client.tasks.list(
            limit=2,
            cursor="c1",
            direction="prev",
            filters=[Filter.status_in([TaskStatus.RUNNING, 2]), Filter.eq("app", "infsh/echo")],
            sort=[Sort.asc("created_at")],
            search="echo",
        )
        cancelled = await client.tasks.cancel("task_1", force=True)
        await client.tasks.delete("task_1", files=True)
        cost = await client.tasks.cost("task_1")
        timings = await client.tasks.timings("task_1")
        telemetry = await client.tasks.telemetry("task_1")
    assert [t.id for t in result.items] == ["task_1"]
    assert result.skipped == 1
    assert result.has_next
    assert json.loads(rec.requests[0].content) == {
        "limit": 2,
        "cursor": "c1",
        "direction": "prev",
        "filters": [
            {"field": "status", "operator": "in", "value": ["running", 2]},
            {"field": "app", "operator": "eq", "value": "infsh/echo"},
        ],
        "sort": [{"field": "created_at", "dir": "asc"}],
        "search": {"term": "echo", "exact": False},
    }
    assert json.loads(rec.requests[1].content) == {"force": True}
    assert cancelled.cancelled
    assert cancelled.status is TaskStatus.CANCELLED
    assert rec.requests[2].url.params["files"] == "true"
    assert cost.usd == 1
    assert timings.groups[0].label == "run"
    assert telemetry[0].cpu_usage == 10


async def test_list_is_retried_as_a_read() -> None:
    rec = Recorder()
    rec.add(
        "POST", "/tasks/list", json_response(503, PROBLEM_503), json_response(200, {"items": []})
    )
    client, _ = make_client(rec)
    async with client:
        page = await client.tasks.list()
    assert page.items == ()
    assert len(rec.requests) == 2


async def test_list_page_reads_items_in_steps_with_the_loop_running_between(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``list_page``: the parser, a 5xx retried as a read, malformed items skipped and counted,
    messages delivered, and the items read ``PARSE_STEP`` at a time with the event loop
    running in between (a big page must not stall it in one go)."""
    monkeypatch.setattr(common, "PARSE_STEP", 2)
    turns = 0
    seen_at: list[int] = []

    def parse(raw: Any) -> str:
        seen_at.append(turns)
        if not isinstance(raw, dict) or not raw.get("id"):
            raise ValueError("no id")
        return f"row:{raw['id']}"

    async def count_turns() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    seen: list[str] = []
    rec = Recorder()
    items = [TASK, "junk", {"id": "task_2"}, {"id": "task_3"}, {"id": "task_4"}]
    body = {
        "data": {"items": items, "has_next": True, "next_cursor": "c2"},
        "messages": [{"level": "info", "code": "slow_query", "message": "large page"}],
    }
    rec.add("POST", "/tasks/list", json_response(503, PROBLEM_503), json_response(200, body))
    client, _ = make_client(rec, on_message=lambda m: seen.append(m.code))
    async with client:
        counter = asyncio.create_task(count_turns())
        try:
            page = await client.list_page("/tasks/list", parse, limit=3, cursor="c1")
        finally:
            counter.cancel()
    assert page.items == ("row:task_1", "row:task_2", "row:task_3", "row:task_4")
    assert page.skipped == 1
    assert page.has_next
    assert page.next_cursor == "c2"
    assert seen == ["slow_query"]
    assert len(rec.requests) == 2
    assert json.loads(rec.requests[1].content) == {"limit": 3, "cursor": "c1", "direction": "next"}
    steps = [seen_at[i : i + 2] for i in range(0, len(seen_at), 2)]
    assert all(len(set(step)) == 1 for step in steps)  # one step: no turn of the loop
    assert len({step[0] for step in steps}) == 3  # between steps: the loop ran


async def test_cancel_is_not_retried_and_maps_invalid_transition() -> None:
    rec = Recorder()
    rec.add(
        "POST",
        "/tasks/t/cancel",
        json_response(
            409,
            {
                "type": "https://api.inference.sh/errors/invalid_transition",
                "detail": "task already completed",
            },
        ),
    )
    client, _ = make_client(rec)
    async with client:
        with pytest.raises(InvalidTransitionError) as info:
            await client.tasks.cancel("t")
    assert info.value.code == "invalid_transition"
    assert len(rec.requests) == 1


@pytest.mark.parametrize("bad", ["", "a/b", "..", "."])
async def test_bad_task_ids_are_refused_locally(bad: str) -> None:
    client, _ = make_client(Recorder())
    async with client:
        with pytest.raises(ValueError, match="not a task id"):
            await client.tasks.get(bad)


def test_stream_format_is_validated() -> None:
    with pytest.raises(ValueError, match="stream_format"):
        InferenceClient("http://x", "k", stream_format="xml")  # type: ignore[arg-type]
