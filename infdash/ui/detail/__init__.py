"""The Textual-free data side of the task detail screen (issue 6).

Pure models the detail widgets draw: log lines (backfill + live, deduplicated, cleaned),
the phase waterfall, telemetry series, cost text and the "why is this queued?" sentence.
Nothing here imports Textual, so every piece is unit-tested without an app.
"""

from __future__ import annotations

from infdash.ui.detail.cost import CostRate, estimate_cost, format_cost, format_estimate, rate_from
from infdash.ui.detail.logs import LogFeed, TaskLogLines, poll_logs
from infdash.ui.detail.queued import why_queued
from infdash.ui.detail.telemetry import TelemetrySeries, series
from infdash.ui.detail.timings import (
    Phase,
    Waterfall,
    waterfall_from_events,
    waterfall_from_timings,
)

__all__ = [
    "CostRate",
    "LogFeed",
    "Phase",
    "TaskLogLines",
    "TelemetrySeries",
    "Waterfall",
    "estimate_cost",
    "format_cost",
    "format_estimate",
    "poll_logs",
    "rate_from",
    "series",
    "waterfall_from_events",
    "waterfall_from_timings",
    "why_queued",
]
