"""The status bar's connection state, read from scheduler snapshots."""

from __future__ import annotations

from infdash.scheduler import BreakerState, ClassView, SchedulerState, Snapshot
from infdash.scheduler.backoff import BreakerView
from infdash.scheduler.ratelimit import WaitSource
from infdash.ui.connection import Gauge, Link, busiest_gauge, connection_state


def view(name: str = "get_task", used: int = 0, allowed: int = 900, **kw: object) -> ClassView:
    fields: dict[str, object] = {
        "name": name,
        "used_last_minute": used,
        "allowed_per_minute": allowed,
        "server_limit": None,
        "server_remaining": None,
        "tokens": 10.0,
        "closed": False,
        "resumes_in": None,
        "closed_by": None,
        "capped": False,
        "polls_held_for": None,
        "episodes": 0,
    }
    fields.update(kw)
    return ClassView(**fields)  # type: ignore[arg-type]


def snap(**kw: object) -> Snapshot:
    fields: dict[str, object] = {
        "taken_at": 0.0,
        "paused": frozenset(),
        "classes": (view(),),
        "breaker": None,
        "streamed": 0,
        "polled": 3,
        "stale": 0,
        "oldest_age": 1.0,
        "resources": (),
    }
    fields.update(kw)
    return Snapshot(**fields)  # type: ignore[arg-type]


def test_live_when_nothing_is_wrong() -> None:
    state = connection_state(SchedulerState.RUNNING, snap())
    assert (state.link, state.text) == (Link.LIVE, "live")


def test_stale_says_since_when() -> None:
    state = connection_state(SchedulerState.RUNNING, snap(stale=2, oldest_age=75.0))
    assert (state.link, state.text) == (Link.STALE, "stale since 1 min")


def test_rate_limited_counts_down_the_longest_closure() -> None:
    classes = (
        view("get_task", closed=True, resumes_in=3.2, closed_by=WaitSource.RETRY_AFTER),
        view("other", closed=True, resumes_in=11.1, closed_by=WaitSource.RESET),
    )
    state = connection_state(SchedulerState.RUNNING, snap(classes=classes))
    assert (state.link, state.text) == (Link.RATE_LIMITED, "rate limited, resuming in 12 s")


def test_offline_beats_rate_limited_and_says_when_it_retries() -> None:
    breaker = BreakerView(BreakerState.OPEN, consecutive_failures=5, retry_in=4.5)
    classes = (view(closed=True, resumes_in=3.0),)
    state = connection_state(SchedulerState.RUNNING, snap(breaker=breaker, classes=classes))
    assert (state.link, state.text) == (Link.OFFLINE, "offline, retrying in 5 s")


def test_unauthorized_beats_everything() -> None:
    breaker = BreakerView(BreakerState.OPEN, consecutive_failures=5, retry_in=4.5)
    state = connection_state(SchedulerState.UNAUTHORIZED, snap(breaker=breaker))
    assert state.link is Link.UNAUTHORIZED
    assert "check the API key" in state.text


def test_paused() -> None:
    state = connection_state(SchedulerState.PAUSED, snap(paused=frozenset({"suspend"})))
    assert state.link is Link.PAUSED


def test_gauge_shows_the_busiest_class() -> None:
    classes = (view("get_task", used=450, allowed=900), view("other", used=80, allowed=100))
    gauge = busiest_gauge(snap(classes=classes))
    assert gauge == Gauge("other", 80, 100)
    assert gauge.bar(10) == "████████░░"
    assert busiest_gauge(snap(classes=())) is None


def test_rows_just_subscribed_are_not_called_stale() -> None:
    state = connection_state(SchedulerState.RUNNING, snap(stale=40, oldest_age=2.0))
    assert state.link is Link.LIVE


def test_an_idle_gauge_shows_the_polled_class() -> None:
    classes = (view("run", used=0, allowed=90), view("get_task", used=0, allowed=850))
    gauge = busiest_gauge(snap(classes=classes))
    assert gauge is not None
    assert gauge.name == "get_task"
