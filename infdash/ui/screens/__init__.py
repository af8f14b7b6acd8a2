"""The dashboard's screens and modal dialogs; each module holds one screen and its messages."""

from __future__ import annotations

from infdash.ui.screens.confirm import ConfirmDialog
from infdash.ui.screens.first_run import FirstRunScreen
from infdash.ui.screens.run_dialog import RunDialog, RunRequest

__all__ = ["ConfirmDialog", "FirstRunScreen", "RunDialog", "RunRequest"]
