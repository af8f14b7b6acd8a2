"""The task list's rows: a server-paginated, partly loaded, virtual list (a ``RowSource``).

An account can hold 50k tasks; the table must scroll over all of them without loading them
all, and a filter must be applied by the server, not by downloading everything first.
:class:`PagedTaskList` keeps two loaded segments of the server's order:

* the HEAD, rows ``[0, len(head))``, loaded forward from the top with ``next_cursor``;
* the TAIL, rows ``[total - len(tail), total)``, for a jump towards the end (End on 50k
  rows): the first page of the *reversed* sort is the bottom of the list, and that query's
  ``next_cursor`` extends it upward. The tail is stored bottom-first so growing it appends.

Indices between the segments are known to exist (the server's ``total_items``) but return
None until loaded. When the segments meet (an id in both, or their sizes reach the total)
they merge into the head, deduplicated by id. Every request sorts by the chosen field and
then by id in the same direction, so the reversed sort is exactly the reverse order even
where the field ties.

Filters the server rejects (a 400) or cannot express (several apps, engines without a known
id) are applied here with :meth:`TaskQuery.matches`; the total is then unknown, and the list
is the loaded rows plus one placeholder row while more pages exist.

Rows are kept as :class:`TaskRow` (never whole tasks) in plain lists, so ``row_at`` is O(1).
``index_of`` is a dict of id → position: head rows store ``index - shift``, so inserting a
live task at the top (the common case, newest first) is a list insert (a memmove, ~25 µs at
50k rows) plus ``shift += 1`` — no re-indexing. An insert elsewhere marks the head index
stale and it is rebuilt (O(n)) on the next lookup; tail rows store their bottom-first
position, which never moves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from infdash.api import Task
from infdash.api.errors import ApiError, ValidationError
from infdash.api.models.common import CursorPage
from infdash.api.query import ListArgs, Sort
from infdash.ui.tasklist.query import TaskQuery
from infdash.ui.tasklist.row import TaskRow

FetchPage = Callable[..., Awaitable[CursorPage[Task]]]
"""``fetch(**ListArgs) -> Awaitable[CursorPage[Task]]``, e.g. ``client.tasks.list``."""

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
class _Segment:
    """Paging state of one end of the list."""

    cursor: str | None = None
    more: bool = True
    fetched: bool = False


@dataclass
class _LocalSort:
    key: Callable[[TaskRow], Any]
    descending: bool


@dataclass
class _State:
    """Everything :meth:`PagedTaskList.reset` forgets."""

    head: list[TaskRow] = field(default_factory=list)
    head_pos: dict[str, int] = field(default_factory=dict)
    shift: int = 0
    stale: bool = False
    tail: list[TaskRow] = field(default_factory=list)
    """Bottom-first: ``tail[0]`` is the last row of the list."""
    tail_pos: dict[str, int] = field(default_factory=dict)
    head_seg: _Segment = field(default_factory=_Segment)
    tail_seg: _Segment = field(default_factory=_Segment)
    total: int | None = None


class PagedTaskList:
    """Rows of the current query and sort, loaded page by page on demand (a ``RowSource``).

    ``fetch`` is called as ``fetch(**ListArgs)`` (``client.tasks.list``); ``now`` is the clock
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
        self._s = _State()
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
        s = self._s
        if not self._started:
            return 0
        if s.total is None:
            return len(s.head) + (1 if s.head_seg.more else 0)
        if not s.head_seg.more:
            return len(s.head)
        return max(s.total, len(s.head) + len(s.tail))

    def row_at(self, index: int) -> TaskRow | None:
        s = self._s
        if 0 <= index < len(s.head):
            return s.head[index]
        if s.tail and index >= 0:
            back = len(self) - 1 - index
            if 0 <= back < len(s.tail):
                return s.tail[back]
        return None

    def index_of(self, task_id: str) -> int | None:
        s = self._s
        if task_id in s.head_pos:
            return self._head_index(task_id)
        back = s.tail_pos.get(task_id)
        return None if back is None else len(self) - 1 - back

    # --- reading --------------------------------------------------------------------------

    @property
    def total_known(self) -> bool:
        """``len`` is the server's count of matching tasks (no local-only filtering)."""
        return self._s.total is not None or (self._started and not self._s.head_seg.more)

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
        s = self._s
        start, end = max(0, start), min(end, len(self))
        ids = [row.id for row in s.head[start:end]]
        if s.tail and end > len(s.head):
            top = len(self) - len(s.tail)
            lo, hi = max(start, top, len(s.head)), end
            ids.extend(s.tail[len(self) - 1 - i].id for i in range(lo, hi))
        return ids

    def rows(self) -> list[TaskRow]:
        """Every loaded row, in list order."""
        return [*self._s.head, *reversed(self._s.tail)]

    # --- loading --------------------------------------------------------------------------

    async def reset(self, query: TaskQuery, sort: SortKey | None = None) -> None:
        """Forget every row and fetch the first page of ``query`` in ``sort`` order."""
        sort = sort or SortKey()
        if sort.field not in SERVER_SORTS:
            raise ValueError(f"the server cannot sort by {sort.field!r}; use sort_locally")
        self._generation += 1
        self.query, self.sort = query, sort
        self._s = _State()
        self._started = True
        self._rejected = set()
        self._tiebreak = True
        self._local_sort = None
        self._query_now = self._now()
        self._engine_map = dict(self._engine_ids()) if self._engine_ids else {}
        self._update_local_keys()
        async with self._lock:
            generation = self._generation
            if self._s.head_seg.fetched:
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
            while generation == self._generation and self._missing(start, end):
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
        tasks: list[Task] = []
        cursor: str | None = None
        for _ in range(REFRESH_PAGES):
            page = await self._fetch_page(reverse=False, cursor=cursor, limit=limit, via=fetch)
            if generation != self._generation:
                return ModelChange()
            tasks.extend(page.items)
            if self._any_known(page.items) or not (page.has_next and page.next_cursor):
                break
            cursor = page.next_cursor
        change = self._merge_live(self._admit(tasks), self._now(), trusted=True)
        if page.total_items is not None and not self.local_keys:
            self._s.total = max(page.total_items, len(self._s.head) + len(self._s.tail))
        return change

    def _any_known(self, tasks: Iterable[Task]) -> bool:
        s = self._s
        return any(task.id in s.head_pos or task.id in s.tail_pos for task in tasks)

    # --- live updates ---------------------------------------------------------------------

    def apply(self, tasks: Iterable[Task]) -> ModelChange:
        """Live tasks from the store: loaded ones update in place (even if they stopped
        matching: rows never jump under the cursor), new matching ones that sort into the
        loaded head are inserted at their position."""
        if not self._started:
            return ModelChange()
        rows = [TaskRow.from_task(task) for task in tasks]
        change = self._merge_live(rows, self._now(), trusted=False)
        if self._s.total is not None:
            self._s.total += len(change.inserted)
        return change

    def set_cost(self, task_id: str, microcents: int) -> bool:
        """Record a finished task's cost on its row; True if the row is loaded and changed."""
        row = self._find(task_id)
        if row is None or row.cost_microcents == microcents:
            return False
        self._replace(task_id, row.with_cost(microcents))
        return True

    def sort_locally(self, key: Callable[[TaskRow], Any], descending: bool) -> None:
        """Sort the *loaded* rows by ``key`` (columns the server cannot sort: duration,
        engine, cost). Rows loaded later are sorted in with them; the tail is dropped (it is
        re-read through the head), so this is meant for lists that are (nearly) all loaded.
        ``key`` may return None: those rows go last either way."""
        s = self._s
        self._local_sort = _LocalSort(key, descending)
        s.tail, s.tail_pos, s.tail_seg = [], {}, _Segment()
        self._resort()

    # --- internals: segments --------------------------------------------------------------

    def _missing(self, start: int, end: int) -> bool:
        """Some index of ``[start, end)`` is not loaded."""
        s = self._s
        if start >= end or end <= len(s.head):
            return False
        if s.tail:
            return start < len(self) - len(s.tail)
        return True

    def _use_head(self, start: int, end: int) -> bool:
        """Load ``[start, end)`` by extending the head (else the tail): the nearer one."""
        s = self._s
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
        s = self._s
        if not s.head_seg.more:
            return False
        limit = self._page_limit(end - len(s.head))
        page = await self._fetch_page(reverse=False, cursor=s.head_seg.cursor, limit=limit)
        if generation != self._generation:
            return False
        self._take_total(page)
        overlap = False
        for row in self._admit(page.items):
            if row.id in s.tail_pos:
                overlap = True
            elif row.id in s.head_pos:
                self._replace(row.id, _keep_cost(row, self._find(row.id)))
            else:
                s.head_pos[row.id] = len(s.head) - s.shift
                s.head.append(row)
        progressed = self._advance(s.head_seg, page)
        self._settle(overlap)
        if self._local_sort is not None:
            self._resort()
        return progressed

    async def _extend_tail(self, start: int, generation: int) -> bool:
        """One more tail page (upward, through the reversed sort)."""
        s = self._s
        wanted = len(self) - len(s.tail) - start
        page = await self._fetch_page(
            reverse=True, cursor=s.tail_seg.cursor, limit=self._page_limit(wanted)
        )
        if generation != self._generation:
            return False
        self._take_total(page)
        overlap = False
        for row in self._admit(page.items):
            if row.id in s.head_pos:
                overlap = True
            elif row.id not in s.tail_pos:
                s.tail_pos[row.id] = len(s.tail)
                s.tail.append(row)
        progressed = self._advance(s.tail_seg, page)
        self._settle(overlap)
        return progressed

    @staticmethod
    def _advance(segment: _Segment, page: CursorPage[Task]) -> bool:
        """Move a segment's cursor past ``page``; False if the server made no progress."""
        moved = page.next_cursor != segment.cursor or not segment.fetched
        segment.fetched = True
        segment.cursor = page.next_cursor
        segment.more = page.has_next and bool(page.next_cursor) and moved
        return moved or bool(page.items)

    def _take_total(self, page: CursorPage[Task]) -> None:
        if self.local_keys:
            self._s.total = None
        elif page.total_items is not None:
            self._s.total = page.total_items

    def _settle(self, overlap: bool) -> None:
        """Merge the tail into the head once they meet (or the head reached the end)."""
        s = self._s
        tail_done = s.tail_seg.fetched and not s.tail_seg.more
        if not s.tail and not overlap and not tail_done:
            return
        met = s.total is not None and len(s.head) + len(s.tail) >= s.total
        if overlap or met or tail_done or not s.head_seg.more or s.total is None:
            for row in reversed(s.tail):
                if row.id not in s.head_pos:
                    s.head_pos[row.id] = len(s.head) - s.shift
                    s.head.append(row)
            s.tail, s.tail_pos, s.tail_seg = [], {}, _Segment()
            s.head_seg = _Segment(cursor=None, more=False, fetched=True)
            if s.total is not None:
                s.total = len(s.head)

    # --- internals: requests --------------------------------------------------------------

    async def _fetch_page(
        self, *, reverse: bool, cursor: str | None, limit: int, via: FetchPage | None = None
    ) -> CursorPage[Task]:
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
        self._s.total = None
        return True

    def _server_keys(self) -> set[str]:
        """Query keys currently sent to the server."""
        return set(self.query.keys() - self.local_keys)

    def _update_local_keys(self) -> None:
        local = self.query.local_only_keys(self._engine_map) | self._rejected
        self.local_keys = frozenset(local) & self.query.keys()

    def _admit(self, tasks: Iterable[Task]) -> list[TaskRow]:
        """Rows of fetched tasks that pass the locally applied keys."""
        rows = [TaskRow.from_task(task) for task in tasks]
        if not self.local_keys:
            return rows
        keys, now = self.local_keys, self._query_now
        return [row for row in rows if self.query.matches(row, now, keys)]

    # --- internals: rows ------------------------------------------------------------------

    def _merge_live(self, rows: list[TaskRow], now: datetime, *, trusted: bool) -> ModelChange:
        """Update known rows in place; insert new ones that belong in the loaded head.

        ``trusted`` rows came from the server with the query's filters applied."""
        updated: set[str] = set()
        inserted: list[str] = []
        for row in rows:
            old = self._find(row.id)
            if old is not None:
                new = _keep_cost(row, old)
                if new != old:
                    self._replace(row.id, new)
                    updated.add(row.id)
            elif (trusted or self.query.matches(row, now)) and self._insert(row):
                inserted.append(row.id)
        return ModelChange(frozenset(updated), tuple(inserted))

    def _insert(self, row: TaskRow) -> bool:
        """Insert ``row`` at its sorted place in the head, if that is inside what is loaded."""
        s = self._s
        if not s.head_seg.fetched:
            return False
        position = self._position(row)
        if position >= len(s.head) and s.head_seg.more:
            return False
        s.head.insert(position, row)
        if position == 0:
            s.shift += 1
            s.head_pos[row.id] = -s.shift
        elif position == len(s.head) - 1:
            s.head_pos[row.id] = position - s.shift
        else:
            s.head_pos[row.id] = 0
            s.stale = True
        return True

    def _position(self, row: TaskRow) -> int:
        """Where ``row`` goes in the head (after rows that compare equal): a bisection."""
        key, descending = self._order()
        head = self._s.head
        wanted = key(row)
        lo, hi = 0, len(head)
        while lo < hi:
            mid = (lo + hi) // 2
            here = key(head[mid])
            if here == wanted or (here > wanted if descending else here < wanted):
                lo = mid + 1
            else:
                hi = mid
        return lo

    def _order(self) -> tuple[Callable[[TaskRow], Any], bool]:
        """The key and direction the head is in."""
        if self._local_sort is not None:
            return _nulls_last(self._local_sort.key, self._local_sort.descending), (
                self._local_sort.descending
            )
        return _server_key(self.sort.field), self.sort.descending

    def _resort(self) -> None:
        key, descending = self._order()
        self._s.head.sort(key=key, reverse=descending)
        self._reindex()

    def _reindex(self) -> None:
        s = self._s
        s.head_pos = {row.id: i for i, row in enumerate(s.head)}
        s.shift, s.stale = 0, False

    def _head_index(self, task_id: str) -> int:
        if self._s.stale:
            self._reindex()
        return self._s.head_pos[task_id] + self._s.shift

    def _find(self, task_id: str) -> TaskRow | None:
        s = self._s
        if task_id in s.head_pos:
            return s.head[self._head_index(task_id)]
        back = s.tail_pos.get(task_id)
        return None if back is None else s.tail[back]

    def _replace(self, task_id: str, row: TaskRow) -> None:
        s = self._s
        if task_id in s.head_pos:
            s.head[self._head_index(task_id)] = row
        elif task_id in s.tail_pos:
            s.tail[s.tail_pos[task_id]] = row


def _keep_cost(row: TaskRow, old: TaskRow | None) -> TaskRow:
    """A fresh row keeps the cost already fetched for it."""
    if old is None or row.cost_microcents is not None or old.cost_microcents is None:
        return row
    return row.with_cost(old.cost_microcents)


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
