"""The chat mode: the workspace's agent chats as a live table; open one to talk to its agent.

Each row is kept fresh by the scheduler (``GET /chats/{id}`` at the visible tier) and the list
is fetched again every 30 s; a chat waiting for a human (``awaiting_input`` with pending
interrupts) stands out.  Enter opens the chat (:class:`~infdash.ui.screens.chat.ChatScreen`),
``n`` starts a new one, ``i`` opens a panel with the chat's run, approvals and last output.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from infdash.api import Chat
from infdash.scheduler import ResourceKey, Store
from infdash.ui.sanitize import clean_line
from infdash.ui.screens._live_list import LIST_LIMIT, UPDATED, LiveListScreen, plain
from infdash.ui.screens.chat import ChatScreen
from infdash.ui.tasklist.format import ago
from infdash.ui.theming import themed

_GLYPHS: dict[str, tuple[str, str]] = {
    "busy": ("●", "primary"),
    "idle": ("○", "foreground-muted"),
    "awaiting_input": ("▲", "warning"),
    "waiting": ("◷", "foreground-muted"),
    "completed": ("✓", "success"),
}
"""A one-cell glyph per status (reads without colour) and the theme variable colouring it."""
OUTPUT_CHARS = 300


def status_text(chat: Chat) -> str:
    """``▲ awaiting_input · needs approval`` when a human must answer; else glyph and status."""
    glyph, _ = _GLYPHS.get(chat.status, ("?", ""))
    text = f"{glyph} {chat.status or 'unknown'}"
    if chat.pending_interrupts:
        text += " · needs approval"
    return text


def output_text(output: Any) -> str:
    """The chat's last output as one cleaned line, cut to :data:`OUTPUT_CHARS`."""
    if output is None or output == "" or output == {}:
        return "—"
    text = output if isinstance(output, str) else json.dumps(output, default=str)
    text = clean_line(text)
    return text if len(text) <= OUTPUT_CHARS else text[: OUTPUT_CHARS - 1] + "…"


class ChatsScreen(LiveListScreen[Chat]):
    """The workspace's agent chats and whether one waits for you."""

    NOUN = "chat"
    OWNER = "chats-screen"
    EMPTY = "No chats yet."
    COLUMNS = (
        ("name", "NAME"),
        ("agent", "AGENT"),
        ("status", "STATUS"),
        (UPDATED, "UPDATED"),
    )
    BINDING_GROUP_TITLE = "Chats"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", id="chats.refresh",
                tooltip="List the chats again now"),
        Binding("enter", "open", "Open", id="chats.open", priority=True,
                tooltip="Open the selected chat: its transcript, and talk to its agent"),
        Binding("n", "new", "New chat", id="chats.new",
                tooltip="Start a new chat with the assistant"),
        Binding("i", "details", "Details", id="chats.details",
                tooltip="Show or hide the selected chat's run, approvals and output"),
    ]  # fmt: skip

    def action_open(self) -> None:
        """Open the chat under the cursor."""
        selected = self._cursor_id()
        if selected is None:
            self.notify("no chat selected: n starts a new one", severity="warning")
            return
        self.app.push_screen(ChatScreen(self.services, selected))

    def action_new(self) -> None:
        """A new chat; back here, the list is read again so the new chat shows."""
        self.app.push_screen(ChatScreen(self.services), lambda _: self._list_now())

    async def fetch(self) -> Sequence[Chat]:
        page = await self.services.client.chats.list(limit=LIST_LIMIT)
        return page.items

    def store(self) -> Store[Chat]:
        return self.services.scheduler.chats

    def key(self, record_id: str) -> ResourceKey:
        return ResourceKey.chat(record_id)

    def cells(self, record: Chat, now: datetime) -> tuple[Text, ...]:
        colour = "warning" if record.pending_interrupts else _GLYPHS.get(record.status, ("", ""))[1]
        style = themed(self.app, colour) if colour else None
        return (
            plain(record.name or record.id),
            plain(record.agent_name or "—"),
            plain(status_text(record), style),
            plain(ago(record.updated_at, now) or "—"),
        )

    def detail(self, record: Chat, now: datetime) -> str:
        lines = [
            clean_line(f"{record.name or 'untitled'}  ·  {record.id}"),
            clean_line(f"status    {record.status or 'unknown'}"),
            clean_line(f"agent     {record.agent_name or '—'}"),
        ]
        run = record.active_run
        if run is None:
            lines.append("run       none active")
        else:
            state = f"{run.id} ({run.state or 'unknown'})"
            if run.error:
                state += f" — {run.error}"
            lines.append(clean_line(f"run       {state}"))
        approvals = record.pending_interrupts
        lines.append(f"approvals {len(approvals)} pending")
        for interrupt in approvals:
            what = " ".join(p for p in (interrupt.resource_type, interrupt.resource_id) if p)
            lines.append(clean_line(f"  {interrupt.reason or 'interrupt'}: {what or '—'}"))
        lines.append(f"output    {output_text(record.output)}")
        updated = ago(record.updated_at, now)
        if updated:
            lines.append(f"updated   {updated}")
        return "\n".join(lines)
