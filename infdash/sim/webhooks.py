"""Webhooks: one POST per terminal task, loopback targets only, short timeout, no retry."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from infdash.sim.clock import rfc3339

if TYPE_CHECKING:
    from infdash.sim.tasks import Task
    from infdash.sim.world import World


def is_loopback_url(url: str) -> bool:
    """True for http(s) URLs whose host is localhost, 127.0.0.0/8 or ::1."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def webhook_payload(task: Task) -> dict[str, Any]:
    """The documented body: ``error`` is "" and ``session_id`` null when absent."""
    return {
        "id": task.id,
        "status": task.status,
        "output": task.output,
        "error": task.error or "",
        "session_id": None,
        "created_at": rfc3339(task.created_at),
        "updated_at": rfc3339(task.updated_at),
    }


async def deliver_webhook(world: World, task: Task) -> None:
    """POST once; the outcome is recorded in ``world.webhook_deliveries``."""
    url = task.webhook or ""
    record: dict[str, Any] = {"task_id": task.id, "url": url}
    if not is_loopback_url(url):  # checked at run time too; never contact anything else
        record["error"] = "refused: not a loopback URL"
        world.webhook_deliveries.append(record)
        return
    try:
        async with httpx.AsyncClient(timeout=world.config.webhook_timeout, trust_env=False) as c:
            response = await c.post(url, json=webhook_payload(task))
        record["status"] = response.status_code
    except httpx.HTTPError as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
    world.webhook_deliveries.append(record)
