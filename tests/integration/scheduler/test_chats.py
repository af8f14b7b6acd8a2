"""Chats under the scheduler: polled with ``GET /chats/{id}`` on the ``other`` class while
they live, a completed chat is final, and an unknown chat is one 404 and then left alone."""

from __future__ import annotations

import random

import httpx

from benchmarks._harness import SimHarness
from infdash.api import InferenceClient
from infdash.api.retry import NO_RETRY
from infdash.scheduler import OTHER, ResourceKey, Scheduler, Tier, Transport, VirtualTime

UNKNOWN = "chat_doesnotexist0000000"


def chat_gets(harness: SimHarness, chat_id: str, since: float = 0.0) -> list[str | None]:
    """The limit class of each ``GET /chats/{id}`` sent since ``since``."""
    return [
        h.limit_class
        for h in harness.hits
        if h.at >= since and h.method == "GET" and h.path == f"/chats/{chat_id}"
    ]


async def test_visible_chat_is_polled_and_its_turn_ending_shows_in_the_store(
    harness: SimHarness,
) -> None:
    seen: list[str] = []
    async with harness.client() as client:
        sched = harness.scheduler(client)
        sched.chats.listen(
            lambda change: seen.extend(
                c.status for i in change.updated if (c := sched.chats.get(i)) is not None
            )
        )
        result = await sched.user_action(
            OTHER, lambda: client.chats.run("hello", agent="infsh/assistant")
        )
        chat_id = result.chat_id
        key = ResourceKey.chat(chat_id)
        assert key.limit_class == OTHER
        await sched.start()
        try:
            t0 = harness.vt.now
            sched.subscribe(key, Tier.VISIBLE, "chats")
            await harness.run(0, [sched])
            chat = sched.chats.get(chat_id)
            assert chat is not None
            assert chat.status == "busy"
            await harness.run(30, [sched])
            chat = sched.chats.get(chat_id)
            assert chat is not None
            assert chat.status == "idle"
            gets = chat_gets(harness, chat_id, since=t0)
            assert gets == [OTHER] * 7  # at once, then every 5 s; none on get_task
            assert sched.snapshot().class_view("get_task").used_last_minute == 0
            age = sched.age(key)
            assert age is not None
            assert age < 5.0
            view = sched.snapshot().resource(key)
            assert view is not None
            assert view.transport is Transport.POLL
            assert not view.terminal  # idle is not final: the next message makes it busy
        finally:
            await sched.stop()
    assert seen == ["busy", "idle"]  # one notification per change, none while unchanged


async def test_unknown_chat_is_gone_and_no_longer_polled(harness: SimHarness) -> None:
    key = ResourceKey.chat(UNKNOWN)
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe(key, Tier.VISIBLE, "chats")
            await harness.run(30, [sched])
            assert chat_gets(harness, UNKNOWN) == [OTHER]
            assert [h.status for h in harness.hits] == [404]
            view = sched.snapshot().resource(key)
            assert view is not None
            assert view.terminal
            assert sched.chats.get(UNKNOWN) is None
        finally:
            await sched.stop()


async def test_reset_forgets_chats(harness: SimHarness) -> None:
    async with harness.client() as client:
        sched = harness.scheduler(client)
        result = await client.chats.run("hello", agent="infsh/assistant")
        key = ResourceKey.chat(result.chat_id)
        await sched.start()
        try:
            sched.subscribe(key, Tier.VISIBLE, "chats")
            await harness.run(0, [sched])
            assert result.chat_id in sched.chats
            sched.reset()
            assert len(sched.chats) == 0
            assert sched.snapshot().resource(key) is None
        finally:
            await sched.stop()


async def test_a_completed_chat_is_final_and_no_longer_polled() -> None:
    """The simulator never completes a chat, so a stub server answers ``completed``."""
    vt = VirtualTime(0.0)
    sent: list[str] = []
    chat = {"id": "chat_done", "status": "completed", "updated_at": "2026-11-25T12:00:00Z"}

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        return httpx.Response(200, json={"data": chat})

    client = InferenceClient(
        "http://api.test", "k", transport=httpx.MockTransport(handler), retry=NO_RETRY
    )
    key = ResourceKey.chat("chat_done")
    async with client:
        sched = Scheduler(client, clock=vt, sleep=vt.sleep, rng=random.Random(1))
        await sched.start()
        try:
            sched.subscribe(key, Tier.VISIBLE, "chats")
            while vt.now < 30.0:
                await sched.settle()
                due = vt.next_due()
                vt.advance_to(min(30.0, vt.now + 1.0 if due is None else due))
                await vt.settle()
            await sched.settle()
            got = sched.chats.get("chat_done")
            assert got is not None
            assert got.status == "completed"
            view = sched.snapshot().resource(key)
            assert view is not None
            assert view.terminal
        finally:
            await sched.stop()
    assert sent == ["GET /chats/chat_done"]
