"""What every screen needs from the app, handed down through constructors (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from infdash.api import InferenceClient
    from infdash.scheduler import Scheduler
    from infdash.ui.detail.cost import CostRate


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """The connection the UI works through: one client, one scheduler, the profile's flags."""

    client: InferenceClient
    scheduler: Scheduler
    profile: str = "default"
    read_only: bool = False
    production: bool = False
    known_apps: tuple[str, ...] = ()
    """App references offered by the run dialog (the simulator's catalogue in the demo)."""
    bell: bool = False
    """Ring the terminal bell when a watched task finishes (besides the toast)."""
    now: Callable[[], datetime] = field(default=utc_now)
    """Wall clock for "3 min ago" and ticking durations; tests freeze it."""
    costs: dict[str, int] = field(default_factory=dict)
    """Microcents charged per finished task, as the detail screen fetched them (the list's
    cost column shows them)."""
    cost_rates: dict[str, CostRate] = field(default_factory=dict)
    """Per app version: the rate a finished task was billed at (running tasks' estimates)."""
