"""Agent chat endpoints (reference §3.4, §3.5, §4.3) as ``client.chats``, and the raw chat
stream.

:class:`ChatStream` is the low level: typed frames of ``GET /chats/{id}/stream`` over
reconnects (it never ends on its own: a chat has no ``done``). The turn logic — subscribe before
sending, deltas, reconcile after a reconnect, approvals, client tools — lives in
:class:`~infdash.api.chat_session.ChatSession` (``client.chats.session(...)``).
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Unpack

from infdash.api.errors import ValidationError
from infdash.api.models.chats import (
    Agent,
    AgentRun,
    Chat,
    ChatMessage,
    Interrupt,
    RunResult,
    ToolInvocation,
)
from infdash.api.models.common import CursorPage, as_dict, as_str, opt_int, opt_str, parse_items
from infdash.api.query import ListArgs, path_id
from infdash.api.reconnect import ReconnectingStream, StreamReconnecting

if TYPE_CHECKING:
    from infdash.api.chat_session import ChatSession, ToolCallback
    from infdash.api.client import InferenceClient, StreamFormat


@dataclass(frozen=True, slots=True)
class ChatSnapshot:
    """A ``chats`` event: the whole chat (the first frame of every connection, then updates)."""

    chat: Chat
    first: bool  # the connection's first frame (a snapshot, not a change)


@dataclass(frozen=True, slots=True)
class MessageFrame:
    """A ``chat_messages`` event: a whole message, or a partial with ``fields``."""

    data: dict[str, Any]
    fields: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class RunFrame:
    run: AgentRun


@dataclass(frozen=True, slots=True)
class DeltaFrame:
    resource_id: str
    seq: int | None
    delta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ErrorFrame:
    """An ``error`` event mid-reply (R28): the reply failed; what was streamed stays."""

    code: str
    message: str
    resource_id: str | None
    run_id: str | None


ChatFrame = ChatSnapshot | MessageFrame | RunFrame | DeltaFrame | ErrorFrame


def require_text(text: str) -> str:
    """Refuse an empty message before it is sent (the server would answer 400 anyway)."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("message is empty: type some text before sending")
    return text


