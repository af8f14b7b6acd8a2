"""Retry delays (openai-python-style table) and rate-limit header tracking."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from infdash.api.ratelimit import (
    MAX_RESET_HORIZON,
    LimitClass,
    RateLimitSnapshot,
    RateLimitTracker,
    classify,
    parse_reset,
)
from infdash.api.retry import RetryPolicy, backoff_delay, parse_retry_after, retry_delay

NOW = 1_700_000_000.0
POLICY = RetryPolicy()


def _http_date(epoch: float) -> str:
    return format_datetime(datetime.fromtimestamp(epoch, UTC), usegmt=True)


def _max(attempt: int) -> float:
    return min(POLICY.max_delay, POLICY.initial_delay * float(2**attempt))


BACKOFF = "backoff"
NO_RETRY = "no-retry"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        ("0", BACKOFF),
        ("-10", BACKOFF),
        ("1.5", 1.5),
        ("60", 60.0),
        ("120", 120.0),
        ("121", NO_RETRY),
        ("99999999999999999999999999999999999", NO_RETRY),
        (_http_date(NOW + 20), 20.0),
        (_http_date(NOW - 20), BACKOFF),
        ("Fri, 29 Sep 2023 16:26:57 GMT-nonsense", BACKOFF),
        ("Zat, 99 Foo 100000 99:99:99 GMT", BACKOFF),
        ("garbage", BACKOFF),
        ("", BACKOFF),
        ("inf", BACKOFF),
        ("-inf", BACKOFF),
        ("nan", BACKOFF),
        (None, BACKOFF),
    ],
)
@pytest.mark.parametrize("attempt", [0, 2])
def test_retry_delay_table(header: str | None, expected: object, attempt: int) -> None:
    headers = {} if header is None else {"retry-after": header}
    retry_after = parse_retry_after(headers, NOW)
    low = retry_delay(attempt, retry_after, POLICY, rand=lambda: 0.0)
    high = retry_delay(attempt, retry_after, POLICY, rand=lambda: 0.999999)
    if expected == NO_RETRY:
        assert low is None
        assert high is None
    elif expected == BACKOFF:
        assert low == 0.0
        assert high == pytest.approx(_max(attempt), rel=1e-5)
    else:
        assert isinstance(expected, float)
        assert low == pytest.approx(expected, abs=1e-6)
        assert high is not None
        assert expected <= high <= expected * 1.1 + 1e-6


def test_http_date_measured_against_server_date_not_local_clock() -> None:
    server_now = NOW + 300  # local clock 5 minutes behind the server
    headers = {"retry-after": _http_date(server_now + 30), "date": _http_date(server_now)}
    assert parse_retry_after(headers, NOW) == pytest.approx(30.0)


def test_backoff_grows_and_caps() -> None:
    ceilings = [backoff_delay(n, POLICY, lambda: 1.0) for n in range(8)]
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]
    assert backoff_delay(10_000, POLICY, lambda: 1.0) == 8.0


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/run", LimitClass.RUN),
        ("POST", "/apps/run", LimitClass.RUN),
        ("POST", "/v1/run", LimitClass.RUN),
        ("GET", "/tasks/t1", LimitClass.GET_TASK),
        ("GET", "/tasks/t1/status", LimitClass.GET_TASK),
        ("GET", "/tasks/t1/logs", LimitClass.GET_TASK),
        ("GET", "/tasks/t1/timings?x=1", LimitClass.GET_TASK),
        ("GET", "/tasks/t1/stream", None),
        ("GET", "/tasks/stream", None),
        ("GET", "/health", None),
        ("POST", "/files", LimitClass.UPLOAD),
        ("POST", "/tasks/list", LimitClass.OTHER),
        ("GET", "/tasks", LimitClass.OTHER),
        ("GET", "/tasks/queue-stats", LimitClass.OTHER),
        ("POST", "/tasks/t1/cancel", LimitClass.OTHER),
        ("DELETE", "/tasks/t1", LimitClass.OTHER),
        ("GET", "/usage/tasks/t1/cost", LimitClass.OTHER),
        ("GET", "/engines", LimitClass.OTHER),
        ("POST", "/engines/e1/drain", LimitClass.OTHER),
        ("GET", "/engines/e1/stream", None),
        ("GET", "/chats/c1/stream", None),
        ("GET", "/events", None),
        ("PUT", "/uploads/tok", None),
        ("POST", "/agents/run", LimitClass.OTHER),
    ],
)
def test_classify(method: str, path: str, expected: LimitClass | None) -> None:
    assert classify(method, path) == expected


def test_tracker_records_per_class_with_skewed_date() -> None:
    local = [NOW]
    tracker = RateLimitTracker(clock=lambda: local[0])
    server_now = NOW - 300  # server clock 5 minutes behind local
    headers = {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": str(int(server_now + 20)),
        "date": _http_date(server_now),
    }
    snap = tracker.observe("GET", "/tasks/t1", 429, headers, retry_after=None)
    assert snap is not None
    assert snap.limit_class is LimitClass.GET_TASK
    assert snap.remaining == 0
    assert snap.exhausted
    assert snap.clock_offset == pytest.approx(-300)
    assert snap.seconds_until_reset(NOW) == pytest.approx(20)
    local[0] = NOW + 15
    assert snap.seconds_until_reset(local[0]) == pytest.approx(5)
    assert tracker.snapshot(LimitClass.RUN) is None
    ok = tracker.observe("POST", "/run", 200, {"x-ratelimit-remaining": "99"})
    assert ok is not None
    assert ok.remaining == 99
    assert not ok.exhausted
    assert set(tracker.snapshots()) == {LimitClass.GET_TASK, LimitClass.RUN}


def test_tracker_ignores_unlimited_routes_and_headerless_responses() -> None:
    tracker = RateLimitTracker(clock=lambda: NOW)
    assert tracker.observe("GET", "/tasks/t1/stream", 200, {"x-ratelimit-remaining": "1"}) is None
    assert tracker.observe("GET", "/tasks/t1", 200, {}) is None
    assert tracker.snapshots() == {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20", NOW + 20),  # delta-seconds
        (str(NOW + 45), NOW + 45),  # epoch
        (str(NOW - 100), NOW),  # in the past → now
        ("1e20", None),  # absurd → unknown (the caller's fallback backoff decides)
        (str(NOW + MAX_RESET_HORIZON), NOW + MAX_RESET_HORIZON),  # the horizon itself
        ("-5", NOW),
        ("garbage", None),
        ("nan", None),
        ("inf", None),
        (None, None),
    ],
)
def test_parse_reset(value: str | None, expected: float | None) -> None:
    assert parse_reset(value, NOW) == expected


def test_listeners_get_every_new_snapshot() -> None:
    tracker = RateLimitTracker(clock=lambda: NOW)
    seen: list[RateLimitSnapshot] = []
    tracker.add_listener(seen.append)
    tracker.observe("POST", "/run", 200, {"x-ratelimit-remaining": "5"})
    tracker.observe("GET", "/tasks/t1", 200, {})  # carried nothing: no snapshot, no call
    tracker.remove_listener(seen.append)
    tracker.observe("POST", "/run", 200, {"x-ratelimit-remaining": "4"})
    assert [(s.limit_class, s.remaining) for s in seen] == [(LimitClass.RUN, 5)]
