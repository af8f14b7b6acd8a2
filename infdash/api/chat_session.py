"""A chat session: send messages and follow the chat as typed events (reference §8.2).

What the official SDKs get wrong and this does right: the stream is opened (and its first
``chats`` snapshot read) *before* a message is sent to an existing chat; a turn never ends on
the initial snapshot — it ends when the chat is no longer busy *after* this turn's run was seen;
deltas are accumulated per message and dropped by ``seq`` when replayed; partial
``chat_messages`` are merged; after a reconnect the transcript is reconciled from
``GET /chats/{id}/messages`` without losing or doubling text; client tools run once per
invocation id; an ``error`` event (R28) keeps the partial text, marks the message failed and,
once the turn is over, closes the stream cleanly.

``async with client.chats.session(chat_id) as s: await s.send("hi"); async for ev in s: ...``
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from infdash.api.chats import (
    ChatFrame,
    ChatSnapshot,
    ChatStream,
    DeltaFrame,
    ErrorFrame,
    MessageFrame,
    RunFrame,
    require_text,
)
from infdash.api.errors import ApiError
from infdash.api.models.chats import (
    AgentRun,
    Chat,
    ChatMessage,
    Interrupt,
    RunResult,
    ToolInvocation,
    merge_message,
)
from infdash.api.reconnect import StreamReconnecting

if TYPE_CHECKING:
    from infdash.api.client import InferenceClient, StreamFormat

ToolCallback = Callable[[dict[str, Any]], Any]  # returns a value, or an awaitable of one
Source = Literal["stream", "delta", "reconcile", "local"]


@dataclass(frozen=True, slots=True)
class MessageUpdated:
    """A message changed. ``streaming_text`` is the reply text to show now: the accumulated
    deltas while ``pending``, the final content once ready (the partial text if it failed)."""

    message: ChatMessage
    streaming_text: str
    reasoning: str = ""
    source: Source = "stream"


@dataclass(frozen=True, slots=True)
class ChatStatusChanged:
    chat: Chat
    previous: str | None


@dataclass(frozen=True, slots=True)
class RunUpdated:
    run: AgentRun


@dataclass(frozen=True, slots=True)
class ApprovalRequested:
    """A tool waits for a human (approve/reject needs a signed-in session, not an API key)."""

    invocation: ToolInvocation
    interrupt: Interrupt | None = None


@dataclass(frozen=True, slots=True)
class ClientToolRequested:
    """A client tool with no registered callback: answer with ``submit_tool_result``."""

    invocation: ToolInvocation


@dataclass(frozen=True, slots=True)
class ClientToolCompleted:
    invocation: ToolInvocation
    result: str


@dataclass(frozen=True, slots=True)
class ChatError:
    """An ``error`` event mid-reply (R28); the message keeps its partial text."""

    code: str
    message: str
    message_id: str | None
    run_id: str | None


@dataclass(frozen=True, slots=True)
class TurnEnded:
    """The agent is done with this turn (the chat is no longer busy after its run began)."""

    chat: Chat
    failed: bool = False


@dataclass(frozen=True, slots=True)
class ChatStreamReconnecting:
    attempt: int
    delay: float
    reason: str


ChatEvent = (
    MessageUpdated
    | ChatStatusChanged
    | RunUpdated
    | ApprovalRequested
    | ClientToolRequested
    | ClientToolCompleted
    | ChatError
    | TurnEnded
    | ChatStreamReconnecting
)


class _Text:
    """Streamed text of one message; after a REST reset it skips deltas already included.

    The deltas that arrive right after a reconcile may already be in the fetched text: they
    are the first to arrive and spell out a run of its tail. So after a reset, arriving chunks
    are held while their concatenation still occurs in the fetched text (past what we had
    before). The first chunk that breaks that is new; of the held chunks, the longest run that
    ends the fetched text was a duplicate and the rest is new too.
    """

    __slots__ = ("_base", "_floor", "_held", "text")

    def __init__(self) -> None:
        self.text = ""
        self._base = ""
        self._floor = 0
        self._held: list[str] | None = None

    def append(self, chunk: str) -> None:
        held = self._held
        if held is None:
            self.text += chunk
            return
        held.append(chunk)
        if self._base.find("".join(held), self._floor) >= 0:
            return  # possibly all duplicates so far: keep showing the fetched text
        dup = len(held) - 1
        while dup > 0 and not self._base.endswith("".join(held[:dup])):
            dup -= 1
        self.text = self._base + "".join(held[dup:])
        self._held = None

    def reset(self, text: str, *, align: bool) -> None:
        if self.text.startswith(text) and len(self.text) > len(text):
            text = self.text  # what we hold is newer than what was fetched
        self._floor = len(self.text) if text.startswith(self.text) else 0
        self.text = self._base = text
        self._held = [] if align else None


class _MessageState:
    __slots__ = ("last_seq", "reasoning", "response")

    def __init__(self) -> None:
        self.response = _Text()
        self.reasoning = _Text()
        self.last_seq: int | None = None


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
        self.chat_id = chat_id
        self.agent = agent
        self.fmt = fmt
        self.idle_timeout = idle_timeout
        self.close_on_error = close_on_error
        self.chat: Chat | None = None
        self.messages: dict[str, ChatMessage] = {}
        self.runs: dict[str, AgentRun] = {}
        self.stream: ChatStream | None = None
        self._tools: dict[str, ToolCallback] = dict(tools or {})
        self._texts: dict[str, _MessageState] = {}
        self._dispatched: set[str] = set()
        self._approvals: set[str] = set()
        self._turn_open = False
        self._turn_failed = False
        self._close = False
        self._reconcile_first = False
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._failure: BaseException | None = None

    # -- public API ---------------------------------------------------------------------------

    def register_tool(self, name: str, callback: ToolCallback) -> None:
        """Run ``callback(arguments)`` for the client tool ``name`` (once per invocation)."""
        self._tools[name] = callback

    def text_of(self, message_id: str) -> str:
        """The best current text of a message (streamed so far, or final)."""
        message = self.messages.get(message_id)
        state = self._texts.get(message_id)
        streamed = state.response.text if state is not None else ""
        if message is None:
            return streamed
        return _display_text(message, streamed)

    def transcript(self) -> list[ChatMessage]:
        return sorted(self.messages.values(), key=lambda m: m.order)

    async def send(
        self, text: str, *, attachments: Sequence[Mapping[str, Any]] = ()
    ) -> ChatMessage:
        """Send a message; returns the user message once accepted (``ready`` or ``queued``).

        For an existing chat the stream is subscribed first, so nothing of the reply is missed.
        """
        require_text(text)
        chats = self._client.chats
        if self.chat_id is None:
            result = await chats.run(text, agent=self.agent, attachments=attachments)
            self.chat_id = result.chat_id
            self._note_result(result)
            self._reconcile_first = True  # the reply began before we could subscribe
            await self._subscribe()
        else:
            await self._subscribe()
            result = await chats.run(text, chat_id=self.chat_id, attachments=attachments)
            self._note_result(result)
        return result.user_message

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
        self._dispatched.add(invocation_id)
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
        self._close = False
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
                    for event in await self._handle(frame, stream.connections):
                        self._queue.put_nowait(event)
                    if isinstance(frame, ChatSnapshot) and frame.first:
                        self._connected.set()
                    if self._close:
                        break
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # delivered to the consumer, never lost in the task
            self._failure = exc
            self._queue.put_nowait(exc)
        finally:
            self._connected.set()
            self._queue.put_nowait(_END)

    async def _handle(self, frame: ChatFrame, connections: int) -> list[ChatEvent]:
        if isinstance(frame, ChatSnapshot):
            return await self._on_chat(frame, connections)
        if isinstance(frame, MessageFrame):
            existing = self.messages.get(as_id(frame.data))
            if existing is not None and frame.fields is not None:
                message = merge_message(existing, frame.data, frame.fields)
            else:
                message = ChatMessage.from_dict(frame.data)
            return await self._on_message(message, "stream")
        if isinstance(frame, RunFrame):
            self.runs[frame.run.id] = frame.run
            if not frame.run.is_final:
                self._turn_open = True
            return [RunUpdated(frame.run)]
        if isinstance(frame, DeltaFrame):
            return self._on_delta(frame)
        return self._on_error(frame)

    async def _on_chat(self, frame: ChatSnapshot, connections: int) -> list[ChatEvent]:
        chat = frame.chat
        previous = self.chat.status if self.chat is not None else None
        self.chat = chat
        events: list[ChatEvent] = []
        if chat.status != previous:
            events.append(ChatStatusChanged(chat, previous))
        if frame.first and (connections > 1 or self._reconcile_first):
            self._reconcile_first = False
            events += await self._reconcile()
        run = chat.active_run
        if run is not None:
            self.runs[run.id] = run
            if not run.is_final:
                self._turn_open = True
        for interrupt in chat.pending_interrupts:
            if interrupt.reason == "tool_approval" and interrupt.resource_id not in self._approvals:
                self._approvals.add(interrupt.resource_id)
                events.append(ApprovalRequested(self._invocation(interrupt), interrupt))
        if self._turn_open and chat.turn_over:
            self._turn_open = False
            events.append(TurnEnded(chat, self._turn_failed))
            if self._turn_failed and self.close_on_error:
                self._close = True
            self._turn_failed = False
        return events

    async def _on_message(self, message: ChatMessage, source: Source) -> list[ChatEvent]:
        self.messages[message.id] = message
        state = self._texts.setdefault(message.id, _MessageState())
        if message.status == "pending":
            self._turn_open = True
            if message.text:
                state.response.reset(message.text, align=source == "reconcile")
            if message.reasoning:
                state.reasoning.reset(message.reasoning, align=source == "reconcile")
        events: list[ChatEvent] = [
            MessageUpdated(
                message,
                _display_text(message, state.response.text),
                message.reasoning or state.reasoning.text,
                source,
            )
        ]
        for invocation in message.tool_invocations:
            if invocation.awaiting_approval and invocation.id not in self._approvals:
                self._approvals.add(invocation.id)
                events.append(ApprovalRequested(invocation))
            elif (
                invocation.type == "client"
                and invocation.status in ("awaiting_input", "in_progress")
                and invocation.id not in self._dispatched
            ):
                events.append(await self._dispatch(invocation))
        return events

    def _on_delta(self, frame: DeltaFrame) -> list[ChatEvent]:
        message = self.messages.get(frame.resource_id)
        if message is not None and message.is_final:
            return []  # the content is authoritative now
        state = self._texts.setdefault(frame.resource_id, _MessageState())
        if frame.seq is not None:
            if state.last_seq is not None and frame.seq <= state.last_seq:
                return []  # a replay
            state.last_seq = frame.seq
        response, reasoning = frame.delta.get("response"), frame.delta.get("reasoning")
        if isinstance(response, str):
            state.response.append(response)
        if isinstance(reasoning, str):
            state.reasoning.append(reasoning)
        if message is None:
            message = ChatMessage.from_dict(
                {
                    "id": frame.resource_id,
                    "chat_id": self.chat_id,
                    "role": "assistant",
                    "status": "pending",
                }
            )
            self.messages[message.id] = message
        self._turn_open = True
        return [MessageUpdated(message, state.response.text, state.reasoning.text, "delta")]

    def _on_error(self, frame: ErrorFrame) -> list[ChatEvent]:
        self._turn_failed = True
        events: list[ChatEvent] = [
            ChatError(frame.code, frame.message, frame.resource_id, frame.run_id)
        ]
        message = self.messages.get(frame.resource_id or "")
        if message is not None and not message.is_final:
            failed = merge_message(message, {"status": "failed"})
            self.messages[failed.id] = failed
            state = self._texts.setdefault(failed.id, _MessageState())
            text = _display_text(failed, state.response.text)
            events.append(MessageUpdated(failed, text, state.reasoning.text, "local"))
        return events

    async def _reconcile(self) -> list[ChatEvent]:
        """After a (re)connect: the newest page of the transcript is the truth."""
        assert self.chat_id is not None
        try:
            page = await self._client.chats.messages(self.chat_id)
        except ApiError:
            return []
        events: list[ChatEvent] = []
        for message in sorted(page.items, key=lambda m: m.order):
            known = self.messages.get(message.id)
            if known is not None and known.raw == message.raw:
                continue
            events += await self._on_message(message, "reconcile")
        return events

    async def _dispatch(self, invocation: ToolInvocation) -> ChatEvent:
        self._dispatched.add(invocation.id)
        callback = self._tools.get(invocation.function_name)
        if callback is None:
            return ClientToolRequested(invocation)
        try:
            value = callback(dict(invocation.arguments))
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:  # the agent is told, the session goes on
            value = f"error: {type(exc).__name__}: {exc}"
        result = value if isinstance(value, str) else json.dumps(value, default=str)
        await self._client.chats.submit_tool_result(invocation.id, result)
        return ClientToolCompleted(invocation, result)

    def _invocation(self, interrupt: Interrupt) -> ToolInvocation:
        for message in self.messages.values():
            for invocation in message.tool_invocations:
                if invocation.id == interrupt.resource_id:
                    return invocation
        args = interrupt.meta.get("arguments")
        return ToolInvocation(
            id=interrupt.resource_id,
            function_name=str(interrupt.meta.get("tool_name") or ""),
            arguments=args if isinstance(args, dict) else {},
            status="awaiting_approval",
        )

    def _note_result(self, result: RunResult) -> None:
        for message in (result.user_message, result.assistant_message):
            if message is not None and message.id not in self.messages:
                self.messages[message.id] = message
        assistant = result.assistant_message
        run_id = assistant.agent_run_id if assistant is not None else None
        if run_id is not None:
            run = self.runs.get(run_id)
            if run is None or not run.is_final:
                self._turn_open = True


def as_id(data: Mapping[str, Any]) -> str:
    value = data.get("id")
    return value if isinstance(value, str) else ""


def _display_text(message: ChatMessage, streamed: str) -> str:
    if message.status in ("failed", "cancelled", "canceled"):
        return message.text or streamed
    if message.is_final:
        return message.text
    return streamed or message.text
