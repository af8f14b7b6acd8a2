"""Who wants which resource kept fresh, and how badly (reference counted, highest tier wins).

Screens and widgets subscribe to resources by key under an *owner* name; two owners watching
the same task coalesce into one entry (so one poll), whose tier is the highest any owner asks
for.  The entry goes away when the last owner releases it.  Each entry also carries the
per-resource polling state the planner needs: in flight or not, last completion, errors, and
whether a stream currently keeps it fresh.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from infdash.scheduler.policy import Tier
from infdash.scheduler.ratelimit import GET_TASK, OTHER


class Transport(StrEnum):
    POLL = "poll"
    STREAM = "stream"


class Action(StrEnum):
    """What one poll asks for: the cheap status, or the full resource (only on change)."""

    STATUS = "status"
    FULL = "full"


@dataclass(frozen=True, slots=True, order=True)
class ResourceKey:
    """A resource the scheduler keeps fresh, and the limit class its polls are charged to."""

    kind: str
    id: str
    limit_class: str = OTHER

    @classmethod
    def task(cls, task_id: str) -> ResourceKey:
        return cls("task", task_id, GET_TASK)

    @classmethod
    def engine(cls, engine_id: str) -> ResourceKey:
        return cls("engine", engine_id, OTHER)

    @classmethod
    def chat(cls, chat_id: str) -> ResourceKey:
        return cls("chat", chat_id, OTHER)

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(slots=True)
class Entry:
    """One coalesced subscription and its polling state."""

    key: ResourceKey
    owners: dict[str, Tier] = field(default_factory=dict)
    transport: Transport = Transport.POLL
    terminal: bool = False
    needs_full: bool = True
    """The next poll fetches the whole resource: never fetched yet, or its status changed."""
    in_flight: Action | None = None
    started_at: float | None = None
    completed_at: float | None = None
    fresh_at: float | None = None
    """When the server (poll or stream) last confirmed this resource."""
    errors: int = 0
    retry_at: float = -math.inf
    refresh_requested: bool = False

    @property
    def tier(self) -> Tier:
        return max(self.owners.values(), default=Tier.BACKGROUND)

    @property
    def active(self) -> bool:
        """Still worth polling: not final, or final but its last full record is missing."""
        return not self.terminal or self.needs_full


class Subscriptions:
    """The registry of entries by key."""

    def __init__(self) -> None:
        self._entries: dict[ResourceKey, Entry] = {}

    def subscribe(self, key: ResourceKey, owner: str, tier: Tier = Tier.BACKGROUND) -> Entry:
        """Add ``owner``'s interest (idempotent; re-subscribing changes its tier)."""
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = Entry(key)
        entry.owners[owner] = tier
        return entry

    def set_tier(self, key: ResourceKey, owner: str, tier: Tier) -> None:
        entry = self._entries.get(key)
        if entry is not None and owner in entry.owners:
            entry.owners[owner] = tier

    def release(self, key: ResourceKey, owner: str) -> bool:
        """Drop ``owner``'s interest; True if that was the last one and the entry is gone."""
        entry = self._entries.get(key)
        if entry is None or entry.owners.pop(owner, None) is None:
            return False
        if entry.owners:
            return False
        del self._entries[key]
        return True

    def release_owner(self, owner: str) -> list[ResourceKey]:
        """Drop every interest of ``owner`` (a screen closed); returns the keys now gone."""
        return [key for key in list(self._entries) if self.release(key, owner)]

    def get(self, key: ResourceKey) -> Entry | None:
        return self._entries.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._entries.values()))

    def clear(self) -> None:
        self._entries.clear()
