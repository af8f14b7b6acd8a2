"""The loaded rows of the paged task list: a head and a tail segment, with id → index maps.

:class:`~infdash.ui.tasklist.model.PagedTaskList` decides what to fetch and when; this module
only stores what was fetched, so the index arithmetic can be read (and tested) on its own.

* The HEAD is rows ``[0, len(head))``, loaded forward from the top.
* The TAIL is rows ``[total - len(tail), total)``, loaded upward from the bottom (through the
  reversed sort). It is stored bottom-first so growing it appends.

Indices between the segments are known to exist (the server's ``total_items``) but return
None until loaded. When the segments meet (an id in both, or their sizes reach the total)
they merge into the head, deduplicated by id.

Rows are kept as :class:`TaskRow` (never whole tasks) in plain lists, so ``row_at`` is O(1).
``index_of`` is a dict of id → position: head rows store ``index - shift``, so inserting a
live task at the top (the common case, newest first) is a list insert (a memmove, ~25 µs at
50k rows) plus ``shift += 1`` — no re-indexing. An insert elsewhere marks the head index
stale and it is rebuilt (O(n)) on the next lookup; tail rows store their bottom-first
position, which never moves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from infdash.api.models.common import CursorPage
from infdash.ui.tasklist.row import TaskRow


@dataclass
class Paging:
    """Paging state of one end of the list."""

    cursor: str | None = None
    more: bool = True
    fetched: bool = False

    def advance(self, page: CursorPage[TaskRow]) -> bool:
        """Move the cursor past ``page``; False if the server made no progress."""
        moved = page.next_cursor != self.cursor or not self.fetched
        self.fetched = True
        self.cursor = page.next_cursor
        self.more = page.has_next and bool(page.next_cursor) and moved
        return moved or bool(page.items)


@dataclass
class Segments:
    """The loaded head and tail of the list, their paging state and the server's total."""

    head: list[TaskRow] = field(default_factory=list)
    head_pos: dict[str, int] = field(default_factory=dict)
    shift: int = 0
    stale: bool = False
    tail: list[TaskRow] = field(default_factory=list)
    """Bottom-first: ``tail[0]`` is the last row of the list."""
    tail_pos: dict[str, int] = field(default_factory=dict)
    head_paging: Paging = field(default_factory=Paging)
    tail_paging: Paging = field(default_factory=Paging)
    total: int | None = None
    """The server's count of matching tasks; None while local filtering makes it unknown."""

    # --- reading --------------------------------------------------------------------------

    def __len__(self) -> int:
        """Rows in the list: the total when known, else the head plus a placeholder row."""
        if self.total is None:
            return len(self.head) + (1 if self.head_paging.more else 0)
        if not self.head_paging.more:
            return len(self.head)
        return max(self.total, len(self.head) + len(self.tail))

    def row_at(self, index: int) -> TaskRow | None:
        """The row at ``index``, or None while it is not loaded."""
        if 0 <= index < len(self.head):
            return self.head[index]
        if self.tail and index >= 0:
            back = len(self) - 1 - index
            if 0 <= back < len(self.tail):
                return self.tail[back]
        return None

    def index_of(self, task_id: str) -> int | None:
        """Where the row of ``task_id`` is, if it is loaded."""
        if task_id in self.head_pos:
            return self._head_index(task_id)
        back = self.tail_pos.get(task_id)
        return None if back is None else len(self) - 1 - back

    def ids_between(self, start: int, end: int) -> list[str]:
        """Ids of the loaded rows in ``[start, end)``."""
        start, end = max(0, start), min(end, len(self))
        ids = [row.id for row in self.head[start:end]]
        if self.tail and end > len(self.head):
            top = len(self) - len(self.tail)
            lo, hi = max(start, top, len(self.head)), end
            ids.extend(self.tail[len(self) - 1 - i].id for i in range(lo, hi))
        return ids

    def rows(self) -> list[TaskRow]:
        """Every loaded row, in list order."""
        return [*self.head, *reversed(self.tail)]

    def knows(self, task_id: str) -> bool:
        """The row of ``task_id`` is loaded (in either segment)."""
        return task_id in self.head_pos or task_id in self.tail_pos

    def missing(self, start: int, end: int) -> bool:
        """Some index of ``[start, end)`` is not loaded."""
        if start >= end or end <= len(self.head):
            return False
        if self.tail:
            return start < len(self) - len(self.tail)
        return True

    def find(self, task_id: str) -> TaskRow | None:
        """The loaded row of ``task_id``, if any."""
        if task_id in self.head_pos:
            return self.head[self._head_index(task_id)]
        back = self.tail_pos.get(task_id)
        return None if back is None else self.tail[back]

    # --- adding pages ---------------------------------------------------------------------

    def add_head_page(self, rows: Iterable[TaskRow]) -> bool:
        """Append a page to the head (known rows are updated); True if it reached the tail."""
        overlap = False
        for row in rows:
            if row.id in self.tail_pos:
                overlap = True
            elif row.id in self.head_pos:
                self.replace(row.id, keep_cost(row, self.find(row.id)))
            else:
                self.head_pos[row.id] = len(self.head) - self.shift
                self.head.append(row)
        return overlap

    def add_tail_page(self, rows: Iterable[TaskRow]) -> bool:
        """Grow the tail upward by a page; True if it reached the head."""
        overlap = False
        for row in rows:
            if row.id in self.head_pos:
                overlap = True
            elif row.id not in self.tail_pos:
                self.tail_pos[row.id] = len(self.tail)
                self.tail.append(row)
        return overlap

    def settle(self, overlap: bool) -> None:
        """Merge the tail into the head once they meet (or the head reached the end)."""
        tail_done = self.tail_paging.fetched and not self.tail_paging.more
        if not self.tail and not overlap and not tail_done:
            return
        met = self.total is not None and len(self.head) + len(self.tail) >= self.total
        if overlap or met or tail_done or not self.head_paging.more or self.total is None:
            for row in reversed(self.tail):
                if row.id not in self.head_pos:
                    self.head_pos[row.id] = len(self.head) - self.shift
                    self.head.append(row)
            self.drop_tail()
            self.head_paging = Paging(cursor=None, more=False, fetched=True)
            if self.total is not None:
                self.total = len(self.head)

    def drop_tail(self) -> None:
        """Forget the tail and its paging (its rows are read again through the head)."""
        self.tail, self.tail_pos, self.tail_paging = [], {}, Paging()

    # --- changing rows --------------------------------------------------------------------

    def replace(self, task_id: str, row: TaskRow) -> None:
        """Put ``row`` where the loaded row of ``task_id`` is (nothing if it is not loaded)."""
        if task_id in self.head_pos:
            self.head[self._head_index(task_id)] = row
        elif task_id in self.tail_pos:
            self.tail[self.tail_pos[task_id]] = row

    def insert(self, row: TaskRow, key: Callable[[TaskRow], Any], descending: bool) -> bool:
        """Insert ``row`` at its sorted place in the head, if that is inside what is loaded.

        ``key`` and ``descending`` are the order the head is in.
        """
        if not self.head_paging.fetched:
            return False
        position = self._position(row, key, descending)
        if position >= len(self.head) and self.head_paging.more:
            return False
        self.head.insert(position, row)
        if position == 0:
            self.shift += 1
            self.head_pos[row.id] = -self.shift
        elif position == len(self.head) - 1:
            self.head_pos[row.id] = position - self.shift
        else:
            self.head_pos[row.id] = 0
            self.stale = True
        return True

    def sort_head(self, key: Callable[[TaskRow], Any], descending: bool) -> None:
        """Put the head in ``key`` order (``descending`` or not) and index it again."""
        self.head.sort(key=key, reverse=descending)
        self._reindex()

    def _position(self, row: TaskRow, key: Callable[[TaskRow], Any], descending: bool) -> int:
        """Where ``row`` goes in the head (after rows that compare equal): a bisection."""
        head = self.head
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

    def _reindex(self) -> None:
        self.head_pos = {row.id: i for i, row in enumerate(self.head)}
        self.shift, self.stale = 0, False

    def _head_index(self, task_id: str) -> int:
        if self.stale:
            self._reindex()
        return self.head_pos[task_id] + self.shift


def keep_cost(row: TaskRow, old: TaskRow | None) -> TaskRow:
    """A fresh row keeps the cost already fetched for it."""
    if old is None or row.cost_microcents is not None or old.cost_microcents is None:
        return row
    return row.with_cost(old.cost_microcents)
