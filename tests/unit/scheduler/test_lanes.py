"""The planner's due-order index: stale items are skipped, never polled twice, and shed."""

from __future__ import annotations

import random

from infdash.scheduler import Budget, FakeClock, Outcome, Planner, ResourceKey, Tier
from infdash.scheduler.lanes import LANE_ORDER, DueIndex
from infdash.scheduler.subscriptions import Subscriptions


def test_re_placed_entries_surface_once() -> None:
    subs = Subscriptions()
    entry = subs.subscribe(ResourceKey.task("a"), "o", Tier.VISIBLE)
    index = DueIndex()
    for _ in range(5):
        index.place(entry, now=0.0)
    assert len(index) == 5
    lane = ("get_task", Tier.VISIBLE, entry.transport)
    assert index.head(lane, subs) is entry
    index.pop(lane)
    assert index.head(lane, subs) is None  # the four stale copies are dropped, not returned
    assert len(index) == 0


def test_rebuild_sheds_stale_items() -> None:
    subs = Subscriptions()
    entries = [subs.subscribe(ResourceKey.task(str(i)), "o") for i in range(10)]
    index = DueIndex()
    for _ in range(300):
        for entry in entries:
            index.place(entry, now=0.0)
    assert index.needs_compaction(live=10)
    index.rebuild(subs, now=0.0)
    assert len(index) == 10
    assert not index.needs_compaction(live=10)


def test_lane_order_is_most_important_first() -> None:
    tiers = [tier for tier, _ in LANE_ORDER]
    assert tiers == sorted(tiers, reverse=True)


def test_tier_churn_never_duplicates_a_poll(
    clock: FakeClock, rng: random.Random, budget: Budget
) -> None:
    planner = Planner(budget, clock=clock, rng=rng)
    keys = [ResourceKey.task(f"t{i}") for i in range(300)]
    planner.subscribe_many(keys, "watch", Tier.BACKGROUND)
    polled: list[ResourceKey] = []
    for step in range(2_000):  # scrolling: the visible window moves a row every 0.25 s
        top = (step // 5) % 250
        window = keys[top : top + 50]
        planner.release_owner("table")
        planner.subscribe_many(window, "table", Tier.VISIBLE)
        plan = planner.plan()
        in_flight = {a.key for a in plan.actions}
        assert len(in_flight) == len(plan.actions)  # no key twice in one plan
        for action in plan.actions:
            polled.append(action.key)
            planner.complete(action.key, Outcome.OK)
        clock.advance(0.05)
    assert set(polled) == set(keys)
    assert len(planner._index) <= 4 * len(planner.subscriptions) + 1024 + 100
