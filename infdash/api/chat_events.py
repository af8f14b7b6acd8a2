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

    After a reconnect the fetched text (``base``) may already hold the first deltas that
    arrive on the new stream. Which ones is certain only when no delta was missed between the
    connections (the first new ``seq`` follows the last one seen): then exactly the part of
    ``base`` past what we showed before is repeated, and is skipped chunk by chunk. Otherwise
    arriving chunks are held while they still occur in ``base``; when they stop doing so, they
    are all new if no leading run of them ends ``base``, and if one does, duplicates and new
    text cannot be told apart, so the view keeps ``base`` until authoritative text arrives
    (the final message or the next reconcile). It never shows lost or doubled text.
    """

    __slots__ = ("_base", "_floor", "_frozen", "_held", "_old_len", "_skip_from", "text")

    def __init__(self) -> None:
        self.text = ""
        self._base = ""
        self._floor = 0
        self._held: list[str] | None = None
        self._old_len: int | None = None
        self._skip_from: int | None = None
        self._frozen = False

    def decide(self, contiguous: bool) -> None:
        """Called at the first delta after an aligned reset: was any delta missed meanwhile?"""
        if self._held == [] and contiguous and self._old_len is not None:
            self._held = None
            self._skip_from = self._old_len

    def append(self, chunk: str) -> None:
        if self._frozen:
            return
        if self._skip_from is not None:
            self._skip_known(chunk)
            return
        held = self._held
        if held is None:
            self.text += chunk
            return
        held.append(chunk)
        if self._base.find("".join(held), self._floor) >= 0:
            return  # possibly all duplicates so far: keep showing the fetched text
        self._held = None
        room = len(self._base) - self._floor  # duplicates can only repeat text past the floor
        if any(
            len(run) <= room and self._base.endswith(run)
            for run in ("".join(held[:k]) for k in range(1, len(held)))
        ):
            self._frozen = True  # ambiguous: keep the fetched text until an authoritative one
            return
        self.text = self._base + "".join(held)

    def _skip_known(self, chunk: str) -> None:
        assert self._skip_from is not None
        rest = self._base[self._skip_from :]
        if rest.startswith(chunk):
            self._skip_from += len(chunk)
            if self._skip_from >= len(self._base):
                self._skip_from = None
        elif chunk.startswith(rest):
            self._skip_from = None
            self.text = self._base + chunk[len(rest) :]
        else:
            self._skip_from = None
            self._frozen = True  # the stream disagrees with the fetched text: trust neither

    def reset(self, text: str, *, align: bool) -> None:
        if self.text.startswith(text) and len(self.text) > len(text):
            text = self.text  # what we hold is newer than what was fetched
        self._old_len = len(self.text) if text.startswith(self.text) else None
        self._floor = self._old_len or 0
        self.text = self._base = text
        self._held = [] if align else None
        self._skip_from = None
        self._frozen = False
