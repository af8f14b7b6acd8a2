"""Account-level routes: queue statistics, entitlement usage and ``/me``."""

from __future__ import annotations

from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from infdash.sim.respond import ok
from infdash.sim.routes_common import world_of
from infdash.sim.tasks import QUEUED, RECEIVED, UPLOADING

SCOPES = (
    "apps:read", "apps:execute", "engines:read", "engines:write", "files:read", "files:write",
    "conversations:read", "conversations:write", "agents:read", "agents:write",
    "agents:execute", "billing:read", "teams:read",
)  # fmt: skip


async def queue_stats(request: Request) -> Response:
    """``GET /tasks/queue-stats`` from the live world."""
    world = world_of(request)
    now = world.now()
    queued = [t for t in world.tasks.values() if t.status in (RECEIVED, QUEUED)]
    later = [t for t in queued if t.run_at is not None and t.run_at > now]
    running = [t for t in world.tasks.values() if 3 <= t.status <= UPLOADING]
    apps = Counter((t.app.spec.ref, t.app.spec.app_id) for t in queued)
    funcs = Counter((t.app.spec.ref, t.app.spec.app_id, t.app.function) for t in queued)
    return ok(
        request,
        {
            "total_queued": len(queued),
            "with_run_at": len(later),
            "ready_to_run": len(queued) - len(later),
            "in_progress": len(running),
            "by_app": [
                {"app": a, "app_id": i, "count": n}
                for (a, i), n in sorted(apps.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "by_app_function": [
                {"app": a, "app_id": i, "function": f, "count": n}
                for (a, i, f), n in sorted(funcs.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
        },
    )


async def usage(request: Request) -> Response:
    """``GET /entitlements/usage``: a list including ``concurrency``."""
    world = world_of(request)
    config = world.config
    running = sum(1 for t in world.tasks.values() if 3 <= t.status <= UPLOADING)
    private = sum(1 for e in world.engines.engines if not e.profile.cloud)
    stored = sum(f.size for f in world.files.values() if f.uploaded)
    other = world.limiter.used(world.api_key, "other", world.now())
    items: list[dict[str, Any]] = [
        {"resource": "concurrency", "label": "Concurrent tasks", "unit": "tasks",
         "type": "limit", "usage": running, "limit": config.concurrency_limit,
         "unlimited": False},
        {"resource": "rate_per_min", "label": "API rate per minute", "unit": "requests",
         "type": "limit", "usage": other, "limit": config.rate_limits.other,
         "unlimited": False},
        {"resource": "engines", "label": "Private engines", "unit": "engines",
         "type": "limit", "usage": private, "limit": 10, "unlimited": False},
        {"resource": "storage", "label": "File storage", "unit": "bytes", "type": "limit",
         "usage": stored, "limit": 10 * 1024**3, "unlimited": False},
        {"resource": "agents", "label": "Agents", "type": "boolean", "enabled": True,
         "unlimited": False},
    ]  # fmt: skip
    return ok(request, items)


async def me(request: Request) -> Response:
    """``GET /me``: the user, a personal team, the key's scopes (never the key)."""
    world = world_of(request)
    return ok(
        request,
        {
            "user": {"id": "user_sim0001", "username": "demo", "email": "demo@example.com",
                     "full_name": "Demo User"},
            "team": {"id": "team_sim0001", "username": "demo", "name": "Demo",
                     "type": "personal"},
            "org": None,
            "team_view": None,
            "scopes": list(SCOPES),
            "auth_method": "api_key",
            "api_key": {"id": "key_sim0001", "name": "simulator key",
                        "prefix": world.api_key[:6]},
        },
    )  # fmt: skip


ROUTES = [
    Route("/tasks/queue-stats", queue_stats, methods=["GET"]),
    Route("/entitlements/usage", usage, methods=["GET"]),
    Route("/me", me, methods=["GET"]),
]
