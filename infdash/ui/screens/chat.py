"""One agent chat: its transcript, a reply streaming in, tool calls, approvals, stop, queue.

Opened from the chats list (enter) or new (``n`` there).  A worker follows the chat through a
:class:`~infdash.api.ChatSession` (which subscribes before sending, accumulates deltas, and
reconciles after a reconnect without losing or doubling text) and posts each event; handlers
change the transcript.  Streamed text is redrawn at most every ``REDRAW_SECONDS`` however fast
the deltas come, so typing stays quick while a reply streams.

Keys: enter sends what is typed (while the agent replies the server queues it: the message
says "queued" until its turn); ``escape`` stops the reply, or goes back when there is none;
``ctrl+r`` sends the last message again after a failed reply (R28).  A tool that needs
approval asks in a dialog (approve or reject).  The client tool ``get_local_time`` is answered
from this machine's clock.  A failure is one line above the input; what was typed stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from infdash.api import (
    ApprovalRequested,
    ChatError,
    ChatEvent,
    ChatSession,
    ChatStatusChanged,
    ChatStreamReconnecting,
    ClientToolRequested,
    MessageUpdated,
    TurnEnded,
)
from infdash.api.models.chats import Chat, ChatMessage, ToolInvocation
from infdash.ui.errors import describe
from infdash.ui.sanitize import clean_line
from infdash.ui.screens.confirm import ConfirmDialog
from infdash.ui.services import Services
from infdash.ui.widgets.chat_message import ChatMessageView, tool_line
from infdash.ui.widgets.status_bar import StatusBar

REDRAW_SECONDS = 1 / 30
"""Streamed text is redrawn at most this often (each delta only records the newest text)."""
DEFAULT_AGENT = "infsh/assistant"
"""The agent a new chat talks to."""


def local_time(_arguments: dict[str, Any]) -> str:
    """The client tool ``get_local_time``: this machine's time, with its offset."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


