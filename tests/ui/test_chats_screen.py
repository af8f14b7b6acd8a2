"""The chat mode against the real simulator: rows, a chat that waits for approval, details,
refresh, errors and hostile text (the harness is the engines screen's)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from textual.message import Message
from textual.pilot import Pilot

from infdash.api import InferenceClient
from infdash.api.retry import NO_RETRY
from infdash.scheduler import ResourceKey
from infdash.sim import SimServer
from infdash.ui.screens._live_list import LiveListScreen
from infdash.ui.screens.chats import ChatsScreen
from tests.ui.test_engines_screen import (
    Harness,
    cell,
    detail_text,
    mock_client,
    names,
    sim_client,
    status_line,
    wait_until,
)


async def make_chat(sim: SimServer, name: str) -> str:
    async with InferenceClient(sim.base_url, sim.api_key, retry=NO_RETRY) as client:
        chat = await client.chats.create(agent="infsh/assistant", name=name)
    return chat.id


async def drive_until(
    pilot: Pilot[Any],
    sim: SimServer,
    nudge: Callable[[], Awaitable[None] | None],
    done: Callable[[], bool],
) -> None:
    """Move simulated time in small steps, nudging the scheduler, until ``done`` (bounded)."""
    for _ in range(200):
        if done():
            return
        await asyncio.to_thread(sim.advance, 0.5)
        nudged = nudge()
        if nudged is not None:
            await nudged
        await pilot.pause(0.02)
    raise AssertionError("the chat never reached the expected state")


async def test_rows_a_chat_awaiting_approval_and_its_details(sim: SimServer) -> None:
    chat_id = await make_chat(sim, "mine")
    app = Harness(sim_client(sim), ChatsScreen)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.live.ids == (chat_id,), "the chat")
        assert names(app) == ["mine"]
        assert cell(app, chat_id, "agent") == "infsh/assistant"
        assert cell(app, chat_id, "status") == "○ idle"
        assert status_line(app).startswith("1 chat · updated")
        entry = app.sched.planner.subscriptions.get(ResourceKey.chat(chat_id))
        assert entry is not None
        assert "chats-screen" in entry.owners

        await app.sched.client.chats.send(chat_id, "please approve this dangerous tool")
        key = ResourceKey.chat(chat_id)
        await drive_until(
            pilot,
            sim,
            lambda: app.sched.refresh(key),
            lambda: "needs approval" in cell(app, chat_id, "status"),
        )
        assert cell(app, chat_id, "status") == "▲ awaiting_input · needs approval"

        await pilot.press("i")
        detail = detail_text(app)
        assert detail.startswith("mine  ·  " + chat_id)
        assert "status    awaiting_input" in detail
        assert "agent     infsh/assistant" in detail
        assert "approvals 1 pending" in detail
        chat = app.sched.chats.get(chat_id)
        assert chat is not None
        if chat.active_run is not None:
            assert chat.active_run.id in detail


async def test_refresh_picks_up_a_new_chat_and_empty_state(sim: SimServer) -> None:
    listed: list[Message] = []

    def hook(message: Message) -> None:
        if isinstance(message, LiveListScreen.Listed):
            listed.append(message)

    app = Harness(sim_client(sim), ChatsScreen)
    async with app.run_test(size=(120, 30), message_hook=hook) as pilot:
        await wait_until(pilot, lambda: len(listed) == 1, "the first listing")
        assert app.live.query_one(".live-empty").display
        assert status_line(app).startswith("0 chats")
        chat_id = await make_chat(sim, "later")
        await pilot.press("r")
        await wait_until(pilot, lambda: app.live.ids == (chat_id,), "the new chat")
        assert not app.live.query_one(".live-empty").display


async def test_failure_is_one_notification_and_a_status_line() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"title": "Service Unavailable", "status": 503})

    failures: list[Message] = []

    def hook(message: Message) -> None:
        if isinstance(message, LiveListScreen.ListFailed):
            failures.append(message)

    app = Harness(mock_client(handler), ChatsScreen)
    async with app.run_test(size=(120, 30), notifications=True, message_hook=hook) as pilot:
        await wait_until(pilot, lambda: len(failures) == 1, "the failure")
        await pilot.press("r")
        await wait_until(pilot, lambda: len(failures) == 2, "the second failure")
        await pilot.pause()
        assert len(app._notifications) == 1
        assert status_line(app).startswith("chats: ")
        assert status_line(app).endswith("retrying in 30 s")


async def test_network_text_is_drawn_literally() -> None:
    hostile = {
        "id": "chat_x",
        "name": "[red]x\x1b[2J",
        "status": "awaiting_input",
        "agent": {"namespace": "[b]ns", "name": "a\x1b]0;t\x07"},
        "pending_interrupts": [
            {"id": "int_1", "reason": "tool_approval", "resource_id": "[i]tool"}
        ],
        "active_run": {"id": "run_1", "state": "interrupted"},
        "output": "[blink]out\x1b[5m\nline two",
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/chats/list":
            return httpx.Response(200, json={"data": {"items": [hostile]}})
        return httpx.Response(200, json={"data": hostile})

    app = Harness(mock_client(handler), ChatsScreen)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.live.ids == ("chat_x",), "the listing")
        assert cell(app, "chat_x", "name") == "[red]x"
        assert cell(app, "chat_x", "agent") == "[b]ns/a"
        await pilot.press("i")
        detail = detail_text(app)
        assert "output    [blink]out line two" in detail
        assert "  tool_approval: [i]tool" in detail
        assert "run       run_1 (interrupted)" in detail
        assert "\x1b" not in detail
