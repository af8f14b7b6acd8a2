"""The one local truth for tasks, engines and chats, merged monotonically.

Updates arrive from polls and streams in any order (R26): a stream may replay an older status
after a poll returned a newer one.  The store accepts an update only if it is not older — by
``updated_at``, then by status rank — and a final state never goes back.  Listeners hear once
per batch of changes, not once per field, so the UI repaints once per burst.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar, cast

from infdash.scheduler.clock import Clock


class Record(Protocol):
    """What the store needs of a record: an identity and a version."""

    @property
    def id(self) -> str: ...

    @property
    def updated_at(self) -> datetime | None: ...


R = TypeVar("R", bound=Record)


@dataclass(frozen=True, slots=True)
class Change:
    """One notification: the ids that changed (or appeared) and those that were removed."""

    updated: frozenset[str]
    removed: frozenset[str] = frozenset()


Listener = Callable[[Change], None]


def replace_fields(record: R, fields: Mapping[str, object]) -> R:
    """Default partial merge for dataclass records; unknown and ``id`` fields are ignored."""
    known = {f.name for f in dataclasses.fields(cast(Any, record))}
    changes = {k: v for k, v in fields.items() if k in known and k != "id"}
    return cast(R, dataclasses.replace(cast(Any, record), **changes))


def _comparable(a: datetime, b: datetime) -> bool:
    """Both aware or both naive: comparing a mix would raise."""
    return (a.utcoffset() is None) == (b.utcoffset() is None)


def supersedes(old: R, new: R, rank: Callable[[R], int], is_terminal: Callable[[R], bool]) -> bool:
    """May ``new`` replace ``old``?  Final states are sticky; newer wins; ties go by rank."""
    if is_terminal(old) and not is_terminal(new):
        return False
    old_at, new_at = old.updated_at, new.updated_at
    if old_at is not None and new_at is not None and _comparable(old_at, new_at):
        newer, older = new_at > old_at, new_at < old_at
        if newer or older:
            return newer
    return rank(new) >= rank(old)


class Store(Generic[R]):
    """Records by id, merged monotonically, with batched change notifications."""

    def __init__(
        self,
        *,
        rank: Callable[[R], int],
        is_terminal: Callable[[R], bool],
        clock: Clock,
        merge_fields: Callable[[R, Mapping[str, object]], R] = replace_fields,
        combine: Callable[[R, R], R] | None = None,
    ) -> None:
        self._combine = combine
        """(old, new) → what to keep when ``new`` supersedes ``old`` (default: ``new``)."""
        self._rank = rank
        self._is_terminal = is_terminal
        self._clock = clock
        self._merge_fields = merge_fields
        self._records: dict[str, R] = {}
        self._refreshed: dict[str, float] = {}
        self._listeners: list[Listener] = []
        self._depth = 0
        self._pending_updated: set[str] = set()
        self._pending_removed: set[str] = set()

    # -- reading -------------------------------------------------------------------------

    def get(self, record_id: str) -> R | None:
        return self._records.get(record_id)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._records

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[R]:
        return iter(list(self._records.values()))

    def refreshed_at(self, record_id: str) -> float | None:
        """When the server last confirmed this record (changed or not); None if never."""
        return self._refreshed.get(record_id)

    def age(self, record_id: str) -> float | None:
        """Seconds since the last confirmation: what "stale since" is drawn from."""
        at = self._refreshed.get(record_id)
        return None if at is None else max(0.0, self._clock() - at)

    # -- writing -------------------------------------------------------------------------

    def apply(self, record: R) -> bool:
        """Merge a full record; True if the store's copy changed."""
        self._refreshed[record.id] = self._clock()
        old = self._records.get(record.id)
        if old is not None and (old == record or not self._supersedes(old, record)):
            return False
        if old is not None and self._combine is not None:
            record = self._combine(old, record)
        self._records[record.id] = record
        self._changed(record.id)
        return True

    def apply_partial(self, record_id: str, fields: Mapping[str, object]) -> bool:
        """Merge some fields into a known record (a stream's partial update).

        An unknown id is ignored (False): a partial cannot make a whole record, and the caller
        should fetch the full one.
        """
        old = self._records.get(record_id)
        if old is None:
            return False
        return self.apply(self._merge_fields(old, fields))

    def apply_many(self, records: Iterable[R]) -> frozenset[str]:
        """Merge many records under one notification; returns the ids that changed."""
        changed: set[str] = set()
        with self.batch():
            for record in records:
                if self.apply(record):
                    changed.add(record.id)
        return frozenset(changed)

    def mark_refreshed(self, record_id: str) -> None:
        """The server confirmed the record is unchanged (e.g. a status poll with no news)."""
        if record_id in self._records:
            self._refreshed[record_id] = self._clock()

    def remove(self, record_id: str) -> bool:
        self._refreshed.pop(record_id, None)
        if self._records.pop(record_id, None) is None:
            return False
        self._pending_updated.discard(record_id)
        self._pending_removed.add(record_id)
        self._flush_unless_batching()
        return True

    def clear(self) -> None:
        """Drop everything (profile changed); listeners hear one removal batch."""
        with self.batch():
            for record_id in list(self._records):
                self.remove(record_id)

    # -- notifications -------------------------------------------------------------------

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Register a listener; returns the function that unregisters it."""
        self._listeners.append(listener)

        def unlisten() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unlisten

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group changes: listeners hear once, when the outermost batch ends (even on error)."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            self._flush_unless_batching()

    def _supersedes(self, old: R, new: R) -> bool:
        return supersedes(old, new, self._rank, self._is_terminal)

    def _changed(self, record_id: str) -> None:
        self._pending_removed.discard(record_id)
        self._pending_updated.add(record_id)
        self._flush_unless_batching()

    def _flush_unless_batching(self) -> None:
        if self._depth or not (self._pending_updated or self._pending_removed):
            return
        change = Change(frozenset(self._pending_updated), frozenset(self._pending_removed))
        self._pending_updated.clear()
        self._pending_removed.clear()
        errors: list[Exception] = []
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception as exc:  # one bad listener must not silence the others
                errors.append(exc)
        if errors:
            raise errors[0]
