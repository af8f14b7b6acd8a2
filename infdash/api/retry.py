"""Retry policy: which failures to retry, and how long to wait.

Full-jitter exponential backoff (AWS), ``rand(0, min(cap, base·2^n))``, unless the server sent
a usable ``Retry-After``: then that (plus 0–10 % jitter so pollers don't wake together). A
``Retry-After`` above the cap (120 s, as openai-python) means "don't retry": the caller raises
and leaves the wait to the scheduler. Garbage, zero, negative, past, NaN or infinite values
fall back to backoff, never to a tight loop.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from infdash.api.ratelimit import parse_float, parse_http_date

RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Knobs for request retries and stream reconnects."""

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 120.0
    retry_after_jitter: float = 0.1


NO_RETRY = RetryPolicy(max_retries=0)


def parse_retry_after(headers: Mapping[str, str], local_now: float) -> float | None:
    """Seconds the server asked us to wait, or ``None`` if absent or unparseable.

    Accepts delta-seconds (floats allowed) and HTTP dates. A date is measured against the
    server's own ``Date`` header when present, so local clock skew does not matter. The result
    may be zero, negative or huge: :func:`retry_delay` decides what to do with it.
    """
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = parse_float(value)
    if seconds is not None:
        return seconds
    when = parse_http_date(value)
    if when is None:
        return None
    server_now = parse_http_date(headers.get("date"))
    return when - (server_now if server_now is not None else local_now)


def backoff_delay(attempt: int, policy: RetryPolicy, rand: Callable[[], float]) -> float:
    """Full jitter: uniform in [0, min(max_delay, initial·2^attempt)]. ``attempt`` from 0."""
    ceiling = min(policy.max_delay, policy.initial_delay * float(2 ** min(attempt, 62)))
    return rand() * ceiling


def retry_delay(
    attempt: int,
    retry_after: float | None,
    policy: RetryPolicy,
    rand: Callable[[], float] = random.random,
) -> float | None:
    """How long to wait before retry number ``attempt`` (0-based); ``None`` = do not retry.

    ``None`` is returned only when the server asked for longer than ``max_retry_after``.
    """
    if retry_after is not None and math.isfinite(retry_after) and retry_after > 0:
        if retry_after > policy.max_retry_after:
            return None
        return retry_after * (1.0 + policy.retry_after_jitter * rand())
    return backoff_delay(attempt, policy, rand)
