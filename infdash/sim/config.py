"""Configuration of the embedded simulator: one dataclass per concern, every field documented.

Everything is off or realistic by default; tests and the demo override fields. Fault settings
live in :class:`FaultConfig` and are copied into the running world, so a test can switch them on
and off at runtime with ``server.call(lambda w: setattr(w.faults, "date_skew", 300.0))``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal


@dataclass
class RateLimits:
    """Requests allowed per ``window`` simulated seconds, per API key and limit class."""

    run: int = 100
    """``POST /run`` and ``POST /apps/run``."""
    get_task: int = 1000
    """``GET /tasks/{id}`` and its sub-resources except ``/stream``."""
    upload: int = 50
    """``POST /files``."""
    other: int = 600
    """Every other limited route (streams and ``/health`` are never limited)."""
    window: float = 60.0
    """Length of the sliding window in simulated seconds."""

    def limit_for(self, limit_class: str) -> int:
        """The limit of one class by name (``run``, ``get_task``, ``upload``, ``other``)."""
        value: int = getattr(self, limit_class)
        return value


@dataclass
class ErrorBurst:
    """The next ``count`` matching requests fail with ``status`` (R5, R7)."""

    status: int = 503
    """HTTP status of the injected failure (problem+json, code ``internal_error``)."""
    count: int = 0
    """How many requests still fail; decremented per failure. 0 = off."""
    path_prefix: str = ""
    """Only paths (without the ``/v1`` prefix) starting with this fail; "" = every route."""
    after_handler: bool = False
    """Run the real handler first (a task is created) and then answer with the failure (R7)."""
    statuses: tuple[int, ...] = ()
    """If set, failures cycle through these statuses instead of ``status`` (R5: 500/502/503/504)."""
    _served: int = field(default=0, repr=False, compare=False)

    def next_status(self) -> int:
        """Consume one failure and return its status."""
        self.count -= 1
        if not self.statuses:
            return self.status
        status = self.statuses[self._served % len(self.statuses)]
        self._served += 1
        return status


@dataclass
class RateLimitStorm:
    """The next ``count`` limited requests get 429 whatever the real budget says (R1–R3)."""

    count: int = 0
    """How many requests still get 429; 0 = off."""
    retry_after: str | None = "7"
    """Raw ``Retry-After`` value (may be garbage on purpose); None = header omitted."""
    reset_in: float | None = None
    """If set: ``X-RateLimit-Remaining: 0`` and ``X-RateLimit-Reset`` = sim now + this."""
    reset_raw: str | None = None
    """If set: a raw ``X-RateLimit-Reset`` value (garbage, negative, 1e20…); wins over reset_in."""
    path_prefix: str = ""
    """Only paths starting with this get the storm; "" = every limited route."""


@dataclass
class FaultConfig:
    """Injected faults; all off by default. Mutable at runtime through ``SimServer.call``."""

    latency: float = 0.0
    """Real seconds added before each response starts (after the handler ran, so side effects
    such as a created task happen even when the client times out: R7)."""
    latency_path_prefix: str = ""
    """Only paths starting with this are delayed; "" = every route except ``/health``."""
    error_burst: ErrorBurst = field(default_factory=ErrorBurst)
    """5xx bursts (R5, R7)."""
    rate_limit_storm: RateLimitStorm = field(default_factory=RateLimitStorm)
    """429 storms with configurable headers (R1–R3)."""
    date_skew: float = 0.0
    """Seconds added to the server's wall clock as shown in headers (R2): ``Date`` and
    ``X-RateLimit-Reset`` move together, so ``Reset − Date`` stays the true wait while a client
    reading its own clock is off by this much."""
    stream_drop_after: int | None = None
    """Close every stream after N frames, in the middle of frame N+1, without ``done`` (R11)."""
    stream_malformed: bool = False
    """After the first event, send a batch of malformed frames (bad/truncated JSON, wrong shape,
    unknown event, event without data, multi-line data, comments, BOM, mixed CR/LF/CRLF,
    invalid UTF-8) before the real events (R20, R21, R23)."""
    stream_chunk_size: int | None = None
    """Write stream bytes in chunks of this many bytes, splitting UTF-8 characters (R23)."""
    stream_heartbeat_only: bool = False
    """Streams send nothing but heartbeats until the client leaves (R19). Set while a task
    stream is open, that stream goes on with heartbeats only from then on (its events are
    swallowed), as a server whose event pump died while its heartbeat timer runs."""
    stream_stall: bool = False
    """Open task streams send nothing more, neither events nor heartbeats, and do not close:
    a half-open connection (R17). What they swallow meanwhile is not sent later."""
    stream_trickle: bool = False
    """Slow loris (R18): open task streams send one byte (a space, never ending a frame) in
    place of each heartbeat and swallow their events, so bytes keep arriving but no frame
    ever completes. Pair with a short ``heartbeat_interval`` (4 s in the reference)."""
    stream_oversized_event: int = 0
    """One-shot (R24): the next task stream to open sends, after its snapshot or replay, one
    extra event of about this many bytes — a log entry of a single huge line, never stored in
    the task, so ``/logs`` does not have it — then goes on as usual.  Reset to 0 once sent."""
    stream_ignore_last_event_id: bool = False
    """Streams replay from the start whatever ``Last-Event-ID`` says (R12)."""
    stream_status: int | None = None
    """Streams answer with this status and no events: 204, or a problem+json 401/403/404/429
    (R14, R16)."""
    stream_html: bool = False
    """Streams answer 200 with ``Content-Type: text/html`` (captive portal, R15)."""
    chat_error_after_deltas: int | None = None
    """Assistant replies send an ``error`` event after this many response deltas and end
    ``failed`` with the partial text (R28)."""
    chat_drop_after_deltas: int | None = None
    """Chat streams close cleanly after forwarding this many ``delta`` events (mid-reply), so a
    client must reconnect and reconcile from the messages list."""


@dataclass
class SimConfig:
    """Everything that shapes one simulated world."""

    api_key: str = "inf_demo"
    """The only bearer token accepted (changeable at runtime via ``world.api_key``: R9)."""
    seed: int = 0
    """Seed of every random choice; same seed + start_time = same world."""
    speed: float = 1.0
    """Simulated seconds per real second (real clock only)."""
    manual_clock: bool = False
    """If true, simulated time moves only when a test calls ``SimServer.advance``."""
    start_time: float = field(default_factory=time.time)
    """Epoch seconds at which the simulated clock starts; fix it for reproducible runs."""
    heartbeat_interval: float = 10.0
    """Simulated seconds between stream heartbeats."""
    rate_limits: RateLimits = field(default_factory=RateLimits)
    """Per-class request budgets."""
    history_size: int = 3000
    """Past tasks seeded into the world (mostly terminal)."""
    running_at_start: int = 3
    """Live tasks already running when the world starts (long apps, backdated)."""
    engines: int = 3
    """Simulated engines at start."""
    workers_per_engine: int = 2
    """Workers per engine; a task needs an idle worker, else it waits ``queued``."""
    offline_engines: int = 1
    """Extra engines seeded ``disconnected`` (workers ``inactive``) after the online ones."""
    approvals_require_sign_in: bool = False
    """Refuse tool approvals with 403 ``requires_sign_in``, as the real API does for API keys
    (runtime switch: ``world.approvals_require_sign_in``)."""
    max_upload_bytes: int = 10 * 1024 * 1024
    """Largest file accepted by ``POST /files`` (declared size) and the upload PUT (413 above)."""
    upload_url_ttl: float = 900.0
    """Simulated seconds an ``upload_url`` token stays valid."""
    concurrency_limit: int = 10
    """The ``concurrency`` entitlement shown by ``/entitlements/usage`` (display only)."""
    log_encoding: Literal["base64", "plain"] = "base64"
    """``TaskLog.content`` as base64 (Go ``[]byte``) or plain text."""
    webhook_timeout: float = 2.0
    """Real seconds a webhook POST may take before it is abandoned (never retried)."""
    sse_retry_ms: int | None = 1000
    """``retry:`` field sent at the start of every SSE stream; None = omitted."""
    traffic_interval: float | None = None
    """If set, a new task of a random catalogue app arrives about every this many simulated
    seconds (jittered ±50 %), so a demo keeps moving; None = no background traffic."""
    faults: FaultConfig = field(default_factory=FaultConfig)
    """Injected faults (all off by default)."""
