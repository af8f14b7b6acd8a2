"""Task detail: overview, live logs, the phase waterfall and telemetry of one task.

The task is subscribed at the focused tier while the screen is open (the scheduler streams it
where it can, so a change shows within a second, and hands the stream's log entries to the
Logs tab) and released when the screen closes, which closes the stream (R29).

Tabs: Overview (status and its history, app, engine, times, cost, "why is this queued?",
error with its meaning, input/output JSON and output files), Logs, Timings, Telemetry.
``[``/``]`` move between them.  Every string from the network is cleaned before display.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Collapsible,
    Footer,
    OptionList,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option

from infdash.api import Task, TaskStatus
from infdash.api.models.metrics import TaskCost
from infdash.scheduler import Change, ResourceKey, Tier
from infdash.scheduler.limits import Priority
from infdash.scheduler.ratelimit import GET_TASK
from infdash.ui.detail.cost import dollars, estimate_cost, format_cost, format_estimate, rate_from
from infdash.ui.detail.files import OutputFile, output_files
from infdash.ui.errors import describe
from infdash.ui.sanitize import clean, clean_line
from infdash.ui.screens.queue_reason import explain_queue
from infdash.ui.services import Services
from infdash.ui.task_help import curl_command, failure_meaning
from infdash.ui.tasklist.describe import history, pretty_json, summary
from infdash.ui.widgets.status_bar import StatusBar
from infdash.ui.widgets.task_logs import TaskLogs
from infdash.ui.widgets.task_panes import TelemetryPane, TimingsPane

TABS: tuple[str, ...] = ("overview", "logs", "timings", "telemetry")
"""The detail tabs, in order (their pane ids)."""
QUEUE_SECONDS = 15.0
"""How often "why is this queued?" is asked again while the task waits."""
COST_RETRY = 30.0
"""Seconds before a failed cost request is tried again."""
_WAITING = frozenset({TaskStatus.RECEIVED, TaskStatus.QUEUED})


def _json_text(value: Any) -> str:
    """``value`` as indented JSON for the clipboard or the run dialog (``{}`` for none)."""
    if value is None:
        return "{}"
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return "{}"


class TaskDetailScreen(Screen[None]):
    """Everything known about one task, kept live."""

    BINDING_GROUP_TITLE = "Task"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="detail.back", tooltip="Back to the list"),
        Binding("left_square_bracket", "tab(-1)", "Tab", show=False, id="detail.previous_tab",
                tooltip="Previous tab"),
        Binding("right_square_bracket", "tab(1)", "Tabs", key_display="[ ]",
                id="detail.next_tab", tooltip="Next tab (overview, logs, timings, telemetry)"),
        Binding("x", "cancel_task", "Cancel", id="detail.cancel", tooltip="Cancel this task"),
        Binding("X", "force_cancel", "Force cancel", show=False, id="detail.force_cancel",
                tooltip="Cancel without waiting for the app to stop"),
        Binding("r", "rerun", "Re-run", id="detail.rerun",
                tooltip="Run again with the same (editable) input"),
        Binding("y", "copy_id", "Copy id", id="detail.copy", tooltip="Copy the task id"),
        Binding("c", "copy_curl", "Copy curl", id="detail.copy_curl",
                tooltip="Copy the curl request that runs it again"),
        Binding("I", "copy_input", "Copy input", show=False, id="detail.copy_input",
                tooltip="Copy the input JSON"),
        Binding("O", "copy_output", "Copy output", show=False, id="detail.copy_output",
                tooltip="Copy the output JSON"),
        Binding("b", "open_file", "Open file", show=False, id="detail.open_file",
                tooltip="Open the selected output file in a browser"),
        Binding("e", "show_engine", "Engine", show=False, id="detail.engine",
                tooltip="Go to the engine running this task"),
        Binding("ctrl+r", "refresh", "Refresh", id="detail.refresh", tooltip="Fetch it again"),
    ]  # fmt: skip
    DEFAULT_CSS = """
    TaskDetailScreen {
        #detail-head { height: 1; padding: 0 1; background: $panel; color: $text; }
        #detail-tabs { height: 1fr; }
        #detail-body { padding: 0 1; }
        .section-title { color: $text-muted; text-style: bold; margin-top: 1; }
        #detail-cost { margin-top: 1; }
        #detail-queued { color: $warning; margin-top: 1; display: none; }
        #detail-queued.-shown { display: block; }
        #detail-error { color: $error; margin-top: 1; }
        #detail-meaning { color: $text-muted; }
        #detail-note { color: $text-muted; }
        .-empty { display: none; }
        #detail-note.-error { color: $error; }
        Collapsible { margin-top: 1; padding-bottom: 0; }
        #detail-files { height: auto; max-height: 12; border: none; display: none; }
        #detail-files.-shown { display: block; }
        #files-title { display: none; }
        #files-title.-shown { display: block; }
    }
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

    @dataclass
    class CostKnown(Message):
        task_id: str
        cost: TaskCost

    @dataclass
    class CostFailed(Message):
        message: str

    @dataclass
    class QueueExplained(Message):
        sentence: str

    def __init__(self, services: Services, task_id: str, *, tab: str = "overview") -> None:
        super().__init__()
        self.services = services
        self.task_id = task_id
        self.initial_tab = tab if tab in TABS else "overview"
        self.cost: TaskCost | None = None
        """The finished task's cost, once fetched."""
        self.queue_reason = ""
        """The last "why is this queued?" sentence."""
        self.files: list[OutputFile] = []
        self._owner = f"detail:{task_id}"
        self._unlisten: list[object] = []
        self._cost_asked = False
        self._cost_problem = ""
        self._cost_retry_at = 0.0
        self._rate_asked = False
        self._queue_asked_at = -1e9
        self._files_key: tuple[OutputFile, ...] = ()

    # -- layout and lifecycle ------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("loading…", id="detail-head", markup=False)
        with TabbedContent(id="detail-tabs", initial=self.initial_tab):
            with TabPane("Overview", id="overview"), VerticalScroll(id="detail-body"):
                yield Static("", id="detail-summary", markup=False)
                yield Static("", id="detail-cost", markup=False)
                yield Static("", id="detail-queued", markup=False)
                yield Static("", id="detail-error", markup=False, classes="-empty")
                yield Static("", id="detail-meaning", markup=False, classes="-empty")
                yield Static("", id="detail-note", markup=False, classes="-empty")
                yield Static("Status history", classes="section-title")
                yield Static("", id="detail-history", markup=False)
                with Collapsible(title="Input (I copies)", collapsed=False, id="input-box"):
                    yield Static("", id="detail-input", markup=False)
                with Collapsible(title="Output (O copies)", collapsed=False, id="output-box"):
                    yield Static("", id="detail-output", markup=False)
                    yield Static(
                        "Files (enter copies the URI, b opens it)",
                        id="files-title",
                        classes="section-title",
                    )
                    yield OptionList(id="detail-files")
            with TabPane("Logs", id="logs"):
                yield TaskLogs(self.services, self.task_id, id="task-logs")
            with TabPane("Timings", id="timings"):
                yield TimingsPane(self.services, self.task_id, id="timings-pane")
            with TabPane("Telemetry", id="telemetry"):
                yield TelemetryPane(self.services, self.task_id, id="telemetry-pane")
        yield StatusBar.for_services(self.services)
        yield Footer()

    def on_mount(self) -> None:
        scheduler = self.services.scheduler
        scheduler.subscribe(ResourceKey.task(self.task_id), Tier.FOCUSED, self._owner)
        self._unlisten.append(scheduler.store.listen(self._store_changed))
        cached = scheduler.store.get(self.task_id)
        if cached is not None:
            self._show(cached)
        self._load()
        self.set_interval(1.0, self._tick, name="detail-tick")
        self._tab_shown(self.initial_tab)

    def on_unmount(self) -> None:
        self.services.scheduler.release_owner(self._owner)
        for unlisten in self._unlisten:
            if callable(unlisten):
                unlisten()

    def _store_changed(self, change: Change) -> None:
        if self.task_id in change.updated:
            self.post_message(self.StoreChanged())

    @property
    def current_task(self) -> Task | None:
        """The task as the store knows it (None until the first answer)."""
        return self.services.scheduler.store.get(self.task_id)

    # -- tabs ----------------------------------------------------------------------------

    @property
    def active_tab(self) -> str:
        return self.query_one("#detail-tabs", TabbedContent).active or "overview"

    def show_tab(self, tab: str) -> None:
        self.query_one("#detail-tabs", TabbedContent).active = tab

    def action_tab(self, step: int) -> None:
        index = TABS.index(self.active_tab) if self.active_tab in TABS else 0
        self.show_tab(TABS[(index + step) % len(TABS)])

    @on(TabbedContent.TabActivated, "#detail-tabs")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._tab_shown(event.pane.id or "overview")

    def _tab_shown(self, tab: str) -> None:
        if tab == "logs":
            self.query_one(TaskLogs).view.focus()
        elif tab == "telemetry":
            self.query_one(TelemetryPane).start()
        elif tab == "timings":
            self.query_one(TimingsPane).redraw()

    # -- loading -------------------------------------------------------------------------

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
        self._set_text("#detail-note", "")
        self.query_one("#detail-note", Static).remove_class("-error")
        self._show(message.task)

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        self._set_text("#detail-note", f"could not load: {message.message} (ctrl+r tries again)")
        self.query_one("#detail-note", Static).add_class("-error")
        if self.current_task is None:
            self.query_one("#detail-head", Static).update(f"{self.task_id} · not loaded")

    @on(StoreChanged)
    def _changed(self) -> None:
        task = self.current_task
        if task is not None:
            self._show(task)

    def _tick(self) -> None:
        """Once a second: durations and the cost estimate tick; a queued task is explained."""
        task = self.current_task
        if task is not None:
            self._show_clocked(task)

    # -- overview ------------------------------------------------------------------------

    def _show(self, task: Task) -> None:
        """Everything: after the task changed (the tick redraws only what the clock moves)."""
        self._show_clocked(task)
        self.query_one("#detail-head", Static).update(
            f"{clean_line(task.id)} · {clean_line(task.app_ref) or '—'} · {task.status_label}"
        )
        self.query_one("#detail-history", Static).update("\n".join(history(task)) or "—")
        self.query_one("#detail-input", Static).update(pretty_json(task.input))
        self.query_one("#detail-output", Static).update(pretty_json(task.output))
        self._show_files(task)
        self._show_error(task)
        self.sub_title = f"{clean_line(task.app_ref)} · {task.status_label}"

    def _show_clocked(self, task: Task) -> None:
        """What moves with the clock: times, duration, the cost estimate, the queue question.
        Input and output JSON are not re-serialised every second."""
        pairs = summary(task, self.services.now())
        width = max(len(label) for label, _ in pairs)
        text = "\n".join(f"{label:<{width}}  {value}" for label, value in pairs)
        self.query_one("#detail-summary", Static).update(text)
        self.query_one("#detail-cost", Static).update(f"{'Cost':<{width}}  {self._cost_line(task)}")
        self._show_queue(task)

    def _show_error(self, task: Task) -> None:
        meaning = failure_meaning(task.error) if task.error else None
        error = clean(task.error) if task.error else ""
        self._set_text("#detail-error", f"Error: {error}" if error else "")
        self._set_text("#detail-meaning", meaning or "")

    def _set_text(self, selector: str, text: str) -> None:
        """Show ``text`` in an optional line, which takes no room while empty."""
        static = self.query_one(selector, Static)
        static.update(text)
        static.set_class(not text, "-empty")

    def _show_files(self, task: Task) -> None:
        files = tuple(output_files(task.output))
        if files == self._files_key:
            return
        self._files_key = files
        self.files = list(files)
        box = self.query_one("#detail-files", OptionList)
        box.clear_options()
        box.add_options(Option(f"{f.path}  {f.uri}", id=str(i)) for i, f in enumerate(self.files))
        box.set_class(bool(self.files), "-shown")
        self.query_one("#files-title").set_class(bool(self.files), "-shown")
        if self.files:
            box.highlighted = 0

    def _cost_line(self, task: Task) -> str:
        if task.is_terminal:
            known = self.services.costs.get(task.id)
            if self.cost is not None:
                return format_cost(self.cost)
            if not self._cost_asked and time.monotonic() >= self._cost_retry_at:
                self._cost_asked = True
                self._fetch_cost(task.id)
            if known is not None:
                return dollars(known)
            return self._cost_problem or "fetching…"
        rate = self.services.cost_rates.get(task.app_version_id)
        if rate is None and not self._rate_asked and task.app_version_id:
            self._rate_asked = True
            self._learn_rate(task.app_version_id)
        return format_estimate(estimate_cost(task, rate, self.services.now()))

    @work(group="detail-cost", exit_on_error=False)
    async def _fetch_cost(self, task_id: str) -> None:
        client = self.services.client
        try:
            cost = await self.services.scheduler.user_action(
                GET_TASK, lambda: client.tasks.cost(task_id), priority=Priority.POLL
            )
        except Exception as error:  # a nicety: the line says why, and it is asked again later
            self.post_message(self.CostFailed(describe(error)))
            return
        self.post_message(self.CostKnown(task_id, cost))

    @on(CostFailed)
    def _cost_failed(self, message: CostFailed) -> None:
        self._cost_problem = f"unknown ({message.message}; asked again in {COST_RETRY:.0f} s)"
        self._cost_retry_at = time.monotonic() + COST_RETRY
        self._cost_asked = False

    @work(group="detail-cost", exit_on_error=False)
    async def _learn_rate(self, app_version_id: str) -> None:
        """Fetch the cost of one finished task of this app version to estimate a running one."""
        done = next(
            (
                t
                for t in self.services.scheduler.store
                if t.app_version_id == app_version_id and t.is_terminal and t.id != self.task_id
            ),
            None,
        )
        if done is None:
            return
        client = self.services.client
        try:
            cost = await self.services.scheduler.user_action(
                GET_TASK, lambda: client.tasks.cost(done.id), priority=Priority.POLL
            )
        except Exception:  # no estimate, the honest "cost when finished" stays
            return
        self.post_message(self.CostKnown(done.id, cost))

    @on(CostKnown)
    def _cost_known(self, message: CostKnown) -> None:
        task = self.services.scheduler.store.get(message.task_id)
        cost = message.cost
        self.services.costs[message.task_id] = cost.charged - cost.refunded
        if task is not None:
            rate = rate_from(task, cost)
            if rate is not None and task.app_version_id:
                self.services.cost_rates[task.app_version_id] = rate
        if message.task_id == self.task_id:
            self.cost = cost
        current = self.current_task
        if current is not None:
            self._show(current)

    def _show_queue(self, task: Task) -> None:
        box = self.query_one("#detail-queued", Static)
        waiting = task.status in _WAITING
        box.set_class(waiting and bool(self.queue_reason), "-shown")
        if not waiting:
            return
        clock = time.monotonic()
        if clock - self._queue_asked_at >= QUEUE_SECONDS:
            self._queue_asked_at = clock
            self._explain_queue()

    @work(exclusive=True, group="detail-queue", exit_on_error=False)
    async def _explain_queue(self) -> None:
        task = self.current_task
        if task is None:
            return
        try:
            sentence = await explain_queue(self.services, task)
        except Exception as error:  # one line in place of the answer; asked again later
            sentence = f"Why it waits is unknown right now: {describe(error)}."
        self.post_message(self.QueueExplained(sentence))

    @on(QueueExplained)
    def _queue_explained(self, message: QueueExplained) -> None:
        self.queue_reason = message.sentence
        box = self.query_one("#detail-queued", Static)
        box.update(f"Why is this queued? {message.sentence}")
        task = self.current_task
        box.set_class(task is not None and task.status in _WAITING, "-shown")

    # -- actions -------------------------------------------------------------------------

    def action_copy_id(self) -> None:
        self.app.copy_to_clipboard(self.task_id)
        self.notify(f"copied {self.task_id}")

    def action_copy_curl(self) -> None:
        task = self.current_task
        if task is None:
            self.notify("the task is not loaded yet", severity="warning")
            return
        command = curl_command(
            self.services.client.base_url,
            task.app_ref,
            task.input,
            setup=task.setup or None,
            infra=task.infra,
            function=task.function,
        )
        self.app.copy_to_clipboard(command)
        self.notify("copied the curl request (the key is $INFERENCE_API_KEY)")

    def action_copy_input(self) -> None:
        task = self.current_task
        if task is not None:
            self.app.copy_to_clipboard(_json_text(task.input))
            self.notify("copied the input JSON")

    def action_copy_output(self) -> None:
        task = self.current_task
        if task is None or task.output is None:
            self.notify("no output yet")
            return
        self.app.copy_to_clipboard(_json_text(task.output))
        self.notify("copied the output JSON")

    def _selected_file(self) -> OutputFile | None:
        if not self.files:
            return None
        index = self.query_one("#detail-files", OptionList).highlighted
        return self.files[index if index is not None and index < len(self.files) else 0]

    @on(OptionList.OptionSelected, "#detail-files")
    def _file_selected(self, event: OptionList.OptionSelected) -> None:
        file = self.files[event.option_index]
        self.app.copy_to_clipboard(file.uri)
        self.notify(f"copied {file.uri}")

    def action_open_file(self) -> None:
        file = self._selected_file()
        if file is None:
            self.notify("this task has no output files")
            return
        self.app.open_url(file.uri)
        self.notify(f"opening {file.uri}")

    def action_show_engine(self) -> None:
        task = self.current_task
        engine_id = task.engine_id if task is not None else ""
        if not engine_id:
            self.notify("this task has not been given to an engine yet")
            return
        show = getattr(self.app, "show_engine", None)
        if callable(show):
            self.app.run_worker(show(engine_id), exit_on_error=False)

    def action_refresh(self) -> None:
        self.services.scheduler.refresh(ResourceKey.task(self.task_id))
        self._load()

    def action_cancel_task(self) -> None:
        from infdash.ui.screens.task_actions import cancel_tasks, force_cancel

        task = self.current_task
        if task is None:
            return
        if task.status is TaskStatus.CANCELLING:
            force_cancel(self, self.services, task)
        else:
            cancel_tasks(self, self.services, [task])

    def action_force_cancel(self) -> None:
        from infdash.ui.screens.task_actions import force_cancel

        task = self.current_task
        if task is not None:
            force_cancel(self, self.services, task)

    def action_rerun(self) -> None:
        from infdash.ui.screens.run_dialog import RunDialog, RunRequest

        services = self.services
        task = self.current_task
        if services.read_only:
            self.notify("read-only profile: running tasks is turned off", severity="warning")
            return
        if task is None:
            self.notify("the task is not loaded yet", severity="warning")
            return

        async def submit(request: RunRequest) -> Task:
            return await services.scheduler.run(
                request.app, request.input, setup=request.setup, infra=request.infra
            )

        dialog = RunDialog(
            submit,
            services.known_apps,
            app=clean_line(task.app_ref),
            input_text=_json_text(task.input),
            setup_text=_json_text(task.setup) if task.setup else "",
            infra=task.infra or None,
        )
        self.app.push_screen(dialog, self._rerun_started)

    def _rerun_started(self, task: Task | None) -> None:
        if task is None:
            return
        self.notify(f"started {task.id[:12]} — showing it")
        self.app.switch_screen(TaskDetailScreen(self.services, task.id, tab="logs"))
