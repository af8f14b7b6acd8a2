"""One chat against the simulator's scripted assistant: every key and event the screen handles.

A new chat and an existing one; a reply streaming as plain text and parsed as Markdown once
final; a message queued behind a running reply; escape stopping a reply and then going back;
a tool approval approved and one rejected; the client tool answered from this machine; an
error mid-reply (R28) with ``ctrl+r`` to send again; a send that fails keeping what was typed.
Simulated time moves in small steps while the test waits for a condition (bounded, no sleeps).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, Static

from infdash.api import InferenceClient
from infdash.api.retry import NO_RETRY
from infdash.sim import SimConfig, SimServer
from infdash.sim.world import World
from infdash.ui.screens.chat import ChatScreen
from infdash.ui.screens.confirm import ConfirmDialog
from infdash.ui.services import Services
from infdash.ui.widgets.chat_message import ChatMessageView
from infdash.ui.widgets.markdown_block import MarkdownBlock
from tests.ui.harness import sim_services

SIZE = (120, 40)


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(seed=7, manual_clock=True, history_size=5, running_at_start=0)


class ChatApp(App[None]):
    """A chat screen over the simulator (services made and closed with the app)."""

    def __init__(self, sim: SimServer, chat_id: str | None = None) -> None:
        super().__init__()
        self.sim = sim
        self.chat_id = chat_id
        self.services: Services | None = None

    async def on_mount(self) -> None:
        self.services = sim_services(self.sim)
        await self.services.scheduler.start()
        await self.push_screen(ChatScreen(self.services, self.chat_id))

    async def on_unmount(self) -> None:
        if self.services is not None:
            await self.services.scheduler.stop()
            await self.services.client.aclose()

    @property
    def chat(self) -> ChatScreen:
        screen = self.screen_stack[1] if len(self.screen_stack) > 1 else self.screen
        assert isinstance(screen, ChatScreen)
        return screen


async def until(pilot: Pilot[Any], sim: SimServer, done: Callable[[], bool]) -> None:
    """Move simulated time in small steps until ``done`` (bounded: fails, never hangs)."""
    for _ in range(600):
        if done():
            return
        await asyncio.to_thread(sim.advance, 0.1)
        await pilot.pause(0.01)
    raise AssertionError("the chat never reached the expected state")


def views(app: ChatApp) -> list[ChatMessageView]:
    return list(app.chat.query(ChatMessageView))


def heads(app: ChatApp) -> list[str]:
    return [str(v.query_one(".chat-head", Static).render()) for v in views(app)]


def note(app: ChatApp) -> str:
    line = app.chat.query_one("#chat-note", Static)
    return str(line.render()) if line.has_class("-shown") else ""


def head(app: ChatApp) -> str:
    return str(app.chat.query_one("#chat-head", Static).render())


def markdown_of(view: ChatMessageView) -> str:
    """The Markdown the view's blocks were parsed from, in order (all its text once final)."""
    sources = "".join(block.source for block in view.query(MarkdownBlock))
    assert sources == view.markdown_source
    return sources


def replies_done(app: ChatApp, count: int) -> bool:
    final = [v for v in views(app) if v.message.role == "assistant" and v.final_drawn]
    return len(final) >= count and not app.chat.replying


async def say(pilot: Pilot[Any], text: str) -> None:
    app = pilot.app
    assert isinstance(app, ChatApp)
    app.chat.query_one("#chat-input", Input).value = text
    await pilot.press("enter")


def fault(sim: SimServer, **values: Any) -> None:
    def apply(world: World) -> None:
        for name, value in values.items():
            setattr(world.faults, name, value)

    sim.call(apply)


async def test_a_new_chat_streams_plain_then_shows_markdown(sim: SimServer) -> None:
    app = ChatApp(sim)
    async with app.run_test(size=SIZE) as pilot:
        assert note(app).startswith("A new chat with infsh/assistant")
        await say(pilot, "plain: tell me something")
        assert app.chat.query_one("#chat-input", Input).value == ""
        await until(pilot, app.sim, lambda: len(views(app)) == 2 and views(app)[1].text != "")
        reply = views(app)[1]
        assert reply.message.status == "pending"
        assert not reply.final_drawn  # streamed as plain text
        assert "replying" in heads(app)[1]
        assert head(app).endswith("replying… (esc stops)")
        await until(pilot, sim, lambda: replies_done(app, 1))
        assert heads(app)[0].startswith("you · ")
        assert heads(app)[1].startswith("infsh/assistant · ")
        assert "replying" not in heads(app)[1]
        transcript = await app.chat.services.client.chats.transcript(app.chat.session.chat_id or "")
        assert markdown_of(views(app)[1]) == transcript[1].text  # the final text, parsed once
        assert head(app).endswith("idle")


async def test_an_existing_chat_opens_on_its_transcript(sim: SimServer) -> None:
    async with InferenceClient(sim.base_url, sim.api_key, retry=NO_RETRY) as client:
        chat = await client.chats.create(agent="infsh/assistant", name="lighthouses")
        async with client.chats.session(chat.id) as session:
            await session.send("plain: one fact")
            for _ in range(400):
                sim.advance(0.1)
                await asyncio.sleep(0)
                if (await client.chats.get(chat.id)).turn_over:
                    break
        transcript = await client.chats.transcript(chat.id)
    app = ChatApp(sim, chat.id)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, sim, lambda: len(views(app)) == 2 and views(app)[1].final_drawn)
        assert [v.message.role for v in views(app)] == ["user", "assistant"]
        assert markdown_of(views(app)[1]) == transcript[1].text
        assert head(app).startswith("lighthouses · infsh/assistant")
        await pilot.press("escape")  # nothing to stop: back
        await pilot.pause()
        assert not isinstance(app.screen, ChatScreen)


