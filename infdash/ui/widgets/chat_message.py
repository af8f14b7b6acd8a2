"""One message of a chat transcript: who, when, its state, its text and its tool calls.

A reply that is still streaming is drawn as plain text: re-parsing Markdown on every delta is
what makes Textual chat clients lag (performance.md §1.5: ``MarkdownStream`` p99 376 ms for a
40 KB reply), while a plain ``Static`` only re-wraps.  Once the message is final it is parsed
as Markdown once.  User messages stay plain text.  Every string is cleaned of escape sequences
and control characters first (R22); plain text is never parsed as markup.
"""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Markdown, Static

from infdash.api.models.chats import ChatMessage, ToolInvocation
from infdash.ui.sanitize import clean, clean_line

_STATE: dict[str, str] = {
    "pending": "replying…",
    "queued": "queued",
    "failed": "failed",
    "cancelled": "stopped",
}
"""Message states worth a word beside the author (``ready`` needs none)."""
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


class ChatMessageView(Vertical):
    """A message: a head line, then its text (plain while streaming, Markdown once final)."""

    DEFAULT_CSS = """
    ChatMessageView {
        height: auto;
        margin: 0 0 1 0;
        padding: 0 1;
        & > .chat-head { color: $text-muted; }
        & > .chat-text { height: auto; }
        & > Markdown { height: auto; margin: 0; padding: 0; background: transparent; }
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
        """The text is drawn as Markdown (the message is final): no more redraws."""
        self._composed = False  # until mounted, a change is only kept (drawn on mount)

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
        self.message, self.text = message, text
        self._draw()

    def _draw(self) -> None:
        message = self.message
        self._draw_head_and_tools()
        body = clean(self.text or message.text)
        if message.error and message.status == "failed":
            body = f"{body}\n\n{clean(message.error)}" if body else clean(message.error)
        if message.role == "assistant" and message.is_final:
            if self.final_drawn:  # corrected after the fact (a reconcile): parse it again
                self.query_one(Markdown).update(body)
            else:
                self.final_drawn = True
                self.query_one(".chat-text", Static).remove()
                self.mount(Markdown(body), before=self.query_one(".chat-tools"))
            return
        self.query_one(".chat-text", Static).update(body)

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
