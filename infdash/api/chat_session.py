"""A chat session: send messages and follow the chat as typed events (reference §8.2).

What the official SDKs get wrong and this does right: the stream is opened (and its first
``chats`` snapshot read) *before* a message is sent to an existing chat; a turn never ends on
the initial snapshot — it ends when the chat is no longer busy *after* this turn's run was seen;
deltas are accumulated per message and dropped by ``seq`` when replayed; partial
``chat_messages`` are merged; after a reconnect the transcript is reconciled from
``GET /chats/{id}/messages`` without losing or doubling text; client tools run once per
invocation id; an ``error`` event (R28) keeps the partial text, marks the message failed and,
once the turn is over, closes the stream cleanly. This module is the I/O (stream reader,
queue, ``send``); the rules live in :mod:`infdash.api.chat_state`.

``async with client.chats.session(chat_id) as s: await s.send("hi"); async for ev in s: ...``
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from infdash.api.chat_events import (
    ApprovalRequested,
    ChatError,
    ChatEvent,
    ChatStatusChanged,
    ChatStreamReconnecting,
    ClientToolCompleted,
    ClientToolRequested,
    MessageUpdated,
    RunUpdated,
    StreamedText,
    ToolCallback,
    TurnEnded,
)
from infdash.api.chat_state import ChatState
from infdash.api.chats import (
    ChatSnapshot,
    ChatStream,
    require_text,
)
from infdash.api.models.chats import (
    Chat,
    ChatMessage,
    ToolInvocation,
)
from infdash.api.reconnect import StreamReconnecting

if TYPE_CHECKING:
    from infdash.api.client import InferenceClient, StreamFormat


_END = object()


class ChatSession:
    """One chat: :meth:`send` messages, iterate :data:`ChatEvent`, :meth:`stop` a reply."""

    def __init__(
        self,
        client: InferenceClient,
        chat_id: str | None = None,
        *,
        agent: str | None = None,
        fmt: StreamFormat | None = None,
        idle_timeout: float | None = None,
        tools: Mapping[str, ToolCallback] | None = None,
        close_on_error: bool = True,
    ) -> None:
        self._client = client
        self.agent = agent
        self.fmt = fmt
        self.idle_timeout = idle_timeout
        self.state = ChatState(client, chat_id, tools=tools, close_on_error=close_on_error)
        self.stream: ChatStream | None = None
        self._last_sent: tuple[str, tuple[Mapping[str, Any], ...]] | None = None
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._failure: BaseException | None = None

    # -- public API ---------------------------------------------------------------------------

    @property
    def chat_id(self) -> str | None:
        return self.state.chat_id

    @property
    def chat(self) -> Chat | None:
        return self.state.chat

    @property
    def messages(self) -> dict[str, ChatMessage]:
        return self.state.messages

    def register_tool(self, name: str, callback: ToolCallback) -> None:
        """Run ``callback(arguments)`` for the client tool ``name`` (once per invocation)."""
        self.state.tools[name] = callback

    def text_of(self, message_id: str) -> str:
        """The best current text of a message (streamed so far, or final)."""
        return self.state.text_of(message_id)

    def transcript(self) -> list[ChatMessage]:
        return sorted(self.messages.values(), key=lambda m: m.order)

    async def send(
        self, text: str, *, attachments: Sequence[Mapping[str, Any]] = ()
    ) -> ChatMessage:
        """Send a message; returns the user message once accepted (``ready`` or ``queued``).

        For an existing chat the stream is subscribed first, so nothing of the reply is missed.
        """
        require_text(text)
        self._last_sent = (text, tuple(attachments))
        chats = self._client.chats
        if self.chat_id is None:
            result = await chats.run(text, agent=self.agent, attachments=attachments)
            self.state.chat_id = result.chat_id
            self.state.note_result(result)
            self.state.reconcile_first = True  # the reply began before we could subscribe
            await self._subscribe()
        else:
            await self._subscribe()
            result = await chats.run(text, chat_id=self.chat_id, attachments=attachments)
            self.state.note_result(result)
        return result.user_message

    async def retry(self) -> ChatMessage:
        """Send the last message again (after a failed reply, R28); the stream reopens if the
        failure closed it."""
        if self._last_sent is None:
            raise ValueError("nothing to retry: no message was sent in this session")
        text, attachments = self._last_sent
        return await self.send(text, attachments=attachments)

    async def stop(self) -> Chat | None:
        """Stop the current reply (the partial text stays; the message ends ``cancelled``)."""
        if self.chat_id is None:
            return None
        return await self._client.chats.stop(self.chat_id)

    async def cancel(self, message_id: str) -> ChatMessage:
        """Cancel a queued message (``ConflictError`` ``not_cancellable`` otherwise)."""
        return await self._client.chats.cancel_message(message_id)

    async def approve(self, invocation_id: str) -> ToolInvocation | None:
        return await self._client.chats.approve_tool(invocation_id)

    async def reject(self, invocation_id: str, reason: str | None = None) -> ToolInvocation | None:
        return await self._client.chats.reject_tool(invocation_id, reason)

    async def submit_tool_result(self, invocation_id: str, result: str) -> ToolInvocation | None:
        self.state.dispatched.add(invocation_id)
        return await self._client.chats.submit_tool_result(invocation_id, result)

    def __aiter__(self) -> ChatSession:
        return self

    async def __anext__(self) -> ChatEvent:
        if self._reader is None and self.chat_id is not None:
            self._start_reader()
        item = await self._queue.get()
        if item is _END:
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            raise item
        return item  # type: ignore[return-value]

    async def aclose(self) -> None:
        """Close the stream (the connection is released at once)."""
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def __aenter__(self) -> ChatSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- the reader ---------------------------------------------------------------------------

    async def _subscribe(self) -> None:
        if self._reader is None or self._reader.done():
            self._start_reader()
        await self._connected.wait()
        if self._failure is not None:
            raise self._failure

    def _start_reader(self) -> None:
        assert self.chat_id is not None
        self._connected = asyncio.Event()
        self._failure = None
        self.state.close_requested = False
        if self.state.messages:  # reopened: what changed while closed comes from REST
            self.state.reconcile_first = True
        self.stream = self._client.chats.stream(
            self.chat_id, fmt=self.fmt, idle_timeout=self.idle_timeout
        )
        self._reader = asyncio.create_task(self._read(self.stream))

    async def _read(self, stream: ChatStream) -> None:
        try:
            async with stream:
                async for frame in stream:
                    if isinstance(frame, StreamReconnecting):
                        notice = ChatStreamReconnecting(frame.attempt, frame.delay, frame.reason)
                        self._queue.put_nowait(notice)
                        continue
                    for event in await self.state.handle(frame, stream.connections):
                        self._queue.put_nowait(event)
                    if isinstance(frame, ChatSnapshot) and frame.first:
                        self._connected.set()
                    if self.state.close_requested:
                        break
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # delivered to the consumer, never lost in the task
            self._failure = exc
            self._queue.put_nowait(exc)
        finally:
            self._connected.set()
            self._queue.put_nowait(_END)


__all__ = [
    "ApprovalRequested",
    "ChatError",
    "ChatEvent",
    "ChatSession",
    "ChatStatusChanged",
    "ChatStreamReconnecting",
    "ClientToolCompleted",
    "ClientToolRequested",
    "MessageUpdated",
    "RunUpdated",
    "StreamedText",
    "ToolCallback",
    "TurnEnded",
]
