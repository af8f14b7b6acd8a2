"""A streaming reply in one ``ChatMessageView`` (finished blocks drawn once, the tail plain),
and how the chat screen hands streamed text to it."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App, ComposeResult
from textual.widgets import Static

from infdash.api import InferenceClient, MessageUpdated
from infdash.api.models.chats import ChatMessage, ContentPart
from infdash.scheduler import Scheduler
from infdash.sim.agents import CORPUS
from infdash.ui.screens.chat import ChatScreen
from infdash.ui.services import Services
from infdash.ui.widgets.chat_message import BLOCK_CHARS, ChatMessageView
from infdash.ui.widgets.markdown_block import MarkdownBlock
from tests.ui.harness import wait_for

REPLY = "\n".join(CORPUS) * 3
AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def reply(text: str, status: str) -> ChatMessage:
    return ChatMessage(
        "msg_1", role="assistant", status=status, order=1, content=(ContentPart("text", text),),
        created_at=AT,
    )  # fmt: skip


class ViewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ChatMessageView(reply("", "pending"), "", "infsh/assistant")


def sources(view: ChatMessageView) -> str:
    return "".join(block.source for block in view.query(MarkdownBlock))


async def test_blocks_are_finished_text_and_the_tail_is_the_rest() -> None:
    app = ViewApp()
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(ChatMessageView)
        tail = view.query_one(".chat-text", Static)
        for end in range(50, len(REPLY), 97):
            view.show(reply("", "pending"), REPLY[:end])
            await pilot.pause()
            drawn = sources(view)
            assert drawn == view.markdown_source
            assert REPLY[:end].startswith(drawn)
            assert str(tail.render()) == REPLY[len(drawn) : end]  # the rest, as plain text
        blocks = list(view.query(MarkdownBlock))
        assert len(blocks) >= 2
        assert all(len(block.source) <= BLOCK_CHARS for block in blocks[:-1])
        assert not view.final_drawn
        view.show(reply(REPLY, "ready"), REPLY)
        await pilot.pause()
        assert view.final_drawn
        assert sources(view) == REPLY  # byte-identical, nothing lost or doubled
        assert not tail.display


class ScreenApp(App[None]):
    """A new chat's screen with no server behind it: events are handed over directly."""

    async def on_mount(self) -> None:
        client = InferenceClient("http://127.0.0.1:9", "inf_test")  # never called
        self.chat = ChatScreen(Services(client, Scheduler(client)))
        await self.push_screen(self.chat)

    async def on_unmount(self) -> None:
        await self.chat.services.client.aclose()


async def test_a_delta_delivered_after_a_message_update_is_not_lost() -> None:
    """The session hands over a message update and then a newer delta before the screen
    handles either: the delta's text is what shows."""
    app = ScreenApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.chat
        screen.deliver(MessageUpdated(reply("Hello", "pending"), "Hello", source="stream"))
        screen.deliver(MessageUpdated(reply("", "pending"), "Hello world", source="delta"))

        def shown() -> str:
            view = screen.views.get("msg_1")
            return view.text if view is not None else ""

        await wait_for(pilot, lambda: shown() == "Hello world")
