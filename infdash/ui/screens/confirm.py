"""A yes/no question before an action that cannot be undone, listing what it acts on.

Used before cancelling tasks (and any other bulk action): the user sees exactly which items are
affected, and a long list is cut after ``max_items`` with "… and N more" so the dialog always
fits.  ``y`` confirms and ``n``/``escape`` cancel from anywhere in the dialog; focus starts on the
confirm button, so ``enter`` presses it (enter presses whichever button has focus, so after
tabbing to Cancel, enter cancels).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from infdash.ui.sanitize import clean_line


class ConfirmDialog(ModalScreen[bool]):
    """Ask before acting; dismisses with ``True`` (confirmed) or ``False``."""

    BINDING_GROUP_TITLE = "Confirm"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Yes", id="confirm.yes", tooltip="Go ahead"),
        Binding("n,escape", "cancel", "No", id="confirm.no", tooltip="Do nothing and close"),
    ]
    DEFAULT_CSS = """
    ConfirmDialog {
        align: center middle;
        #confirm-dialog {
            width: 72;
            max-width: 100%;
            height: auto;
            max-height: 100%;
            border: thick $primary;
            background: $surface;
            padding: 1 2 0 2;
        }
        &.-danger #confirm-dialog { border: thick $error; }
        #confirm-title { text-style: bold; width: 1fr; }
        #confirm-items {
            color: $text;
            background: $panel;
            padding: 0 1;
            margin-top: 1;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
        #confirm-more { color: $text-muted; padding: 0 1; background: $panel; }
        #confirm-buttons { height: auto; align-horizontal: right; margin-top: 1; }
        #confirm-buttons Button { margin-left: 2; }
        #confirm-keys { color: $text-muted; }
    }
    """

    def __init__(
        self,
        title: str,
        items: Sequence[str],
        *,
        confirm_label: str = "Confirm",
        dismiss_label: str = "Cancel",
        danger: bool = True,
        max_items: int = 12,
    ) -> None:
        super().__init__(classes="-danger" if danger else None)
        self._title = clean_line(title)
        self._items = [clean_line(item) for item in items]
        self._confirm_label = clean_line(confirm_label)
        self._dismiss_label = clean_line(dismiss_label)
        self._danger = danger
        self._max_items = max(1, max_items)

    def compose(self) -> ComposeResult:
        shown = self._items[: self._max_items]
        hidden = len(self._items) - len(shown)
        with Vertical(id="confirm-dialog"):
            yield Label(Content(self._title), id="confirm-title")
            if shown:
                yield Static(Content("\n".join(shown)), id="confirm-items")
            if hidden:
                yield Static(Content(f"… and {hidden} more"), id="confirm-more")
            with Horizontal(id="confirm-buttons"):
                yield Button(
                    Content(self._confirm_label),
                    variant="error" if self._danger else "primary",
                    id="confirm",
                )
                yield Button(Content(self._dismiss_label), id="cancel")
            yield Static(
                Content("y or enter: confirm · n or esc: back · tab: switch button"),
                id="confirm-keys",
            )

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm")
    def _confirm_pressed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(False)
