"""The machinery both live read-only lists (engines, chats) share: list, subscribe, listen.

A worker lists the records (one request on the ``other`` limit class, re-armed as a one-shot
timer 30 s after each completion) and posts the page; the handler merges it into the
scheduler's store and subscribes the listed ids at the visible tier, so the scheduler keeps
each row fresh within the budget.  The store's listener only notes the changed ids and posts a
coalescable message; its handler redraws those rows in place, keeping the cursor.  A hidden
screen (another mode in front) releases its subscriptions and stops re-listing, so it costs no
budget.  A failed listing is told once per episode and the table keeps what it had.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from rich.style import Style
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.theme import Theme
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Static
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from infdash.scheduler import OTHER, Change, Priority, ResourceKey, Store, Tier
from infdash.scheduler.store import Record
from infdash.ui.episodes import Episodes
from infdash.ui.errors import describe
from infdash.ui.sanitize import clean_line
from infdash.ui.services import Services
from infdash.ui.tasklist.format import ago
from infdash.ui.widgets.status_bar import StatusBar

R = TypeVar("R", bound=Record)

RELIST_SECONDS = 30.0
"""How long after a listing completes (success or not) the next one starts."""
LIST_LIMIT = 200
"""One page is plenty: engines and chats of a workspace are counted in tens."""
UPDATED = "updated"
"""The column key every live list ends with: its text ages, so it is redrawn each second."""


def plain(text: str, style: Style | None = None) -> Text:
    """A cell from network text: cleaned, and a ``Text`` so the table never parses markup."""
    return Text(clean_line(text), style=style or Style(), no_wrap=True, end="")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class LiveListScreen(Screen[None], Generic[R]):
    """A table of one kind of record, listed every 30 s and kept fresh by the scheduler.

    Subclasses say what they list (:meth:`fetch`, :meth:`store`, :meth:`key`) and how a record
    reads (:attr:`COLUMNS`, :meth:`cells`, :meth:`detail`).
    """

    NOUN: ClassVar[str] = "record"
    """Singular; the status line says "3 records" and "records: <error>"."""
    OWNER: ClassVar[str] = "live-list"
    """The scheduler owner name this screen subscribes under."""
    EMPTY: ClassVar[str] = "Nothing here."
    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = ()
    """(key, label) per column; the last is :data:`UPDATED`."""

    DEFAULT_CSS = """
    LiveListScreen > DataTable { height: 1fr; }
    LiveListScreen > .live-empty { height: auto; padding: 1 2; color: $text-muted; display: none; }
    LiveListScreen > .live-progress { height: auto; padding: 0 1; color: $warning; display: none; }
    LiveListScreen > .live-status { height: 1; padding: 0 1; color: $text-muted; }
    LiveListScreen > .live-status.-error { color: $error; }
    LiveListScreen > .live-detail {
        height: auto;
        max-height: 14;
        padding: 0 1;
        border-top: solid $primary;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        display: none;
    }
    """

    @dataclass
    class Listed(Message, bubble=False):
        """A listing arrived (records in the server's order)."""

        records: tuple[Any, ...]

    @dataclass
    class ListFailed(Message, bubble=False):
        """A listing failed; ``message`` is one display-safe line."""

        message: str

    class RowsChanged(Message, bubble=False):
        """Records the table shows changed in the store (the ids wait on the screen)."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, LiveListScreen.RowsChanged)

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.ids: tuple[str, ...] = ()
        """The listed ids, in the table's order."""
        self.listed_at: datetime | None = None
        """When the last listing succeeded (wall clock, ``services.now``)."""
        self.error: str | None = None
        """The failing listing's message, until a listing succeeds."""
        self.detail_id: str | None = None
        """The record whose detail panel is open."""
        self._episodes = Episodes()
        self._pending: set[str] = set()
        self._removed: set[str] = set()
        self._last_page: dict[str, R] = {}
        """The last listing's records: drawn until the store holds the id."""
        self._shown = False
        self._listed_once = False
        self._relist_timer: Timer | None = None
        self._completed_at: float | None = None
        """When the last listing completed (monotonic), success or not."""
        self._unlisten: list[Any] = []
        self._show_when_listed: str | None = None
        """A record to put the cursor on once a listing has it (:meth:`show_record`)."""

    # -- what a subclass says --------------------------------------------------------------

    async def fetch(self) -> Sequence[R]:
        """One page of records (runs inside ``scheduler.user_action``)."""
        raise NotImplementedError

    def store(self) -> Store[R]:
        raise NotImplementedError

    def key(self, record_id: str) -> ResourceKey:
        raise NotImplementedError

    def cells(self, record: R, now: datetime) -> tuple[Text, ...]:
        """One Text per column of :attr:`COLUMNS`."""
        raise NotImplementedError

    def detail(self, record: R, now: datetime) -> str:
        """The detail panel's plain text (already cleaned)."""
        raise NotImplementedError

    def progress_text(self, now: datetime) -> str:
        """Lines above the status line while something is in progress (none by default)."""
        return ""

    def records_changed(self, ids: set[str]) -> None:
        """Records ``ids`` changed in the store (after their rows were redrawn)."""

    # -- layout and lifecycle --------------------------------------------------------------

    def compose(self) -> ComposeResult:
        table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True)
        for key, label in self.COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield Static(self.EMPTY, classes="live-empty", markup=False)
        yield Static("", classes="live-progress", markup=False)
        yield Static(f"loading {self.NOUN}s…", classes="live-status", markup=False)
        yield Static("", classes="live-detail", markup=False)
        yield StatusBar.for_services(self.services)
        yield Footer()

    @property
    def table(self) -> DataTable[Text]:
        table: DataTable[Text] = self.query_one(DataTable)
        return table

    def on_mount(self) -> None:
        self._unlisten.append(self.store().listen(self._store_changed))
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self.set_interval(1.0, self._tick)  # redraws ages only; it sends nothing

    def on_unmount(self) -> None:
        self._shown = False
        self._stop_relisting()
        self.services.scheduler.release_owner(self.OWNER)
        for unlisten in self._unlisten:
            unlisten()
        self._unlisten.clear()
        self.app.theme_changed_signal.unsubscribe(self)

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Shown (first time or back from another mode): subscribe again; list if due."""
        if self._shown:
            return  # Textual may resume a screen twice while the app starts
        self._shown = True
        self._subscribe(self.ids)
        since = None if self._completed_at is None else time.monotonic() - self._completed_at
        if since is None or since >= RELIST_SECONDS:
            self._list_now()
        else:
            self._arm(RELIST_SECONDS - since)

    def on_screen_suspend(self, event: events.ScreenSuspend) -> None:
        """Hidden: hand the budget back (no subscriptions, no re-listing)."""
        self._shown = False
        self._stop_relisting()
        self.services.scheduler.release_owner(self.OWNER)

    # -- listing ---------------------------------------------------------------------------

    @work(exclusive=True, group="live-list", exit_on_error=False)
    async def _list(self, priority: Priority) -> None:
        try:
            records = await self.services.scheduler.user_action(
                OTHER, self.fetch, priority=priority
            )
        except Exception as error:  # every failure becomes one line on screen
            self.post_message(self.ListFailed(describe(error)))
            return
        self.post_message(self.Listed(tuple(records)))

    def _list_now(self, priority: Priority = Priority.USER) -> None:
        """List now: at user priority when shown or asked for, as a poll when periodic."""
        self._stop_relisting()
        self._list(priority)

    def _relist(self) -> None:
        self._relist_timer = None
        self._list_now(Priority.POLL)

    def _stop_relisting(self) -> None:
        if self._relist_timer is not None:
            self._relist_timer.stop()
            self._relist_timer = None

    def _arm(self, delay: float | None = None) -> None:
        """The next listing in ``delay`` (default 30) seconds: a one-shot timer, none while
        hidden."""
        self._stop_relisting()
        if self._shown:
            wait = RELIST_SECONDS if delay is None else delay
            self._relist_timer = self.set_timer(wait, self._relist)

    @on(Listed)
    def _listed(self, message: Listed) -> None:
        records: tuple[R, ...] = message.records
        self._completed_at = time.monotonic()
        self._episodes.succeeded(self.NOUN)
        self.error = None
        self.listed_at = self.services.now()
        self._listed_once = True
        self.store().apply_many(records)
        ids = tuple(dict.fromkeys(r.id for r in records))
        gone = set(self.ids) - set(ids)
        self.ids = ids
        scheduler = self.services.scheduler
        for record_id in gone:
            scheduler.release(self.key(record_id), self.OWNER)
        self._subscribe(ids)
        self._last_page = {r.id: r for r in records}
        self._rebuild()
        self._arm()

    @on(ListFailed)
    def _list_failed(self, message: ListFailed) -> None:
        self._completed_at = time.monotonic()
        text = message.message.removesuffix(" — retrying")
        self.error = text
        if self._episodes.failed(self.NOUN, text):
            self.notify(text, title=f"{self.NOUN.capitalize()}s", severity="error")
        self._show_status()
        self._arm()

    def _subscribe(self, ids: Sequence[str]) -> None:
        if self._shown and ids:
            self.services.scheduler.subscribe_many(
                [self.key(i) for i in ids], Tier.VISIBLE, self.OWNER
            )

    # -- live updates ----------------------------------------------------------------------

    def _store_changed(self, change: Change) -> None:
        """Store listener (same event loop): note the ids, post one coalescable message."""
        shown = set(self.ids)
        updated, removed = change.updated & shown, change.removed & shown
        if updated or removed:
            self._pending |= updated
            self._removed |= removed
            self.post_message(self.RowsChanged())

    @on(RowsChanged)
    def _rows_changed(self) -> None:
        updated, self._pending = self._pending, set()
        removed, self._removed = self._removed, set()
        if removed:
            self.ids = tuple(i for i in self.ids if i not in removed)
            self._rebuild()
            return
        now = self.services.now()
        for record_id in updated:
            self._update_row(record_id, now)
        if self.detail_id in updated:
            self._show_detail()
        self.records_changed(updated)

    def _theme_changed(self, theme: Theme) -> None:
        self._rebuild()

    def _tick(self) -> None:
        """Once a second while shown: the ages in the UPDATED column and the status line."""
        if not self._shown:
            return
        now = self.services.now()
        column = [k for k, _ in self.COLUMNS].index(UPDATED)
        table = self.table
        for record_id in self.ids:
            record = self._record(record_id)
            if record is None:
                continue
            with contextlib.suppress(CellDoesNotExist):
                age = self.cells(record, now)[column]
                if table.get_cell(record_id, UPDATED) != age:
                    table.update_cell(record_id, UPDATED, age)
        self._show_status()

    # -- drawing ---------------------------------------------------------------------------

    def _record(self, record_id: str) -> R | None:
        record = self.store().get(record_id)
        if record is None:
            return self._last_page.get(record_id)
        return record

    def _cursor_id(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        try:
            row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return row_key.value

    def _rebuild(self) -> None:
        """Make the table show :attr:`ids`: in place when the rows are the same, else anew."""
        table = self.table
        now = self.services.now()
        current = tuple(k.value for k in table.rows)
        if current == self.ids:
            for record_id in self.ids:
                self._update_row(record_id, now)
        else:
            keep = self._cursor_id()
            table.clear()
            for record_id in self.ids:
                record = self._record(record_id)
                if record is not None:
                    table.add_row(*self.cells(record, now), key=record_id)
            if keep is not None and keep in self.ids:
                with contextlib.suppress(RowDoesNotExist):
                    table.move_cursor(row=table.get_row_index(keep), animate=False)
        if self.detail_id is not None and self.detail_id not in self.ids:
            self.detail_id = None
        self.query_one(".live-empty").display = self._listed_once and not self.ids
        self._show_detail()
        self._show_status()
        self._reveal()

    def _update_row(self, record_id: str, now: datetime) -> None:
        record = self._record(record_id)
        if record is None:
            return
        table = self.table
        for (column, _), value in zip(self.COLUMNS, self.cells(record, now), strict=True):
            try:
                table.update_cell(record_id, column, value, update_width=True)
            except CellDoesNotExist:
                return

    def _show_status(self) -> None:
        status = self.query_one(".live-status", Static)
        status.set_class(self.error is not None, "-error")
        if self.error is not None:
            text = f"{self.NOUN}s: {self.error} — retrying in {RELIST_SECONDS:.0f} s"
        elif self.listed_at is None:
            text = f"loading {self.NOUN}s…"
        else:
            when = ago(self.listed_at, self.services.now())
            text = f"{plural(len(self.ids), self.NOUN)} · updated {when}"
        status.update(text)
        progress = self.progress_text(self.services.now())
        line = self.query_one(".live-progress", Static)
        line.update(progress)
        line.display = bool(progress)

    def _show_detail(self) -> None:
        panel = self.query_one(".live-detail", Static)
        record = None if self.detail_id is None else self._record(self.detail_id)
        if record is None:
            self.detail_id = None
            panel.display = False
            return
        panel.update(self.detail(record, self.services.now()))
        panel.display = True

    # -- actions ---------------------------------------------------------------------------

    def show_record(self, record_id: str) -> None:
        """Put the cursor on ``record_id`` and open its details (now, or once it is listed)."""
        self._show_when_listed = record_id
        self._reveal()

    def _reveal(self) -> None:
        record_id = self._show_when_listed
        if record_id is None or record_id not in self.ids:
            return
        self._show_when_listed = None
        with contextlib.suppress(RowDoesNotExist):
            self.table.move_cursor(row=self.table.get_row_index(record_id), animate=False)
        self.detail_id = record_id
        self._show_detail()

    def action_refresh(self) -> None:
        """List again now (the 30 s timer starts over when it completes)."""
        self._list_now()

    def action_details(self) -> None:
        """Open the selected record's detail panel, or close it when it is already open."""
        selected = self._cursor_id()
        self.detail_id = None if selected is None or selected == self.detail_id else selected
        self._show_detail()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.detail_id is not None and event.row_key.value is not None:
            self.detail_id = event.row_key.value
            self._show_detail()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        """A click on the highlighted row opens its details (enter runs :meth:`action_details`)."""
        if event.row_key.value is not None:
            self.detail_id = event.row_key.value
            self._show_detail()
