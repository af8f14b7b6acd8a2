"""Every task endpoint against the simulator, all three envelopes, and bad input → errors."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from infdash.api import (
    Filter,
    InferenceClient,
    InvalidTransitionError,
    LimitClass,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    Sort,
    TaskStatus,
    UnauthorizedError,
    ValidationError,
)
from infdash.sim import SimServer

from .conftest import ClientFactory, SimTime, count_requests, open_requests, run_until_terminal


async def test_run_and_inspect_a_task(sim: SimServer, client: InferenceClient) -> None:
    task = await client.tasks.run("infsh/echo", {"text": "hello"})
    assert task.id
    assert task.status in (TaskStatus.RECEIVED, TaskStatus.QUEUED)
    with pytest.raises(NotFoundError):  # no cost until the task finished
        await client.tasks.cost(task.id)
    done = await run_until_terminal(sim, client, task.id)
    assert done.status is TaskStatus.COMPLETED
    assert done.app_name == "infsh/echo"
    assert done.app_version
    assert done.created_at is not None
    assert done.created_at.tzinfo is not None
    assert done.output is not None
    assert next(e.status for e in done.events) is TaskStatus.RECEIVED
    status = await client.tasks.status(task.id)
    assert status.id == task.id
    assert status.status is TaskStatus.COMPLETED
    logs = await client.tasks.logs(task.id)
    assert logs.logs
    assert all(log.id for log in logs.logs)
    assert all(log.was_base64 for log in logs.logs)  # the simulator's default encoding
    assert any("completed" in log.content for log in logs.logs)
    timings = await client.tasks.timings(task.id)
    assert timings.groups
    assert timings.total_duration_ms > 0
    telemetry = await client.tasks.telemetry(task.id)
    assert telemetry
    assert telemetry[0].ram_total > 0
    cost = await client.tasks.cost(task.id)
    assert cost.total > 0
    with pytest.raises(InvalidTransitionError) as info:
        await client.tasks.cancel(task.id)
    assert info.value.status == 409
    assert info.value.code == "invalid_transition"
    await client.tasks.delete(task.id)
    with pytest.raises(NotFoundError):
        await client.tasks.get(task.id)
    assert open_requests(client) == 0


async def test_plain_log_encoding(sim: SimServer, client: InferenceClient) -> None:
    sim.call(lambda w: setattr(w.config, "log_encoding", "plain"))
    task = await client.tasks.run("infsh/echo", {"text": "hi"})
    await run_until_terminal(sim, client, task.id)
    logs = await client.tasks.logs(task.id)
    assert logs.logs
    assert not any(log.was_base64 for log in logs.logs)
    assert any("completed" in log.content for log in logs.logs)


async def test_cancel_a_running_task(sim: SimServer, client: InferenceClient) -> None:
    task = await client.tasks.run("infsh/slow", {})
    await asyncio.to_thread(sim.advance, 5)
    result = await client.tasks.cancel(task.id, force=True)
    assert result.id == task.id
    done = await run_until_terminal(sim, client, task.id)
    assert done.status is TaskStatus.CANCELLED


async def test_list_pages_both_ways_with_filters_sort_search(client: InferenceClient) -> None:
    first = await client.tasks.list(limit=7)
    assert len(first.items) == 7
    assert first.has_next
    assert first.next_cursor
    assert first.total_items is not None
    assert first.total_items >= 40
    created = [t.created_at.timestamp() for t in first.items if t.created_at is not None]
    assert len(created) == 7
    assert created == sorted(created, reverse=True)  # default: created_at desc
    second = await client.tasks.list(limit=7, cursor=first.next_cursor)
    assert second.has_previous
    assert second.prev_cursor
    assert not {t.id for t in first.items} & {t.id for t in second.items}
    back = await client.tasks.list(limit=7, cursor=second.prev_cursor, direction="prev")
    assert [t.id for t in back.items] == [t.id for t in first.items]

    done = await client.tasks.list(
        limit=-1, filters=[Filter.status_in([TaskStatus.COMPLETED, 11])], sort=[Sort.asc("id")]
    )
    assert done.items
    assert {t.status for t in done.items} <= {
        TaskStatus.COMPLETED,
        TaskStatus.FAILED,
    }
    assert [t.id for t in done.items] == sorted(t.id for t in done.items)
    some = first.items[0]
    found = await client.tasks.list(limit=-1, search=some.short_id.upper())
    assert some.id in {t.id for t in found.items}
    by_app = await client.tasks.list(limit=-1, filters=[Filter.eq("app", some.app_name)])
    assert by_app.items
    assert all(t.app_name == some.app_name for t in by_app.items)


async def test_list_bad_filters(client: InferenceClient) -> None:
    with pytest.raises(ValidationError) as info:
        await client.tasks.list(filters=[Filter.status_in(["sleeping"])])
    assert info.value.status == 400
    assert info.value.code == "invalid_filter"
    assert "sleeping" in str(info.value)
    with pytest.raises(ValidationError) as info:
        await client.tasks.list(filters=[Filter.eq("colour", "red")])
    assert info.value.code == "invalid_request"


@pytest.mark.parametrize("version", [None, 1, 2])
async def test_all_envelopes(make_client: ClientFactory, version: int | None) -> None:
    client = await make_client(api_version=version)
    task = await client.tasks.run("infsh/echo", {"text": "v"})
    assert (await client.tasks.get(task.id)).id == task.id
    page = await client.tasks.list(limit=3)
    assert len(page.items) == 3
    with pytest.raises(NotFoundError) as info:
        await client.tasks.get("task_does_not_exist")
    assert info.value.code == "not_found"
    assert "\n" not in str(info.value)


async def test_bad_input(client: InferenceClient) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.tasks.run("infsh/nope", {})
    assert info.value.code == "not_found"
    with pytest.raises(ValidationError) as bad:
        await client.request("POST", "/run", json={"input": {}}, idempotent=False)
    assert bad.value.status == 400
    with pytest.raises(ValidationError) as bad:
        await client.request("POST", "/run", json="not an object", idempotent=False)
    assert bad.value.status == 400


async def test_wrong_key_is_unauthorized_and_never_shown(make_client: ClientFactory) -> None:
    secret = "inf_wrong_key_0123456789"
    client = await make_client(api_key=secret)
    with pytest.raises(UnauthorizedError) as info:
        await client.tasks.list()
    assert info.value.code == "unauthorized"
    assert secret not in str(info.value)
    assert secret not in repr(info.value)
    assert secret not in repr(client)


@pytest.fixture
def limited_sim(sim: SimServer) -> SimServer:
    sim.call(lambda w: setattr(w.config.rate_limits, "run", 3))
    return sim


async def test_over_the_limit_is_rate_limited_with_headers(
    limited_sim: SimServer, client: InferenceClient
) -> None:
    for _ in range(3):
        await client.tasks.run("infsh/echo", {})
    snap = client.rate_limits.snapshot(LimitClass.RUN)
    assert snap is not None
    assert snap.remaining == 0
    with pytest.raises(RateLimitedError) as info:
        await client.tasks.run("infsh/echo", {})
    assert info.value.code == "rate_limited"
    assert info.value.retry_after is not None
    assert 0 < info.value.retry_after <= 60
    snap = client.rate_limits.snapshot(LimitClass.RUN)
    assert snap is not None
    assert snap.status == 429
    assert snap.exhausted
    wait = snap.seconds_until_reset(client.clock())
    assert wait is not None
    assert 0 < wait <= 61
    other = client.rate_limits.snapshot(LimitClass.OTHER)
    assert other is None or other.remaining != 0  # classes are tracked apart


async def test_retry_after_is_honoured_in_sim_time(  # R1
    sim: SimServer, fake_sleeper: SimTime, client: InferenceClient
) -> None:
    task = await client.tasks.run("infsh/echo", {})
    gets = count_requests(client, "GET", f"/tasks/{task.id}")

    def storm(w: object) -> None:
        w.faults.rate_limit_storm.count = 1  # type: ignore[attr-defined]
        w.faults.rate_limit_storm.retry_after = "7"  # type: ignore[attr-defined]

    sim.call(storm)
    assert (await client.tasks.get(task.id)).id == task.id
    assert gets[0] == 2
    assert fake_sleeper.sleeps == [pytest.approx(7 * 1.05)]


@pytest.mark.parametrize(("header", "retried"), [("garbage", True), ("-3", True), ("3600", False)])
async def test_bad_or_huge_retry_after(  # R3
    sim: SimServer, fake_sleeper: SimTime, client: InferenceClient, header: str, retried: bool
) -> None:
    def storm(w: object) -> None:
        w.faults.rate_limit_storm.count = 1  # type: ignore[attr-defined]
        w.faults.rate_limit_storm.retry_after = header  # type: ignore[attr-defined]
        w.faults.rate_limit_storm.reset_raw = "1e20"  # type: ignore[attr-defined]

    sim.call(storm)
    if retried:
        page = await client.tasks.list(limit=1)
        assert len(page.items) == 1
        assert len(fake_sleeper.sleeps) == 1
        assert 0 <= fake_sleeper.sleeps[0] <= 0.5
    else:
        with pytest.raises(RateLimitedError) as info:
            await client.tasks.list(limit=1)
        assert info.value.retry_after == 3600
        assert fake_sleeper.sleeps == []


async def test_skewed_date_gives_the_clock_offset(
    sim: SimServer, client: InferenceClient
) -> None:  # R2
    sim.call(lambda w: setattr(w.faults, "date_skew", 300.0))
    task = await client.tasks.run("infsh/echo", {})
    await client.tasks.get(task.id)
    snap = client.rate_limits.snapshot(LimitClass.GET_TASK)
    assert snap is not None
    sim_now = sim.call(lambda w: w.now())
    assert snap.server_now(client.clock()) == pytest.approx(sim_now + 300, abs=2)


async def test_5xx_after_run_is_not_retried(sim: SimServer, client: InferenceClient) -> None:  # R7
    posts = count_requests(client, "POST", "/run")
    before = len((await client.tasks.list(limit=-1)).items)

    def burst(w: object) -> None:
        eb = w.faults.error_burst  # type: ignore[attr-defined]
        eb.status, eb.count, eb.path_prefix, eb.after_handler = 503, 1, "/run", True

    sim.call(burst)
    with pytest.raises(ServerError):
        await client.tasks.run("infsh/echo", {})
    assert posts[0] == 1
    after = await client.tasks.list(limit=-1)
    assert len(after.items) == before + 1  # the task was created: reconcile finds it


async def test_read_timeout_after_run_is_outcome_unknown(  # R7
    sim: SimServer, make_client: ClientFactory
) -> None:
    client = await make_client(timeout=httpx.Timeout(5.0, read=0.2))
    posts = count_requests(client, "POST", "/run")

    def slow(w: object) -> None:
        w.faults.latency = 1.0  # type: ignore[attr-defined]
        w.faults.latency_path_prefix = "/run"  # type: ignore[attr-defined]

    sim.call(slow)
    with pytest.raises(OutcomeUnknownError) as info:
        await client.tasks.run("infsh/echo", {"text": "maybe"})
    assert posts[0] == 1
    assert "check the task list" in str(info.value)
    sim.call(lambda w: setattr(w.faults, "latency", 0.0))
    found = await client.tasks.list(limit=1)
    assert found.items[0].input == {"text": "maybe"}


async def test_5xx_burst_on_reads_is_retried(sim: SimServer, client: InferenceClient) -> None:
    def burst(w: object) -> None:
        eb = w.faults.error_burst  # type: ignore[attr-defined]
        eb.status, eb.count, eb.path_prefix, eb.after_handler = 502, 2, "/tasks/list", False

    sim.call(burst)
    calls = count_requests(client, "POST", "/tasks/list")
    page = await client.tasks.list(limit=2)
    assert len(page.items) == 2
    assert calls[0] == 3


async def test_reset_wait_ignores_a_skewed_server_clock(  # R2
    sim: SimServer, client: InferenceClient
) -> None:
    def faults(w: object) -> None:
        w.faults.date_skew = -300.0  # type: ignore[attr-defined]
        storm = w.faults.rate_limit_storm  # type: ignore[attr-defined]
        storm.count, storm.retry_after, storm.reset_in, storm.path_prefix = 1, None, 20.0, "/run"

    sim.call(faults)
    with pytest.raises(RateLimitedError) as info:
        await client.tasks.run("infsh/echo", {})
    assert info.value.retry_after is None
    snap = client.rate_limits.snapshot(LimitClass.RUN)
    assert snap is not None
    assert snap.remaining == 0
    assert snap.exhausted
    assert snap.clock_offset == pytest.approx(-300, abs=2)
    wait = snap.seconds_until_reset(client.clock())
    assert wait == pytest.approx(20, abs=1.5)
