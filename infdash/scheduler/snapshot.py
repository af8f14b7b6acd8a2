"""A plain picture of the scheduler for the status bar (no Textual, nothing live).

The UI calls :func:`take_snapshot` about once a second and draws it: requests per minute used
versus allowed per class, a closed class and its countdown, the breaker's state, how many
resources are streamed versus polled, and how old each resource's data is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infdash.scheduler.backoff import BreakerState, BreakerView
from infdash.scheduler.planner import Planner
from infdash.scheduler.policy import Tier
from infdash.scheduler.ratelimit import WaitSource
from infdash.scheduler.subscriptions import ResourceKey, Transport


@dataclass(frozen=True, slots=True)
class ClassView:
    name: str
    used_last_minute: int
    allowed_per_minute: int
    server_limit: int | None
    server_remaining: int | None
    tokens: float
    closed: bool
    resumes_in: float | None
    """Seconds until a closed class reopens (the Retry-After / reset countdown)."""
    closed_by: WaitSource | None
    capped: bool
    """The server asked for more than the cap (e.g. maintenance): worth saying so."""
    polls_held_for: float | None
    episodes: int


@dataclass(frozen=True, slots=True)
class ResourceView:
    key: ResourceKey
    tier: Tier
    transport: Transport
    interval: float
    age: float | None
    """Seconds since the server last confirmed it; None if never."""
    stale: bool
    """Older than twice its interval: the UI shows "stale since"."""
    terminal: bool
    in_flight: bool
    errors: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    taken_at: float
    paused: frozenset[str]
    classes: tuple[ClassView, ...]
    breaker: BreakerView | None
    streamed: int
    polled: int
    stale: int
    oldest_age: float | None
    resources: tuple[ResourceView, ...]

    def class_view(self, name: str) -> ClassView:
        return next(c for c in self.classes if c.name == name)

    def resource(self, key: ResourceKey) -> ResourceView | None:
        return next((r for r in self.resources if r.key == key), None)


def take_snapshot(planner: Planner, *, now: float, resource_limit: int | None = None) -> Snapshot:
    """Read the planner, its budget and breaker at ``now``; list at most ``resource_limit``
    resources (most important first) so 5,000 watched tasks stay cheap to draw."""
    budget = planner.budget
    classes = []
    for name in budget.class_names:
        spec = budget.limit(name)
        closure = budget.closure(name)
        hold = budget.poll_hold_until(name)
        classes.append(
            ClassView(
                name=name,
                used_last_minute=budget.used(name),
                allowed_per_minute=spec.per_minute,
                server_limit=spec.server_limit,
                server_remaining=budget.server_remaining(name),
                tokens=budget.tokens(name),
                closed=closure is not None,
                resumes_in=None if closure is None else max(0.0, closure.until - now),
                closed_by=None if closure is None else closure.source,
                capped=closure is not None and closure.capped,
                polls_held_for=None if hold is None else max(0.0, hold - now),
                episodes=budget.episodes(name),
            )
        )
    resources = []
    streamed = polled = stale = 0
    oldest: float | None = None
    for entry in planner.subscriptions:
        interval = planner.interval_of(entry)
        age = None if entry.fresh_at is None else max(0.0, now - entry.fresh_at)
        is_stale = entry.active and (age is None or age > 2 * interval)
        if entry.active:
            if entry.transport is Transport.STREAM:
                streamed += 1
            else:
                polled += 1
        stale += is_stale
        if age is not None and (oldest is None or age > oldest):
            oldest = age
        resources.append(
            ResourceView(
                key=entry.key,
                tier=entry.tier,
                transport=entry.transport,
                interval=interval,
                age=age,
                stale=is_stale,
                terminal=entry.terminal,
                in_flight=entry.in_flight is not None,
                errors=entry.errors,
            )
        )
    resources.sort(key=lambda r: (-r.tier, -(math.inf if r.age is None else r.age), r.key))
    if resource_limit is not None:
        resources = resources[:resource_limit]
    return Snapshot(
        taken_at=now,
        paused=planner.paused,
        classes=tuple(classes),
        breaker=None if planner.breaker is None else planner.breaker.view(),
        streamed=streamed,
        polled=polled,
        stale=stale,
        oldest_age=oldest,
        resources=tuple(resources),
    )


def status_line(snapshot: Snapshot) -> str:
    """One line of plain text for the status bar; the UI may style its parts."""
    parts: list[str] = []
    if snapshot.paused:
        parts.append("paused")
    if snapshot.breaker is not None and snapshot.breaker.state is not BreakerState.CLOSED:
        if snapshot.breaker.retry_in is not None:
            parts.append(f"degraded, retrying in {math.ceil(snapshot.breaker.retry_in)} s")
        else:
            parts.append("degraded, probing")
    for view in snapshot.classes:
        if view.closed and view.resumes_in is not None:
            note = " (server asked for longer)" if view.capped else ""
            parts.append(
                f"{view.name} rate limited, resuming in {math.ceil(view.resumes_in)} s{note}"
            )
        elif view.used_last_minute:
            parts.append(f"{view.name} {view.used_last_minute}/{view.allowed_per_minute}/min")
    parts.append(f"{snapshot.streamed} streamed · {snapshot.polled} polled")
    if snapshot.stale:
        parts.append(f"{snapshot.stale} stale")
    return " · ".join(parts)
