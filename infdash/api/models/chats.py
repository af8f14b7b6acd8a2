"""Agent chat DTOs (reference §8.1): chats, messages, tool invocations, runs, interrupts.

Statuses are plain strings checked against known sets rather than enums: the chat protocol is
young and its enums drift (``canceled`` vs ``cancelled``), and an unknown value must still be
shown as sent. Messages change by partial updates, so :class:`ChatMessage` keeps its raw dict
and :func:`merge_message` folds a partial into it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infdash.api.models.common import (
    as_dict,
    as_int,
    as_list,
    as_str,
    opt_str,
    parse_datetime,
    parse_items,
)

CHAT_STATUSES = frozenset({"busy", "idle", "awaiting_input", "waiting", "completed"})
MESSAGE_STATUSES = frozenset({"pending", "queued", "ready", "failed", "cancelled"})
MESSAGE_FINAL = frozenset({"ready", "failed", "cancelled", "canceled"})
TOOL_FINAL = frozenset({"completed", "failed", "cancelled", "canceled"})
RUN_FINAL = frozenset({"completed", "failed", "canceled", "cancelled", "rejected"})


def _require(raw: Any, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError(f"{what} is not an object")
    if not opt_str(raw.get("id")):
        raise ValueError(f"{what} has no id")
    return raw


def _arguments(value: Any) -> dict[str, Any]:
    """Tool arguments: an object, or (as some sources send) a JSON string of one."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {"_raw": value}
    return as_dict(value)


@dataclass(frozen=True, slots=True)
class ToolInvocation:
    """One tool call of an assistant message; ``task_id`` links an app tool to its task."""

    id: str
    type: str = ""
    display_name: str = ""
    function_name: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    status: str = ""
    result: str | None = None
    task_id: str | None = None
    message_id: str = ""
    call_id: str = ""

    @property
    def is_final(self) -> bool:
        return self.status in TOOL_FINAL

    @property
    def awaiting_approval(self) -> bool:
        return self.status == "awaiting_approval"

    @classmethod
    def from_dict(cls, raw: Any) -> ToolInvocation:
        data = _require(raw, "tool invocation")
        function = as_dict(data.get("function"))
        result = data.get("result")
        return cls(
            id=as_str(data.get("id")),
            type=as_str(data.get("type")),
            display_name=as_str(data.get("display_name")),
            function_name=as_str(function.get("name")),
            arguments=_arguments(function.get("arguments")),
            status=as_str(data.get("status")),
            result=result if isinstance(result, str) else (None if result is None else str(result)),
            task_id=opt_str(data.get("task_id")) or opt_str(data.get("execution_id")),
            message_id=as_str(data.get("chat_message_id")),
            call_id=as_str(data.get("tool_invocation_id")),
        )


@dataclass(frozen=True, slots=True)
class ContentPart:
    """One part of a message: ``text``, ``reasoning``, ``image``, ``file``, ``tool``, ``event``."""

    type: str
    text: str = ""
    error: str = ""
    image: str = ""
    file: dict[str, Any] = field(default_factory=dict)
    tool_calls: tuple[dict[str, Any], ...] = ()
    event: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Any) -> ContentPart:
        data = as_dict(raw)
        image = data.get("image")
        return cls(
            type=as_str(data.get("type")) or "text",
            text=as_str(data.get("text")),
            error=as_str(data.get("error")),
            image=image if isinstance(image, str) else as_str(as_dict(image).get("uri")),
            file=as_dict(data.get("file")),
            tool_calls=tuple(c for c in as_list(data.get("tool_calls")) if isinstance(c, dict)),
            event=as_dict(data.get("event")),
        )


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """A chat message; sort a transcript by ``order`` (not ``created_at``)."""

    id: str
    chat_id: str = ""
    role: str = ""
    status: str = ""
    order: int = 0
    agent_run_id: str | None = None
    content: tuple[ContentPart, ...] = ()
    tool_invocations: tuple[ToolInvocation, ...] = ()
    task_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def text(self) -> str:
        """The message's text parts joined (the reply without reasoning)."""
        return "".join(p.text for p in self.content if p.type == "text")

    @property
    def reasoning(self) -> str:
        return "".join(p.text for p in self.content if p.type == "reasoning")

    @property
    def error(self) -> str:
        return next((p.error for p in self.content if p.error), "")

    @property
    def is_final(self) -> bool:
        """Done changing: ``ready``, ``failed`` or ``cancelled`` (``queued`` is not final)."""
        return self.status in MESSAGE_FINAL

    @classmethod
    def from_dict(cls, raw: Any) -> ChatMessage:
        data = _require(raw, "chat message")
        content, _ = parse_items(data.get("content"), ContentPart.from_dict)
        tools, _ = parse_items(data.get("tool_invocations"), ToolInvocation.from_dict)
        return cls(
            id=as_str(data.get("id")),
            chat_id=as_str(data.get("chat_id")),
            role=as_str(data.get("role")),
            status=as_str(data.get("status")),
            order=as_int(data.get("order")),
            agent_run_id=opt_str(data.get("agent_run_id")),
            content=content,
            tool_invocations=tools,
            task_id=opt_str(data.get("task_id")),
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            raw=dict(data),
        )


