"""Every error a worker meets becomes one clean line."""

from __future__ import annotations

from infdash.api import (
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    TransportError,
    UnauthorizedError,
)
from infdash.ui.errors import describe


def test_unauthorized_says_what_to_check() -> None:
    assert "check the key" in describe(UnauthorizedError("nope", status=401))


def test_rate_limited_says_when() -> None:
    assert describe(RateLimitedError("slow", status=429, retry_after=11.2)) == (
        "rate limited — try again in 12 s"
    )
    assert describe(RateLimitedError("slow", status=429)) == "rate limited"


def test_outcome_unknown_warns_against_running_twice() -> None:
    assert "check before trying again" in describe(OutcomeUnknownError("timeout"))


def test_transport_error() -> None:
    assert describe(TransportError("connection refused")) == (
        "cannot reach the server: connection refused"
    )


def test_api_error_is_one_clean_line() -> None:
    error = NotFoundError("no app \x1b[2Jinfsh/nope\nat all", status=404, code="not_found")
    text = describe(error)
    assert "\x1b" not in text
    assert "\n" not in text
    assert "infsh/nope" in text
    assert "404" in text


def test_a_bug_is_still_one_line() -> None:
    assert describe(ValueError("bad\nthing")) == "ValueError: bad thing"
