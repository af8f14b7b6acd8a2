"""The task log viewer: follows a flood of lines, pauses when scrolled back, searches and saves.

Textual's ``RichLog`` keeps ~2.9 KB of segments per line and ``Log`` starts a thread per write
(performance.md §1.3), so neither survives 50,000 lines/s.  Here lines go into a columnar
:class:`~infdash.ui.logs.LogBuffer` (bounded by ``max_lines``, drops counted) and are drawn
through the Line API, only the rows on screen.  :meth:`LogView.append` takes each batch apart
into columns at once (so the caller's ``LogLine`` objects die young and do not feed full garbage
collections) and the view applies what is staged at most once per ``FLUSH_INTERVAL`` (half a
frame): no message per line, one repaint per frame however many lines arrive.

Following and pausing (as toolong and k9s do it): the view follows the tail until the user
scrolls up; then it stays put while lines arrive — also when the cap drops lines above it, the
scroll offset moves with them so the same lines stay on screen — and a badge counts the new
lines.  ``end``/``G`` returns to the tail, ``f`` toggles.  Scrolling down onto the last line
also resumes following.

Search (``/``) is case-insensitive plain text; matches are highlighted and counted per line;
``enter`` keeps them and jumps to a match (the latest one while following, else the first below
the top of the view), ``n``/``N`` move between them, ``&`` shows only matching lines, ``escape``
clears.  ``y`` copies the current line — the current match if there is one, else the last line
on screen — and ``Y`` every shown line, both as shown (timestamp when on, phase, text).
``v`` starts a line selection at that same line (vim's visual line mode, less/k9s style): the
movement keys then move its far end instead of scrolling, ``y`` copies the selected shown lines
(as ``Y`` does) and ends it, ``escape`` or ``v`` ends it without copying.  Dragging the mouse
over lines selects them too (a click alone selects nothing).  Selecting pauses following; the
ends are absolute line indices, so lines the cap drops leave the selection without shifting it.
``ctrl+s`` asks for a path and writes the shown lines the same way; it never overwrites: an
existing name is refused in the dialog and the file is opened exclusively (``"x"``).

Every line is cleaned again on append (R22): an ``ESC[2J`` or OSC sequence is removed even when
a caller forgot to.  Text is drawn as plain segments, never markup; colours come from the theme.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import ClassVar, NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label

from infdash.ui.logs.buffer import Appended, LogBuffer, LogLine
from infdash.ui.logs.layout import (
    WrapIndex,
    phase_column,
    plain,
    prefix_width,
    slice_segments,
    stamp,
    wrapped_height,
)
from infdash.ui.logs.selection import LineSelection
from infdash.ui.sanitize import clean_line

__all__ = ["LogLine", "LogStatus", "LogView", "SaveLogScreen"]

FLUSH_INTERVAL = 1 / 120
"""Least seconds between two flushes of queued appends (two per 60 Hz frame at most).

