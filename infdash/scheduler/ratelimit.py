"""The server's rate-limit signals, read into one safe wait.

The API client turns each response into a :class:`RateLimitObservation` (plain numbers, no
HTTP types) and hands it to the budget.  Everything here is pure: the wait the server asks for
is computed against the server's own ``Date`` so a skewed local clock does not matter, and
garbage (negative, past, NaN, absurdly large) is recognised so the caller can fall back to
jittered backoff instead of looping tightly (performance.md §2.3, R2, R3).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum

MAX_WAIT = 120.0
"""Longest closure the server can impose on us; longer requests are capped (and flagged)."""

DELTA_THRESHOLD = 1e9
"""``X-RateLimit-Reset`` values below this are delta-seconds, not epoch seconds."""

ABSURD_WAIT = 86_400.0
"""Waits beyond a day are not a plan, they are garbage (e.g. 10**20): use the fallback."""

RUN = "run"
GET_TASK = "get_task"
UPLOAD = "upload"
OTHER = "other"


@dataclass(frozen=True, slots=True)
class RateLimitObservation:
    """What one HTTP response said about its limit class, in plain numbers.

    ``observed_at`` is the scheduler clock (monotonic) when the response arrived; the epoch
    values are the server's and are only ever compared with each other.
    """

    limit_class: str
    status: int
    remaining: int | None = None
    reset_epoch: float | None = None
    retry_after: float | None = None
    server_date_epoch: float | None = None
    observed_at: float = 0.0


class WaitSource(StrEnum):
    RETRY_AFTER = "retry-after"
    RESET = "reset"
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class ServerWait:
    """How long the server asked us to stay quiet; ``seconds is None`` means "unusable"."""

    seconds: float | None
    source: WaitSource
    capped: bool = False
    """The server asked for more than :data:`MAX_WAIT` (e.g. maintenance, R6)."""


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def seconds_until_reset(obs: RateLimitObservation) -> float | None:
    """``Reset − Date`` in server time, or the delta itself for small values; None if unknown."""
    reset = _finite(obs.reset_epoch)
    if reset is None or reset < 0:
        return None
    if reset < DELTA_THRESHOLD:
        return reset
    date = _finite(obs.server_date_epoch)
    if date is None or date < DELTA_THRESHOLD:
        return None
    return reset - date


def server_wait(obs: RateLimitObservation, max_wait: float = MAX_WAIT) -> ServerWait:
    """The wait the server asked for, clamped to ``(0, max_wait]``; Retry-After wins."""
    raw: float | None = None
    source = WaitSource.FALLBACK
    retry_after = _finite(obs.retry_after)
    if retry_after is not None and retry_after > 0:
        raw, source = retry_after, WaitSource.RETRY_AFTER
    else:
        until_reset = seconds_until_reset(obs)
        if until_reset is not None and until_reset > 0:
            raw, source = until_reset, WaitSource.RESET
    if raw is None or raw > ABSURD_WAIT:
        return ServerWait(None, WaitSource.FALLBACK)
    if raw > max_wait:
        return ServerWait(max_wait, source, capped=True)
    return ServerWait(raw, source)


_TASK_COLLECTION_ROUTES = frozenset({"list", "stream", "featured", "queue-stats"})


def _is_task_resource(parts: list[str]) -> bool:
    """``/tasks/{id}`` or ``/tasks/{id}/<sub-resource>``, not the collection routes beside it."""
    return len(parts) in (2, 3) and parts[0] == "tasks" and parts[1] not in _TASK_COLLECTION_ROUTES


def limit_class_for(method: str, path: str) -> str | None:
    """The documented limit class of a route; None for routes that are never limited.

    Streams and ``/health`` are not limited (docs/simulator.md "Rate limits").
    """
    method = method.upper()
    path = "/" + path.split("?", 1)[0].strip("/")
    if path == "/v1" or path.startswith("/v1/"):
        path = path[3:] or "/"
    parts = [p for p in path.split("/") if p]
    if path == "/health" or (parts and parts[-1] == "stream"):
        return None
    if method == "POST" and path in ("/run", "/apps/run"):
        return RUN
    if method == "POST" and path == "/files":
        return UPLOAD
    if method == "GET" and _is_task_resource(parts):
        return GET_TASK
    return OTHER


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value.strip()
    return None


def _parse_number(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return _finite(float(text))
    except ValueError:
        return None


def _parse_http_date(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def observation_from_headers(
    limit_class: str, status: int, headers: Mapping[str, str], observed_at: float
) -> RateLimitObservation:
    """Parse response headers leniently: anything unreadable becomes None, never an error."""
    remaining_value = _parse_number(_header(headers, "X-RateLimit-Remaining"))
    remaining = (
        int(remaining_value)
        if remaining_value is not None and 0 <= remaining_value < 2**31
        else None
    )
    date = _parse_http_date(_header(headers, "Date"))
    retry_text = _header(headers, "Retry-After")
    retry_after = _parse_number(retry_text)
    if retry_after is None and retry_text:
        when = _parse_http_date(retry_text)  # the HTTP-date form, measured against Date
        if when is not None and date is not None:
            retry_after = when - date
    return RateLimitObservation(
        limit_class=limit_class,
        status=status,
        remaining=remaining,
        reset_epoch=_parse_number(_header(headers, "X-RateLimit-Reset")),
        retry_after=retry_after,
        server_date_epoch=date,
        observed_at=observed_at,
    )
