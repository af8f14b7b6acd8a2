"""The turn logic of a chat session: chat stream frames in, typed :mod:`chat_events` out.

Kept apart from the I/O (:mod:`chat_session`) so the rules are in one place: a turn ends only
when the chat is no longer busy *after* a run of this turn was seen (never on the initial
snapshot); deltas are accumulated per message and replays dropped by ``seq``; partial messages
are merged; after a (re)connect the newest transcript page is the truth (see
:class:`~infdash.api.chat_events.StreamedText` for how that avoids doubled text); approvals are
announced and client tools run once per invocation id.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from infdash.api.chat_events import (
    ApprovalRequested,
    ChatError,
    ChatEvent,
    ChatStatusChanged,
    ClientToolCompleted,
    ClientToolRequested,
    MessageUpdated,
    RunUpdated,
    Source,
    StreamedText,
    ToolCallback,
    TurnEnded,
)
from infdash.api.chats import (
    ChatFrame,
    ChatSnapshot,
    DeltaFrame,
    ErrorFrame,
    MessageFrame,
    RunFrame,
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

if TYPE_CHECKING:
    from infdash.api.client import InferenceClient


class _MessageState:
    __slots__ = ("aligning", "last_seq", "reasoning", "response")

    def __init__(self) -> None:
        self.response = StreamedText()
        self.reasoning = StreamedText()
        self.last_seq: int | None = None
        self.aligning = False  # reset from REST; the next delta tells whether any was missed


class ChatState:
    """Everything a session knows about its chat; :meth:`handle` turns frames into events."""

    def __init__(
        self,
        client: InferenceClient,
        chat_id: str | None,
        *,
        tools: Mapping[str, ToolCallback] | None = None,
        close_on_error: bool = True,
    ) -> None:
        self._client = client
        self.chat_id = chat_id
        self.close_on_error = close_on_error
        self.chat: Chat | None = None
        self.messages: dict[str, ChatMessage] = {}
        self.runs: dict[str, AgentRun] = {}
        self.tools: dict[str, ToolCallback] = dict(tools or {})
        self.dispatched: set[str] = set()
        self.reconcile_first = False  # a new chat: the reply began before we subscribed
        self.close_requested = False  # a failed turn is over: the session closes the stream
        self._texts: dict[str, _MessageState] = {}
        self._approvals: set[str] = set()
        self._turn_open = False
        self._turn_failed = False

    def text_of(self, message_id: str) -> str:
        """The best current text of a message (streamed so far, or final)."""
        message = self.messages.get(message_id)
        state = self._texts.get(message_id)
        streamed = state.response.text if state is not None else ""
        if message is None:
            return streamed
        return _display_text(message, streamed)

    async def handle(self, frame: ChatFrame, connections: int) -> list[ChatEvent]:
        if isinstance(frame, ChatSnapshot):
            return await self._on_chat(frame, connections)
        if isinstance(frame, MessageFrame):
            existing = self.messages.get(_as_id(frame.data))
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
        if frame.first and (connections > 1 or self.reconcile_first):
            self.reconcile_first = False
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
                self.close_requested = True
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
            state.aligning = source == "reconcile" and bool(message.text or message.reasoning)
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
                and invocation.id not in self.dispatched
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
            if state.aligning:
                contiguous = frame.seq == (state.last_seq or 0) + 1
                state.response.decide(contiguous)
                state.reasoning.decide(contiguous)
            state.last_seq = frame.seq
        state.aligning = False
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
        """Run a client tool's callback and post its result. It runs inline (the stream waits),
        so keep callbacks quick; for a tool that needs a human, register none and answer the
        ``ClientToolRequested`` event with ``submit_tool_result``."""
        self.dispatched.add(invocation.id)
        callback = self.tools.get(invocation.function_name)
        if callback is None:
            return ClientToolRequested(invocation)
        try:
            value = callback(dict(invocation.arguments))
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:  # the agent is told, the session goes on
            value = f"error: {type(exc).__name__}: {exc}"
        result = value if isinstance(value, str) else json.dumps(value, default=str)
        try:
            await self._client.chats.submit_tool_result(invocation.id, result)
        except ApiError as exc:  # e.g. stopped meanwhile: say so, keep following the chat
            return ChatError(
                exc.code or "tool_result_refused", str(exc), invocation.message_id or None, None
            )
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

    def note_result(self, result: RunResult) -> None:
        for message in (result.user_message, result.assistant_message):
            if message is not None and message.id not in self.messages:
                self.messages[message.id] = message
        assistant = result.assistant_message
        run_id = assistant.agent_run_id if assistant is not None else None
        if run_id is not None:
            run = self.runs.get(run_id)
            if run is None or not run.is_final:
                self._turn_open = True


def _as_id(data: Mapping[str, Any]) -> str:
    value = data.get("id")
    return value if isinstance(value, str) else ""


def _display_text(message: ChatMessage, streamed: str) -> str:
    if message.status in ("failed", "cancelled", "canceled"):
        return message.text or streamed
    if message.is_final:
        return message.text
    return streamed or message.text
