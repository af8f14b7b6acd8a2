"""The planner: coalesced subscriptions, chained polls, cheap first, tiers, breaker, pause."""

from __future__ import annotations

import random

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
    PollAction,
    RateLimitObservation,
    ResourceKey,
    Tier,
    Transport,
)

A = ResourceKey.task("a")
B = ResourceKey.task("b")


@pytest.fixture
def planner(clock: FakeClock, rng: random.Random, budget: Budget) -> Planner:
    breaker = CircuitBreaker(clock=clock, backoff=Backoff(clock=clock, rng=rng, floor=0.4))
    return Planner(budget, clock=clock, rng=rng, breaker=breaker)


def tier_of(planner: Planner, key: ResourceKey) -> Tier | None:
    entry = planner.subscriptions.get(key)
    return None if entry is None else entry.tier


def run(planner: Planner, outcome: Outcome = Outcome.OK, **kw: bool) -> list[PollAction]:
    """Plan once and complete every action with ``outcome``."""
    actions = list(planner.plan().actions)
    for action in actions:
        planner.complete(action.key, outcome, **kw)
    return actions


def test_two_subscribers_coalesce_into_one_poll(planner: Planner) -> None:
    planner.subscribe(A, "table", Tier.VISIBLE)
    planner.subscribe(A, "detail", Tier.FOCUSED)
    entry = planner.subscriptions.get(A)
    assert entry is not None
    assert tier_of(planner, A) is Tier.FOCUSED  # the highest tier wins
    assert planner.plan().actions == (PollAction(A, Action.FULL),)
    planner.complete(A, Outcome.OK)
    planner.release(A, "detail")
    assert entry.owners == {"table": Tier.VISIBLE}
    assert tier_of(planner, A) is Tier.VISIBLE  # still watched, at the remaining owner's tier
    assert A in planner.subscriptions
    planner.release(A, "table")
    assert A not in planner.subscriptions
    assert planner.plan().actions == ()


def test_releasing_an_owner_drops_all_its_interests(planner: Planner) -> None:
    planner.subscribe_many([A, B], "screen", Tier.VISIBLE)
    planner.subscribe(B, "other", Tier.BACKGROUND)
    planner.release_owner("screen")
    assert A not in planner.subscriptions
    entry = planner.subscriptions.get(B)
    assert entry is not None
    assert entry.tier is Tier.BACKGROUND


def test_cheap_first_then_full_only_on_change_and_stop_when_final(
    planner: Planner, clock: FakeClock
) -> None:
    planner.subscribe(A, "detail", Tier.FOCUSED)
    assert run(planner) == [PollAction(A, Action.FULL)]  # never fetched: the whole task
    clock.advance(1.0)
    assert run(planner) == [PollAction(A, Action.STATUS)]  # then the cheap status
    clock.advance(1.0)
    assert run(planner, changed=True) == [PollAction(A, Action.STATUS)]
    assert run(planner) == [PollAction(A, Action.FULL)]  # changed: fetch it, right away
    clock.advance(1.0)
    assert run(planner, changed=True, terminal=True) == [PollAction(A, Action.STATUS)]
    assert run(planner, terminal=True) == [PollAction(A, Action.FULL)]  # the final record
    for _ in range(10):
        clock.advance(5.0)
        assert planner.plan() == planner.plan()
        assert planner.plan().actions == ()  # final: never polled again


def test_polls_of_one_resource_never_overlap_and_chain_from_completion(
    planner: Planner, clock: FakeClock
) -> None:
    planner.subscribe(A, "detail", Tier.FOCUSED)
    assert len(planner.plan().actions) == 1
    clock.advance(10.0)  # the request is slow; the resource is long "due"
    assert planner.plan().actions == ()
    planner.complete(A, Outcome.OK)
    plan = planner.plan()
    assert plan.actions == ()
    assert plan.wake_at == clock.now + 1.0  # due one interval after the completion
    clock.advance(0.999)
    assert planner.plan().actions == ()
    clock.advance(0.001)
    assert planner.plan().actions == (PollAction(A, Action.STATUS),)


def test_higher_tiers_get_the_tokens_first(planner: Planner, budget: Budget) -> None:
    background = [ResourceKey.task(f"bg{i}") for i in range(100)]
    planner.subscribe_many(background, "watch", Tier.BACKGROUND)
    planner.subscribe(B, "table", Tier.VISIBLE)
    planner.subscribe(A, "detail", Tier.FOCUSED)
    plan = planner.plan()
    assert plan.actions[:2] == (PollAction(A, Action.FULL), PollAction(B, Action.FULL))
    spec = budget.limit(GET_TASK)
    assert len(plan.actions) == spec.burst - spec.reserve
    assert [a.key for a in plan.actions[2:]] == background[: len(plan.actions) - 2]  # FIFO
    assert plan.wake_at is not None  # when the next token arrives


def test_focused_polls_may_dip_into_half_the_reserve(
    planner: Planner, budget: Budget, clock: FakeClock
) -> None:
    background = [ResourceKey.task(f"bg{i}") for i in range(100)]
    planner.subscribe_many(background, "watch", Tier.BACKGROUND)
    run(planner)  # background takes the bucket down to the reserve line
    planner.subscribe(A, "detail", Tier.FOCUSED)
    assert planner.plan().actions == (PollAction(A, Action.FULL),)


