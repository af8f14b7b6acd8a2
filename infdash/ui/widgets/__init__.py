"""Reusable infdash widgets: drawn from theme variables only, fed by the screens that own them."""

from __future__ import annotations

from infdash.ui.widgets.task_table import TaskTable

__all__ = ["TaskTable"]