class ChatScreen(Screen[None]):
    """The transcript of one chat, live, and a line to talk to its agent."""

    BINDING_GROUP_TITLE = "Chat"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop_or_back", "Stop / back", id="chat.stop_or_back",
                tooltip="Stop the reply being written; with none, back to the chats"),
        Binding("ctrl+r", "retry", "Retry", id="chat.retry",
                tooltip="Send the last message again after a failed reply"),
    ]  # fmt: skip
    DEFAULT_CSS = """
    ChatScreen {
        & > #chat-head { height: 1; padding: 0 1; background: $panel; text-style: bold; }
        & > #chat-log { height: 1fr; padding: 1 1 0 1; }
        & > #chat-note { height: auto; padding: 0 1; color: $text-muted; display: none; }
        & > #chat-note.-shown { display: block; }
        & > #chat-note.-error { color: $error; }
        & > #chat-note.-warning { color: $warning; }
        & > #chat-input { margin: 0 1; }
    }
    """

    @dataclass
    class Event(Message):
        """A chat session event, for the handlers."""

        event: ChatEvent

    @dataclass
    class Loaded(Message):
        """The transcript as it was when the screen opened."""

        chat: Chat
        messages: list[ChatMessage]

    @dataclass
    class Failed(Message):
        """A request failed: one line above the input."""

        message: str

    class Ended(Message):
        """The session's stream closed (after an error reply, or it gave up)."""

    class Streamed(Message):
        """Streamed text waits in :attr:`ChatScreen.streamed`; one such message stands for any
        number of deltas (a newer one replaces one not yet handled)."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ChatScreen.Streamed)

    def __init__(
        self, services: Services, chat_id: str | None = None, *, agent: str = DEFAULT_AGENT
    ) -> None:
        super().__init__()
        self.services = services
        self.session = ChatSession(
            services.client,
            chat_id,
            agent=None if chat_id else agent,
            tools={"get_local_time": local_time},
        )
        self.agent = agent
        self.chat: Chat | None = None
        self.views: dict[str, ChatMessageView] = {}
        """Drawn messages by id."""
        self.replying = False
        """A turn of the agent is under way (escape stops it)."""
        self.last_failed = False
        """The last reply failed (``ctrl+r`` sends the last message again)."""
        self._texts: dict[str, tuple[ChatMessage, str]] = {}
        self.streamed: dict[str, tuple[ChatMessage, str]] = {}
        """The newest streamed text per message, not yet handled (filled by :meth:`deliver`)."""
        self._redraw_pending = False
        self._following = False
        self._error_said = False  # this turn's error is on the note line already

    # -- layout and lifecycle --------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="chat-head", markup=False)
        yield VerticalScroll(id="chat-log")
        yield Static("", id="chat-note", markup=False)
        yield Input(placeholder="Message the agent · enter sends", id="chat-input")
        yield StatusBar.for_services(self.services)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#chat-log", VerticalScroll).anchor()
        self._show_head()
        self.query_one("#chat-input", Input).focus()
        if self.session.chat_id is not None:
            self._load(self.session.chat_id)
            self._follow()
        else:
            self._note("A new chat with " + self.agent + ": type a message and press enter.")

    async def on_unmount(self) -> None:
        await self.session.aclose()

    # -- workers (I/O, then a message) -----------------------------------------------------

    @work(group="chat-load", exit_on_error=False)
    async def _load(self, chat_id: str) -> None:
        client = self.services.client
        try:
            chat = await client.chats.get(chat_id)
            messages = await client.chats.transcript(chat_id)
        except Exception as error:  # one line; the stream may still bring the chat
            self.post_message(self.Failed(f"could not load the chat: {describe(error)}"))
            return
        self.post_message(self.Loaded(chat, messages))

    @work(exclusive=True, group="chat-follow", exit_on_error=False)
    async def _follow(self) -> None:
        self._following = True
        try:
            async for event in self.session:
                self.deliver(event)
        except Exception as error:  # the stream gave up: say so; sending reopens it
            self.post_message(self.Failed(f"the chat stream stopped: {describe(error)}"))
        finally:
            self._following = False
            self.post_message(self.Ended())

    def deliver(self, event: ChatEvent) -> None:
        """Hand a session event to the handlers.  A delta only leaves the newest text of its
        message and one coalescing message: a reply at 1,000 tokens a second costs the UI one
        handler call per turn of its queue, not one per token."""
        if isinstance(event, MessageUpdated) and event.source == "delta":
            self.streamed[event.message.id] = (event.message, event.streaming_text)
            self.post_message(self.Streamed())
        else:
            self.post_message(self.Event(event))

    @work(group="chat-send", exit_on_error=False)
    async def _send(self, text: str, retry: bool = False) -> None:
        try:
            sent = await (self.session.retry() if retry else self.session.send(text))
        except Exception as error:  # what was typed goes back into the input
            self.post_message(self.Failed(f"not sent: {describe(error)}"))
            if not retry:
                self.call_later(self._restore_input, text)
            return
        if not self._following:
            self._follow()
        self.post_message(self.Event(MessageUpdated(sent, sent.text, source="local")))

    @work(group="chat-stop", exit_on_error=False)
    async def _stop(self) -> None:
        try:
            await self.session.stop()
        except Exception as error:
            self.post_message(self.Failed(f"could not stop the reply: {describe(error)}"))

    @work(group="chat-approval", exit_on_error=False)
    async def _decide(self, invocation: ToolInvocation, approve: bool) -> None:
        try:
            if approve:
                await self.session.approve(invocation.id)
            else:
                await self.session.reject(invocation.id, "rejected in infdash")
        except Exception as error:
            verb = "approve" if approve else "reject"
            self.post_message(self.Failed(f"could not {verb} the tool: {describe(error)}"))

    # -- handlers (state and drawing) ------------------------------------------------------

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self._set_chat(message.chat)
        for chat_message in message.messages:
            if chat_message.id not in self.views:
                self._draw(chat_message, self.session.text_of(chat_message.id))

    @on(Event)
    def _event(self, message: Event) -> None:
        event = message.event
        if isinstance(event, MessageUpdated):
            # No discarding of buffered deltas here: one still buffered was delivered after
            # this event (the Streamed posted before it was handled first), so it is newer.
            self._show_message(event.message, event.streaming_text)
        elif isinstance(event, ChatStatusChanged):
            self._set_chat(event.chat)
        elif isinstance(event, TurnEnded):
            self._set_chat(event.chat)
            self.replying = False
            self.last_failed = event.failed or self.last_failed
            if not self.last_failed:
                self._note("")
            elif not self._error_said:
                self._note("The reply failed · ctrl+r sends your message again", "error")
        elif isinstance(event, ChatError):
            self.last_failed = self._error_said = True
            self._note(f"The agent failed: {clean_line(event.message)} · ctrl+r retries", "error")
        elif isinstance(event, ApprovalRequested):
            self._ask_approval(event.invocation)
        elif isinstance(event, ClientToolRequested):
            self._note(f"The agent asks this machine for {tool_line(event.invocation)}", "warning")
        elif isinstance(event, ChatStreamReconnecting):
            self._note(f"reconnecting to the chat ({clean_line(event.reason)})…", "warning")

    @on(Streamed)
    def _streamed(self) -> None:
        streamed, self.streamed = self.streamed, {}
        for chat_message, text in streamed.values():
            self._show_message(chat_message, text)

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._note(message.message, "error")

    @on(Ended)
    def _ended(self) -> None:
        if self.replying:  # the stream closed mid-reply: nothing will end the turn now
            self.replying = False
            self._show_head()

    @on(Input.Submitted, "#chat-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        event.input.value = ""
        self.replying = True
        self.last_failed = self._error_said = False
        self._note("")
        self._send(text)
        self._show_head()

    def _show_message(self, chat_message: ChatMessage, text: str) -> None:
        """Draw a new message or a final text at once; a growing one at most every
        ``REDRAW_SECONDS``."""
        self._texts[chat_message.id] = (chat_message, text)
        if chat_message.id not in self.views or chat_message.is_final:
            self._redraw()
        elif not self._redraw_pending:
            self._redraw_pending = True
            self.set_timer(REDRAW_SECONDS, self._redraw)

    def _redraw(self) -> None:
        self._redraw_pending = False
        texts, self._texts = self._texts, {}
        for chat_message, text in texts.values():
            self._draw(chat_message, text)

    def _draw(self, chat_message: ChatMessage, text: str) -> None:
        view = self.views.get(chat_message.id)
        if view is not None:
            view.show(chat_message, text)
            return
        agent = self.chat.agent_name if self.chat and self.chat.agent_name else self.agent
        view = ChatMessageView(chat_message, text, agent)
        log = self.query_one("#chat-log", VerticalScroll)
        later = [v for v in self.views.values() if v.message.order > chat_message.order]
        if later:  # a message older than some shown (the transcript after a live one)
            log.mount(view, before=min(later, key=lambda v: v.message.order))
        else:
            log.mount(view)
        self.views[chat_message.id] = view

    def _set_chat(self, chat: Chat) -> None:
        self.chat = chat
        self.replying = not chat.turn_over
        self._show_head()

    def _show_head(self) -> None:
        chat = self.chat
        name = clean_line(chat.name) if chat and chat.name else "new chat"
        agent = clean_line(chat.agent_name) if chat and chat.agent_name else self.agent
        status = clean_line(chat.status) if chat and chat.status else ""
        state = "replying… (esc stops)" if self.replying else status
        self.query_one("#chat-head", Static).update(
            " · ".join(part for part in (name, agent, state) if part)
        )
        self.sub_title = name

    def _note(self, text: str, level: str = "") -> None:
        note = self.query_one("#chat-note", Static)
        note.update(text)
        note.set_class(bool(text), "-shown")
        note.set_class(level == "error", "-error")
        note.set_class(level == "warning", "-warning")

    def _restore_input(self, text: str) -> None:
        field = self.query_one("#chat-input", Input)
        if not field.value:
            field.value = text
        self.replying = False
        self._show_head()

    def _ask_approval(self, invocation: ToolInvocation) -> None:
        def decided(approve: bool | None) -> None:
            self._decide(invocation, bool(approve))

        self.app.push_screen(
            ConfirmDialog(
                "The agent wants to run a tool",
                [tool_line(invocation), "", "Approve to let it run; reject to refuse."],
                confirm_label="Approve",
                dismiss_label="Reject",
            ),
            decided,
        )

    # -- actions ---------------------------------------------------------------------------

    def action_stop_or_back(self) -> None:
        if self.replying and self.session.chat_id is not None:
            self._note("stopping the reply…", "warning")
            self._stop()
            return
        self.dismiss()

    def action_retry(self) -> None:
        if not self.last_failed:
            self._note("nothing to retry: the last reply did not fail")
            return
        self.replying = True
        self.last_failed = self._error_said = False
        self._note("sending your last message again…")
        self._send("", retry=True)
        self._show_head()
