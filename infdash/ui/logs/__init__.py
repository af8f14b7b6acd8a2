"""Textual-free parts of the log viewer: the bounded, searchable, filterable line store."""

from __future__ import annotations

from infdash.ui.logs.buffer import PHASES, Appended, LogBuffer, LogLine

__all__ = ["PHASES", "Appended", "LogBuffer", "LogLine"]
