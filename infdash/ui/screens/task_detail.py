"""Task detail: overview, status history, input, output and error of one task, kept live.

The task is subscribed at the focused tier while the screen is open (the scheduler streams it
where it can, so a change shows within a second) and released when the screen closes.  Logs,
timings, telemetry and cost build on this screen in their own issue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from infdash.api import Task
from infdash.scheduler import Change, ResourceKey, Tier
from infdash.scheduler.ratelimit import GET_TASK
from infdash.ui.errors import describe
from infdash.ui.sanitize import clean
from infdash.ui.services import Services
from infdash.ui.tasklist.describe import history, pretty_json, summary
from infdash.ui.widgets.status_bar import StatusBar


class TaskDetailScreen(Screen[None]):
    """Everything known about one task."""

    BINDING_GROUP_TITLE = "Task"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="detail.back", tooltip="Back to the list"),
        Binding("x", "cancel_task", "Cancel", id="detail.cancel", tooltip="Cancel this task"),
        Binding("y", "copy_id", "Copy id", id="detail.copy", tooltip="Copy the task id"),
        Binding("ctrl+r", "refresh", "Refresh", id="detail.refresh", tooltip="Fetch it again"),
    ]
    DEFAULT_CSS = """
    TaskDetailScreen #detail-body { padding: 0 1; }
    TaskDetailScreen .section-title { color: $text-muted; text-style: bold; margin-top: 1; }
    TaskDetailScreen #detail-error { color: $error; }
    TaskDetailScreen #detail-note { color: $text-muted; }
    """

    @dataclass
    class Loaded(Message):
        task: Task

    @dataclass
    class LoadFailed(Message):
        message: str

    @dataclass
    class StoreChanged(Message):
        pass

    def __init__(self, services: Services, task_id: str) -> None:
        super().__init__()
        self.services = services
        self.task_id = task_id
        self._owner = f"detail:{task_id}"
        self._unlisten: list[object] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-body"):
            yield Static("loading…", id="detail-summary", markup=False)
            yield Static("", id="detail-note", markup=False)
            yield Static("Status history", classes="section-title")
            yield Static("", id="detail-history", markup=False)
            yield Static("Input", classes="section-title")
            yield Static("", id="detail-input", markup=False)
            yield Static("Output", classes="section-title")
            yield Static("", id="detail-output", markup=False)
            yield Static("", id="detail-error", markup=False)
        yield StatusBar.for_services(self.services)
        yield Footer()

    def on_mount(self) -> None:
        scheduler = self.services.scheduler
        scheduler.subscribe(ResourceKey.task(self.task_id), Tier.FOCUSED, self._owner)
        unlisten = scheduler.store.listen(self._store_changed)
        self._unlisten.append(unlisten)
        cached = scheduler.store.get(self.task_id)
        if cached is not None:
            self._show(cached)
        self._load()

    def on_unmount(self) -> None:
        self.services.scheduler.release_owner(self._owner)
        for unlisten in self._unlisten:
            if callable(unlisten):
                unlisten()

    def _store_changed(self, change: Change) -> None:
        if self.task_id in change.updated:
            self.post_message(self.StoreChanged())

    @work(exclusive=True, group="detail-load", exit_on_error=False)
    async def _load(self) -> None:
        services = self.services
        try:
            task = await services.scheduler.user_action(
                GET_TASK, lambda: services.client.tasks.get(self.task_id)
            )
        except Exception as error:  # every failure becomes one line on screen
            self.post_message(self.LoadFailed(describe(error)))
            return
        services.scheduler.store.apply(task)
        self.post_message(self.Loaded(task))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.query_one("#detail-note", Static).update("")
        self._show(message.task)

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        self.query_one("#detail-note", Static).update(f"could not load: {message.message}")

    @on(StoreChanged)
    def _changed(self) -> None:
        task = self.services.scheduler.store.get(self.task_id)
        if task is not None:
            self._show(task)

    def _show(self, task: Task) -> None:
        now = self.services.now()
        pairs = summary(task, now)
        width = max(len(label) for label, _ in pairs)
        text = "\n".join(f"{label:<{width}}  {value}" for label, value in pairs)
        self.query_one("#detail-summary", Static).update(text)
        self.query_one("#detail-history", Static).update("\n".join(history(task)) or "—")
        self.query_one("#detail-input", Static).update(pretty_json(task.input))
        self.query_one("#detail-output", Static).update(pretty_json(task.output))
        error = self.query_one("#detail-error", Static)
        error.update(f"Error: {clean(task.error)}" if task.error else "")
        self.sub_title = f"{task.app_ref} · {task.status_label}"

    def action_copy_id(self) -> None:
        self.app.copy_to_clipboard(self.task_id)
        self.notify(f"copied {self.task_id}")

    def action_refresh(self) -> None:
        self.services.scheduler.refresh(ResourceKey.task(self.task_id))
        self._load()

    def action_cancel_task(self) -> None:
        from infdash.ui.screens.task_actions import cancel_tasks

        task = self.services.scheduler.store.get(self.task_id)
        if task is not None:
            cancel_tasks(self, self.services, [task])
