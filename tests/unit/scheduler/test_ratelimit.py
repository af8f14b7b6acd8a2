"""Reading rate-limit headers into a safe wait (R2, R3): Reset − Date, delta form, clamps."""

from __future__ import annotations

import math
from email.utils import formatdate

import httpx
import pytest

from infdash.api import RateLimitTracker, classify
from infdash.api.retry import parse_retry_after
from infdash.scheduler import (
    GET_TASK,
    OTHER,
    RUN,
    UPLOAD,
    RateLimitObservation,
    WaitSource,
    observation_from_error,
    observation_from_snapshot,
    server_wait,
)

DATE = 1_790_000_000.0


def obs(
    *,
    status: int = 429,
    remaining: int | None = 0,
    reset: float | None = None,
    retry_after: float | None = None,
    date: float | None = DATE,
) -> RateLimitObservation:
    return RateLimitObservation(GET_TASK, status, remaining, reset, retry_after, date, 5.0)


@pytest.mark.parametrize("skew", [-300.0, 0.0, 300.0])
def test_wait_is_reset_minus_server_date_whatever_the_skew(skew: float) -> None:
    # The server's clock runs `skew` away from ours; only its own Date and Reset are compared.
    wait = server_wait(obs(reset=DATE + skew + 20, date=DATE + skew))
    assert wait == server_wait(obs(reset=DATE + 20))
    assert wait.seconds == 20
    assert wait.source is WaitSource.RESET


def test_small_reset_values_are_delta_seconds() -> None:
    assert server_wait(obs(reset=15.0, date=None)).seconds == 15.0


def test_retry_after_overrides_reset() -> None:
    wait = server_wait(obs(reset=DATE + 50, retry_after=7.0))
    assert (wait.seconds, wait.source) == (7.0, WaitSource.RETRY_AFTER)


def test_epoch_reset_without_a_date_is_unusable() -> None:
    assert server_wait(obs(reset=DATE + 20, date=None)).seconds is None


@pytest.mark.parametrize(
    ("reset", "retry_after", "expected", "capped"),
    [
        pytest.param(None, -5.0, None, False, id="negative-retry-after"),
        pytest.param(-30.0, None, None, False, id="negative-reset"),
        pytest.param(DATE - 10, None, None, False, id="reset-in-the-past"),
        pytest.param(DATE, None, None, False, id="reset-equals-date"),
        pytest.param(1e20, None, None, False, id="reset-1e20"),
        pytest.param(None, 1e20, None, False, id="retry-after-1e20"),
        pytest.param(math.nan, math.nan, None, False, id="nan"),
        pytest.param(math.inf, math.inf, None, False, id="inf"),
        pytest.param(None, 0.0, None, False, id="retry-after-zero"),
        pytest.param(DATE + 300, None, 120.0, True, id="reset-over-120s"),
        pytest.param(None, 3600.0, 120.0, True, id="maintenance-retry-after-3600"),
        pytest.param(None, 120.0, 120.0, False, id="exactly-the-cap"),
        pytest.param(None, 0.5, 0.5, False, id="sub-second"),
    ],
)
def test_garbage_and_extreme_values_are_clamped_or_rejected(
    reset: float | None, retry_after: float | None, expected: float | None, capped: bool
) -> None:
    wait = server_wait(obs(reset=reset, retry_after=retry_after))
    assert wait.seconds == expected
    assert wait.capped is capped
    if expected is None:
        assert wait.source is WaitSource.FALLBACK


def through_client(
    status: int, headers: dict[str, str], observed_at: float
) -> RateLimitObservation | None:
    """Headers as the client parses them (tracker), adapted for the budget."""
    tracker = RateLimitTracker(clock=lambda: 1_700_000_000.0)  # a wall clock far from Date
    wire = httpx.Headers(headers)
    snap = tracker.observe(
        "GET", "/tasks/abc", status, wire, parse_retry_after(wire, 1_700_000_000.0)
    )
    return None if snap is None else observation_from_snapshot(snap, observed_at)


def test_headers_parse_case_insensitively_and_tolerate_garbage() -> None:
    headers = {
        "x-ratelimit-remaining": "12",
        "X-RateLimit-Reset": str(int(DATE) + 30),
        "date": formatdate(DATE, usegmt=True),
        "Retry-After": "soon",
    }
    o = through_client(200, headers, observed_at=3.0)
    assert o is not None
    assert o.limit_class == GET_TASK
    assert o.remaining == 12
    assert o.reset_epoch == DATE + 30
    assert o.server_date_epoch is not None
    assert o.retry_after is None
    assert o.observed_at == 3.0

    # Garbage never raises: a negative Remaining is unknown, and the wait falls back to a
    # jittered backoff, never a tight loop.
    bad = through_client(429, {"X-RateLimit-Remaining": "-4", "Date": "yesterday"}, 0.0)
    assert bad is not None
    assert bad.remaining is None
    assert bad.reset_epoch is None
    assert server_wait(bad).seconds is None
    assert server_wait(bad).source is WaitSource.FALLBACK


def test_server_date_is_the_date_header_whatever_the_local_clock() -> None:
    headers = {"X-RateLimit-Remaining": "3", "Date": formatdate(DATE + 300, usegmt=True)}
    o = through_client(200, headers, observed_at=0.0)
    assert o is not None
    assert o.server_date_epoch == DATE + 300


def test_retry_after_http_date_is_measured_against_date() -> None:
    headers = {
        "Date": "Fri, 20 Nov 2026 12:00:00 GMT",
        "Retry-After": "Fri, 20 Nov 2026 12:00:09 GMT",
    }
    o = through_client(429, headers, 0.0)
    assert o is not None
    assert o.retry_after == 9.0


def test_a_503_with_retry_after_but_no_limit_headers_still_reaches_the_budget() -> None:
    assert through_client(503, {"Retry-After": "7"}, 0.0) is None  # the tracker drops it
    o = observation_from_error(GET_TASK, 503, 7.0, observed_at=2.0)
    assert o is not None
    assert server_wait(o).seconds == 7.0
    assert observation_from_error(GET_TASK, 500, 7.0, 2.0) is None
    assert observation_from_error(GET_TASK, 503, None, 2.0) is None


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/run", RUN),
        ("POST", "/v1/apps/run", RUN),
        ("GET", "/tasks/abc", GET_TASK),
        ("GET", "/tasks/abc/status", GET_TASK),
        ("GET", "/v1/tasks/abc/logs?limit=5", GET_TASK),
        ("GET", "/tasks/abc/stream", None),
        ("GET", "/tasks/stream", None),
        ("GET", "/tasks/featured", OTHER),
        ("GET", "/tasks/queue-stats", OTHER),
        ("GET", "/tasks", OTHER),
        ("GET", "/health", None),
        ("POST", "/files", UPLOAD),
        ("POST", "/tasks/list", OTHER),
        ("POST", "/tasks/abc/cancel", OTHER),
        ("GET", "/engines/e1", OTHER),
    ],
)
def test_routes_map_to_the_simulator_limit_classes(
    method: str, path: str, expected: str | None
) -> None:
    # One classification (the client's); the budget's class names are its values.
    assert classify(method, path) == expected