async def test_a_message_sent_while_replying_is_queued_and_escape_stops(sim: SimServer) -> None:
    app = ChatApp(sim)
    async with app.run_test(size=SIZE) as pilot:
        await say(pilot, "plain: the first question")
        await until(pilot, sim, lambda: len(views(app)) == 2 and views(app)[1].text != "")
        await say(pilot, "plain: the second question")
        await until(pilot, sim, lambda: any(h.endswith("· queued") for h in heads(app)))
        await until(pilot, sim, lambda: len(views(app)) == 4 and views(app)[3].text != "")
        assert not any(h.endswith("· queued") for h in heads(app))  # its turn came
        await pilot.press("escape")  # stops the reply being written
        await until(pilot, sim, lambda: heads(app)[3].endswith("· stopped"))
        assert views(app)[3].final_drawn  # the partial text stays, as Markdown
        assert isinstance(app.screen, ChatScreen)
        await until(pilot, sim, lambda: not app.chat.replying)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ChatScreen)


@pytest.mark.parametrize("decision", ["y", "n"])
async def test_a_tool_approval_is_asked_and_answered(sim: SimServer, decision: str) -> None:
    app = ChatApp(sim)
    async with app.run_test(size=SIZE) as pilot:
        await say(pilot, "please approve this dangerous tool")
        await until(pilot, sim, lambda: isinstance(app.screen, ConfirmDialog))
        items = str(app.screen.query_one("#confirm-items", Static).render())
        assert "⚙ infsh/echo" in items
        assert "awaiting approval" in items
        await pilot.press(decision)
        await until(pilot, sim, lambda: replies_done(app, 1))
        tools = str(views(app)[1].query_one(".chat-tools", Static).render())
        if decision == "y":
            assert tools.endswith("· completed")
        else:
            assert tools.endswith("· cancelled")
            assert "I did not run it" in markdown_of(views(app)[1])


async def test_the_client_tool_is_answered_from_this_machine(sim: SimServer) -> None:
    app = ChatApp(sim)
    async with app.run_test(size=SIZE) as pilot:
        await say(pilot, "client: what time is it here")
        await until(pilot, sim, lambda: replies_done(app, 1))
        tools = str(views(app)[1].query_one(".chat-tools", Static).render())
        assert tools.startswith("⚙ Local time")
        assert tools.endswith("· completed")
        (invocation,) = views(app)[1].message.tool_invocations
        assert invocation.function_name == "get_local_time"
        answered = datetime.fromisoformat(invocation.result or "")
        assert answered.tzinfo is not None  # this machine's time, with its offset


async def test_an_error_mid_reply_keeps_the_text_and_ctrl_r_sends_again(sim: SimServer) -> None:
    fault(sim, chat_error_after_deltas=3)
    app = ChatApp(sim)
    async with app.run_test(size=SIZE) as pilot:
        await say(pilot, "plain: this will break")
        await until(pilot, sim, lambda: "failed" in note(app))
        await until(pilot, sim, lambda: heads(app)[1].endswith("· failed"))
        assert note(app).startswith("The agent failed: model provider error")
        assert views(app)[1].text != ""  # the partial text is kept
        fault(sim, chat_error_after_deltas=None)
        await pilot.press("ctrl+r")
        await until(pilot, sim, lambda: replies_done(app, 2) and len(views(app)) == 4)
        assert views(app)[3].message.status == "ready"
        assert note(app) == ""


async def test_a_failed_send_says_why_and_keeps_what_was_typed(sim: SimServer) -> None:
    sim.call(
        lambda w: setattr(
            w.faults, "error_burst", type(w.faults.error_burst)(400, 5, "/agents/run")
        )
    )
    app = ChatApp(sim)
    async with app.run_test(size=SIZE) as pilot:
        await say(pilot, "plain: are you there")
        await until(pilot, sim, lambda: note(app).startswith("not sent: "))
        field = app.chat.query_one("#chat-input", Input)
        await until(pilot, sim, lambda: field.value == "plain: are you there")
        assert not app.chat.replying
        assert views(app) == []
        await pilot.press("ctrl+r")
        assert note(app) == "nothing to retry: the last reply did not fail"


async def test_opening_a_chat_that_waits_for_approval_asks_at_once(sim: SimServer) -> None:
    async with InferenceClient(sim.base_url, sim.api_key, retry=NO_RETRY) as client:
        chat = await client.chats.create(agent="infsh/assistant", name="waiting")
        await client.chats.send(chat.id, "approve this dangerous tool")
        for _ in range(400):
            sim.advance(0.1)
            await asyncio.sleep(0)
            if (await client.chats.get(chat.id)).pending_interrupts:
                break
    app = ChatApp(sim, chat.id)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, sim, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await until(pilot, sim, lambda: replies_done(app, 1))
        tools = str(views(app)[1].query_one(".chat-tools", Static).render())
        assert tools.endswith("· completed")