def merge_message(
    message: ChatMessage, partial: Mapping[str, Any], fields: Iterable[str] | None = None
) -> ChatMessage:
    """Fold a partial ``chat_messages`` update (``fields`` = keys to take) into ``message``."""
    keys = list(partial) if fields is None else [k for k in fields if k in partial]
    merged = dict(message.raw) or {"id": message.id}
    merged.update({k: partial[k] for k in keys if k != "id"})
    merged["id"] = message.id
    return ChatMessage.from_dict(merged)


@dataclass(frozen=True, slots=True)
class AgentRun:
    id: str
    state: str = ""
    chat_id: str = ""
    user_message_id: str | None = None
    error: str = ""
    interrupt_reason: str = ""
    interrupt_tool_id: str | None = None
    finished_at: datetime | None = None

    @property
    def is_final(self) -> bool:
        return self.state in RUN_FINAL

    @classmethod
    def from_dict(cls, raw: Any) -> AgentRun:
        data = _require(raw, "agent run")
        return cls(
            id=as_str(data.get("id")),
            state=as_str(data.get("state")),
            chat_id=as_str(data.get("chat_id")),
            user_message_id=opt_str(data.get("user_message_id")),
            error=as_str(data.get("error")),
            interrupt_reason=as_str(data.get("interrupt_reason")),
            interrupt_tool_id=opt_str(data.get("interrupt_tool_id")),
            finished_at=parse_datetime(data.get("finished_at")),
        )


@dataclass(frozen=True, slots=True)
class Interrupt:
    """Something a human must resolve; for ``tool_approval`` ``resource_id`` is the tool."""

    id: str
    reason: str = ""
    status: str = ""
    run_id: str = ""
    resource_id: str = ""
    resource_type: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Any) -> Interrupt:
        data = _require(raw, "interrupt")
        meta = data.get("meta")
        return cls(
            id=as_str(data.get("id")),
            reason=as_str(data.get("reason")),
            status=as_str(data.get("status")),
            run_id=as_str(data.get("run_id")),
            resource_id=as_str(data.get("resource_id")),
            resource_type=as_str(data.get("resource_type")),
            meta=_arguments(meta) if meta is not None else {},
        )


@dataclass(frozen=True, slots=True)
class Chat:
    id: str
    name: str = ""
    status: str = ""
    agent_id: str = ""
    agent_name: str = ""
    active_run: AgentRun | None = None
    pending_interrupts: tuple[Interrupt, ...] = ()
    output: Any = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_busy(self) -> bool:
        return self.status == "busy"

    @property
    def turn_over(self) -> bool:
        """The agent is done for now: ``idle``/``completed``, or not busy with no live run."""
        if self.status in ("idle", "completed"):
            return True
        return self.status not in ("busy", "awaiting_input") and (
            self.active_run is None or self.active_run.is_final
        )

    @classmethod
    def from_dict(cls, raw: Any) -> Chat:
        data = _require(raw, "chat")
        agent = as_dict(data.get("agent"))
        namespace, name = as_str(agent.get("namespace")), as_str(agent.get("name"))
        run = data.get("active_run")
        interrupts, _ = parse_items(data.get("pending_interrupts"), Interrupt.from_dict)
        return cls(
            id=as_str(data.get("id")),
            name=as_str(data.get("name")),
            status=as_str(data.get("status")),
            agent_id=as_str(data.get("agent_id")),
            agent_name=f"{namespace}/{name}" if namespace and name else name,
            active_run=AgentRun.from_dict(run) if isinstance(run, dict) and run.get("id") else None,
            pending_interrupts=interrupts,
            output=data.get("output"),
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
        )


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    namespace: str = ""
    name: str = ""
    description: str = ""
    version: str = ""
    version_id: str = ""

    @property
    def ref(self) -> str:
        """``namespace/name@version`` (as much as is known), usable as ``agent=``."""
        base = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{base}@{self.version}" if self.version else base

    @classmethod
    def from_dict(cls, raw: Any) -> Agent:
        data = _require(raw, "agent")
        version = data.get("version")
        return cls(
            id=as_str(data.get("id")),
            namespace=as_str(data.get("namespace")),
            name=as_str(data.get("name")),
            description=as_str(data.get("description")),
            version=as_str(as_dict(version).get("version"))
            if isinstance(version, dict)
            else as_str(version),
            version_id=as_str(data.get("version_id")),
        )


@dataclass(frozen=True, slots=True)
class RunResult:
    """``POST /agents/run``: the user message, plus the assistant message when a run started
    (none when the message was queued behind an active run)."""

    user_message: ChatMessage
    assistant_message: ChatMessage | None = None

    @property
    def chat_id(self) -> str:
        return (self.assistant_message and self.assistant_message.chat_id) or (
            self.user_message.chat_id
        )

    @property
    def queued(self) -> bool:
        return self.user_message.status == "queued"

    @classmethod
    def from_dict(cls, raw: Any) -> RunResult:
        data = as_dict(raw)
        assistant = data.get("assistant_message")
        return cls(
            ChatMessage.from_dict(data.get("user_message")),
            ChatMessage.from_dict(assistant) if isinstance(assistant, dict) else None,
        )