Not one per frame: Textual paints on a 60 Hz timer that idles while nothing changed, and a
change that comes after a missed tick is painted at once but the tick after it is skipped
(``Timer`` with ``skip``), so the screen waits up to two frame periods.  A flood flushed every
~20 ms (a 60 Hz throttle over 10 ms reads) kept missing ticks: a key pressed then waited ~35 ms
for its frame (B7 key p99 ~45-50 ms).  Flushed as the reads come, the screen has changed
before every tick and frames keep to the 60 Hz beat (B7 key p99 ~25 ms).
"""
STATUS_INTERVAL = 0.3
"""The status line (badge, dropped, matches) changes at most this often under a flood."""
_CACHE_SIZE = 512


class _Styles(NamedTuple):
    """The Rich styles a row is drawn with, cached until the theme changes."""

    text: Style
    phase: Style
    time: Style
    match: Style
    current: Style
    selected_text: Style
    selected_phase: Style
    selected_time: Style


class LogLines(ScrollView, can_focus=True):
    """The scrolling body of a :class:`LogView`: shown lines of its buffer, drawn per row."""

    ALLOW_SELECT = False
    """A drag selects whole lines (ours), not Textual's character selection."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "line_up", "Up", show=False, id="log_view.up", tooltip="Scroll up a line"),
        Binding(
            "down,j",
            "line_down",
            "Down",
            show=False,
            id="log_view.down",
            tooltip="Scroll down a line",
        ),
        Binding(
            "pageup,ctrl+b",
            "page_up",
            "Page up",
            show=False,
            id="log_view.page_up",
            tooltip="Scroll up a page (pauses following)",
        ),
        Binding(
            "pagedown,ctrl+d",
            "page_down",
            "Page down",
            show=False,
            id="log_view.page_down",
            tooltip="Scroll down a page",
        ),
        Binding(
            "home,g", "top", "Top", show=False, id="log_view.top", tooltip="Oldest retained line"
        ),
        Binding(
            "end,G",
            "tail",
            "Tail",
            id="log_view.tail",
            tooltip="Jump to the newest line and follow",
        ),
        Binding("left", "left", "Left", show=False, id="log_view.left", tooltip="Scroll left"),
        Binding("right", "right", "Right", show=False, id="log_view.right", tooltip="Scroll right"),
        Binding(
            "escape",
            "end_selection",
            "Clear selection",
            show=False,
            id="log_view.clear_selection",
            tooltip="End the selection without copying",
        ),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log-view--phase",
        "log-view--time",
        "log-view--match",
        "log-view--match-current",
        "log-view--selection",
    }

    DEFAULT_CSS = """
    LogLines {
        height: 1fr;
        background: $surface;
        color: $foreground;
        overflow-y: scroll;
        overflow-x: auto;
        scrollbar-size-vertical: 1;
        &.-wrap { overflow-x: hidden; }
        & > .log-view--phase { color: $foreground 50%; }
        & > .log-view--time { color: $foreground 60%; }
        & > .log-view--match { background: $warning 40%; }
        & > .log-view--match-current { background: $warning 80%; color: $background; }
        & > .log-view--selection { background: $primary 40%; }
    }
    """

    def __init__(
        self,
        buffer: LogBuffer,
        on_change: Callable[[], None],
        on_select: Callable[[], None] | None = None,
    ) -> None:
        """Args:
        buffer: The lines to show.
        on_change: Called when the status line may need redrawing (the owner throttles it).
        on_select: Called when the selection changed (a key or a drag: shown at once).
        """
        super().__init__()
        self.buffer = buffer
        self._on_change = on_change
        self._on_select = on_select or on_change
        self.following = True
        """Whether new lines scroll the view to the tail."""
        self.new_lines = 0
        """Shown lines that arrived while paused."""
        self.current: int | None = None
        """Absolute index of the current search match, if any."""
        self.selection: LineSelection | None = None
        """The selected lines (absolute indices), while selecting."""
        self._drag: int | None = None
        """Absolute index of the line under a mouse press, until the button is released."""
        self.wrap = False
        self.timestamps = False
        self.max_width = 0
        """The longest line seen, in characters (horizontal scroll extent)."""
        self._rows: WrapIndex | None = None
        """In wrap mode, where each shown line starts; ``None`` otherwise."""
        self._cache: OrderedDict[tuple[int, bool], Strip] = OrderedDict()
        self._cache_key: tuple[object, ...] = ()
        self._style_cache: _Styles | None = None

    # -- geometry ------------------------------------------------------------------------------

    @property
    def prefix_width(self) -> int:
        """Cells before the text: timestamp (when on) and phase column."""
        return prefix_width(self.timestamps)

    @property
    def text_width(self) -> int:
        """Cells of text per row (wrap width)."""
        return max(1, self.scrollable_content_region.width - self.prefix_width)

    def _heights(self, shown: Iterable[int]) -> Iterator[int]:
        width = self.text_width
        text = self.buffer.text
        for index in shown:
            yield wrapped_height(text(index), width)

    def _rebuild_rows(self) -> None:
        self._rows = WrapIndex(self._heights(self.buffer.iter_shown())) if self.wrap else None

    def row_count(self) -> int:
        """Virtual rows: shown lines, or wrapped rows in wrap mode."""
        return self.buffer.shown_count if self._rows is None else self._rows.rows

    def row_of(self, shown: int) -> int:
        """The first virtual row of shown line ``shown``."""
        return shown if self._rows is None else self._rows.row_of(shown)

    def locate(self, row: int) -> tuple[int, int]:
        """(shown line, wrapped sub-row) at virtual ``row``."""
        return (row, 0) if self._rows is None else self._rows.locate(row)

    def _update_virtual_size(self) -> None:
        size = Size(self.prefix_width + (0 if self.wrap else self.max_width), self.row_count())
        if size.width != self.virtual_size.width:
            self.virtual_size = size  # a wider line may show the horizontal scrollbar: layout
        elif size.height != self.virtual_size.height:
            # Assigning ``virtual_size`` (a layout reactive) re-lays out the whole screen on
            # every flush while the log grows, and a log under its cap always grows.  Our own
            # size does not depend on it (``1fr``, the vertical scrollbar always shown), so
            # only the scrollbar needs to hear of more lines.
            self.set_reactive(LogLines.virtual_size, size)
            self.vertical_scrollbar.window_virtual_size = size.height

    def top_line(self) -> int | None:
        """Absolute index of the first line on screen."""
        shown, _ = self.locate(round(self.scroll_y))
        if shown >= self.buffer.shown_count:
            return None
        return self.buffer.shown(shown)

    def bottom_line(self) -> int | None:
        """Absolute index of the last line on screen."""
        count = self.buffer.shown_count
        if count == 0:
            return None
        bottom = round(self.scroll_y) + max(1, self.scrollable_content_region.height) - 1
        shown, _ = self.locate(min(bottom, max(0, self.row_count() - 1)))
        return self.buffer.shown(min(shown, count - 1))

    # -- ingest and view changes ---------------------------------------------------------------

    def ingest(self, appended: Appended) -> None:
        """After a commit to the buffer: keep the view (following or put) and repaint."""
        added, dropped = appended
        dropped_rows = dropped
        rows = self._rows
        if rows is not None:
            if dropped >= rows.lines:
                dropped_rows = rows.rows
                self._rebuild_rows()
            else:
                dropped_rows = rows.drop(dropped)
                shown = self.buffer.shown
                fresh = range(rows.lines, self.buffer.shown_count)
                rows.extend(self._heights(shown(k) for k in fresh))
        self._update_virtual_size()
        if self.following and self.is_vertical_scrollbar_grabbed:
            self.following = False
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        else:
            self.new_lines += added
            if dropped_rows:
                self.scroll_to(y=max(0, self.scroll_y - dropped_rows), animate=False)
        if self.current is not None and self.current < self.buffer.dropped:
            self.current = None
        if self.selection is not None and self.selection.gone(self.buffer):
            self.selection = None
        self.refresh()

    def change_view(self, change: Callable[[], None]) -> None:
        """Run ``change`` (a filter or search change), keeping the top line or the tail."""
        anchor = self.top_line()
        change()
        self._cache.clear()
        self._rebuild_rows()
        self._update_virtual_size()
        if self.current is not None and self.buffer.shown_row(self.current) is None:
            self.current = None
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        elif anchor is not None:
            shown = self.buffer.first_shown_at_or_after(anchor)
            self.scroll_to(y=self.row_of(min(shown, self.buffer.shown_count)), animate=False)
        self.refresh()
        self._on_change()

    def reset(self) -> None:
        """After :meth:`LogBuffer.clear`: empty, following."""
        self.new_lines = 0
        self.current = None
        self.selection = None
        self.max_width = 0
        self.following = True
        self.change_view(lambda: None)

    def on_resize(self, event: events.Resize) -> None:
        if self.wrap:
            self.change_view(lambda: None)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
        self._style_cache = None

    # -- following -----------------------------------------------------------------------------

    def pause(self) -> None:
        """Stop following the tail (the view stays put)."""
        if self.following:
            self.following = False
            self.new_lines = 0
            self._on_change()

    def follow(self) -> None:
        """Jump to the tail and follow it (ending a selection)."""
        if self.selection is not None:
            self.selection = None
            self._on_select()
        self.following = True
        self.new_lines = 0
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()
        self._on_change()

    def _resume_at_end(self) -> None:
        if self.selection is None and not self.following and self.scroll_y >= self.max_scroll_y:
            self.follow()

    def _scroll_by(self, rows: int) -> None:
        if self.selection is not None:
            self._move_cursor(self._cursor_row() + rows)
            return
        if rows < 0:
            self.pause()
        self.scroll_to(y=max(0, self.scroll_y + rows), animate=False)
        if rows > 0:
            self._resume_at_end()

    def action_line_up(self) -> None:
        self._scroll_by(-1)

    def action_line_down(self) -> None:
        self._scroll_by(1)

    def action_page_up(self) -> None:
        self._scroll_by(-max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        self._scroll_by(max(1, self.scrollable_content_region.height - 1))

    def action_top(self) -> None:
        if self.selection is not None:
            self._move_cursor(0)
            return
        self.pause()
        self.scroll_to(y=0, animate=False)

    def action_tail(self) -> None:
        if self.selection is not None:
            self._move_cursor(self.buffer.shown_count - 1)
            return
        self.follow()

    def action_left(self) -> None:
        self.scroll_to(x=max(0, self.scroll_x - 4), animate=False)

    def action_right(self) -> None:
        self.scroll_to(x=self.scroll_x + 4, animate=False)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.pause()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self.call_after_refresh(self._resume_at_end)

    # -- search --------------------------------------------------------------------------------

    def goto_match(self, forward: bool) -> bool:
        """Make the next (or previous) match current and scroll to it; False when none."""
        matches = self.buffer.matches
        if not matches:
            return False
        current = self.current
        if current is None:
            if self.following and not forward:
                pick = len(matches) - 1
            else:
                top = self.top_line() if forward else self.bottom_line()
                top = self.buffer.dropped if top is None else top
                pick = bisect_right(matches, top - 1) if forward else bisect_right(matches, top) - 1
        else:
            pick = (
                bisect_right(matches, current)
                if forward
                else bisect_right(matches, current - 1) - 1
            )
        index = matches[pick % len(matches)]
        self.current = index
        if self.selection is not None:
            self.selection.cursor = index  # as in vim: ``n`` extends the selection
            self._on_select()
        self.pause()
        shown = self.buffer.shown_row(index)
        if shown is not None:
            row = self.row_of(shown)
            height = max(1, self.scrollable_content_region.height)
            if not self.scroll_y <= row < self.scroll_y + height:
                self.scroll_to(y=max(0, row - height // 3), animate=False)
        self._cache.clear()
        self.refresh()
        self._on_change()
        return True

    def match_position(self) -> tuple[int, int]:
        """(1-based index of the current match or 0, match count)."""
        matches = self.buffer.matches
        if self.current is None:
            return 0, len(matches)
        return bisect_right(matches, self.current - 1) + 1, len(matches)

    # -- selection -----------------------------------------------------------------------------

    def select(self, index: int) -> None:
        """Start selecting at absolute line ``index`` (pauses following)."""
        self.pause()
        self.selection = LineSelection(index, index)
        self.refresh()
        self._on_select()

    def end_selection(self) -> None:
        """Forget the selection (nothing is copied)."""
        if self.selection is not None:
            self.selection = None
            self.refresh()
            self._on_select()

    def action_end_selection(self) -> None:
        if self.selection is None:
            raise SkipAction()  # escape then clears the search (LogView) or leaves the screen
        self.end_selection()

    def _cursor_row(self) -> int:
        """The shown row of the selection's moving end (the next shown one if it is hidden)."""
        assert self.selection is not None
        row = self.buffer.first_shown_at_or_after(self.selection.cursor)
        return min(row, max(0, self.buffer.shown_count - 1))

    def _move_cursor(self, row: int) -> None:
        """Move the selection's moving end to shown ``row`` (clamped) and bring it on screen."""
        count = self.buffer.shown_count
        if self.selection is None or count == 0:
            return
        row = min(max(0, row), count - 1)
        self.selection.cursor = self.buffer.shown(row)
        self._reveal(row)
        self.refresh()
        self._on_select()

    def _reveal(self, shown: int) -> None:
        """Scroll the least that puts shown line ``shown`` on screen (its top if it is taller)."""
        first = self.row_of(shown)
        last = self.row_of(shown + 1) - 1
        height = max(1, self.scrollable_content_region.height)
        if first < self.scroll_y:
            self.scroll_to(y=first, animate=False, immediate=True)
        elif last >= self.scroll_y + height:
            self.scroll_to(y=min(first, last - height + 1), animate=False, immediate=True)

    def _line_at(self, y: int) -> int | None:
        """Absolute index of the line drawn at content row ``y`` (clamped to the screen)."""
        count = self.buffer.shown_count
        if count == 0:
            return None
        y = min(max(0, y), max(1, self.scrollable_content_region.height) - 1)
        shown, _ = self.locate(min(round(self.scroll_y) + y, max(0, self.row_count() - 1)))
        return self.buffer.shown(min(shown, count - 1))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        offset = event.get_content_offset(self)
        if event.button != 1 or offset is None:
            return
        self._drag = self._line_at(offset.y)
        if self._drag is not None:
            self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        anchor = self._drag
        if anchor is None:
            return
        y = event.get_content_offset_capture(self).y
        height = max(1, self.scrollable_content_region.height)
        if y < 0 or y >= height:  # dragged past an edge: scroll a row that way per move
            step = -1 if y < 0 else 1
            self.scroll_to(y=max(0, self.scroll_y + step), animate=False, immediate=True)
        index = self._line_at(y)
        if index is None:
            return
        selection = self.selection
        if selection is not None and selection.anchor == anchor:
            if index == selection.cursor:
                return
            selection.cursor = index
        elif index == anchor:
            return  # not dragged off the pressed line yet: a click selects nothing
        else:
            self.pause()
            self.selection = LineSelection(anchor, index)
        self.refresh()
        self._on_select()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._drag is not None:
            self._drag = None
            self.release_mouse()

    # -- text ----------------------------------------------------------------------------------

    def plain(self, index: int) -> str:
        """Line ``index`` as shown, as plain text."""
        return plain(self.buffer, index, self.timestamps)

    # -- drawing -------------------------------------------------------------------------------

    def _styles(self) -> _Styles:
        """Row styles, cached until the theme changes."""
        if self._style_cache is None:
            get = self.get_component_rich_style
            text, phase, time = self.rich_style, get("log-view--phase"), get("log-view--time")
            # only the background of the selection: the text keeps its colours
            selected = Style(bgcolor=get("log-view--selection").bgcolor)
            self._style_cache = _Styles(
                text,
                phase,
                time,
                get("log-view--match"),
                get("log-view--match-current"),
                text + selected,
                phase + selected,
                time + selected,
            )
        return self._style_cache

    def _text_strip(self, index: int, selected: bool, base: Style, hit: Style) -> Strip:
        """The whole text of a non-ASCII line as a strip (cached: cell widths vary)."""
        key = (self.buffer.term, self.current)
        if key != self._cache_key:
            self._cache.clear()
            self._cache_key = key
        cached = (index, selected)
        strip = self._cache.get(cached)
        if strip is not None:
            self._cache.move_to_end(cached)
            return strip
        text = self.buffer.text(index)
        segments: list[Segment] = []
        at = 0
        for start, end in self.buffer.spans(text):
            if start > at:
                segments.append(Segment(text[at:start], base))
            segments.append(Segment(text[start:end], hit))
            at = end
        if at < len(text):
            segments.append(Segment(text[at:], base))
        strip = Strip(segments, cell_len(text))
        self._cache[cached] = strip
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return strip

    def _text_segments(
        self, index: int, selected: bool, start: int, length: int, base: Style, hit: Style
    ) -> tuple[list[Segment], int]:
        """Cells ``start``..``start + length`` of line ``index``: (segments, cells used)."""
        text = self.buffer.text(index)
        if not text.isascii():
            strip = self._text_strip(index, selected, base, hit).crop(start, start + length)
            return list(strip), strip.cell_length
        spans = self.buffer.spans(text) if self.buffer.pattern is not None else ()
        segments = slice_segments(text, spans, start, start + length, base, hit)
        return segments, max(0, min(start + length, len(text)) - start)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        styles = self._styles()
        shown, sub = self.locate(round(self.scroll_y) + y)
        if shown >= self.buffer.shown_count:
            return Strip.blank(width, styles.text)
        index = self.buffer.shown(shown)
        selection = self.selection
        selected = selection is not None and selection.low <= index <= selection.high
        if selected:
            base, phase_style, time_style = (
                styles.selected_text,
                styles.selected_phase,
                styles.selected_time,
            )
        else:
            base, phase_style, time_style = styles.text, styles.phase, styles.time
        prefix_width = self.prefix_width
        segments: list[Segment] = []
        if sub:
            segments.append(Segment(" " * prefix_width, base))
        else:
            if self.timestamps:
                segments.append(Segment(stamp(self.buffer.timestamp(index)) + " ", time_style))
            segments.append(Segment(phase_column(self.buffer.phase_of(index)), phase_style))
        text_width = max(0, width - prefix_width)
        start = sub * text_width if self.wrap else round(self.scroll_x)
        hit = styles.current if index == self.current else styles.match
        body, used = self._text_segments(index, selected, start, text_width, base, hit)
        segments.extend(body)
        used += prefix_width
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        strip = Strip(segments, max(width, used))
        return strip.crop(0, width) if used > width else strip


class SaveLogScreen(ModalScreen[str | None]):
    """Ask where to save the shown log lines; refuses an existing file name."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="log_view.save_cancel", tooltip="Do not save"),
    ]

    DEFAULT_CSS = """
    SaveLogScreen {
        align: center middle;
        & > Vertical {
            width: 70;
            height: auto;
            padding: 1 2;
            background: $panel;
            border: round $primary;
        }
        & #save-error { color: $error; height: auto; }
    }
    """

    def __init__(self, default: str) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Save the shown log lines to:", markup=False)
            yield Input(self.default, id="save-path")
            yield Label("", id="save-error", markup=False)

    @on(Input.Submitted, "#save-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        error = self.query_one("#save-error", Label)
        if not value:
            error.update("Type a file name.")
            return
        path = Path(value).expanduser()
        if path.exists():
            error.update(f"{path} already exists: choose another name.")
            return
        self.dismiss(str(path))

    def action_cancel(self) -> None:
        self.dismiss(None)


class LogStatus(Widget):
    """One line under the log: follow state, the "N new lines" badge, matches, drops.

    Drawn by :meth:`render` and repainted without a layout pass: under a flood it changes a few
    times a second, and re-laying out the screen each time (as ``Label.update`` does) showed
    up in key latency (B7).
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log-status--badge",
        "log-status--dropped",
        "log-status--selection",
    }

    DEFAULT_CSS = """
    LogStatus {
        height: 1;
        background: $panel;
        color: $foreground 70%;
        & > .log-status--badge { background: $accent; color: $background; }
        & > .log-status--dropped { color: $warning; }
        & > .log-status--selection { background: $primary 40%; color: $foreground; }
    }
    """

    state = ""
    """``following`` or ``paused``, with the phase filter and wrap."""
    badge = ""
    """``▼ N new lines (End)`` while paused with new lines, else empty."""
    matches = ""
    """The search position and count, or empty."""
    dropped = ""
    """``N older lines dropped``, or empty."""
    selected = ""
    """``N lines selected (y copies, esc clears)`` while selecting, else empty."""

    def show(self, state: str, badge: str, matches: str, dropped: str, selected: str = "") -> None:
        """Set the parts; repaint when one changed."""
        parts = (state, badge, matches, dropped, selected)
        if parts != (self.state, self.badge, self.matches, self.dropped, self.selected):
            self.state, self.badge, self.matches, self.dropped, self.selected = parts
            self.refresh()

    def render(self) -> Text:
        text = Text(self.state, no_wrap=True, overflow="ellipsis")
        if self.selected:
            text.append("  ")
            text.append(self.selected, self.get_component_rich_style("log-status--selection"))
        if self.badge:
            text.append("  ")
            text.append(self.badge, self.get_component_rich_style("log-status--badge"))
        if self.matches:
            text.append("  " + self.matches)
        if self.dropped:
            text.append("  ")
            text.append(self.dropped, self.get_component_rich_style("log-status--dropped"))
        return text


class LogView(Widget):
    """A task log: follow/pause, phase filter, search, wrap, timestamps, select, copy, save."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", id="log_view.search", tooltip="Search the log"),
        # Footer room is shared with the screen's keys: the rarer ones show in the key panel (?).
        Binding(
            "n", "next_match", "Next", show=False, id="log_view.next_match", tooltip="Next match"
        ),
        Binding(
            "N",
            "previous_match",
            "Previous",
            show=False,
            id="log_view.previous_match",
            tooltip="Previous match",
        ),
        Binding(
            "ampersand",
            "filter_matches",
            "Only matches",
            show=False,
            id="log_view.filter_matches",
            tooltip="Show only lines that match the search (toggle)",
        ),
        Binding("f", "toggle_follow", "Follow", id="log_view.follow", tooltip="Follow or pause"),
        Binding(
            "w", "toggle_wrap", "Wrap", show=False, id="log_view.wrap", tooltip="Wrap long lines"
        ),
        Binding(
            "t",
            "toggle_timestamps",
            "Times",
            show=False,
            id="log_view.timestamps",
            tooltip="Show timestamps",
        ),
        Binding(
            "v",
            "select",
            "Select",
            id="log_view.select",
            tooltip="Select lines from the current one: move to extend, y copies, escape ends",
        ),
        Binding(
            "y",
            "copy_line",
            "Copy",
            id="log_view.copy_line",
            tooltip="Copy the selected lines, else the current line",
        ),
        Binding(
            "Y",
            "copy_all",
            "Copy all",
            show=False,
            id="log_view.copy_all",
            tooltip="Copy every shown line",
        ),
        Binding(
            "ctrl+s", "save", "Save", id="log_view.save", tooltip="Save the shown lines to a file"
        ),
        Binding(
            "escape",
            "clear_search",
            "Clear search",
            show=False,
            id="log_view.clear_search",
            tooltip="Clear the search and its filter",
        ),
    ]

    DEFAULT_CSS = """
    LogView {
        height: 1fr;
        layout: vertical;
        & > #log-search { display: none; height: 3; }
        & > #log-search.-open { display: block; }
    }
    """

    def __init__(
        self,
        max_lines: int = 100_000,
        *,
        now: Callable[[], float] = time.monotonic,
        save_name: str = "task-logs.txt",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """Args:
        max_lines: Lines retained; older ones are dropped and counted.
        now: Monotonic clock for throttling the status line (tests pin it).
        save_name: The file name ``ctrl+s`` suggests.
        """
        super().__init__(name=name, id=id, classes=classes)
        self.buffer = LogBuffer(max_lines)
        self.save_name = save_name
        """The path ``ctrl+s`` prefills (the owner sets e.g. ``./task-<id>-logs.txt``)."""
        self._now = now
        self._flush_timer: Timer | None = None
        self._status_timer: Timer | None = None
        self._status_at = -1e9
        self._flushed_at = -1e9
        self.lines = LogLines(self.buffer, self._status_soon, self._update_status)
        """The scrolling body (focus target)."""
        self.status = LogStatus(id="log-status")
        """The status line under the body."""

    def compose(self) -> ComposeResult:
        yield self.lines
        yield Input(placeholder="search (plain text, any case)", id="log-search")
        yield self.status

    def on_mount(self) -> None:
        self._update_status()
        if self.buffer.staged:
            self.call_later(self.flush)

    def focus(self, scroll_visible: bool = True) -> LogView:
        """Focus the scrolling body."""
        self.lines.focus(scroll_visible)
        return self

    # -- public API ----------------------------------------------------------------------------

    @property
    def dropped(self) -> int:
        """Lines dropped by the cap."""
        return self.buffer.dropped

    @property
    def following(self) -> bool:
        """Whether the view follows the tail."""
        return self.lines.following

    @property
    def new_lines(self) -> int:
        """Lines that arrived while paused (the badge)."""
        return self.lines.new_lines

    @property
    def pending(self) -> int:
        """Appended lines not applied yet (applied on the next flush)."""
        return self.buffer.staged

    def append(self, lines: Iterable[LogLine]) -> None:
        """Queue ``lines``; they are cleaned (R22) and applied within a frame.

        At most one flush runs per ``FLUSH_INTERVAL``: the first append after a quiet spell is
        applied at once, later ones wait for a timer.
        """
        batch = lines if isinstance(lines, list) else list(lines)
        if not batch:
            return
        texts = [line.text for line in batch]
        if not "".join(texts).isprintable():  # one C-speed check for the common case
            batch = [
                line if (text := clean_line(line.text)) is line.text
                else LogLine(text, line.phase, line.at, line.seq)
                for line in batch
            ]  # fmt: skip
        self.lines.max_width = max(self.lines.max_width, max(map(len, texts)))
        self.buffer.stage(batch)
        if not self.is_mounted:
            return
        if self._now() - self._flushed_at >= FLUSH_INTERVAL:
            self.flush()
        elif self._flush_timer is None:
            self._flush_timer = self.set_timer(FLUSH_INTERVAL, self.flush, name="log-flush")

    def flush(self) -> None:
        """Apply queued lines now."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        self._flushed_at = self._now()
        if not self.buffer.staged:
            return
        self.lines.ingest(self.buffer.commit())
        self._status_soon()

    def set_phase_filter(self, phase: str | None) -> None:
        """Show only ``phase`` lines (``None``: all phases)."""
        self.flush()
        self.lines.change_view(lambda: self.buffer.set_phase(phase))

    def set_search(self, term: str) -> None:
        """Highlight ``term`` (case-insensitive plain text; "" clears)."""
        self.flush()
        self.lines.current = None
        self.lines.change_view(lambda: self.buffer.set_search(term))

    def clear(self) -> None:
        """Forget every line."""
        self.buffer.clear()
        self.lines.reset()

    def shown_text(self) -> list[str]:
        """Every shown line, as shown (what ``Y`` copies and ``ctrl+s`` writes)."""
        plain = self.lines.plain
        return [plain(index) for index in self.buffer.iter_shown()]

    # -- flush and status ----------------------------------------------------------------------

    def _status_soon(self) -> None:
        wait = self._status_at + STATUS_INTERVAL - self._now()
        if wait <= 0:
            self._update_status()
        elif self._status_timer is None:
            self._status_timer = self.set_timer(wait, self._update_status, name="log-status")

    def _update_status(self) -> None:
        if self._status_timer is not None:
            self._status_timer.stop()
            self._status_timer = None
        self._status_at = self._now()
        if not self.is_mounted:
            return
        body = self.lines
        state = "following" if body.following else "paused (f: follow)"
        if self.buffer.phase is not None:
            state += f" · {self.buffer.phase}"
        if body.wrap:
            state += " · wrap"
        badge = ""
        if not body.following and body.new_lines:
            badge = f"▼ {body.new_lines:,} new line{'s' * (body.new_lines != 1)} (End)"
        matches = ""
        if self.buffer.term:
            position, count = body.match_position()
            matches = f"match {position}/{count:,}" if position else f"{count:,} matches"
            if self.buffer.only_matches:
                matches += " · only matches"
        dropped = self.buffer.dropped
        text = f"{dropped:,} older line{'s' * (dropped != 1)} dropped" if dropped else ""
        selected = ""
        if body.selection is not None:
            count = body.selection.count(self.buffer)
            selected = f"{count:,} line{'s' * (count != 1)} selected (y copies, esc clears)"
        self.status.show(state, badge, matches, text, selected)

    # -- search input --------------------------------------------------------------------------

    def action_search(self) -> None:
        search = self.query_one("#log-search", Input)
        search.add_class("-open")
        search.value = self.buffer.term
        search.focus()

    @on(Input.Changed, "#log-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.set_search(event.value)

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#log-search", Input).remove_class("-open")
        self.lines.focus()
        if self.lines.current is None:
            self.lines.goto_match(forward=not self.lines.following)
        self._update_status()

    def action_clear_search(self) -> None:
        search = self.query_one("#log-search", Input)
        if not self.buffer.term and not search.has_class("-open"):
            raise SkipAction()
        search.remove_class("-open")
        search.value = ""
        self.lines.focus()
        self.set_search("")
        self._update_status()

    def action_next_match(self) -> None:
        if not self.lines.goto_match(forward=True):
            self.notify("No match." if self.buffer.term else "Search first (/).")

    def action_previous_match(self) -> None:
        if not self.lines.goto_match(forward=False):
            self.notify("No match." if self.buffer.term else "Search first (/).")

    def action_filter_matches(self) -> None:
        if not self.buffer.term:
            self.notify("Search first (/), then & shows only matching lines.")
            return
        only = not self.buffer.only_matches
        self.flush()
        self.lines.change_view(lambda: self.buffer.set_only_matches(only))

    # -- toggles -------------------------------------------------------------------------------

    def action_toggle_follow(self) -> None:
        if self.lines.following:
            self.lines.pause()
        else:
            self.lines.follow()

    def action_toggle_wrap(self) -> None:
        self.lines.wrap = not self.lines.wrap
        self.lines.set_class(self.lines.wrap, "-wrap")
        if self.lines.wrap:
            self.lines.scroll_to(x=0, animate=False)
        self.lines.change_view(lambda: None)

    def action_toggle_timestamps(self) -> None:
        self.lines.timestamps = not self.lines.timestamps
        self.lines.change_view(lambda: None)

    # -- copy and save -------------------------------------------------------------------------

    def current_line(self) -> int | None:
        """The line ``y`` copies: the current match when shown, else the last line on screen."""
        current = self.lines.current
        if current is not None and self.buffer.shown_row(current) is not None:
            return current
        return self.lines.bottom_line()

    def selected_text(self) -> list[str]:
        """The selected shown lines, as shown (empty when nothing is selected)."""
        selection = self.lines.selection
        if selection is None:
            return []
        plain = self.lines.plain
        return [plain(index) for index in selection.indices(self.buffer)]

    def action_select(self) -> None:
        if self.lines.selection is not None:
            self.lines.end_selection()
            return
        index = self.current_line()
        if index is None:
            self.notify("Nothing to select.")
            return
        self.lines.select(index)

    def action_copy_line(self) -> None:
        if self.lines.selection is not None:
            self._copy_selection()
            return
        index = self.current_line()
        if index is None:
            self.notify("Nothing to copy.")
            return
        self.app.copy_to_clipboard(self.lines.plain(index))
        self.notify("Copied 1 line.")

    def _copy_selection(self) -> None:
        lines = self.selected_text()
        self.lines.end_selection()
        if not lines:
            self.notify("Nothing selected: the selected lines were dropped or filtered out.")
            return
        self.app.copy_to_clipboard("\n".join(lines))
        self.notify(f"Copied {len(lines):,} line{'s' * (len(lines) != 1)}.")

    def action_copy_all(self) -> None:
        self.flush()
        lines = self.shown_text()
        self.app.copy_to_clipboard("\n".join(lines))
        self.notify(f"Copied {len(lines):,} line{'s' * (len(lines) != 1)}.")

    def action_save(self) -> None:
        self.app.push_screen(SaveLogScreen(self.save_name), self._save_to)

    def _save_to(self, path: str | None) -> None:
        if path is None:
            return
        self.flush()
        lines = self.shown_text()
        try:
            with open(path, "x", encoding="utf-8") as file:
                for line in lines:
                    file.write(line)
                    file.write("\n")
        except OSError as error:
            self.notify(f"Not saved: {error}", severity="error")
            return
        self.notify(f"Saved {len(lines):,} line{'s' * (len(lines) != 1)} to {path}")
