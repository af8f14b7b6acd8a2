"""The pure heart of the polling loop: which resources to poll now, and when to wake next.

The async loop (later) does only this: ``plan = planner.plan()``; fire one request per action;
report each result with :meth:`Planner.complete`; sleep until ``plan.wake_at`` or until a
completion or subscription change arrives; repeat.  Everything that decides — due times, tier
intervals stretched to the budget, tokens, the breaker's single probe — lives here, on an
injected clock, so it is deterministic and testable without I/O.

Rules it keeps (ARCHITECTURE §5, performance.md §2.3):
- chained one-shot timers: a resource is due ``interval`` after its last poll *completed*, and
  is never polled again while a poll of it is in flight;
- cheap first: polls ask for the status; the full resource only when new or changed;
- streamed resources are polled only at the slow reconcile cadence; final ones not at all;
- highest tier first when tokens are short; oldest first within a tier (round robin);
- paused (app suspended, profile changing) means no polls at all.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from infdash.scheduler.backoff import BreakerState, CircuitBreaker, full_jitter
from infdash.scheduler.budget import Budget
from infdash.scheduler.clock import Clock
from infdash.scheduler.lanes import LANE_ORDER, DueIndex
from infdash.scheduler.limits import Priority
from infdash.scheduler.policy import Tier, TierIntervals, TierPolicy, stretch
from infdash.scheduler.subscriptions import (
    Action,
    Entry,
    ResourceKey,
    Subscriptions,
    Transport,
)


class Outcome(StrEnum):
    OK = "ok"
    SERVER_ERROR = "server-error"
    """5xx or network failure: counts towards the breaker."""
    CLIENT_ERROR = "client-error"
    """A 4xx or an unreadable body: this resource backs off, the server is fine."""
    RATE_LIMITED = "rate-limited"
    """429: the budget already knows (via ``observe``); the poll is simply due again."""
    GONE = "gone"
    """404: stop polling it."""


@dataclass(frozen=True, slots=True)
class PollAction:
    key: ResourceKey
    action: Action


@dataclass(frozen=True, slots=True)
class Plan:
    actions: tuple[PollAction, ...]
    wake_at: float | None
    """When to call :meth:`Planner.plan` again; None: only after a completion or a change."""


class Planner:
    """Subscriptions + budget + breaker → poll decisions.  Mutate subscriptions through it."""

    def __init__(
        self,
        budget: Budget,
        *,
        clock: Clock,
        rng: random.Random,
        policy: TierPolicy | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.budget = budget
        self.policy = policy or TierPolicy()
        self.breaker = breaker
        self.subscriptions = Subscriptions()
        self._clock = clock
        self._rng = rng
        self._paused: set[str] = set()
        self._index = DueIndex()
        self._intervals: dict[str, TierIntervals] | None = None

    # -- subscriptions -------------------------------------------------------------------

    def subscribe(self, key: ResourceKey, owner: str, tier: Tier = Tier.BACKGROUND) -> None:
        """Add ``owner``'s interest in ``key`` (again with another tier to change it)."""
        entry = self.subscriptions.subscribe(key, owner, tier)
        if entry.in_flight is None:
            self._index.place(entry, self._clock())
        self._intervals = None

    def subscribe_many(self, keys: Iterable[ResourceKey], owner: str, tier: Tier) -> None:
        for key in keys:
            self.subscribe(key, owner, tier)

    def release(self, key: ResourceKey, owner: str) -> None:
        if self.subscriptions.release(key, owner):
            self._index.drop(key)
        else:
            self._reindex(key)
        self._intervals = None

    def release_owner(self, owner: str) -> None:
        """Drop every interest of ``owner`` (a screen closed)."""
        for entry in self.subscriptions:
            if owner in entry.owners:
                self.release(entry.key, owner)

    def set_transport(self, key: ResourceKey, transport: Transport) -> None:
        """A stream now keeps ``key`` fresh (or stopped: call :meth:`request_refresh` too)."""
        entry = self.subscriptions.get(key)
        if entry is not None and entry.transport is not transport:
            entry.transport = transport
            self._reindex(key)
            self._intervals = None

    def request_refresh(self, key: ResourceKey) -> None:
        """Poll ``key`` as soon as the budget allows (user pressed refresh, stream dropped)."""
        entry = self.subscriptions.get(key)
        if entry is not None:
            entry.refresh_requested = True
            self._reindex(key)

    def request_full(self, key: ResourceKey) -> None:
        """Fetch the whole resource next (a change feed said it changed): no status poll first."""
        entry = self.subscriptions.get(key)
        if entry is not None and not entry.needs_full:
            entry.needs_full = True
            self._reindex(key)

    def mark_fresh(self, key: ResourceKey, *, full: bool = True, terminal: bool = False) -> None:
        """A stream delivered ``key``: it counts as a poll that just completed."""
        entry = self.subscriptions.get(key)
        if entry is None:
            return
        now = self._clock()
        entry.completed_at = entry.fresh_at = now
        if full:
            entry.needs_full = False
        if terminal and not entry.terminal:
            entry.terminal = True
            self._intervals = None
        self._reindex(key)

    # -- pausing -------------------------------------------------------------------------

    def pause(self, reason: str) -> None:
        self._paused.add(reason)

    def resume(self, reason: str) -> None:
        self._paused.discard(reason)

    @property
    def paused(self) -> frozenset[str]:
        return frozenset(self._paused)

    def reset(self) -> None:
        """Forget every subscription and poll state (the profile changed)."""
        self.subscriptions.clear()
        self._index.clear()
        self._intervals = None

    # -- intervals -----------------------------------------------------------------------

    def intervals(self, limit_class: str) -> TierIntervals:
        """This class's tier intervals, stretched to its budget for the current load."""
        if self._intervals is None:
            self._intervals = self._compute_intervals()
        found = self._intervals.get(limit_class)
        if found is None:
            p = self.policy
            return TierIntervals(p.focused, p.visible, p.background)
        return found

    def interval_of(self, entry: Entry) -> float:
        if entry.transport is Transport.STREAM:
            return self.policy.stream_reconcile
        return self.intervals(entry.key.limit_class).of(entry.tier)

    def due_at(self, entry: Entry) -> float | None:
        """When ``entry`` should next be polled; None while in flight or final."""
        if entry.in_flight is not None or not entry.active:
            return None
        if entry.refresh_requested or entry.needs_full or entry.completed_at is None:
            return entry.retry_at
        return max(entry.completed_at + self.interval_of(entry), entry.retry_at)

    def _compute_intervals(self) -> dict[str, TierIntervals]:
        counts: dict[str, dict[Tier, int]] = {}
        streams: dict[str, int] = {}
        for entry in self.subscriptions:
            if not entry.active:
                continue
            cls = entry.key.limit_class
            if entry.transport is Transport.STREAM:
                streams[cls] = streams.get(cls, 0) + 1
            else:
                per_tier = counts.setdefault(cls, {})
                per_tier[entry.tier] = per_tier.get(entry.tier, 0) + 1
        result: dict[str, TierIntervals] = {}
        for cls in set(counts) | set(streams):
            spec = self.budget.limit(cls)
            planned = self.policy.utilisation * (spec.per_minute - spec.burst)
            fixed = 60.0 * streams.get(cls, 0) / self.policy.stream_reconcile
            result[cls] = stretch(counts.get(cls, {}), planned, self.policy, fixed)
        return result

    # -- planning ------------------------------------------------------------------------

    def plan(self) -> Plan:
        """Start the polls that are due and affordable now; say when to look again."""
        if self._paused:
            return Plan((), None)
        now = self._clock()
        wake: list[float] = []
        if self._index.needs_compaction(len(self.subscriptions)):
            self._index.rebuild(self.subscriptions, now)
        for key in self._index.release_delayed(now):
            self._reindex(key)
        next_delayed = self._index.next_delayed()
        if next_delayed is not None:
            wake.append(next_delayed)
        probe_only = False
        if self.breaker is not None and self.breaker.state is not BreakerState.CLOSED:
            retry_at = self.breaker.retry_at()
            if self.breaker.state is BreakerState.OPEN or retry_at is None:
                # Nothing goes before the breaker reopens (or its probe answers).
                return Plan((), retry_at)
            probe_only = True
        actions: list[PollAction] = []
        for cls in self._index.classes():
            if self._plan_class(cls, now, actions, wake, probe_only) and probe_only:
                break
        return Plan(tuple(actions), min(wake, default=None))

    def _plan_class(
        self,
        cls: str,
        now: float,
        actions: list[PollAction],
        wake: list[float],
        probe_only: bool,
    ) -> bool:
        """Drain due lanes of one class in priority order; True if a probe was sent."""
        for tier, transport in LANE_ORDER:
            lane = (cls, tier, transport)
            priority = Priority.FOCUSED if tier is Tier.FOCUSED else Priority.POLL
            while (entry := self._index.head(lane, self.subscriptions)) is not None:
                due = self.due_at(entry)
                assert due is not None  # _head only returns schedulable entries
                if due > now:
                    wake.append(due)
                    break
                if probe_only:
                    admission = self.budget.check(cls, priority)
                    if not admission.granted:
                        wake.append(admission.retry_at)
                        return False
                    assert self.breaker is not None
                    if not self.breaker.allow():
                        return False
                admission = self.budget.try_acquire(cls, priority)
                if not admission.granted:
                    if probe_only and self.breaker is not None:
                        self.breaker.cancel_probe()
                    wake.append(admission.retry_at)
                    break  # lower lanes of this class keep a higher floor: they fail too
                self._index.pop(lane)
                action = Action.FULL if entry.needs_full else Action.STATUS
                entry.in_flight = action
                entry.started_at = now
                actions.append(PollAction(entry.key, action))
                if probe_only:
                    return True
        return False

    # -- results -------------------------------------------------------------------------

    def complete(
        self,
        key: ResourceKey,
        outcome: Outcome,
        *,
        changed: bool = False,
        terminal: bool = False,
    ) -> None:
        """Report the result of a poll the plan started.

        ``changed``: the status differs from the store's (so fetch the full resource next);
        ``terminal``: the resource reached a final state (stop polling once it is fetched).
        """
        if self.breaker is not None:
            if outcome is Outcome.SERVER_ERROR:
                self.breaker.record_failure()
            else:
                self.breaker.record_success()
        entry = self.subscriptions.get(key)
        if entry is None or entry.in_flight is None:
            return
        action, entry.in_flight = entry.in_flight, None
        now = self._clock()
        if outcome is Outcome.OK:
            entry.completed_at = entry.fresh_at = now
            entry.errors = 0
            entry.retry_at = -math.inf
            entry.refresh_requested = False
            if action is Action.FULL:
                entry.needs_full = False
            if changed and action is Action.STATUS:
                entry.needs_full = True
            if terminal and not entry.terminal:
                entry.terminal = True
                self._intervals = None
        elif outcome is Outcome.GONE:
            entry.terminal, entry.needs_full = True, False
            self._intervals = None
        elif outcome in (Outcome.SERVER_ERROR, Outcome.CLIENT_ERROR):
            entry.errors += 1
            p = self.policy
            delay = full_jitter(entry.errors - 1, p.error_base, p.error_cap, self._rng)
            entry.retry_at = now + max(delay, p.error_base / 2)
        self._reindex(key)

    # -- index ---------------------------------------------------------------------------

    def _reindex(self, key: ResourceKey) -> None:
        entry = self.subscriptions.get(key)
        if entry is not None and entry.in_flight is None:
            self._index.place(entry, self._clock())
