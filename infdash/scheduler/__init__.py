"""Keeps local state fresh under the rate budget.  Pure core: no Textual, no I/O.

Budget (token buckets per limit class, synced to the server's headers), tiered subscriptions
with a deterministic planner, backoff and a circuit breaker, a monotonic Store, and a plain
snapshot for the status bar; and the async :class:`Scheduler` that performs the requests
through the API client (``infdash.api``) and follows the focused task's or engine's stream.
"""

from __future__ import annotations

from infdash.scheduler.backoff import (
    Backoff,
    BreakerState,
    BreakerView,
    CircuitBreaker,
    full_jitter,
)
from infdash.scheduler.budget import Budget
from infdash.scheduler.clock import Clock, FakeClock, VirtualTime
from infdash.scheduler.engine_events import EngineEvents
from infdash.scheduler.limits import (
    DEFAULT_CLASSES,
    Admission,
    BudgetConfig,
    Closure,
    LimitClass,
    Priority,
)
from infdash.scheduler.planner import Outcome, Plan, Planner, PollAction
from infdash.scheduler.policy import Tier, TierIntervals, TierPolicy, stretch
from infdash.scheduler.ratelimit import (
    GET_TASK,
    OTHER,
    RUN,
    UPLOAD,
    RateLimitObservation,
    ServerWait,
    WaitSource,
    observation_from_error,
    observation_from_snapshot,
    seconds_until_reset,
    server_wait,
)
from infdash.scheduler.scheduler import Scheduler, SchedulerState
from infdash.scheduler.snapshot import ClassView, ResourceView, Snapshot, status_line, take_snapshot
from infdash.scheduler.status import TaskStatus, is_terminal_status, task_status_rank
from infdash.scheduler.store import Change, Record, Store, replace_fields, supersedes
from infdash.scheduler.stores import Stores, chat_status_rank, chat_store, engine_store, task_store
from infdash.scheduler.streams import FocusedStreams, StreamPolicy, StreamSource
from infdash.scheduler.subscriptions import Action, Entry, ResourceKey, Subscriptions, Transport
from infdash.scheduler.watch import AccountWatch, Feed, WatchPolicy

__all__ = [
    "DEFAULT_CLASSES",
    "GET_TASK",
    "OTHER",
    "RUN",
    "UPLOAD",
    "AccountWatch",
    "Action",
    "Admission",
    "Backoff",
    "BreakerState",
    "BreakerView",
    "Budget",
    "BudgetConfig",
    "Change",
    "CircuitBreaker",
    "ClassView",
    "Clock",
    "Closure",
    "EngineEvents",
    "Entry",
    "FakeClock",
    "Feed",
    "FocusedStreams",
    "LimitClass",
    "Outcome",
    "Plan",
    "Planner",
    "PollAction",
    "Priority",
    "RateLimitObservation",
    "Record",
    "ResourceKey",
    "ResourceView",
    "Scheduler",
    "SchedulerState",
    "ServerWait",
    "Snapshot",
    "Store",
    "Stores",
    "StreamPolicy",
    "StreamSource",
    "Subscriptions",
    "TaskStatus",
    "Tier",
    "TierIntervals",
    "TierPolicy",
    "Transport",
    "VirtualTime",
    "WaitSource",
    "WatchPolicy",
    "chat_status_rank",
    "chat_store",
    "engine_store",
    "full_jitter",
    "is_terminal_status",
    "observation_from_error",
    "observation_from_snapshot",
    "replace_fields",
    "seconds_until_reset",
    "server_wait",
    "status_line",
    "stretch",
    "supersedes",
    "take_snapshot",
    "task_status_rank",
    "task_store",
]
