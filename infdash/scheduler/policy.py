"""Tiers and how their poll intervals stretch to fit the budget (performance.md §2.3 item 4).

The user's attention sets the tier: *focused* (the task or engine being looked at), *visible*
(rows on screen), *background* (watched but off screen).  When the polls the tiers ask for
would exceed a class's budget, the lowest tier stretches first (up to its soft maximum), then
the visible tier, and only then does the background tier stretch past its maximum.  The
focused tier is never stretched: it keeps its floor (≤ 1 s) whatever the load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum


class Tier(IntEnum):
    """Higher value, more important; a resource takes the highest tier any subscriber asks."""

    BACKGROUND = 0
    VISIBLE = 1
    FOCUSED = 2


@dataclass(frozen=True, slots=True)
class TierPolicy:
    focused: float = 1.0
    visible: float = 5.0
    background: float = 30.0
    visible_max: float = 30.0
    """Visible rows stretch up to this before background stretches past its maximum."""
    background_max: float = 600.0
    """Soft ceiling for background polls: beyond it, visible rows give way first."""
    stream_reconcile: float = 60.0
    """A streamed resource is still polled this often to catch silent changes (R19)."""
    utilisation: float = 0.9
    """Share of a class's sustained rate that polling plans for; the rest is for users."""
    error_base: float = 0.8
    error_cap: float = 30.0

    def __post_init__(self) -> None:
        if not 0 < self.focused <= self.visible <= self.background:
            raise ValueError("need 0 < focused <= visible <= background")
        if self.visible_max < self.visible or self.background_max < self.background:
            raise ValueError("maxima cannot be below the base intervals")
        if not 0 < self.utilisation <= 1:
            raise ValueError("utilisation must be in (0, 1]")

    def base(self, tier: Tier) -> float:
        return {Tier.FOCUSED: self.focused, Tier.VISIBLE: self.visible}.get(tier, self.background)


@dataclass(frozen=True, slots=True)
class TierIntervals:
    """Seconds between polls of one resource, per tier, after stretching."""

    focused: float
    visible: float
    background: float

    def of(self, tier: Tier) -> float:
        if tier is Tier.FOCUSED:
            return self.focused
        return self.visible if tier is Tier.VISIBLE else self.background

    def demand_per_minute(self, counts: Mapping[Tier, int]) -> float:
        """Polls per minute these intervals cause for ``counts`` resources per tier."""
        return sum(60.0 * counts.get(t, 0) / self.of(t) for t in Tier)


def stretch(
    counts: Mapping[Tier, int],
    budget_per_minute: float,
    policy: TierPolicy,
    fixed_per_minute: float = 0.0,
) -> TierIntervals:
    """Intervals that keep the polls of ``counts`` within ``budget_per_minute``.

    ``fixed_per_minute`` is demand that cannot stretch (e.g. reconcile polls of streams).
    Stretching order: background to its maximum, visible to its maximum, then background
    further, then visible further — never the focused tier.
    """
    n_f = counts.get(Tier.FOCUSED, 0)
    n_v = counts.get(Tier.VISIBLE, 0)
    n_b = counts.get(Tier.BACKGROUND, 0)
    focused, visible, background = policy.focused, policy.visible, policy.background

    def rate(n: int, interval: float) -> float:
        return 60.0 * n / interval

    def fit(n: int, room: float, at_least: float) -> float | None:
        """The interval that fits ``n`` polls into ``room`` per minute (None: cannot)."""
        if n == 0:
            return at_least if room >= 0 else None
        return max(at_least, 60.0 * n / room) if room > 0 else None

    room = budget_per_minute - fixed_per_minute - rate(n_f, focused)
    if rate(n_v, visible) + rate(n_b, background) <= room:
        return TierIntervals(focused, visible, background)
    # 1. background up to its maximum
    b = fit(n_b, room - rate(n_v, visible), background)
    if b is not None and b <= policy.background_max:
        return TierIntervals(focused, visible, b)
    # 2. visible up to its maximum, background held at its maximum
    background = policy.background_max
    v = fit(n_v, room - rate(n_b, background), visible)
    if v is not None and v <= policy.visible_max:
        return TierIntervals(focused, v, background)
    # 3. visible at its maximum, background beyond its maximum
    visible = policy.visible_max
    b = fit(n_b, room - rate(n_v, visible), background)
    if b is not None:
        return TierIntervals(focused, visible, b)
    # 4. even background alone does not fit: share what is left between both, same factor
    left = max(room, 1e-9)
    factor = (rate(n_v, visible) + rate(n_b, background)) / left
    return TierIntervals(focused, visible * factor, background * factor)


SCHEDULER_POLICY = TierPolicy(visible_max=10.0)
"""What the async :class:`~infdash.scheduler.scheduler.Scheduler` uses by default: visible rows
stay within 10 s however many tasks are watched (performance.md B14: with 5,000 open tasks the
background tier stretches past its soft maximum instead)."""
