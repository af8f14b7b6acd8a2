"""SVG snapshot of one chat from canned answers: Markdown replies, a tool call, a failed reply.

The client talks to an ``httpx.MockTransport``: the chat and its transcript are canned and its
stream sends the chat's snapshot, then stays open and silent, so the screen shows exactly the
transcript (times in UTC: the conftest pins the zone).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from textual.app import App
from textual.pilot import Pilot

from infdash.api import InferenceClient
from infdash.api.retry import NO_RETRY
from infdash.scheduler import Scheduler
from infdash.ui.screens.chat import ChatScreen
from infdash.ui.services import Services
from infdash.ui.widgets.chat_message import ChatMessageView
from tests.snapshots.conftest import settle_status_bars

SIZE = (110, 44)
CHAT = {
    "id": "chat_1",
    "name": "Engines overview",
    "status": "idle",
    "agent": {"namespace": "infsh", "name": "assistant"},
    "updated_at": "2026-11-25T12:04:00Z",
}
REPLY = (
    "## Engines\n\nThree are **online**, one is *disconnected*.\n\n"
    "| engine | GPU | version |\n|---|---|---|\n| rig-a | RTX 4090 | v1.10.15 |\n"
    "| rig-c | H100 80GB | v1.9.3 |\n\n"
    "Update the old one with:\n\n```bash\ninfsh engine update rig-c --version stable\n```\n"
)


def message(order: int, role: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"msg_{order}",
        "chat_id": "chat_1",
        "role": role,
        "status": "ready",
        "order": order,
        "content": [{"type": "text", "text": text}],
        "created_at": f"2026-11-25T12:0{order}:00Z",
        **extra,
    }


MESSAGES = [
    message(1, "user", "Which engines do I have, and what should I update?"),
    message(
        2,
        "assistant",
        REPLY,
        tool_invocations=[
            {
                "id": "ti_1",
                "type": "app",
                "display_name": "infsh/echo",
                "function": {"name": "infsh_echo", "arguments": {"message": "list engines"}},
                "status": "completed",
            }
        ],
    ),
    message(3, "user", "And the queue? \x1b[2J\x1b]0;title\x07"),
    message(
        4,
        "assistant",
        "The queue holds",
        status="failed",
        content=[
            {"type": "text", "text": "The queue holds"},
            {"type": "text", "error": "model provider error: upstream connection reset"},
        ],
    ),
]


class Silent(httpx.AsyncByteStream):
    """The chat's snapshot event, then an open stream that sends nothing more."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield f"event: chats\ndata: {json.dumps(CHAT)}\n\n".encode()
        await asyncio.Event().wait()


def handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/chats/chat_1":
        return httpx.Response(200, json={"data": CHAT})
    if path == "/chats/chat_1/messages":
        return httpx.Response(200, json={"data": {"items": MESSAGES, "has_next": False}})
    if path == "/chats/chat_1/stream":
        return httpx.Response(200, stream=Silent(), headers={"content-type": "text/event-stream"})
    return httpx.Response(404, json={"title": "Not Found", "status": 404})


class ChatSnapApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self._client: InferenceClient | None = None

    async def on_mount(self) -> None:
        client = InferenceClient(
            "http://mock.test", "key", transport=httpx.MockTransport(handler), retry=NO_RETRY
        )
        self._client = client
        services = Services(client, Scheduler(client, clock=lambda: 1000.0))
        await self.push_screen(ChatScreen(services, "chat_1"))

    async def on_unmount(self) -> None:
        if self._client is not None:
            await self._client.aclose()


async def transcript_shown(pilot: Pilot[Any]) -> None:
    for _ in range(500):
        views = list(pilot.app.screen.query(ChatMessageView))
        if len(views) == 4 and all(v.final_drawn for v in views if v.message.role != "user"):
            break
        await pilot.pause(0.01)
    else:
        raise AssertionError("the transcript never showed")
    await settle_status_bars(pilot)


def test_chat_transcript(snap_compare: Any) -> None:
    assert snap_compare(ChatSnapApp(), terminal_size=SIZE, run_before=transcript_shown)
