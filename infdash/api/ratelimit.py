"""Rate-limit header tracking per limit class.

The server's headers are the truth (performance.md §2.3): every response's
``X-RateLimit-Remaining``, ``X-RateLimit-Reset``, ``Retry-After`` and ``Date`` are recorded
against the limit class the request belongs to, so the scheduler can throttle before a 429.
Classification follows docs/simulator.md: ``run`` = POST /run and /apps/run, ``get_task`` =
GET /tasks/{id} and its sub-resources except /stream, ``upload`` = POST /files, ``other`` =
everything else except streams (``…/stream`` and ``GET /events``), presigned upload PUTs and
/health (which are not limited).

``X-RateLimit-Reset`` is documented as epoch seconds; values below ~1e9 are read as
delta-seconds (the IETF draft's form). The server ``Date`` gives the server-vs-local clock
offset, so a reset can be turned into a local wait that ignores local clock skew.
"""

from __future__ import annotations

import enum
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

# Reset values below this are delta-seconds, not epoch seconds.
EPOCH_THRESHOLD = 1e9
# A reset further away than this (from the server's now) is absurd and is clamped to it.
MAX_RESET_HORIZON = 3600.0


class LimitClass(enum.StrEnum):
    RUN = "run"
    GET_TASK = "get_task"
    UPLOAD = "upload"
    OTHER = "other"


# GET /tasks/{id} and /tasks/{id}/<sub>, but not the collection routes beside them.
_TASK_SUB = re.compile(r"^/tasks/(?!list$|stream$|featured$|queue-stats$)[^/]+(?:/[^/]+)?$")


def classify(method: str, path: str) -> LimitClass | None:
    """The limit class of a request, or ``None`` for unlimited routes (streams, /health)."""
    method = method.upper()
    path = path.split("?", 1)[0].rstrip("/") or "/"
    if path.startswith("/v1/"):
        path = path[3:]
    if path in ("/health", "/events") or path.endswith("/stream") or path.startswith("/uploads/"):
        return None
    if method == "POST" and path in ("/run", "/apps/run"):
        return LimitClass.RUN
    if method == "POST" and path == "/files":
        return LimitClass.UPLOAD
    if method == "GET" and _TASK_SUB.match(path):
        return LimitClass.GET_TASK
    return LimitClass.OTHER


@dataclass(frozen=True, slots=True)
class RateLimitSnapshot:
    """What the server last said about one limit class.

    ``reset_at`` is a *server-time* epoch; ``clock_offset`` is server minus local seconds (from
    ``Date``), so the local wait is ``reset_at - (local_now + clock_offset)``.
    """

    limit_class: LimitClass
    remaining: int | None
    reset_at: float | None
    clock_offset: float
    retry_after: float | None
    observed_at: float
    status: int

    def server_now(self, local_now: float) -> float:
        return local_now + self.clock_offset

    def seconds_until_reset(self, local_now: float) -> float | None:
        """Local seconds until the window resets (never negative), or ``None`` if unknown."""
        if self.reset_at is None:
            return None
        return max(0.0, self.reset_at - self.server_now(local_now))

    @property
    def exhausted(self) -> bool:
        return self.status == 429 or self.remaining == 0


def parse_float(value: str | None) -> float | None:
    """A finite float from a header value, else ``None``."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_http_date(value: str | None) -> float | None:
    """An RFC 9110 HTTP date as an epoch, or ``None`` if it does not parse."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        return None
    try:
        return parsed.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def parse_reset(value: str | None, server_now: float) -> float | None:
    """``X-RateLimit-Reset`` as a server-time epoch; a past value means now.

    A value beyond the horizon is garbage, not a long wait: it reads as unknown, so callers
    fall back to their own jittered backoff instead of closing a class for the cap (R3).
    """
    number = parse_float(value)
    if number is None:
        return None
    reset = server_now + number if number < EPOCH_THRESHOLD else number
    if reset > server_now + MAX_RESET_HORIZON:
        return None
    return max(reset, server_now)


class RateLimitTracker:
    """Latest rate-limit snapshot per limit class, fed from every response's headers.

    Textual-free and synchronous: the client calls :meth:`observe`; the scheduler reads
    :meth:`snapshot` / :meth:`snapshots`.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._latest: dict[LimitClass, RateLimitSnapshot] = {}
        self._clock_offset = 0.0
        self._listeners: list[Callable[[RateLimitSnapshot], None]] = []

    def add_listener(self, listener: Callable[[RateLimitSnapshot], None]) -> None:
        """Call ``listener`` with every new snapshot (the scheduler's budget feeds on these)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[RateLimitSnapshot], None]) -> None:
        self._listeners.remove(listener)

    @property
    def clock_offset(self) -> float:
        """Server minus local clock, from the most recent ``Date`` header."""
        return self._clock_offset

    def observe(
        self,
        method: str,
        path: str,
        status: int,
        headers: Mapping[str, str],
        retry_after: float | None = None,
        *,
        limit_class: LimitClass | None = None,
    ) -> RateLimitSnapshot | None:
        """Record one response; returns the new snapshot, or ``None`` if it carried none."""
        limit_class = limit_class or classify(method, path)
        if limit_class is None:
            return None
        local_now = self._clock()
        server_date = parse_http_date(headers.get("date"))
        if server_date is not None:
            self._clock_offset = server_date - local_now
        remaining_raw = parse_float(headers.get("x-ratelimit-remaining"))
        reset_header = headers.get("x-ratelimit-reset")
        if remaining_raw is None and reset_header is None and status != 429:
            return None
        server_now = local_now + self._clock_offset
        snapshot = RateLimitSnapshot(
            limit_class=limit_class,
            # A negative count is garbage: unknown, not "exhausted".
            remaining=None if remaining_raw is None or remaining_raw < 0 else int(remaining_raw),
            reset_at=parse_reset(reset_header, server_now),
            clock_offset=self._clock_offset,
            retry_after=retry_after,
            observed_at=local_now,
            status=status,
        )
        self._latest[limit_class] = snapshot
        for listener in list(self._listeners):
            listener(snapshot)
        return snapshot

    def snapshot(self, limit_class: LimitClass) -> RateLimitSnapshot | None:
        return self._latest.get(limit_class)

    def snapshots(self) -> dict[LimitClass, RateLimitSnapshot]:
        return dict(self._latest)
