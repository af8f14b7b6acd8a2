"""ASGI middleware in front of every route: Date header, latency, auth, injected 5xx and 429
faults, and rate limits with their headers — all on the simulated clock."""

from __future__ import annotations

import asyncio
import math
from email.utils import formatdate
from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infdash.sim.ratelimit import limit_class
from infdash.sim.respond import api_version, problem_bytes

if TYPE_CHECKING:
    from infdash.sim.world import World


def bare_path(path: str) -> str:
    """The route path without an optional ``/v1`` prefix."""
    if path == "/v1":
        return "/"
    return path[3:] if path.startswith("/v1/") else path


class Gate:
    """Wraps the Starlette app; reads ``world.faults`` on every request (runtime switchable)."""

    def __init__(self, app: ASGIApp, world: World) -> None:
        self.app = app
        self.world = world

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        world = self.world
        faults = world.faults
        path = bare_path(scope["path"])
        headers = Headers(scope=scope)
        version = api_version(headers)
        extra: list[tuple[bytes, bytes]] = []
        delay = faults.latency if path != "/health" else 0.0
        if delay and not path.startswith(faults.latency_path_prefix):
            delay = 0.0

        async def send_out(message: Message) -> None:
            if message["type"] == "http.response.start":
                if delay > 0:
                    await asyncio.sleep(delay)
                date = formatdate(world.now() + world.faults.date_skew, usegmt=True)
                hdrs = [*message.get("headers", []), (b"date", date.encode()), *extra]
                message = {**message, "headers": hdrs}
            await send(message)

        async def fail(status: int, code: str, detail: str, more: dict[str, str]) -> None:
            body, media = problem_bytes(version, status, code, detail)
            response = Response(body, status_code=status, media_type=media, headers=more)
            await response(scope, receive, send_out)

        if path == "/health" or scope["path"].startswith("/uploads/"):
            # The upload target is presigned: the token in the URL is the credential.
            await self.app(scope, receive, send_out)
            return
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not token or token != world.api_key:
            await fail(401, "unauthorized", "Invalid or missing API key", {})
            return
        burst = faults.error_burst
        if burst.count > 0 and path.startswith(burst.path_prefix):
            status = burst.next_status()
            if burst.after_handler:

                async def discard(message: Message) -> None:
                    return None

                await self.app(scope, receive, discard)
            await fail(status, "internal_error", "injected server error", {})
            return
        klass = limit_class(scope["method"], path)
        if klass is not None:
            storm = faults.rate_limit_storm
            if storm.count > 0 and path.startswith(storm.path_prefix):
                storm.count -= 1
                more: dict[str, str] = {}
                if storm.retry_after is not None:
                    more["Retry-After"] = storm.retry_after
                if storm.reset_raw is not None or storm.reset_in is not None:
                    more["X-RateLimit-Remaining"] = "0"
                    reset = storm.reset_raw
                    if reset is None and storm.reset_in is not None:
                        reset = str(int(world.now() + faults.date_skew + storm.reset_in))
                    more["X-RateLimit-Reset"] = str(reset)
                await fail(429, "rate_limited", "rate limit exceeded (injected)", more)
                return
            decision = world.limiter.check(token, klass, world.now())
            limits = {
                "X-RateLimit-Remaining": str(decision.remaining),
                # The server's wall clock as shown in headers: Date and Reset move together.
                "X-RateLimit-Reset": str(math.ceil(decision.reset_at + faults.date_skew)),
            }
            if not decision.allowed:
                limits["Retry-After"] = str(decision.retry_after)
                await fail(429, "rate_limited", f"rate limit exceeded for {klass}", limits)
                return
            extra += [(k.lower().encode(), v.encode()) for k, v in limits.items()]
        await self.app(scope, receive, send_out)
