"""The live task list: filter bar and facets over a virtual, server-paginated table.

Data flow: a :class:`PagedTaskList` holds the rows (fetched page by page as the table asks for
them, through the scheduler's budget); the rows on screen are subscribed through the scheduler,
whose store tells us when a task changed; a head poll (and the account feed, where the server
has one) brings new tasks, which appear at the top without moving the cursor's row.  Workers
fetch and post messages; the handlers here update the table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer

from infdash.api import CursorPage, Task
from infdash.api.query import ListArgs
from infdash.scheduler import Change, Priority, ResourceKey, Tier
from infdash.scheduler.ratelimit import GET_TASK, OTHER
from infdash.ui.episodes import Episodes
from infdash.ui.errors import describe
from infdash.ui.gc_freeze import freeze_bulk_load
from infdash.ui.screens.task_actions import cancel_tasks
from infdash.ui.services import Services
from infdash.ui.tasklist.facets import FACETS
from infdash.ui.tasklist.model import ModelChange, PagedTaskList, SortKey, fetch_rows
from infdash.ui.tasklist.query import TaskQuery, parse_query
from infdash.ui.tasklist.row import TaskRow
from infdash.ui.watcher import TaskWatcher
from infdash.ui.widgets.filter_bar import FilterBar
from infdash.ui.widgets.status_bar import StatusBar
from infdash.ui.widgets.task_table import TaskTable

HEAD_POLL_SECONDS = 5.0
OWNER = "task-list"
SERVER_SORT = {"id": "id", "app": "app", "status": "status", "created": "created_at"}
SORT_CYCLE = ("created", "status", "app", "id")
LOCAL_SORT: dict[str, Any] = {
    "duration": lambda r: (
        (r.finished_at or r.updated_at or r.created_at).timestamp() - r.created_at.timestamp()
        if r.created_at
        else 0.0
    ),
    "engine": lambda r: (r.worker or r.engine).lower(),
    "cost": lambda r: r.cost_microcents if r.cost_microcents is not None else -1,
}


class TaskListScreen(Screen[None]):
    """Every task of the account, newest first, live."""

    BINDING_GROUP_TITLE = "Tasks"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="tasks.filter", tooltip="Edit the query"),
        *(
            Binding(f.key, f"facet('{f.name}')", f.name.capitalize(), show=False,
                    id=f"tasks.facet.{f.name}", tooltip=f"Show {f.name} tasks")
            for f in FACETS
        ),
        Binding("n", "run_task", "Run", id="tasks.run", tooltip="Run a new task"),
        Binding("x", "cancel", "Cancel", id="tasks.cancel",
                tooltip="Cancel the marked tasks (or the one under the cursor)"),
        Binding("y", "copy_id", "Copy id", id="tasks.copy", tooltip="Copy the task id"),
        Binding("w", "watch", "Watch", id="tasks.watch",
                tooltip="Tell me when this task finishes"),
        Binding("s", "cycle_sort", "Sort", id="tasks.sort", tooltip="Sort by the next column"),
        Binding("S", "reverse_sort", "Reverse", show=False, id="tasks.reverse",
                tooltip="Reverse the sort"),
        Binding("ctrl+r", "reload", "Reload", id="tasks.reload", tooltip="Fetch the list again"),
    ]  # fmt: skip
    DEFAULT_CSS = """
    TaskListScreen TaskTable { height: 1fr; }
    """

    @dataclass
    class Loaded(Message):
        generation: int

    @dataclass
    class Failed(Message):
        source: str
        message: str

    @dataclass
    class RowsLoaded(Message):
        pass

    @dataclass
    class HeadPolled(Message):
        change: ModelChange

    @dataclass
    class StoreChanged(Message):
        pass

    def __init__(self, services: Services, *, query_text: str = "") -> None:
        super().__init__()
        self.services = services
        self.model = PagedTaskList(self._fetch_page, now=services.now, engine_ids=self._engine_ids)
        self.query_text = query_text
        self.task_query: TaskQuery = parse_query(query_text)
        self.sort = SortKey()
        self.episodes = Episodes()
        self._generation = 0
        self._pending_ids: set[str] = set()
        self._subscribed: set[str] = set()
        self._new_above = 0
        self._head_timer: Timer | None = None
        self._unlisten: Any = None
        self.watcher = TaskWatcher(self, services)

    # -- layout and lifetime -------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield FilterBar(self.query_text)
        yield TaskTable(now=self.services.now)
        yield StatusBar.for_services(self.services)
        yield Footer()

    @property
    def table(self) -> TaskTable:
        return self.query_one(TaskTable)

    @property
    def filter_bar(self) -> FilterBar:
        return self.query_one(FilterBar)

    def on_mount(self) -> None:
        table = self.table
        table.set_source(self.model)
        table.sort_column = "created"
        table.sort_descending = True
        table.focus()
        self._unlisten = self.services.scheduler.store.listen(self._store_changed)
        self._reload()

    def on_unmount(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
        self.services.scheduler.release_owner(OWNER)
        self.watcher.close()

    def on_screen_suspend(self) -> None:
        """Hidden rows cost nothing: release them while another screen is on top."""
        self.services.scheduler.release_owner(OWNER)
        self._subscribed.clear()

    def on_screen_resume(self) -> None:
        changed = [i for i, c in self.services.costs.items() if self.model.set_cost(i, c)]
        if changed:
            self.table.refresh_ids(changed)
        self._subscribe_visible()

    # -- fetching (workers) --------------------------------------------------------------

    async def _fetch_page(self, **args: Any) -> CursorPage[TaskRow]:
        """A page of rows (parsed straight from the DTOs), through the scheduler's budget."""
        list_args: ListArgs = args  # type: ignore[assignment]
        client = self.services.client
        return await self.services.scheduler.user_action(
            OTHER, lambda: fetch_rows(client, **list_args)
        )

    def _engine_ids(self) -> dict[str, str]:
        return {e.name: e.id for e in self.services.scheduler.engines if e.name}

    def _reload(self) -> None:
        self._generation += 1
        self._new_above = 0
        self._load(self._generation, self.task_query, self.sort)

    @work(exclusive=True, group="task-list-load", exit_on_error=False)
    async def _load(self, generation: int, query: TaskQuery, sort: SortKey) -> None:
        try:
            await self.model.reset(query, sort)
        except Exception as error:
            self.post_message(self.Failed("list", describe(error)))
            return
        self.post_message(self.Loaded(generation))

    @work(group="task-list-rows", exit_on_error=False)
    async def _ensure(self, start: int, end: int) -> None:
        try:
            changed = await self.model.ensure(start, end)
        except Exception as error:
            self.post_message(self.Failed("list", describe(error)))
            return
        if changed:
            self.post_message(self.RowsLoaded())

    @work(exclusive=True, group="task-list-head", exit_on_error=False)
    async def _poll_head(self) -> None:
        client = self.services.client
        model = self.model

        async def fetch(**args: Any) -> CursorPage[TaskRow]:
            list_args: ListArgs = args  # type: ignore[assignment]
            return await self.services.scheduler.user_action(
                OTHER,
                lambda: fetch_rows(client, **list_args),
                priority=Priority.POLL,
            )

        try:
            change = await model.refresh_head(fetch=fetch)
        except Exception as error:
            self.post_message(self.Failed("head", describe(error)))
        else:
            self.post_message(self.HeadPolled(change))
        finally:
            self._arm_head_poll()

    def _arm_head_poll(self) -> None:
        if self._head_timer is not None:
            self._head_timer.stop()
        self._head_timer = self.set_timer(HEAD_POLL_SECONDS, self._poll_head)

    # -- results (handlers) ----------------------------------------------------------------

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.generation != self._generation:
            return
        self.episodes.succeeded("list")
        table = self.table
        table.rows_changed(keep_cursor=False)
        table.cursor = 0
        table.scroll_to(y=0, animate=False)
        self._update_summary()
        self._subscribe_visible()
        self._arm_head_poll()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        if self.episodes.failed(message.source, message.message):
            self.notify(f"task list: {message.message}", severity="error")
        self._update_summary()
        if message.source == "list":
            self._arm_head_poll()

    @on(RowsLoaded)
    def _rows_loaded(self) -> None:
        self.episodes.succeeded("list")
        self._restructure(keep_cursor=True)
        self._subscribe_visible()
        freeze_bulk_load(self.model.loaded)  # rows stay loaded: keep them out of full GCs

    @on(HeadPolled)
    def _head_polled(self, message: HeadPolled) -> None:
        self.episodes.succeeded("head")
        self._apply_change(message.change)

    def _store_changed(self, change: Change) -> None:
        """Store listener (called inside a poll): collect ids, post one message per burst."""
        wanted = change.updated
        if not wanted:
            return
        first = not self._pending_ids
        self._pending_ids |= wanted
        if first:
            self.post_message(self.StoreChanged())

    @on(StoreChanged)
    def _store_applied(self) -> None:
        ids, self._pending_ids = self._pending_ids, set()
        store = self.services.scheduler.store
        tasks = [t for t in (store.get(i) for i in ids) if t is not None]
        self._apply_change(self.model.apply(tasks))

    def _apply_change(self, change: ModelChange) -> None:
        if change.structural:
            top = self.table.visible_range()[0]
            above = sum(1 for i in change.inserted if (self.model.index_of(i) or 0) < top + 1)
            if self.table.cursor > 0 or top > 0:
                self._new_above += above
            self._restructure(keep_cursor=True)
            self._update_summary()
        if change.updated:
            self.table.refresh_ids(change.updated)

    def _restructure(self, *, keep_cursor: bool) -> None:
        self.table.rows_changed(keep_cursor=keep_cursor)

    def _update_summary(self) -> None:
        model = self.model
        count = f"{len(model):,}" if model.total_known else f"{len(model.rows()):,}+"
        parts = [f"{count} tasks"]
        if model.local_keys:
            parts.append(f"filtered here: {', '.join(sorted(model.local_keys))}")
        if self._new_above:
            parts.append(f"▲ {self._new_above} new (g)")
        if message := self.episodes.message("list") or self.episodes.message("head"):
            parts.append(f"⚠ {message}")
        self.filter_bar.set_summary(" · ".join(parts))

    # -- table events ----------------------------------------------------------------------

    @on(TaskTable.RowsNeeded)
    def _rows_needed(self, message: TaskTable.RowsNeeded) -> None:
        self._ensure(message.start, message.end)

    @on(TaskTable.VisibleRowsChanged)
    def _visible_changed(self, message: TaskTable.VisibleRowsChanged) -> None:
        self._subscribe_visible(message.ids)

    @on(TaskTable.CursorMoved)
    def _cursor_moved(self, message: TaskTable.CursorMoved) -> None:
        if message.index == 0 and self._new_above:
            self._new_above = 0
            self._update_summary()

    @on(TaskTable.RowActivated)
    def _activated(self, message: TaskTable.RowActivated) -> None:
        from infdash.ui.screens.task_detail import TaskDetailScreen

        self.app.push_screen(TaskDetailScreen(self.services, message.task_id))

    @on(TaskTable.SortRequested)
    def _sort_requested(self, message: TaskTable.SortRequested) -> None:
        self._sort_by(message.column)

    def _subscribe_visible(self, ids: tuple[str, ...] | None = None) -> None:
        if ids is None:
            start, end = self.table.visible_range()
            ids = tuple(self.model.ids_between(start, end))
        scheduler = self.services.scheduler
        wanted = set(ids)
        for gone in self._subscribed - wanted:
            scheduler.release(ResourceKey.task(gone), OWNER)
        fresh = wanted - self._subscribed
        if fresh:
            scheduler.subscribe_many([ResourceKey.task(i) for i in fresh], Tier.VISIBLE, OWNER)
        self._subscribed = wanted

    # -- filter bar events -------------------------------------------------------------------

    @on(FilterBar.Applied)
    def _query_applied(self, message: FilterBar.Applied) -> None:
        if message.query == self.task_query:
            return
        self.task_query = message.query
        self.query_text = message.query.text
        self._reload()

    @on(FilterBar.Left)
    def _left_filter(self) -> None:
        self.table.focus()

    # -- actions ---------------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one("#filter-input").focus()

    def action_facet(self, name: str) -> None:
        facet = next(f for f in FACETS if f.name == name)
        self.filter_bar.apply_facet(facet)

    def action_reload(self) -> None:
        self._reload()

    def action_cycle_sort(self) -> None:
        current = self.table.sort_column
        at = SORT_CYCLE.index(current) if current in SORT_CYCLE else -1
        self._sort_by(SORT_CYCLE[(at + 1) % len(SORT_CYCLE)], toggle=False)

    def action_reverse_sort(self) -> None:
        self._sort_by(self.table.sort_column)

    def _sort_by(self, column: str, *, toggle: bool = True) -> None:
        table = self.table
        descending = not table.sort_descending if toggle and column == table.sort_column else True
        table.sort_column = column
        table.sort_descending = descending
        if column in SERVER_SORT:
            self.sort = SortKey(SERVER_SORT[column], descending)
            self._reload()
            return
        self.model.sort_locally(LOCAL_SORT[column], descending)
        self._restructure(keep_cursor=True)
        if not self.model.total_known or len(self.model.rows()) < len(self.model):
            self.notify(f"sorted the {len(self.model.rows()):,} loaded rows by {column}")

    def _targets(self) -> list[TaskRow]:
        table = self.table
        rows = [r for r in self.model.rows() if r.id in table.marked]
        if rows:
            return rows
        index = table.cursor
        row = self.model.row_at(index) if len(self.model) else None
        return [row] if row is not None else []

    def action_cancel(self) -> None:
        targets = self._targets()
        if not targets:
            self.notify("no task under the cursor")
            return
        cancel_tasks(self, self.services, targets)
        self.table.clear_marks()

    def action_copy_id(self) -> None:
        task_id = self.table.cursor_task_id
        if task_id is None:
            return
        self.app.copy_to_clipboard(task_id)
        self.notify(f"copied {task_id}")

    def action_watch(self) -> None:
        row = self.model.row_at(self.table.cursor) if len(self.model) else None
        if row is not None:
            self.watcher.toggle(row)

    def action_run_task(self) -> None:
        from infdash.ui.screens.run_dialog import RunDialog, RunRequest

        services = self.services
        if services.read_only:
            self.notify("read-only profile: running tasks is turned off", severity="warning")
            return
        seen = {r.app for r in self.model.rows()[:500] if r.app}
        known = sorted(set(services.known_apps) | seen)

        async def submit(request: RunRequest) -> Task:
            started = await services.scheduler.run(
                request.app, request.input, setup=request.setup, infra=request.infra
            )
            return await _whole(services, started, request.app)

        self.app.push_screen(RunDialog(submit, known), self._ran)

    def _ran(self, task: Task | None) -> None:
        if task is None:
            return
        self.watcher.watch(TaskRow.from_task(task))
        change = self.model.apply([task])
        self._apply_change(change)
        if self.table.move_cursor_to(task.id):
            self.notify(f"started {task.id[:12]} ({task.app_ref})")
        else:
            self.notify(f"started {task.id[:12]} ({task.app_ref}); the current filter hides it")


async def _whole(services: Services, started: Task, app: str) -> Task:
    """The full task behind a run's slim answer (it lacks the app and times), for its row.

    The run itself succeeded: if this fetch fails the slim task is used, with the app the user
    typed, and the row fills in at its next poll.
    """
    try:
        task = await services.scheduler.user_action(
            GET_TASK, lambda: services.client.tasks.get(started.id)
        )
    except Exception:
        return started if started.app_name else replace(started, app_name=app)
    services.scheduler.store.apply(task)
    return task
