"""Queue stats, entitlement usage and ``/me``: the inputs of a "why is this queued?" view.

A task waits in ``queued`` when the plan's ``concurrency`` is used up (which is not an error:
nothing is refused), when no worker is free, or because of ``run_at``; these three DTOs say
which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infdash.api.models.common import (
    as_bool,
    as_dict,
    as_int,
    as_list,
    as_str,
    as_str_tuple,
    opt_float,
    opt_str,
)


@dataclass(frozen=True, slots=True)
class QueueCount:
    app: str
    count: int
    function: str = ""
    app_id: str = ""

    @classmethod
    def from_dict(cls, raw: Any) -> QueueCount:
        data = as_dict(raw)
        return cls(
            as_str(data.get("app")),
            as_int(data.get("count")),
            as_str(data.get("function")),
            as_str(data.get("app_id")),
        )


@dataclass(frozen=True, slots=True)
class QueueStats:
    """``GET /tasks/queue-stats``."""

    total_queued: int = 0
    with_run_at: int = 0
    ready_to_run: int = 0
    in_progress: int = 0
    by_app: tuple[QueueCount, ...] = ()
    by_app_function: tuple[QueueCount, ...] = ()

    @classmethod
    def from_dict(cls, raw: Any) -> QueueStats:
        data = as_dict(raw)
        total = as_int(data.get("total_queued"))
        with_run_at = as_int(data.get("with_run_at"))
        return cls(
            total_queued=total,
            with_run_at=with_run_at,
            ready_to_run=as_int(data.get("ready_to_run"), max(0, total - with_run_at)),
            in_progress=as_int(data.get("in_progress")),
            by_app=tuple(QueueCount.from_dict(x) for x in as_list(data.get("by_app"))),
            by_app_function=tuple(
                QueueCount.from_dict(x) for x in as_list(data.get("by_app_function"))
            ),
        )


@dataclass(frozen=True, slots=True)
class UsageEntry:
    """One entitlement: a ``limit`` (usage of limit) or a ``boolean`` (enabled or not)."""

    resource: str
    label: str = ""
    type: str = "limit"
    usage: float | None = None
    limit: float | None = None
    unlimited: bool = False
    enabled: bool | None = None
    unit: str = ""

    @property
    def exhausted(self) -> bool:
        """At or over the limit (a concurrency limit full means new tasks wait)."""
        if self.unlimited or self.usage is None or self.limit is None:
            return False
        return self.usage >= self.limit

    @classmethod
    def from_dict(cls, raw: Any) -> UsageEntry:
        data = as_dict(raw)
        enabled = data.get("enabled")
        return cls(
            resource=as_str(data.get("resource")),
            label=as_str(data.get("label")),
            type=as_str(data.get("type")) or "limit",
            usage=opt_float(data.get("usage")),
            limit=opt_float(data.get("limit")),
            unlimited=as_bool(data.get("unlimited")),
            enabled=as_bool(enabled) if enabled is not None else None,
            unit=as_str(data.get("unit")),
        )


@dataclass(frozen=True, slots=True)
class Usage:
    """``GET /entitlements/usage``; look entries up by resource (``concurrency``…)."""

    entries: tuple[UsageEntry, ...] = ()

    def get(self, resource: str) -> UsageEntry | None:
        return next((e for e in self.entries if e.resource == resource), None)

    @property
    def concurrency(self) -> UsageEntry | None:
        return self.get("concurrency")

    @classmethod
    def from_dict(cls, raw: Any) -> Usage:
        items = raw if isinstance(raw, list) else as_list(as_dict(raw).get("items"))
        return cls(tuple(UsageEntry.from_dict(x) for x in items if isinstance(x, dict)))


@dataclass(frozen=True, slots=True)
class Me:
    """``GET /me``: who the key belongs to and what it may do (never the key itself)."""

    user_id: str = ""
    username: str = ""
    email: str = ""
    team_id: str = ""
    team_name: str = ""
    scopes: tuple[str, ...] = ()
    auth_method: str = ""
    key_name: str = ""
    key_prefix: str = field(default="", repr=False)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @classmethod
    def from_dict(cls, raw: Any) -> Me:
        data = as_dict(raw)
        user, team, key = (as_dict(data.get(k)) for k in ("user", "team", "api_key"))
        return cls(
            user_id=as_str(user.get("id")),
            username=as_str(user.get("username")),
            email=as_str(user.get("email")),
            team_id=as_str(team.get("id")),
            team_name=as_str(team.get("name")) or as_str(team.get("username")),
            scopes=as_str_tuple(data.get("scopes")),
            auth_method=as_str(data.get("auth_method")),
            key_name=as_str(key.get("name")),
            key_prefix=opt_str(key.get("prefix")) or "",
        )
