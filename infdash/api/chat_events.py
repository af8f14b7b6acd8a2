"""Typed events of a chat session, and the streamed-text buffer that keeps reconciled text and
in-flight deltas from doubling (see :class:`StreamedText`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from infdash.api.models.chats import AgentRun, Chat, ChatMessage, Interrupt, ToolInvocation

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


class StreamedText:
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
