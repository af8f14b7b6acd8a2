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

from humanize import naturalsize
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, Tab, Tabs

from infdash.api import streams
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
        & > #log-note.-warning { color: $warning; }
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

    class EventDropped(Message):
        """The live stream dropped an event too large to read and reconnected (R24)."""

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
        self._feed_error = ""
        self.dropped_events = 0
        """Live events dropped for their size (R24), said in the note."""

    def compose(self) -> ComposeResult:
        yield Tabs(*(Tab(name, id=f"phase-{name}") for name in TABS), id="log-phases")
        yield Static("", id="log-note", markup=False)
        yield self.view

    def on_mount(self) -> None:
        self._detach_feed = self.feed.attach(self.services.scheduler, self._heard, self._dropped)
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

    def _dropped(self) -> None:
        """Called by the scheduler's stream task: an event was dropped for its size."""
        self.post_message(self.EventDropped())

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
        self._feed_error = message.message
        self._show_note()

    @on(EventDropped)
    def _event_dropped(self, message: EventDropped) -> None:
        message.stop()
        self.dropped_events += 1
        self._show_note()

    def _show_note(self) -> None:
        """One line above the log: a failing feed, else dropped events, else an empty log."""
        note = self.query_one("#log-note", Static)
        level = ""
        if self._feed_error:
            text, level = f"logs: {self._feed_error} — retrying in {TICK_SECONDS:.0f} s", "error"
        elif self.dropped_events:
            n = self.dropped_events
            events = "1 live log event" if n == 1 else f"{n:,} live log events"
            cap = naturalsize(streams.MAX_LINE_BYTES, binary=True)
            text = (
                f"Dropped {events} over {cap} and reconnected the stream; "
                "what it carried shows only if /logs has it."
            )
            level = "warning"
        elif not self.feed.lines.count and self.feed.finished:
            text = "This task wrote no logs."
        else:
            text = ""
        note.update(text)
        note.set_class(bool(text), "-shown")
        note.set_class(level == "error", "-error")
        note.set_class(level == "warning", "-warning")

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
