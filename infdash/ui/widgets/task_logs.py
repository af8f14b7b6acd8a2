"""The Logs tab of the task detail screen: phase tabs over one :class:`LogView`, fed live.

Lines come from a :class:`~infdash.ui.detail.logs.LogFeed`: the scheduler's focused task
stream hands its log entries to the feed (no second stream), the backfill from ``/logs``
fills in what was written before the screen opened, and a tick every few seconds catches up
while the stream is down (polling fallback).  The feed deduplicates by log id, so nothing is
shown twice, and nothing is lost while the backfill is in flight.

The listener runs inside the scheduler's stream task: it only turns entries into lines and
posts them; the handler appends them to the view (one message per stream event, not per line).
Phase tabs (all / build / setup / serve / run / task) filter the view; their labels count the
lines of each phase.  ``p``/``P`` move between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, Tab, Tabs

from infdash.ui.detail.logs import LogFeed
from infdash.ui.errors import describe
from infdash.ui.logs.buffer import PHASES, LogLine
from infdash.ui.services import Services
from infdash.ui.widgets.log_view import LogView

TABS: tuple[str, ...] = ("all", *PHASES)
"""The phase tabs, in order: every line, then one tab per phase."""
TICK_SECONDS = 3.0
"""How often the feed checks whether it must catch up from ``/logs``."""
COUNT_SECONDS = 1.0
"""How often the tab labels' line counts are refreshed."""


class TaskLogs(Vertical):
    """Phase tabs and the log of one task, kept live while mounted."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "next_phase", "Phase", id="task_logs.next_phase", tooltip="Next phase tab"),
        Binding(
            "P",
            "previous_phase",
            "Previous phase",
            show=False,
            id="task_logs.previous_phase",
            tooltip="Previous phase tab",
        ),
    ]
    DEFAULT_CSS = """
    TaskLogs {
        height: 1fr;
        & > #log-phases { height: 2; }
        & > #log-note { color: $text-muted; height: auto; display: none; }
        & > #log-note.-shown { display: block; }
        & > #log-note.-error { color: $error; }
    }
    """

    @dataclass
    class Lines(Message):
        """New lines for the view (from the backfill, a catch-up or the live stream)."""

        lines: list[LogLine]

    @dataclass
    class FeedFailed(Message):
        message: str

    def __init__(
        self, services: Services, task_id: str, *, max_lines: int = 100_000, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.services = services
        self.task_id = task_id
        self.feed = LogFeed(services.scheduler, task_id)
        """Backfill + live lines, each once (tests read its counters)."""
        self.view = LogView(max_lines, save_name=f"task-{task_id[:12]}-logs.txt", id="log-view")
        self._detach_feed: object = None
        self._counts: tuple[int, ...] = ()

    def compose(self) -> ComposeResult:
        yield Tabs(*(Tab(name, id=f"phase-{name}") for name in TABS), id="log-phases")
        yield Static("", id="log-note", markup=False)
        yield self.view

    def on_mount(self) -> None:
        self._detach_feed = self.feed.attach(self.services.scheduler, self._heard)
        self._catch_up()
        self.set_interval(TICK_SECONDS, self._catch_up, name="log-catch-up")
        self.set_interval(COUNT_SECONDS, self._show_counts, name="log-counts")

    def on_unmount(self) -> None:
        if callable(self._detach_feed):
            self._detach_feed()
        self._detach_feed = None

    def _heard(self, lines: list[LogLine]) -> None:
        """Called by the scheduler's stream task: hand the lines to the message loop."""
        self.post_message(self.Lines(lines))

    @work(exclusive=True, group="log-feed", exit_on_error=False)
    async def _catch_up(self) -> None:
        try:
            lines = await self.feed.tick(self.services.scheduler)
        except Exception as error:  # one line on screen; the next tick retries
            self.post_message(self.FeedFailed(describe(error)))
            return
        if lines:
            self.post_message(self.Lines(lines))
        self.post_message(self.FeedFailed(""))

    @on(Lines)
    def _lines(self, message: Lines) -> None:
        message.stop()
        self.view.append(message.lines)

    @on(FeedFailed)
    def _feed_failed(self, message: FeedFailed) -> None:
        message.stop()
        note = self.query_one("#log-note", Static)
        if message.message:
            text = f"logs: {message.message} — retrying in {TICK_SECONDS:.0f} s"
        elif not self.feed.lines.count and self.feed.finished:
            text = "This task wrote no logs."
        else:
            text = ""
        note.update(text)
        note.set_class(bool(text), "-shown")
        note.set_class(bool(message.message), "-error")

    def _show_counts(self) -> None:
        by_phase = self.feed.lines.by_phase
        counts = (self.feed.lines.count, *(by_phase.get(name, 0) for name in PHASES))
        if counts == self._counts:
            return
        self._counts = counts
        tabs = self.query_one("#log-phases", Tabs)
        for name, count in zip(TABS, counts, strict=True):
            label = name if not count else f"{name} {count:,}"
            tabs.query_one(f"#phase-{name}", Tab).label = label

    @property
    def phase(self) -> str:
        """The active phase tab (``all`` for every line)."""
        active = self.query_one("#log-phases", Tabs).active
        return active.removeprefix("phase-") if active else "all"

    def show_phase(self, phase: str) -> None:
        self.query_one("#log-phases", Tabs).active = f"phase-{phase}"

    @on(Tabs.TabActivated, "#log-phases")
    def _phase_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        phase = event.tab.id.removeprefix("phase-") if event.tab.id else "all"
        self.view.set_phase_filter(None if phase == "all" else phase)

    def action_next_phase(self) -> None:
        self.query_one("#log-phases", Tabs).action_next_tab()

    def action_previous_phase(self) -> None:
        self.query_one("#log-phases", Tabs).action_previous_tab()
