"""The task list's rows: a server-paginated, partly loaded, virtual list (a ``RowSource``).

An account can hold 50k tasks; the table must scroll over all of them without loading them
all, and a filter must be applied by the server, not by downloading everything first.
:class:`PagedTaskList` keeps two loaded segments of the server's order (stored, indexed and
merged by :mod:`infdash.ui.tasklist.segments`):

* the HEAD, rows ``[0, len(head))``, loaded forward from the top with ``next_cursor``;
* the TAIL, rows ``[total - len(tail), total)``, for a jump towards the end (End on 50k
  rows): the first page of the *reversed* sort is the bottom of the list, and that query's
  ``next_cursor`` extends it upward.

Every request sorts by the chosen field and then by id in the same direction, so the reversed
sort is exactly the reverse order even where the field ties.

Filters the server rejects (a 400) or cannot express (several apps, engines without a known
id) are applied here with :meth:`TaskQuery.matches`; the total is then unknown, and the list
is the loaded rows plus one placeholder row while more pages exist.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Unpack

from infdash.api import InferenceClient, Task
from infdash.api.errors import ApiError, ValidationError
from infdash.api.models.common import CursorPage
from infdash.api.query import ListArgs, Sort
from infdash.ui.tasklist.query import TaskQuery
from infdash.ui.tasklist.row import TaskRow
from infdash.ui.tasklist.segments import Segments, keep_cost

FetchPage = Callable[..., Awaitable[CursorPage[TaskRow]]]
"""``fetch(**ListArgs) -> Awaitable[CursorPage[TaskRow]]``: a page of rows parsed straight from
the DTOs, as :func:`fetch_rows` reads them."""

SERVER_SORTS = frozenset({"created_at", "updated_at", "status", "app", "id"})
"""Sort fields the tasks list sorts by on the server."""

MAX_PAGE = 1000
"""Largest page asked for at once (deep jumps and local filtering use big pages)."""

REFRESH_PAGES = 10
"""Most pages one :meth:`PagedTaskList.refresh_head` reads while every row is new."""

# Words in a 400's message that name the query key the server refused, in checking order.
_CULPRITS = (
    ("engine", "engine"),
    ("created_at", "since"),
    ("app", "app"),
    ("status", "status"),
    ("search", "text"),
)
# A 400 naming none of the keys is still about filters if it says one of these.
_FILTER_WORDS = ("filter", "operator")
# Keys dropped, in this order, when a 400 does not say which one it refused.
_DROP_ORDER = ("text", "since", "engine", "app", "status")


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def fetch_rows(client: InferenceClient, **args: Unpack[ListArgs]) -> CursorPage[TaskRow]:
    """One ``POST /tasks/list`` page as rows: each DTO read by :meth:`TaskRow.from_dto`, never
    parsed into a whole :class:`Task` (the task list's fetch; the screen adds its budget)."""
    return await client.tasks.list_rows(TaskRow.from_dto, **args)


@dataclass(frozen=True)
class SortKey:
    """The server-side order of the list."""

    field: str = "created_at"
    descending: bool = True


@dataclass(frozen=True)
class ModelChange:
    """What a live update did: rows changed in place, and rows inserted (by id)."""

    updated: frozenset[str] = frozenset()
    inserted: tuple[str, ...] = ()

    @property
    def structural(self) -> bool:
        """Rows were inserted, so indices below them moved."""
        return bool(self.inserted)


@dataclass
class _LocalSort:
    key: Callable[[TaskRow], Any]
    descending: bool


class PagedTaskList:
    """Rows of the current query and sort, loaded page by page on demand (a ``RowSource``).

    ``fetch`` is called as ``fetch(**ListArgs)`` and returns a page of rows (:func:`fetch_rows`,
    so a page is never parsed into whole tasks only to be cut down to rows); ``now`` is the clock
    ``since:`` is measured from; ``engine_ids`` (engine name → id) is read at each
    :meth:`reset`, so ``engine:`` can filter on the server. Not thread-safe: use it from the
    event loop that awaits it.
    """

    def __init__(
        self,
        fetch: FetchPage,
        *,
        page_size: int = 200,
        now: Callable[[], datetime] = _utc_now,
        engine_ids: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self._fetch = fetch
        self.page_size = max(1, page_size)
        self._now = now
        self._engine_ids = engine_ids
        self.query = TaskQuery()
        self.sort = SortKey()
        self._segments = Segments()
        self._started = False
        self._generation = 0
        self._inflight = 0
        self._lock = asyncio.Lock()
        self._rejected: set[str] = set()
        self._engine_map: dict[str, str] = {}
        self._query_now = now()
        self._tiebreak = True
        self._local_sort: _LocalSort | None = None
        self.local_keys: frozenset[str] = frozenset()

    # --- RowSource ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._segments) if self._started else 0

    def row_at(self, index: int) -> TaskRow | None:
        return self._segments.row_at(index)

    def index_of(self, task_id: str) -> int | None:
        return self._segments.index_of(task_id)

    # --- reading --------------------------------------------------------------------------

    @property
    def total_known(self) -> bool:
        """``len`` is the server's count of matching tasks (no local-only filtering)."""
        segments = self._segments
        return segments.total is not None or (self._started and not segments.head_paging.more)

    @property
    def loading(self) -> bool:
        """A page request is in flight."""
        return self._inflight > 0

    @property
    def locally_sorted(self) -> bool:
        """The loaded rows are in a :meth:`sort_locally` order, not the server's."""
        return self._local_sort is not None

    def ids_between(self, start: int, end: int) -> list[str]:
        """Ids of the loaded rows in ``[start, end)``."""
        return self._segments.ids_between(start, end)

    def rows(self) -> list[TaskRow]:
        """Every loaded row, in list order."""
        return self._segments.rows()

    @property
    def loaded(self) -> int:
        """How many rows are loaded (``len(rows())`` without building the list)."""
        return len(self._segments.head) + len(self._segments.tail)

    # --- loading --------------------------------------------------------------------------

    async def reset(self, query: TaskQuery, sort: SortKey | None = None) -> None:
        """Forget every row and fetch the first page of ``query`` in ``sort`` order."""
        sort = sort or SortKey()
        if sort.field not in SERVER_SORTS:
            raise ValueError(f"the server cannot sort by {sort.field!r}; use sort_locally")
        self._generation += 1
        self.query, self.sort = query, sort
        self._segments = Segments()
        self._started = True
        self._rejected = set()
        self._tiebreak = True
        self._local_sort = None
        self._query_now = self._now()
        self._engine_map = dict(self._engine_ids()) if self._engine_ids else {}
        self._update_local_keys()
        async with self._lock:
            generation = self._generation
            if self._segments.head_paging.fetched:
                return
            await self._extend_head(self.page_size, generation)

    async def ensure(self, start: int, end: int) -> bool:
        """Load rows ``[start, end)`` (clamped to the list); True if rows were added."""
        if not self._started:
            return False
        changed = False
        async with self._lock:
            generation = self._generation
            start, end = max(0, start), min(end, len(self))
            while generation == self._generation and self._segments.missing(start, end):
                end = min(end, len(self))
                if self._use_head(start, end):
                    grew = await self._extend_head(end, generation)
                else:
                    grew = await self._extend_tail(start, generation)
                if not grew:
                    break
                changed = True
        return changed

    async def refresh_head(self, limit: int = 50, *, fetch: FetchPage | None = None) -> ModelChange:
        """Fetch the first page again (a live poll): new tasks inserted, known ones updated.

        If a whole page is new (more than ``limit`` tasks arrived since the last poll), the
        following pages are read too (up to :data:`REFRESH_PAGES`), so no hole opens between
        the new rows and the loaded ones.  ``fetch`` replaces the model's own for this poll (the
        screen queues it at poll priority).  The lock is not held while fetching: a poll waiting
        for the budget must not hold up the pages a user scrolls to; a reset meanwhile voids it.
        """
        if not self._started:
            return ModelChange()
        generation = self._generation
        rows: list[TaskRow] = []
        cursor: str | None = None
        for _ in range(REFRESH_PAGES):
            page = await self._fetch_page(reverse=False, cursor=cursor, limit=limit, via=fetch)
            if generation != self._generation:
                return ModelChange()
            rows.extend(page.items)
            if self._any_known(page.items) or not (page.has_next and page.next_cursor):
                break
            cursor = page.next_cursor
        change = self._merge_live(self._admit(rows), self._now(), trusted=True)
        if page.total_items is not None and not self.local_keys:
            s = self._segments
            s.total = max(page.total_items, len(s.head) + len(s.tail))
        return change

    def _any_known(self, rows: Iterable[TaskRow]) -> bool:
        return any(self._segments.knows(row.id) for row in rows)

    # --- live updates ---------------------------------------------------------------------

    def apply(self, tasks: Iterable[Task]) -> ModelChange:
        """Live tasks from the store: loaded ones update in place (even if they stopped
        matching: rows never jump under the cursor), new matching ones that sort into the
        loaded head are inserted at their position."""
        if not self._started:
            return ModelChange()
        rows = [TaskRow.from_task(task) for task in tasks]
        change = self._merge_live(rows, self._now(), trusted=False)
        if self._segments.total is not None:
            self._segments.total += len(change.inserted)
        return change

    def set_cost(self, task_id: str, microcents: int) -> bool:
        """Record a finished task's cost on its row; True if the row is loaded and changed."""
        row = self._segments.find(task_id)
        if row is None or row.cost_microcents == microcents:
            return False
        self._segments.replace(task_id, row.with_cost(microcents))
        return True

    def sort_locally(self, key: Callable[[TaskRow], Any], descending: bool) -> None:
        """Sort the *loaded* rows by ``key`` (columns the server cannot sort: duration,
        engine, cost). Rows loaded later are sorted in with them; the tail is dropped (it is
        re-read through the head), so this is meant for lists that are (nearly) all loaded.
        ``key`` may return None: those rows go last either way."""
        self._local_sort = _LocalSort(key, descending)
        self._segments.drop_tail()
        self._resort()

    # --- internals: paging ----------------------------------------------------------------

    def _use_head(self, start: int, end: int) -> bool:
        """Load ``[start, end)`` by extending the head (else the tail): the nearer one."""
        s = self._segments
        if s.total is None or self._local_sort is not None:
            return True
        head_end = len(s.head)
        if start <= head_end + self.page_size:
            return True
        tail_start = len(self) - len(s.tail)
        return start - head_end <= tail_start - end

    def _page_limit(self, wanted: int) -> int:
        if self.local_keys:
            return MAX_PAGE
        return min(MAX_PAGE, max(self.page_size, wanted))

    async def _extend_head(self, end: int, generation: int) -> bool:
        """One more head page; False when nothing could be added."""
        s = self._segments
        if not s.head_paging.more:
            return False
        limit = self._page_limit(end - len(s.head))
        page = await self._fetch_page(reverse=False, cursor=s.head_paging.cursor, limit=limit)
        if generation != self._generation:
            return False
        self._take_total(page)
        overlap = s.add_head_page(self._admit(page.items))
        progressed = s.head_paging.advance(page)
        s.settle(overlap)
        if self._local_sort is not None:
            self._resort()
        return progressed

    async def _extend_tail(self, start: int, generation: int) -> bool:
        """One more tail page (upward, through the reversed sort)."""
        s = self._segments
        wanted = len(self) - len(s.tail) - start
        page = await self._fetch_page(
            reverse=True, cursor=s.tail_paging.cursor, limit=self._page_limit(wanted)
        )
        if generation != self._generation:
            return False
        self._take_total(page)
        overlap = s.add_tail_page(self._admit(page.items))
        progressed = s.tail_paging.advance(page)
        s.settle(overlap)
        return progressed

    def _take_total(self, page: CursorPage[TaskRow]) -> None:
        if self.local_keys:
            self._segments.total = None
        elif page.total_items is not None:
            self._segments.total = page.total_items

    # --- internals: requests --------------------------------------------------------------

    async def _fetch_page(
        self, *, reverse: bool, cursor: str | None, limit: int, via: FetchPage | None = None
    ) -> CursorPage[TaskRow]:
        """One page; a 400 for a filter moves that key to local filtering and retries."""
        fetch = via or self._fetch
        while True:
            args = self._list_args(reverse=reverse, cursor=cursor, limit=limit)
            self._inflight += 1
            try:
                return await fetch(**args)
            except ApiError as exc:
                if not self._fall_back(exc):
                    raise
            finally:
                self._inflight -= 1

    def _list_args(self, *, reverse: bool, cursor: str | None, limit: int) -> ListArgs:
        descending = self.sort.descending != reverse
        direction: Literal["asc", "desc"] = "desc" if descending else "asc"
        sort = [Sort(self.sort.field, direction)]
        if self._tiebreak and self.sort.field != "id":
            sort.append(Sort("id", direction))
        args: ListArgs = {"limit": limit, "sort": sort}
        if cursor:
            args["cursor"] = cursor
            args["direction"] = "next"
        skip = self._rejected
        filters = self.query.server_filters(self._query_now, self._engine_map, skip=skip)
        if filters:
            args["filters"] = filters
        search = self.query.server_search()
        if search and "text" not in skip:
            args["search"] = search
        return args

    def _fall_back(self, exc: ApiError) -> bool:
        """Handle a 400 by filtering one more key locally; False if that cannot help."""
        if not isinstance(exc, ValidationError) and exc.status != 400:
            return False
        text = " ".join(str(part) for part in (exc.message, exc.detail, exc.code) if part)
        text = text.lower()
        if self._tiebreak and "sort" in text:
            self._tiebreak = False
            return True
        sent = self._server_keys()
        culprit = next((key for word, key in _CULPRITS if word in text and key in sent), None)
        if culprit is None and any(word in text for word in _FILTER_WORDS):
            culprit = next((key for key in _DROP_ORDER if key in sent), None)
        if culprit is None:
            return False
        self._rejected.add(culprit)
        self._update_local_keys()
        self._segments.total = None
        return True

    def _server_keys(self) -> set[str]:
        """Query keys currently sent to the server."""
        return set(self.query.keys() - self.local_keys)

    def _update_local_keys(self) -> None:
        local = self.query.local_only_keys(self._engine_map) | self._rejected
        self.local_keys = frozenset(local) & self.query.keys()

    def _admit(self, rows: Iterable[TaskRow]) -> list[TaskRow]:
        """The fetched rows that pass the locally applied keys."""
        if not self.local_keys:
            return list(rows)
        keys, now = self.local_keys, self._query_now
        return [row for row in rows if self.query.matches(row, now, keys)]

    # --- internals: rows ------------------------------------------------------------------

    def _merge_live(self, rows: list[TaskRow], now: datetime, *, trusted: bool) -> ModelChange:
        """Update known rows in place; insert new ones that belong in the loaded head.

        ``trusted`` rows came from the server with the query's filters applied."""
        s = self._segments
        updated: set[str] = set()
        inserted: list[str] = []
        for row in rows:
            old = s.find(row.id)
            if old is not None:
                new = keep_cost(row, old)
                if new != old:
                    s.replace(row.id, new)
                    updated.add(row.id)
            elif (trusted or self.query.matches(row, now)) and s.insert(row, *self._order()):
                inserted.append(row.id)
        return ModelChange(frozenset(updated), tuple(inserted))

    def _order(self) -> tuple[Callable[[TaskRow], Any], bool]:
        """The key and direction the head is in."""
        if self._local_sort is not None:
            return _nulls_last(self._local_sort.key, self._local_sort.descending), (
                self._local_sort.descending
            )
        return _server_key(self.sort.field), self.sort.descending

    def _resort(self) -> None:
        self._segments.sort_head(*self._order())


def _stamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else float("-inf")


def _server_key(name: str) -> Callable[[TaskRow], Any]:
    """The local twin of the server's order: the field, then the id."""
    if name == "created_at":
        return lambda row: (_stamp(row.created_at), row.id)
    if name == "updated_at":
        return lambda row: (_stamp(row.updated_at), row.id)
    if name == "status":
        return lambda row: (int(row.status), row.id)
    if name == "app":
        return lambda row: (row.app.partition("@")[0], row.id)
    return lambda row: (row.id,)


def _nulls_last(key: Callable[[TaskRow], Any], descending: bool) -> Callable[[TaskRow], Any]:
    """``key`` made total: rows whose value is None sort last in either direction."""

    def wrapped(row: TaskRow) -> tuple[bool, Any]:
        value = key(row)
        missing = value is None
        return (not missing if descending else missing, 0 if missing else value)

    return wrapped
