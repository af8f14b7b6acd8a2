"""Reading rate-limit headers into a safe wait (R2, R3): Reset − Date, delta form, clamps."""

from __future__ import annotations

import math

import pytest

from infdash.scheduler import (
    GET_TASK,
    OTHER,
    RUN,
    UPLOAD,
    RateLimitObservation,
    WaitSource,
    limit_class_for,
    observation_from_headers,
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


def test_headers_parse_case_insensitively_and_tolerate_garbage() -> None:
    headers = {
        "x-ratelimit-remaining": "12",
        "X-RateLimit-Reset": str(int(DATE) + 30),
        "date": "Thu, 20 Sep 2026 12:00:00 GMT",
        "Retry-After": "soon",
    }
    o = observation_from_headers(GET_TASK, 200, headers, observed_at=3.0)
    assert o.remaining == 12
    assert o.reset_epoch == DATE + 30
    assert o.server_date_epoch is not None
    assert o.retry_after is None
    assert o.observed_at == 3.0

    bad = observation_from_headers(
        GET_TASK, 429, {"X-RateLimit-Remaining": "-4", "Date": "yesterday"}, 0.0
    )
    assert (bad.remaining, bad.server_date_epoch, bad.reset_epoch) == (None, None, None)


def test_retry_after_http_date_is_measured_against_date() -> None:
    headers = {
        "Date": "Fri, 20 Nov 2026 12:00:00 GMT",
        "Retry-After": "Fri, 20 Nov 2026 12:00:09 GMT",
    }
    assert observation_from_headers(GET_TASK, 429, headers, 0.0).retry_after == 9.0


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
    assert limit_class_for(method, path) == expected
