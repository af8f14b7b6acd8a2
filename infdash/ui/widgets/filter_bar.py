"""The filter bar: the query input, its inline error, and the clickable status facets.

Typing re-parses after a short pause; a valid query is posted as :class:`FilterBar.Applied`,
an invalid one shows one line under the input pointing at the problem, and the text stays as
typed.  Enter applies at once and hands focus back to the list; escape just hands it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from infdash.ui.tasklist.facets import FACETS, Facet, active_facet, with_facet
from infdash.ui.tasklist.query import QueryError, TaskQuery, parse_query

DEBOUNCE_SECONDS = 0.35
INPUT_TEXT_OFFSET = 3
"""Columns before the input's first character (border and padding): where the caret starts."""
PLACEHOLDER = "filter — status:failed app:flux since:1h engine:rig-a text   ( / )"


class FacetLabel(Static):
    """One facet; a click applies it."""

    def __init__(self, facet: Facet) -> None:
        super().__init__(f"{facet.key} {facet.name}", markup=False, classes="facet")
        self.facet = facet

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(FilterBar.FacetChosen(self.facet))


class FilterInput(Input):
    """The query input; escape leaves it without changing anything."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Back to list", id="filter.leave", tooltip="Keep the text"),
    ]

    def action_leave(self) -> None:
        self.post_message(FilterBar.Left())


class FilterBar(Vertical):
    """Query input + error line + facets + a summary slot on the right."""

    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar FilterInput { margin: 0 0; }
    FilterBar FilterInput.-invalid { border: tall $error; }
    FilterBar #filter-error { color: $error; height: auto; }
    FilterBar #facets { height: 1; }
    FilterBar .facet { width: auto; padding: 0 1; color: $text-muted; }
    FilterBar .facet:hover { background: $boost; }
    FilterBar .facet.-active { color: $text; background: $primary 40%; text-style: bold; }
    FilterBar #list-summary { width: 1fr; text-align: right; color: $text-muted; padding: 0 1; }
    """

    @dataclass
    class Applied(Message):
        """The text parsed: show this query."""

        query: TaskQuery

    @dataclass
    class Left(Message):
        """The user is done with the input (enter or escape)."""

    @dataclass
    class FacetChosen(Message):
        facet: Facet

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self._initial = text
        self._timer: Timer | None = None
        self.error: QueryError | None = None

    def compose(self) -> ComposeResult:
        yield FilterInput(
            self._initial, placeholder=PLACEHOLDER, id="filter-input", select_on_focus=False
        )
        yield Static("", id="filter-error", markup=False, classes="hidden")
        with Horizontal(id="facets"):
            for facet in FACETS:
                yield FacetLabel(facet)
            yield Static("", id="list-summary", markup=False)

    def on_mount(self) -> None:
        self._mark_facet(self._initial)

    @property
    def text(self) -> str:
        return self.query_one(FilterInput).value

    def set_text(self, text: str) -> None:
        """Replace the text (a facet key) and apply it at once."""
        self.query_one(FilterInput).value = text
        self.apply_now()

    def apply_facet(self, facet: Facet) -> None:
        current = active_facet(self.text)
        target = FACETS[0] if current == facet and facet.status_term else facet
        self.set_text(with_facet(self.text, target))

    def set_summary(self, text: str) -> None:
        self.query_one("#list-summary", Static).update(text)

    @on(Input.Changed, "#filter-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self.apply_now)

    @on(Input.Submitted, "#filter-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.apply_now():
            self.post_message(self.Left())

    @on(FacetChosen)
    def _facet(self, message: FacetChosen) -> None:
        message.stop()
        self.apply_facet(message.facet)

    def apply_now(self) -> bool:
        """Parse the text now; post :class:`Applied` when valid.  True if it was valid."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        text = self.text
        self._mark_facet(text)
        try:
            query = parse_query(text)
        except QueryError as error:
            self._show_error(error)
            return False
        self._show_error(None)
        self.post_message(self.Applied(query))
        return True

    def _show_error(self, error: QueryError | None) -> None:
        self.error = error
        label = self.query_one("#filter-error", Static)
        field = self.query_one(FilterInput)
        field.set_class(error is not None, "-invalid")
        if error is None:
            label.update("")
            label.add_class("hidden")
            return
        pad = " " * (error.position + INPUT_TEXT_OFFSET)
        label.update(f"{pad}{'^' * max(1, error.length)} {error.message}")
        label.remove_class("hidden")

    def _mark_facet(self, text: str) -> None:
        current = active_facet(text)
        for label in self.query(FacetLabel):
            label.set_class(label.facet == current, "-active")