class ChatsAPI:
    """``client.chats``: agents, chats, messages, the chat stream and tool approvals."""

    def __init__(self, client: InferenceClient) -> None:
        self._client = client

    async def agents(self, *, limit: int | None = None) -> CursorPage[Agent]:
        """``GET /agents``."""
        params = {"limit": limit} if limit is not None else None
        envelope = await self._client.request("GET", "/agents", params=params)
        return CursorPage.from_dict(envelope.data, Agent.from_dict)

    async def run(
        self,
        text: str,
        *,
        chat_id: str | None = None,
        agent: str | None = None,
        agent_id: str | None = None,
        attachments: Sequence[Mapping[str, Any]] = (),
        context: Mapping[str, str] | None = None,
    ) -> RunResult:
        """``POST /agents/run``: a new chat (no ``chat_id``) or the next message of one; queued
        when a run is active. Never retried once sent (it is not idempotent)."""
        require_text(text)
        body: dict[str, Any] = {"input": {"text": text}}
        if attachments:
            body["input"]["attachments"] = [dict(a) for a in attachments]
        if chat_id is not None:
            body["chat_id"] = path_id(chat_id, "chat id")
        if agent is not None:
            body["agent"] = agent
        if agent_id is not None:
            body["agent_id"] = agent_id
        if context:
            body["context"] = dict(context)
        envelope = await self._client.request("POST", "/agents/run", json=body, idempotent=False)
        return RunResult.from_dict(envelope.data)

    async def create(self, *, agent: str | None = None, name: str | None = None) -> Chat:
        """``POST /chats``: an empty chat (send with :meth:`send` or a session)."""
        body = {k: v for k, v in (("agent", agent), ("name", name)) if v is not None}
        envelope = await self._client.request("POST", "/chats", json=body, idempotent=False)
        return Chat.from_dict(envelope.data)

    async def send(self, chat_id: str, text: str) -> ChatMessage:
        """``POST /chats/{id}/messages``: the user message (``ready`` or ``queued``)."""
        require_text(text)
        envelope = await self._client.request(
            "POST",
            f"/chats/{path_id(chat_id, 'chat id')}/messages",
            json={"message": text},
            idempotent=False,
        )
        return ChatMessage.from_dict(envelope.data)

    async def list(self, **args: Unpack[ListArgs]) -> CursorPage[Chat]:
        """``POST /chats/list``: one page of chats."""
        return await self._client.list_page("/chats/list", Chat.from_dict, **args)

    async def list_query(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> CursorPage[Chat]:
        """``GET /chats``: the query-string flavour of :meth:`list`."""
        return await self._client.query_page("/chats", Chat.from_dict, limit=limit, cursor=cursor)

    async def get(self, chat_id: str) -> Chat:
        envelope = await self._client.request("GET", f"/chats/{path_id(chat_id, 'chat id')}")
        return Chat.from_dict(envelope.data)

    async def messages(
        self, chat_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> CursorPage[ChatMessage]:
        """``GET /chats/{id}/messages``: one page, newest first (the server's default)."""
        path = f"/chats/{path_id(chat_id, 'chat id')}/messages"
        return await self._client.query_page(
            path, ChatMessage.from_dict, limit=limit, cursor=cursor
        )

    async def transcript(self, chat_id: str, *, page_size: int = 50) -> builtins.list[ChatMessage]:
        """Every message of a chat (all cursor pages), sorted by ``order``."""
        seen: dict[str, ChatMessage] = {}
        cursor: str | None = None
        for _ in range(10_000):
            page = await self.messages(chat_id, limit=page_size, cursor=cursor)
            seen.update((m.id, m) for m in page.items)
            if not page.has_next or not page.next_cursor or page.next_cursor == cursor:
                break
            cursor = page.next_cursor
        return sorted(seen.values(), key=lambda m: m.order)

    async def stop(self, chat_id: str) -> Chat | None:
        """``POST /chats/{id}/stop``: end the current run; open tool calls are cancelled."""
        envelope = await self._client.request(
            "POST", f"/chats/{path_id(chat_id, 'chat id')}/stop", idempotent=False
        )
        data = envelope.data
        return Chat.from_dict(data) if isinstance(data, dict) and data.get("id") else None

    async def cancel_message(self, message_id: str) -> ChatMessage:
        """Cancel a ``queued`` message; anything else is ``ConflictError`` ``not_cancellable``."""
        envelope = await self._client.request(
            "POST",
            f"/chats/messages/{path_id(message_id, 'message id')}/cancel",
            idempotent=False,
        )
        return ChatMessage.from_dict(envelope.data)

    async def approve_tool(self, invocation_id: str) -> ToolInvocation | None:
        """``POST /tools/{id}/invoke``; with an API key: ``SignInRequiredError`` (403)."""
        return await self._tool(invocation_id, "/invoke", None)

    async def reject_tool(
        self, invocation_id: str, reason: str | None = None
    ) -> ToolInvocation | None:
        """``POST /tools/{id}/reject``; with an API key: ``SignInRequiredError`` (403)."""
        return await self._tool(invocation_id, "/reject", {"reason": reason} if reason else None)

    async def submit_tool_result(self, invocation_id: str, result: str) -> ToolInvocation | None:
        """``POST /tools/{id}``: the result of a client tool."""
        return await self._tool(invocation_id, "", {"result": result})

    async def resolve_interrupt(
        self, interrupt_id: str, decision: Literal["allow", "deny"], reason: str | None = None
    ) -> Interrupt | None:
        """``POST /interrupts/{id}/resolve``: the same as approving/rejecting its tool (and the
        same sign-in rule: an API key gets ``SignInRequiredError``)."""
        if decision not in ("allow", "deny"):
            raise ValueError(f"decision must be 'allow' or 'deny', not {decision!r}")
        body: dict[str, Any] = {"decision": decision}
        if reason:
            body["data"] = {"reason": reason}
        envelope = await self._client.request(
            "POST",
            f"/interrupts/{path_id(interrupt_id, 'interrupt id')}/resolve",
            json=body,
            idempotent=False,
        )
        data = envelope.data
        return Interrupt.from_dict(data) if isinstance(data, dict) and data.get("id") else None

    async def agent_run(self, run_id: str) -> AgentRun:
        """``GET /agent-runs/{id}``."""
        envelope = await self._client.request("GET", f"/agent-runs/{path_id(run_id, 'run id')}")
        return AgentRun.from_dict(envelope.data)

    async def run_interrupts(self, run_id: str) -> tuple[Interrupt, ...]:
        """``GET /agent-runs/{id}/interrupts``: what the run waits for."""
        envelope = await self._client.request(
            "GET", f"/agent-runs/{path_id(run_id, 'run id')}/interrupts"
        )
        data = envelope.data
        items = data if isinstance(data, builtins.list) else as_dict(data).get("items")
        parsed, _ = parse_items(items, Interrupt.from_dict)
        return parsed

    async def _tool(
        self, invocation_id: str, suffix: str, body: dict[str, Any] | None
    ) -> ToolInvocation | None:
        envelope = await self._client.request(
            "POST",
            f"/tools/{path_id(invocation_id, 'tool invocation id')}{suffix}",
            json=body,
            idempotent=False,
        )
        data = envelope.data
        if isinstance(data, dict) and data.get("id"):
            return ToolInvocation.from_dict(data)
        return None

    def stream(
        self, chat_id: str, *, fmt: StreamFormat | None = None, idle_timeout: float | None = None
    ) -> ChatStream:
        """The raw chat stream (typed frames, reconnecting, never ends on its own)."""
        return ChatStream(
            self._client, path_id(chat_id, "chat id"), fmt=fmt, idle_timeout=idle_timeout
        )

    def session(
        self,
        chat_id: str | None = None,
        *,
        agent: str | None = None,
        fmt: StreamFormat | None = None,
        idle_timeout: float | None = None,
        tools: Mapping[str, ToolCallback] | None = None,
    ) -> ChatSession:
        """A chat session: ``send(text)`` and an async iterator of typed chat events."""
        from infdash.api.chat_session import ChatSession

        return ChatSession(
            self._client,
            chat_id,
            agent=agent,
            fmt=fmt,
            idle_timeout=idle_timeout,
            tools=tools,
        )


class ChatStream(ReconnectingStream[ChatFrame]):
    """``GET /chats/{id}/stream`` as typed frames; ``connections`` counts (re)connects."""

    def __init__(
        self,
        client: InferenceClient,
        chat_id: str,
        *,
        fmt: StreamFormat | None = None,
        idle_timeout: float | None = None,
    ) -> None:
        self.chat_id = chat_id
        super().__init__(
            client,
            f"/chats/{chat_id}/stream",
            fmt=fmt,
            idle_timeout=idle_timeout,
            max_reconnects=None,
        )

    async def __aenter__(self) -> ChatStream:
        return self

    async def _connect_once(self) -> AsyncGenerator[ChatFrame, None]:
        async with self._frames() as frames:
            first = True
            async for frame in frames:
                if frame.heartbeat:
                    continue
                self._note_retry(frame)
                parsed = self._parse(frame.event, frame.data, frame.fields, first)
                if parsed is None:
                    continue
                if isinstance(parsed, ChatSnapshot):
                    first = False
                self._progress = True
                yield parsed

    def _parse(
        self, event: str, data: Any, fields: tuple[str, ...] | None, first: bool
    ) -> ChatFrame | None:
        raw = as_dict(data)
        try:
            if event == "chats":
                return ChatSnapshot(Chat.from_dict(raw), first)
            if event == "chat_messages" and opt_str(raw.get("id")):
                return MessageFrame(raw, fields)
            if event == "agent_runs":
                return RunFrame(AgentRun.from_dict(raw))
            if event == "delta" and isinstance(raw.get("delta"), dict):
                resource = as_str(raw.get("resource_id"))
                if resource:
                    return DeltaFrame(resource, opt_int(raw.get("seq")), raw["delta"])
            if event == "error":
                return ErrorFrame(
                    code=as_str(raw.get("code")) or "error",
                    message=as_str(raw.get("message")) or as_str(raw.get("detail")) or "error",
                    resource_id=opt_str(raw.get("resource_id")),
                    run_id=opt_str(raw.get("run_id")),
                )
        except ValueError:
            pass
        if event in ("chats", "chat_messages", "agent_runs", "delta"):
            self.stats.malformed += 1
        return None


__all__ = [
    "ChatFrame",
    "ChatSnapshot",
    "ChatStream",
    "ChatsAPI",
    "DeltaFrame",
    "ErrorFrame",
    "MessageFrame",
    "RunFrame",
    "StreamReconnecting",
    "require_text",
]