def test_streamed_resources_are_only_reconciled_slowly(planner: Planner, clock: FakeClock) -> None:
    planner.subscribe(A, "detail", Tier.FOCUSED)
    run(planner)
    planner.set_transport(A, Transport.STREAM)
    planner.mark_fresh(A)
    clock.advance(30.0)
    assert planner.plan().actions == ()
    assert planner.plan().wake_at == clock.now + 30.0
    clock.advance(30.0)
    assert run(planner) == [PollAction(A, Action.STATUS)]  # the reconcile (R19)
    clock.advance(5.0)
    planner.set_transport(A, Transport.POLL)  # the stream dropped
    planner.request_refresh(A)
    assert run(planner) == [PollAction(A, Action.STATUS)]
    clock.advance(1.0)
    assert run(planner) == [PollAction(A, Action.STATUS)]  # back to the focused cadence


def test_a_stream_can_finish_a_resource(planner: Planner, clock: FakeClock) -> None:
    planner.subscribe(A, "detail", Tier.FOCUSED)
    planner.set_transport(A, Transport.STREAM)
    planner.mark_fresh(A, terminal=True)
    clock.advance(600.0)
    assert planner.plan() == planner.plan().__class__((), None)


def test_paused_plans_nothing_until_every_reason_is_gone(
    planner: Planner, clock: FakeClock
) -> None:
    planner.subscribe(A, "detail", Tier.FOCUSED)
    planner.pause("suspended")
    planner.pause("profile")
    assert planner.plan().actions == ()
    planner.resume("suspended")
    assert planner.plan().actions == ()
    planner.resume("profile")
    assert len(planner.plan().actions) == 1


def test_reset_forgets_all_subscriptions(planner: Planner) -> None:
    planner.subscribe(A, "detail", Tier.FOCUSED)
    planner.reset()
    assert len(planner.subscriptions) == 0
    assert planner.plan().actions == ()


def test_client_errors_back_off_per_resource(planner: Planner, clock: FakeClock) -> None:
    planner.subscribe(A, "detail", Tier.FOCUSED)
    run(planner, Outcome.CLIENT_ERROR)
    entry = planner.subscriptions.get(A)
    assert entry is not None
    first = entry.retry_at - clock.now
    assert 0.4 <= first <= 0.8
    assert planner.plan().actions == ()
    assert planner.plan().wake_at == entry.retry_at
    ceilings = []
    for _ in range(6):
        clock.advance_to(entry.retry_at)
        assert run(planner, Outcome.CLIENT_ERROR) == [PollAction(A, Action.FULL)]
        ceilings.append(entry.retry_at - clock.now)
    assert max(ceilings) <= 30.0
    clock.advance_to(entry.retry_at)
    run(planner)
    assert entry.errors == 0


def test_gone_resources_stop(planner: Planner, clock: FakeClock) -> None:
    planner.subscribe(A, "detail", Tier.FOCUSED)
    run(planner, Outcome.GONE)
    clock.advance(60.0)
    assert planner.plan().actions == ()


def test_rate_limited_poll_waits_for_the_class_to_reopen(
    planner: Planner, budget: Budget, clock: FakeClock
) -> None:
    planner.subscribe_many([A, B], "table", Tier.VISIBLE)
    plan = planner.plan()
    budget.observe(RateLimitObservation(GET_TASK, 429, 0, None, 7.0, None, clock.now))
    for action in plan.actions:
        planner.complete(action.key, Outcome.RATE_LIMITED)
    closure = budget.closure(GET_TASK)
    assert closure is not None
    nothing = planner.plan()
    assert nothing.actions == ()
    assert nothing.wake_at == closure.until
    while not (plan := planner.plan()).actions:
        assert plan.wake_at is not None
        clock.advance_to(plan.wake_at)
    assert clock.now >= closure.until
    assert len(plan.actions) == 1  # one probe first, the rest after its answer
    nothing = planner.plan()
    assert nothing.actions == ()
    assert nothing.wake_at is not None
    assert nothing.wake_at > clock.now


def test_breaker_opens_then_probes_once_then_closes(planner: Planner, clock: FakeClock) -> None:
    keys = [ResourceKey.task(f"t{i}") for i in range(10)]
    planner.subscribe_many(keys, "table", Tier.VISIBLE)
    run(planner, Outcome.SERVER_ERROR)  # ten 5xx: the breaker opens
    breaker = planner.breaker
    assert breaker is not None
    open_until = breaker.open_until
    assert open_until is not None
    plan = planner.plan()
    assert plan.actions == ()
    assert plan.wake_at == open_until
    clock.advance_to(open_until + 1.0)  # every resource is due again by now
    probe = planner.plan()
    assert len(probe.actions) == 1
    assert planner.plan().actions == ()  # nobody else while the probe is out
    planner.complete(probe.actions[0].key, Outcome.OK)
    assert len(planner.plan().actions) == 9


def test_intervals_follow_the_load(planner: Planner) -> None:
    planner.subscribe(A, "detail", Tier.FOCUSED)
    light = planner.intervals(GET_TASK)
    planner.subscribe_many(
        [ResourceKey.task(f"bg{i}") for i in range(5000)], "watch", Tier.BACKGROUND
    )
    heavy = planner.intervals(GET_TASK)
    assert light.background == planner.policy.background
    assert heavy.background > light.background
    assert heavy.focused == light.focused == 1.0
    assert planner.intervals("run").focused == planner.policy.focused  # nothing there


def test_a_change_feed_asks_for_the_full_record_at_once(planner: Planner) -> None:
    planner.subscribe(A, "all", Tier.BACKGROUND)
    assert run(planner) == [PollAction(A, Action.FULL)]
    assert run(planner) == []  # next status poll is 30 s away
    planner.request_full(A)
    assert run(planner) == [PollAction(A, Action.FULL)]
    assert run(planner) == []
