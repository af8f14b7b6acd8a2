"""Chat records and their wire shapes: ChatDTO, ChatMessageDTO, ToolInvocationDTO,
AgentRunDTO, InterruptDTO. State changes live in ``chats.py``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infdash.sim.agents import AgentSpec
from infdash.sim.clock import rfc3339


@dataclass
class AgentRun:
    """One turn of the agent."""

    id: str
    chat_id: str
    agent: AgentSpec
    user_message_id: str
    created_at: float
    updated_at: float
    state: str = "working"
    error: str | None = None
    finished_at: float | None = None
    interrupt_tool_id: str | None = None

    def dto(self) -> dict[str, Any]:
        """``AgentRunDTO``."""
        waiting = self.state == "input_required"
        return {
            "id": self.id,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
            "agent_id": self.agent.id,
            "agent_version_id": self.agent.version_id,
            "chat_id": self.chat_id,
            "user_message_id": self.user_message_id,
            "state": self.state,
            "error": self.error,
            "output": None,
            "finished_at": rfc3339(self.finished_at) if self.finished_at is not None else None,
            "interrupt_reason": "tool_approval" if waiting else None,
            "interrupt_tool_id": self.interrupt_tool_id if waiting else None,
            "interrupt_meta": None,
            "tool_invocation_id": self.interrupt_tool_id if waiting else None,
            "metadata": {},
        }


@dataclass
class ToolInvocation:
    """A tool call of an assistant message (``app`` tools run a real task)."""

    id: str
    call_id: str
    message_id: str
    chat_id: str
    type: str
    display_name: str
    name: str
    arguments: dict[str, Any]
    status: str
    created_at: float
    updated_at: float
    result: str | None = None
    task_id: str | None = None

    def dto(self) -> dict[str, Any]:
        """``ToolInvocationDTO`` (``execution_id`` and ``task_id`` = the linked task)."""
        return {
            "id": self.id,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
            "chat_message_id": self.message_id,
            "tool_invocation_id": self.call_id,
            "type": self.type,
            "display_name": self.display_name,
            "action": "",
            "execution_id": self.task_id,
            "task_id": self.task_id,
            "function": {"name": self.name, "arguments": self.arguments},
            "status": self.status,
            "result": self.result,
            "data": None,
        }

    @property
    def open(self) -> bool:
        """Not yet completed, failed or cancelled."""
        return self.status not in ("completed", "failed", "cancelled")


@dataclass
class Message:
    """A chat message; assistant messages grow while their run streams."""

    id: str
    chat_id: str
    role: str
    order: int
    status: str
    created_at: float
    updated_at: float
    run_id: str | None = None
    text: str = ""
    reasoning: str = ""
    error: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    tools: list[ToolInvocation] = field(default_factory=list)
    delta_seq: int = 0

    def content(self) -> list[dict[str, Any]]:
        """Content parts: reasoning, the whole text, files, then the tool calls."""
        parts: list[dict[str, Any]] = []
        if self.reasoning:
            parts.append({"type": "reasoning", "text": self.reasoning})
        if self.text or self.error:
            part: dict[str, Any] = {"type": "text", "text": self.text}
            if self.error:
                part["error"] = self.error
            parts.append(part)
        parts += [{"type": "file", "file": f} for f in self.files]
        if self.tools:
            calls = [
                {"id": t.call_id, "type": "function",
                 "function": {"name": t.name, "arguments": t.arguments}}
                for t in self.tools
            ]  # fmt: skip
            parts.append({"type": "tool", "tool_calls": calls})
        return parts

    def dto(self) -> dict[str, Any]:
        """``ChatMessageDTO``."""
        return {
            "id": self.id,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
            "chat_id": self.chat_id,
            "agent_run_id": self.run_id,
            "order": self.order,
            "status": self.status,
            "role": self.role,
            "content": self.content(),
            "task_id": None,
            "tool_invocations": [t.dto() for t in self.tools],
        }


@dataclass
class Chat:
    """A conversation with one agent."""

    id: str
    agent: AgentSpec
    name: str
    created_at: float
    updated_at: float
    messages: list[Message] = field(default_factory=list)
    active_run: AgentRun | None = None
    interrupts: list[dict[str, Any]] = field(default_factory=list)
    next_order: int = 1
    queued_seen: int = 0
    turns: int = 0

    @property
    def status(self) -> str:
        """Derived from the active run: busy, awaiting_input or idle."""
        if self.active_run is None:
            return "idle"
        return "awaiting_input" if self.active_run.state == "input_required" else "busy"

    def queued(self) -> list[Message]:
        """User messages waiting for the next turn, in arrival order."""
        return [m for m in self.messages if m.status == "queued"]

    def dto(self) -> dict[str, Any]:
        """``ChatDTO`` (never with messages)."""
        return {
            "id": self.id,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
            "deleted_at": None,
            "parent_id": None,
            "children": [],
            "status": self.status,
            "output": None,
            "context": {},
            "agent_id": self.agent.id,
            "agent": self.agent.summary(),
            "agent_version_id": self.agent.version_id,
            "name": self.name,
            "description": "",
            "agent_data": {
                "plan_steps": [],
                "memory": "",
                "allow_all_tools": False,
                "disable_hooks": False,
            },
            "active_run": self.active_run.dto() if self.active_run is not None else None,
            "active_run_id": self.active_run.id if self.active_run is not None else None,
            "pending_interrupts": list(self.interrupts),
            "work_dir": "",
        }
