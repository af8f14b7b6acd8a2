"""Ask which version to update an engine to, with what the update will do to it.

One dialog is the confirmation too: it names the engine and its busy workers (as the drain and
stop confirmations do) above an input prefilled with ``stable``.  Enter sends the version typed
(``stable``, ``canary`` or ``vX.Y.Z``); anything else is refused in the dialog, the text kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from infdash.ui.sanitize import clean_line
from infdash.ui.screens.engine_actions import VERSION


class UpdateDialog(ModalScreen[str | None]):
    """Dismisses with the version to update to, or ``None`` (escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="engine_update.cancel", tooltip="Do not update"),
    ]
    DEFAULT_CSS = """
    UpdateDialog {
        align: center middle;
        & > Vertical {
            width: 72;
            max-width: 100%;
            height: auto;
            padding: 1 2;
            background: $surface;
            border: thick $warning;
        }
        & #update-title { text-style: bold; }
        & #update-items { background: $panel; padding: 0 1; margin: 1 0; text-wrap: nowrap; }
        & #update-error { color: $error; height: auto; }
        & #update-keys { color: $text-muted; }
    }
    """

    def __init__(self, title: str, items: Sequence[str], default: str = "stable") -> None:
        super().__init__()
        self._title = clean_line(title)
        self._items = [clean_line(item) for item in items]
        self._default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Content(self._title), id="update-title")
            yield Static(Content("\n".join(self._items)), id="update-items")
            yield Label("Version (stable, canary or e.g. v1.10.15):", markup=False)
            yield Input(self._default, id="update-version")
            yield Label("", id="update-error", markup=False)
            yield Static(Content("enter: update · esc: back"), id="update-keys")

    @on(Input.Submitted, "#update-version")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not VERSION.match(value):
            shown = clean_line(value) or "nothing"
            self.query_one("#update-error", Label).update(
                f"{shown} is not a version: type stable, canary or one like v1.10.15."
            )
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
