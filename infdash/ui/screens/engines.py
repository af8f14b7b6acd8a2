"""The engines mode: every engine of the workspace as a live table, and its actions.

Each row is kept fresh by the scheduler (``GET /engines/{id}`` at the visible tier) and the
list is fetched again every 30 s to pick up new engines; enter opens a panel with the selected
engine's workers.  ``d`` drains, ``u`` updates, ``R`` restarts (a cloud engine) and ``x``
stops the selected engine after one confirmation that names what runs on it; the engine is
then followed closely (the focused tier, its stream) and the status line says what the action
waits for until it settles, when a notification says how it ended and how long it took.  A
read-only profile refuses in one line; so does an engine whose state does not allow the action
(an offline engine cannot drain, a private one has no instance to restart).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.binding import Binding, BindingType
from textual.message import Message

from infdash.api import Engine
from infdash.api.models.engines import EngineStatus, Worker
from infdash.scheduler import OTHER, ResourceKey, Store, Tier
from infdash.ui.errors import describe
from infdash.ui.sanitize import clean_line
from infdash.ui.screens._live_list import LIST_LIMIT, UPDATED, LiveListScreen, plain
from infdash.ui.screens.confirm import ConfirmDialog
from infdash.ui.screens.engine_actions import (
    DRAIN,
    READ_ONLY,
    RESTART,
    STOP,
    UPDATE,
    EngineAction,
    Pending,
    confirm_lines,
    engine_name,
    send,
)
from infdash.ui.screens.engine_update import UpdateDialog
from infdash.ui.services import Services
from infdash.ui.tasklist.format import ago
from infdash.ui.theming import themed

ACTIONS_OWNER = "engine-actions"
"""The scheduler owner following engines whose action has not settled (kept while hidden)."""

_GLYPHS: dict[EngineStatus, tuple[str, str]] = {
    EngineStatus.PENDING: ("◷", "primary"),
    EngineStatus.RUNNING: ("●", "success"),
    EngineStatus.DRAINING: ("◐", "warning"),
    EngineStatus.RESTARTING: ("↻", "warning"),
    EngineStatus.DISCONNECTED: ("✗", "error"),
    EngineStatus.STOPPING: ("◌", "warning"),
    EngineStatus.STOPPED: ("■", "foreground-muted"),
    EngineStatus.UNKNOWN: ("?", "foreground-muted"),
}
"""A one-cell glyph per status (reads without colour) and the theme variable colouring it."""

GIB = 2**30


def gib(size: int) -> str:
    return f"{size / GIB:.0f} GiB"


def gpu_summary(names: Sequence[str]) -> str:
    """``2×RTX 4090, A100``: each GPU model once, with its count."""
    counts = Counter(n for n in names if n)
    return ", ".join(name if n == 1 else f"{n}×{name}" for name, n in counts.items())


def workers_text(engine: Engine) -> str:
    """``1/2 busy · 2×RTX 4090`` (GPU names from the workers, else the host's)."""
    if not engine.workers:
        return "—"
    gpus = [g.name for w in engine.workers for g in w.gpus]
    if not gpus and engine.system_info is not None:
        gpus = list(engine.system_info.gpus)
    text = f"{engine.busy_workers()}/{len(engine.workers)} busy"
    summary = gpu_summary(gpus)
    return f"{text} · {summary}" if summary else text


def host_text(engine: Engine) -> str:
    """``16 cores · 64 GiB`` from the engine's system info; a dash when it sent none."""
    info = engine.system_info
    if info is None or not (info.cpu_cores or info.ram_total):
        return "—"
    parts = []
    if info.cpu_cores:
        parts.append(f"{info.cpu_cores} cores")
    if info.ram_total:
        parts.append(gib(info.ram_total))
    return " · ".join(parts)


def worker_line(worker: Worker) -> str:
    gpus = ", ".join(f"{g.name} {gib(g.vram)}" if g.vram else g.name for g in worker.gpus)
    parts = [f"#{worker.index:<2}", f"{worker.status_label:<9}", gpus or "no GPU"]
    if worker.task_id:
        parts.append(f"task {worker.task_id}")
    if worker.app_id:
        parts.append(f"app {worker.app_id}")
    return clean_line("  ".join(parts))


class EnginesScreen(LiveListScreen[Engine]):
    """The workspace's engines, their status and their workers."""

    NOUN = "engine"
    OWNER = "engines-screen"
    EMPTY = "No engines in this workspace."
    COLUMNS = (
        ("name", "NAME"),
        ("status", "STATUS"),
        ("version", "VERSION"),
        ("workers", "WORKERS"),
        ("host", "CPU/RAM"),
        (UPDATED, "UPDATED"),
    )
    BINDING_GROUP_TITLE = "Engines"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", id="engines.refresh",
                tooltip="List the engines again now"),
        Binding("enter", "details", "Workers", id="engines.details", priority=True,
                tooltip="Show or hide the selected engine's workers"),
        Binding("d", "act('drain')", "Drain", id="engines.drain",
                tooltip="Finish the running tasks, take no new ones, then stop"),
        Binding("u", "act('update')", "Update", id="engines.update",
                tooltip="Drain, install a new version and restart"),
        Binding("R", "act('restart')", "Restart", id="engines.restart", show=False,
                tooltip="Restart a cloud engine's instance (running tasks finish first)"),
        Binding("x", "act('stop')", "Stop", id="engines.stop",
                tooltip="Stop the engine (running tasks finish first when it is connected)"),
    ]  # fmt: skip

    ACTIONS: ClassVar[dict[str, EngineAction]] = {a.name: a for a in (DRAIN, UPDATE, RESTART, STOP)}

    @dataclass
    class ActionSent(Message, bubble=False):
        pending: Pending
        engine: Engine | None
        """The engine as the action's answer returned it, when it did."""

    @dataclass
    class ActionFailed(Message, bubble=False):
        message: str

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.pending: dict[str, Pending] = {}
        """Actions sent and not settled, by engine id."""

    async def fetch(self) -> Sequence[Engine]:
        page = await self.services.client.engines.list(limit=LIST_LIMIT)
        return page.items

    def store(self) -> Store[Engine]:
        return self.services.scheduler.engines

    def key(self, record_id: str) -> ResourceKey:
        return ResourceKey.engine(record_id)

    def cells(self, record: Engine, now: datetime) -> tuple[Text, ...]:
        glyph, colour = _GLYPHS.get(record.status, ("?", "foreground-muted"))
        return (
            plain(record.name or record.id),
            plain(f"{glyph} {record.status_label}", themed(self.app, colour)),
            plain(record.engine_version or "—"),
            plain(workers_text(record)),
            plain(host_text(record)),
            plain(ago(record.updated_at, now) or "—"),
        )

    def detail(self, record: Engine, now: datetime) -> str:
        head = [record.name or record.id, record.id, record.status_label]
        if record.engine_version:
            head.append(record.engine_version)
        lines = [clean_line("  ·  ".join(head))]
        info = record.system_info
        if info is not None:
            host = [info.hostname, info.os, host_text(record)]
            lines.append(clean_line("host  " + "  ·  ".join(p for p in host if p and p != "—")))
        instance = record.instance
        if instance is not None:
            cloud = [instance.cloud, instance.region, instance.instance_type, instance.status]
            if instance.hourly_price is not None:
                cloud.append(f"${instance.hourly_price:.2f}/h")
            lines.append(clean_line("cloud  " + "  ·  ".join(p for p in cloud if p)))
        lines.append(f"workers ({record.busy_workers()}/{len(record.workers)} busy)")
        lines.extend(f"  {worker_line(w)}" for w in sorted(record.workers, key=lambda w: w.index))
        if not record.workers:
            lines.append("  none reported")
        return "\n".join(lines)

    # -- actions ---------------------------------------------------------------------------

    def action_act(self, name: str) -> None:
        """Ask before drain / update / stop of the selected engine, then send it."""
        action = self.ACTIONS[name]
        if self.services.read_only:
            self.notify(READ_ONLY, severity="warning")
            return
        selected = self._cursor_id()
        engine = None if selected is None else self._record(selected)
        if engine is None:
            self.notify(f"no engine selected to {action.name}", severity="warning")
            return
        pending = self.pending.get(engine.id)
        if pending is not None:
            self.notify(f"{pending.name} is already {pending.action.ing}", severity="warning")
            return
        if refusal := action.refusal(engine):
            self.notify(refusal, severity="warning")
            return
        name, items = engine_name(engine), confirm_lines(action, engine)
        if action is UPDATE:

            def chosen(version: str | None) -> None:
                if version is not None:
                    self._send(action, engine, version)

            self.app.push_screen(UpdateDialog(f"Update {name}?", items), chosen)
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._send(action, engine, None)

        self.app.push_screen(
            ConfirmDialog(
                f"{action.name.capitalize()} {name}?",
                items,
                confirm_label=action.name.capitalize(),
                dismiss_label="Keep running",
            ),
            confirmed,
        )

    @work(group="engine-actions", exit_on_error=False)
    async def _send(self, action: EngineAction, engine: Engine, version: str | None) -> None:
        started = self.services.now()
        call = send(self.services.client, action, engine.id, version)
        try:
            answer = await self.services.scheduler.user_action(OTHER, call)
        except Exception as error:  # one line; the row still shows the engine as it is
            self.post_message(
                self.ActionFailed(f"{action.name} {engine_name(engine)} failed: {describe(error)}")
            )
            return
        pending = Pending(
            action, engine.id, engine_name(engine), started, engine.engine_version, version
        )
        self.post_message(self.ActionSent(pending, answer))

    @on(ActionSent)
    def _action_sent(self, message: ActionSent) -> None:
        pending = message.pending
        self.pending[pending.engine_id] = pending
        scheduler = self.services.scheduler
        key = self.key(pending.engine_id)
        scheduler.subscribe(key, Tier.FOCUSED, ACTIONS_OWNER)  # followed closely till it settles
        scheduler.refresh(key)
        if message.engine is not None:
            self.store().apply(message.engine)
        self.notify(f"{pending.action.ing} {pending.name}…")
        self._settle({pending.engine_id})

    @on(ActionFailed)
    def _action_failed(self, message: ActionFailed) -> None:
        self.notify(message.message, severity="error")

    def records_changed(self, ids: set[str]) -> None:
        self._settle(ids & set(self.pending))

    def _settle(self, ids: set[str]) -> None:
        """Check the pending actions of ``ids`` against the engines' latest state."""
        now = self.services.now()
        for engine_id in ids:
            pending = self.pending.get(engine_id)
            engine = self._record(engine_id)
            if pending is None or engine is None or not pending.observe(engine):
                continue
            del self.pending[engine_id]
            self.services.scheduler.release(self.key(engine_id), ACTIONS_OWNER)
            self.notify(pending.settled_text(engine, now), title="Engines")
        self._show_status()

    def progress_text(self, now: datetime) -> str:
        return "\n".join(p.progress(self._record(i), now) for i, p in self.pending.items())
