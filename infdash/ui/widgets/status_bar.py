"""The bottom status bar: profile, connection state and the rate budget, redrawn each second.

It reads the scheduler's snapshot (a plain object, cheap to take) on a one-second timer; that
timer only redraws local state, it sends nothing.  A profile marked ``production`` gets a
coloured banner so nobody drains a production engine thinking it was staging.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from infdash.scheduler import Scheduler
from infdash.ui.connection import Link, busiest_gauge, connection_state
from infdash.ui.services import Services


class StatusBar(Horizontal):
    """Profile · connection · budget gauge."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $text-muted;
    }
    StatusBar > Static { width: auto; padding: 0 1; }
    StatusBar #status-profile { color: $text; text-style: bold; }
    StatusBar #status-profile.-production { background: $error; color: $text; }
    StatusBar #status-profile.-read-only { text-style: bold italic; }
    StatusBar #status-link { width: 1fr; }
    StatusBar #status-link.-live { color: $success; }
    StatusBar #status-link.-stale { color: $warning; }
    StatusBar #status-link.-paused { color: $warning; }
    StatusBar #status-link.-rate-limited { color: $warning; text-style: bold; }
    StatusBar #status-link.-offline { color: $error; text-style: bold; }
    StatusBar #status-link.-unauthorized { color: $error; text-style: bold; }
    """

    def __init__(
        self,
        scheduler: Scheduler,
        *,
        profile: str,
        production: bool = False,
        read_only: bool = False,
    ) -> None:
        super().__init__()
        self._scheduler = scheduler
        self._profile = profile
        self._production = production
        self._read_only = read_only

    @classmethod
    def for_services(cls, services: Services) -> StatusBar:
        """The status bar of ``services``' connection and profile."""
        return cls(
            services.scheduler,
            profile=services.profile,
            production=services.production,
            read_only=services.read_only,
        )

    def compose(self) -> ComposeResult:
        label = self._profile
        if self._production:
            label = f"▲ {label} · PRODUCTION"
        if self._read_only:
            label = f"{label} · read-only"
        profile = Static(label, id="status-profile", markup=False)
        profile.set_class(self._production, "-production")
        profile.set_class(self._read_only, "-read-only")
        yield profile
        yield Static("", id="status-link", markup=False)
        yield Static("", id="status-gauge", markup=False)

    def on_mount(self) -> None:
        self.refresh_status()
        self.set_interval(1.0, self.refresh_status)

    def refresh_status(self) -> None:
        """Redraw from a fresh snapshot of the scheduler."""
        snapshot = self._scheduler.snapshot(resource_limit=0)
        state = connection_state(self._scheduler.state, snapshot)
        link = self.query_one("#status-link", Static)
        link.update(f"● {state.text}")
        for kind in Link:
            link.set_class(kind is state.link, f"-{kind.value}")
        gauge = busiest_gauge(snapshot)
        text = ""
        if gauge is not None:
            text = f"{gauge.name} {gauge.bar()} {gauge.used}/{gauge.allowed}/min"
        self.query_one("#status-gauge", Static).update(text)
