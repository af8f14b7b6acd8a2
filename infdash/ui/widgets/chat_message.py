"""One message of a chat transcript: who, when, its state, its text and its tool calls.

Re-parsing a growing reply as Markdown on every delta is what makes Textual chat clients lag
(performance.md §1.5: ``MarkdownStream`` p99 376 ms for a 40 KB reply), and so is re-wrapping
all of it as plain text.  So a streaming reply is split as it grows: every finished block (the
text up to a blank line outside a code fence) is drawn from Markdown once, in a
:class:`~infdash.ui.widgets.markdown_block.MarkdownBlock` of its own that never changes
again, and only the unfinished tail is plain text, redrawn as it grows.  When the message is
final the tail becomes the last Markdown block.  User messages stay plain
text.  Every string is cleaned of escape sequences and control characters first (R22); plain
text is never parsed as markup.
"""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from infdash.api.models.chats import ChatMessage, ToolInvocation
from infdash.ui.sanitize import clean, clean_line
from infdash.ui.widgets.markdown_block import MarkdownBlock

_STATE: dict[str, str] = {
    "pending": "replying…",
    "queued": "queued",
    "failed": "failed",
    "cancelled": "stopped",
}
"""Message states worth a word beside the author (``ready`` needs none)."""
BLOCK_CHARS = 4096
"""Finished text joins the last block until it holds this much: each block is a widget every
layout visits, and redrawing one of this size when it grows takes a few milliseconds."""
ARGS_MAX = 120
"""Characters of a tool call's arguments shown in its line."""


def tool_line(invocation: ToolInvocation) -> str:
    """``⚙ infsh/echo {"text": "hi"} · completed`` (arguments cut to ``ARGS_MAX``)."""
    name = invocation.display_name or invocation.function_name or invocation.type or "tool"
    args = json.dumps(invocation.arguments, ensure_ascii=False) if invocation.arguments else ""
    if len(args) > ARGS_MAX:
        args = args[: ARGS_MAX - 1] + "…"
    status = invocation.status.replace("_", " ") or "requested"
    return clean_line(f"⚙ {name} {args} · {status}".replace("  ", " "))


class BlockSplitter:
    """Finds where a growing Markdown text can be cut into finished blocks, incrementally.

    A cut goes after a blank line outside a fenced code block: everything before it is parsed
    the same whatever follows.  Each call scans only the lines added since the last one."""

    __slots__ = ("cut", "in_fence", "scanned")

    def __init__(self) -> None:
        self.scanned = 0
        self.in_fence = False
        self.cut = 0

    def feed(self, text: str) -> int:
        """The latest cut in ``text`` (which extends the texts fed before)."""
        while (end := text.find("\n", self.scanned)) >= 0:
            line = text[self.scanned : end].lstrip()
            if line.startswith(("```", "~~~")):
                self.in_fence = not self.in_fence
            elif not line and not self.in_fence:
                self.cut = end + 1
            self.scanned = end + 1
        return self.cut


class ChatMessageView(Vertical):
    """A message: a head line, then its text (plain while streaming, Markdown once final)."""

    DEFAULT_CSS = """
    ChatMessageView {
        height: auto;
        margin: 0 0 1 0;
        padding: 0 1;
        & > .chat-head { color: $text-muted; }
        & > .chat-text { height: auto; }
        & > .chat-tools { color: $text-muted; height: auto; }
        &.-user { border-left: thick $primary; background: $boost; }
        &.-assistant { border-left: thick $secondary; }
        &.-failed > .chat-head { color: $error; }
        &.-queued > .chat-head { color: $warning; }
    }
    """

    def __init__(self, message: ChatMessage, text: str, agent: str) -> None:
        super().__init__(classes=f"-{message.role or 'assistant'}")
        self.message = message
        self.text = text
        self.agent = agent
        self.final_drawn = False
        """All of the text is drawn as Markdown (the message is final)."""
        self._composed = False  # until mounted, a change is only kept (drawn on mount)
        self._blocks: list[MarkdownBlock] = []
        self._drawn = ""  # the text the blocks hold, in order
        self._splitter = BlockSplitter()

    def compose(self) -> ComposeResult:
        yield Static("", classes="chat-head", markup=False)
        yield Static("", classes="chat-text", markup=False)
        yield Static("", classes="chat-tools", markup=False)

    def on_mount(self) -> None:
        self._composed = True
        self._draw()

    def show(self, message: ChatMessage, text: str) -> None:
        """The message changed (or more of its text streamed)."""
        if not self._composed:
            self.message, self.text = message, text
            return
        if self.final_drawn and message.is_final and message.text == self.message.text:
            self.message = message  # e.g. a tool status: the text stays as it is
            self._draw_head_and_tools()
            return
        if self.final_drawn and not message.is_final:
            self._forget_blocks()  # streaming again (a retry of this message): start over
        self.message, self.text = message, text
        self._draw()

    @property
    def markdown_source(self) -> str:
        """The text the Markdown blocks hold (all of it once final)."""
        return self._drawn

    def _draw(self) -> None:
        message = self.message
        self._draw_head_and_tools()
        body = clean(self.text or message.text)
        if message.error and message.status == "failed":
            body = f"{body}\n\n{clean(message.error)}" if body else clean(message.error)
        if message.role != "assistant":
            self.query_one(".chat-text", Static).update(body)
            return
        if not body.startswith(self._drawn):  # corrected after the fact (a reconcile)
            self._forget_blocks()
        final = message.is_final
        cut = len(body) if final else max(self._splitter.feed(body), len(self._drawn))
        if cut > len(self._drawn):
            finished = body[len(self._drawn) : cut]
            last = self._blocks[-1] if self._blocks else None
            if last is not None and len(last.source) + len(finished) <= BLOCK_CHARS:
                last.extend(finished)  # fewer, larger blocks: fewer widgets to lay out
            else:
                block = MarkdownBlock(finished)
                self._blocks.append(block)
                self.mount(block, before=self.query_one(".chat-text"))
            self._drawn = body[:cut]
        tail = self.query_one(".chat-text", Static)
        tail.update(body[cut:])
        tail.display = cut < len(body)
        self.final_drawn = final

    def _forget_blocks(self) -> None:
        for block in self._blocks:
            block.remove()
        self._blocks = []
        self._drawn = ""
        self._splitter = BlockSplitter()

    def _draw_head_and_tools(self) -> None:
        message = self.message
        who = "you" if message.role == "user" else clean_line(self.agent or message.role)
        when = message.created_at.astimezone().strftime("%H:%M") if message.created_at else ""
        state = _STATE.get(message.status, "")
        head = " · ".join(part for part in (who, when, state) if part)
        self.query_one(".chat-head", Static).update(head)
        for status in ("failed", "queued"):
            self.set_class(message.status == status, f"-{status}")
        tools = "\n".join(tool_line(t) for t in message.tool_invocations)
        panel = self.query_one(".chat-tools", Static)
        panel.update(tools)
        panel.display = bool(tools)
