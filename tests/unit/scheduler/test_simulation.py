"""Ten simulated minutes: planner + budget against a 1000/min server window (R4, §2.3).

5,000 background + 50 visible + 1 focused task, on a fake clock, with the loop the async
scheduler will run reduced to its bones: plan, send, complete, sleep until the next wake.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import random
from collections import defaultdict

import pytest

from infdash.scheduler import (
    GET_TASK,
    Action,
    Backoff,
    Budget,
    CircuitBreaker,
    FakeClock,
    Outcome,
    Planner,
    ResourceKey,
    Tier,
    TierIntervals,
    take_snapshot,
)

from .fakes import Reply, WindowServer, max_in_any_window

MINUTES = 10


@dataclasses.dataclass
class Result:
    planner: Planner
    server: WindowServer
    sent: dict[ResourceKey, list[float]]
    actions: dict[ResourceKey, list[Action]]
    finished: set[ResourceKey]
    focused: ResourceKey
    visible: list[ResourceKey]
    background: list[ResourceKey]
    latency: float
    initial: TierIntervals
    max_used_seen: int


def simulate(latency: float, seed: int = 2026) -> Result:
    clock = FakeClock(start=1000.0)
    rng = random.Random(seed)
    world = random.Random(seed + 1)  # the tasks' own behaviour, apart from the scheduler's
    budget = Budget(clock=clock, rng=rng)
    breaker = CircuitBreaker(clock=clock, backoff=Backoff(clock=clock, rng=rng, floor=0.4))
    planner = Planner(budget, clock=clock, rng=rng, breaker=breaker)
    server = WindowServer(clock, limit=1000)

    focused = ResourceKey.task("focus")
    visible = [ResourceKey.task(f"vis{i}") for i in range(50)]
    background = [ResourceKey.task(f"bg{i}") for i in range(5000)]
    background_set = set(background)
    planner.subscribe_many(background, "watchlist", Tier.BACKGROUND)
    planner.subscribe_many(visible, "table", Tier.VISIBLE)
    planner.subscribe(focused, "detail", Tier.FOCUSED)
    initial = planner.intervals(GET_TASK)  # the most stretched: finished tasks only relax it

    sent: dict[ResourceKey, list[float]] = defaultdict(list)
    actions: dict[ResourceKey, list[Action]] = defaultdict(list)
    finished: set[ResourceKey] = set()
    pending: list[tuple[float, int, ResourceKey, Reply]] = []
    seq = 0
    max_used = 0
    next_sample = clock.now
    end = clock.now + MINUTES * 60.0
    while clock.now < end:
        while pending and pending[0][0] <= clock.now:
            _, _, key, reply = heapq.heappop(pending)
            obs = dataclasses.replace(reply.observation, observed_at=clock.now)
            planner.budget.observe(obs)
            if reply.status == 429:
                planner.complete(key, Outcome.RATE_LIMITED)
                continue
            terminal = key in background_set and world.random() < 0.002
            if terminal:
                finished.add(key)
            changed = terminal or world.random() < (0.1 if key == focused else 0.02)
            planner.complete(key, Outcome.OK, changed=changed, terminal=terminal)
        plan = planner.plan()
        for action in plan.actions:
            reply = server.request()
            sent[action.key].append(clock.now)
            actions[action.key].append(action.action)
            seq += 1
            heapq.heappush(pending, (clock.now + latency, seq, action.key, reply))
        if clock.now >= next_sample:  # what the status bar would show, once a second
            max_used = max(max_used, planner.budget.used(GET_TASK))
            next_sample += 1.0
        if plan.actions and latency == 0:
            continue  # completions are instant: plan again at the same moment
        wakes = [t for t in (plan.wake_at, pending[0][0] if pending else None) if t is not None]
        assert wakes, "the planner went to sleep with work left"
        assert min(wakes) > clock.now or pending, "a wake-up in the past would spin the loop"
        clock.advance_to(min(wakes))
    return Result(
        planner,
        server,
        sent,
        actions,
        finished,
        focused,
        visible,
        background,
        latency,
        initial,
        max_used,
    )


@pytest.fixture(scope="module", params=[0.0, 0.05], ids=["instant", "50ms-latency"])
def result(request: pytest.FixtureRequest) -> Result:
    latency: float = request.param
    return simulate(latency)


def test_no_429_and_never_more_than_850_gets_in_any_minute(result: Result) -> None:
    every = [t for times in result.sent.values() for t in times]
    assert result.server.rejected == 0
    assert max_in_any_window(every) <= 850
    assert len(every) > 0.8 * 850 * MINUTES  # the budget is used, not wasted
    assert result.max_used_seen <= 850


def test_focused_is_polled_at_least_once_a_second(result: Result) -> None:
    times = result.sent[result.focused]
    latency = result.latency
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) <= 1.0 + latency + 1e-6
    assert len(times) >= MINUTES * 60 / (1.0 + latency)
    assert Action.FULL in result.actions[result.focused][1:]  # changes were fetched in full


def test_visible_rows_keep_their_stretched_interval(result: Result) -> None:
    interval = result.initial.visible
    assert result.planner.policy.visible < interval <= result.planner.policy.visible_max
    assert result.initial.focused == 1.0
    for key in result.visible:
        times = result.sent[key]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # interval after completion, plus latency, plus at worst a token's wait behind every
        # other visible row that came due at the same moment
        behind = len(result.visible) / result.planner.budget.limit(GET_TASK).refill_per_second
        assert max(gaps) <= interval + result.latency + behind, key


def test_every_background_task_is_seen_and_finished_ones_stop(result: Result) -> None:
    assert all(result.sent[key] for key in result.background)
    assert result.finished
    for key in result.finished:
        assert result.actions[key][-1] is Action.FULL  # the final record, then silence
        entry = result.planner.subscriptions.get(key)
        assert entry is not None
        assert not entry.active


def test_snapshot_of_the_run_is_coherent(result: Result) -> None:
    planner = result.planner
    snap = take_snapshot(planner, now=result.server.clock.now, resource_limit=10)
    get = snap.class_view(GET_TASK)
    assert 0 < get.used_last_minute <= get.allowed_per_minute == 850
    assert get.server_limit == 1000
    assert not get.closed
    assert snap.polled == 5051 - len(result.finished)
    assert snap.streamed == 0
    assert len(snap.resources) == 10
    assert snap.resources[0].key == result.focused  # most important first
    assert snap.resources[0].age is not None
    assert snap.resources[0].age <= 1.0 + 0.05 + 1e-6
