"""The Timings and Telemetry tabs of the task detail screen.

Timings: while the task runs, the waterfall is built from its own status events (no request)
and redrawn every second so the running phase grows; once the task has finished, one
``GET /tasks/{id}/timings`` gives the exact phases (the events remain if that fails).

Telemetry: ``GET /tasks/{id}/telemetry`` when the tab opens and every 30 s while the task
runs (the platform samples about that often), once more after it finishes, then never again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from infdash.api.models.metrics import TelemetrySample
from infdash.scheduler.limits import Priority
from infdash.scheduler.ratelimit import GET_TASK
from infdash.ui.detail.telemetry import TelemetrySeries, series
from infdash.ui.detail.timings import Waterfall as PhaseModel
from infdash.ui.detail.timings import waterfall_from_events, waterfall_from_timings
from infdash.ui.errors import describe
from infdash.ui.services import Services
from infdash.ui.widgets.telemetry import Series, Telemetry
from infdash.ui.widgets.waterfall import Waterfall, WaterfallRow

GIB = 1024**3
TELEMETRY_SECONDS = 30.0
"""How often telemetry is fetched while the task runs."""
_SHOWN_NAMES = {"serving": "load model"}
"""Phase names as the user reads them (the platform's "serving" is loading the model)."""


def waterfall_rows(
    model: PhaseModel, now: datetime
) -> tuple[list[WaterfallRow], float | None, float]:
    """The widget's rows, "now" offset (while running) and total, from the phase model."""
    if model.start is None:
        return [], None, 0.0
    start = model.start
    rows = [
        WaterfallRow(
            _SHOWN_NAMES.get(phase.name, phase.name),
            max(0.0, (phase.start - start).total_seconds()),
            None if phase.end is None else max(0.0, (phase.end - phase.start).total_seconds()),
            phase.cold_start,
        )
        for phase in model.phases
    ]
    now_offset = max(0.0, (now - start).total_seconds()) if model.end is None else None
    return rows, now_offset, model.total(now).total_seconds()


def telemetry_series(data: TelemetrySeries) -> list[Series]:
    """CPU %, RAM GiB (of the total), GPU % and VRAM GiB, in that order."""
    ram_total = data.ram_total / GIB if data.ram_total else None
    vram_total = data.vram_total / GIB if data.vram_total else None
    return [
        Series("CPU", data.cpu, "%"),
        Series("RAM", [v / GIB for v in data.ram], "GiB", ram_total),
        Series("GPU", data.gpu, "%"),
        Series("VRAM", [v / GIB for v in data.vram], "GiB", vram_total),
    ]


class TimingsPane(VerticalScroll):
    """The phase waterfall of one task, growing live."""

    DEFAULT_CSS = """
    TimingsPane { height: 1fr; padding: 1 1 0 1; }
    TimingsPane > #timings-note { color: $text-muted; margin-top: 1; }
    """

    @dataclass
    class Exact(Message):
        model: PhaseModel

    def __init__(self, services: Services, task_id: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.services = services
        self.task_id = task_id
        self.exact: PhaseModel | None = None
        """The phases of ``/timings`` once the finished task's were fetched."""
        self._fetching = False

    def compose(self) -> ComposeResult:
        yield Waterfall(id="waterfall")
        yield Static("", id="timings-note", markup=False)

    def on_mount(self) -> None:
        self.redraw()
        self.set_interval(1.0, self.redraw, name="waterfall-tick")

    def redraw(self) -> None:
        """Draw the best phases known; fetch the exact ones once the task has finished."""
        task = self.services.scheduler.store.get(self.task_id)
        if task is None:
            return
        if task.is_terminal and self.exact is None and not self._fetching:
            self._fetching = True
            self._fetch_exact()
        model = self.exact or waterfall_from_events(task)
        rows, now_offset, total = waterfall_rows(model, self.services.now())
        self.query_one(Waterfall).update_rows(rows, now_offset, total)
        note = "exact phases from /timings" if self.exact else "from the task's status events"
        if not task.is_terminal:
            note = "growing live " + note
        self.query_one("#timings-note", Static).update(note)

    @work(exclusive=True, group="timings", exit_on_error=False)
    async def _fetch_exact(self) -> None:
        client = self.services.client
        try:
            timings = await self.services.scheduler.user_action(
                GET_TASK, lambda: client.tasks.timings(self.task_id), priority=Priority.POLL
            )
        except Exception:  # the events' waterfall stays; it is nearly as good
            return
        model = waterfall_from_timings(timings)
        if model.phases:
            self.post_message(self.Exact(model))

    @on(Exact)
    def _exact(self, message: Exact) -> None:
        message.stop()
        self.exact = message.model
        self.redraw()


class TelemetryPane(VerticalScroll):
    """CPU, RAM, GPU and VRAM of one task as sparklines with current values."""

    DEFAULT_CSS = """
    TelemetryPane { height: 1fr; padding: 1 1 0 1; }
    TelemetryPane > #telemetry-note { color: $text-muted; margin-top: 1; }
    TelemetryPane > #telemetry-note.-error { color: $error; }
    """

    @dataclass
    class Sampled(Message):
        samples: tuple[TelemetrySample, ...]

    @dataclass
    class Failed(Message):
        message: str

    def __init__(
        self,
        services: Services,
        task_id: str,
        *,
        id: str | None = None,
        fetch_every: float = TELEMETRY_SECONDS,
    ) -> None:
        super().__init__(id=id)
        self.services = services
        self.task_id = task_id
        self.fetches = 0
        self._fetch_every = fetch_every
        self._final = False
        """Fetched after the task finished: nothing more will come."""
        self._started = False

    def compose(self) -> ComposeResult:
        yield Telemetry(id="telemetry")
        yield Static("", id="telemetry-note", markup=False)

    def start(self) -> None:
        """Begin fetching (when the tab is first shown: no request for an unopened tab)."""
        if self._started:
            return
        self._started = True
        self.fetch()
        self.set_interval(self._fetch_every, self.fetch, name="telemetry-poll")

    def fetch(self) -> None:
        if self._final:
            return
        task = self.services.scheduler.store.get(self.task_id)
        self._final = task is not None and task.is_terminal
        self._fetch()

    @work(exclusive=True, group="telemetry", exit_on_error=False)
    async def _fetch(self) -> None:
        client = self.services.client
        try:
            samples = await self.services.scheduler.user_action(
                GET_TASK, lambda: client.tasks.telemetry(self.task_id), priority=Priority.POLL
            )
        except Exception as error:  # one line; the next fetch retries
            self._final = False
            self.post_message(self.Failed(describe(error)))
            return
        self.post_message(self.Sampled(samples))

    @on(Sampled)
    def _sampled(self, message: Sampled) -> None:
        message.stop()
        self.fetches += 1
        data = series(message.samples)
        self.query_one(Telemetry).update_series(telemetry_series(data))
        note = self.query_one("#telemetry-note", Static)
        note.remove_class("-error")
        count = len(message.samples)
        gpus = f" · {', '.join(data.gpu_names)}" if data.gpu_names else ""
        when = "final" if self._final else f"every {self._fetch_every:.0f} s while it runs"
        note.update(f"{count} sample{'s' * (count != 1)}{gpus} · {when}")
        task = self.services.scheduler.store.get(self.task_id)
        if not self._final and task is not None and task.is_terminal:
            # Asked before the task was known (or before it finished): once more, the final
            # samples, rather than polling a finished task in 30 s and saying it still runs.
            self.fetch()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        message.stop()
        note = self.query_one("#telemetry-note", Static)
        note.add_class("-error")
        note.update(f"telemetry: {message.message} — retrying in {self._fetch_every:.0f} s")
