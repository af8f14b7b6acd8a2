"""A streaming reply in one ``ChatMessageView``: finished blocks drawn once, the tail plain."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App, ComposeResult
from textual.widgets import Static

from infdash.api.models.chats import ChatMessage, ContentPart
from infdash.sim.agents import CORPUS
from infdash.ui.widgets.chat_message import BLOCK_CHARS, ChatMessageView
from infdash.ui.widgets.markdown_block import MarkdownBlock

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
