"""Files (two-step upload, the PUT without auth, 413), queue stats, usage and ``/me`` against
the simulator."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from infdash.api import (
    ForbiddenError,
    InferenceClient,
    LimitClass,
    NotFoundError,
    PayloadTooLargeError,
    ValidationError,
)
from infdash.sim import SimConfig, SimServer

CAP = 4096


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(
        seed=7, manual_clock=True, history_size=5, running_at_start=0, max_upload_bytes=CAP
    )


def record_headers(client: InferenceClient) -> list[tuple[str, str, str | None]]:
    """(method, path, Authorization) of every request the client sends."""
    seen: list[tuple[str, str, str | None]] = []

    async def hook(request: httpx.Request) -> None:
        seen.append((request.method, request.url.path, request.headers.get("authorization")))

    client.http.event_hooks["request"].append(hook)
    return seen


async def test_upload_round_trip_without_auth_on_the_put(
    sim: SimServer, client: InferenceClient
) -> None:
    seen = record_headers(client)
    data = "héllo, wörld ✨\n".encode() * 20
    stored = await client.files.upload(data, "notes.txt", "text/plain")
    assert stored.size == len(data)
    assert stored.content_type == "text/plain"
    assert stored.filename == "notes.txt"
    assert stored.uploaded
    assert stored.uri.startswith("https://")
    assert stored.ref()["id"] == stored.id
    again = await client.files.get(stored.id)
    assert again == stored

    methods = [(m, auth is not None) for m, _, auth in seen]
    assert methods == [("POST", True), ("PUT", False), ("GET", True), ("GET", True)]
    put_path = next(p for m, p, _ in seen if m == "PUT")
    assert put_path.startswith("/uploads/")
    snapshot = client.rate_limits.snapshot(LimitClass.UPLOAD)
    assert snapshot is not None
    assert snapshot.remaining == 49  # the upload class, 50/min, tracked from POST /files


async def test_oversized_upload_is_refused_with_a_clear_error(
    sim: SimServer, client: InferenceClient
) -> None:
    with pytest.raises(PayloadTooLargeError) as info:
        await client.files.upload(b"x" * (CAP + 1), "big.bin")
    error = info.value
    assert isinstance(error, ValidationError)
    assert error.status == 413
    assert error.code == "payload_too_large"
    text = str(error)
    assert "\n" not in text
    assert "big.bin" in text

    small = await client.files.create("liar.bin", size=10)  # declared small, sent big
    with pytest.raises(PayloadTooLargeError):
        await client.files.put_bytes(small.upload_url, b"y" * (CAP + 1), "application/x-raw")


async def test_expired_upload_url_and_unknown_file(sim: SimServer, client: InferenceClient) -> None:
    created = await client.files.create("late.txt", content_type="text/plain")
    assert not created.uploaded
    await asyncio.to_thread(sim.advance, 901)
    with pytest.raises(ForbiddenError):
        await client.files.put_bytes(created.upload_url, b"too late", "text/plain")
    with pytest.raises(NotFoundError):
        await client.files.get("file_missing")
    with pytest.raises(ValidationError):
        await client.files.create("  ")


async def test_queue_stats(sim: SimServer, client: InferenceClient) -> None:
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    for _ in range(2):
        await client.tasks.run("infsh/echo", {"text": "later"}, run_at=later)
    stats = await client.account.queue_stats()
    assert stats.total_queued >= 2
    assert stats.with_run_at == 2
    assert stats.ready_to_run == stats.total_queued - stats.with_run_at
    echo = next(c for c in stats.by_app if c.app.startswith("infsh/echo"))
    assert echo.count >= 2


async def test_usage_has_a_concurrency_entry(sim: SimServer, client: InferenceClient) -> None:
    await client.tasks.run("infsh/flux", {"prompt": "x"})
    for _ in range(20):
        await asyncio.to_thread(sim.advance, 0.5)
    usage = await client.account.usage()
    concurrency = usage.concurrency
    assert concurrency is not None
    assert concurrency.type == "limit"
    assert concurrency.limit == 10
    assert concurrency.usage == 1
    assert not concurrency.exhausted
    agents = usage.get("agents")
    assert agents is not None
    assert agents.enabled is True


async def test_me_never_shows_the_key(sim: SimServer, client: InferenceClient) -> None:
    me = await client.account.me()
    assert me.user_id
    assert me.auth_method == "api_key"
    assert me.has_scope("engines:read")
    assert not me.has_scope("approvals:write")
    assert me.key_prefix == sim.api_key[:6]
    assert sim.api_key not in repr(me)
    assert sim.api_key not in repr(client)


async def test_list_and_delete_files(sim: SimServer, client: InferenceClient) -> None:
    first = await client.files.upload(b"one", "one.txt", "text/plain")
    await asyncio.to_thread(sim.advance, 1)
    second = await client.files.upload(b"two!", "two.txt", "text/plain")
    page = await client.files.list(limit=10)
    assert [f.id for f in page.items][:2] == [second.id, first.id]  # newest first
    found = await client.files.list(search="one.txt")
    assert [f.id for f in found.items] == [first.id]
    await client.files.delete(first.id)
    with pytest.raises(NotFoundError):
        await client.files.get(first.id)
    with pytest.raises(NotFoundError):
        await client.files.delete(first.id)
    assert [f.id for f in (await client.files.list()).items] == [second.id]
