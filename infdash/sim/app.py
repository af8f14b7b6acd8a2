"""Assembly of the simulator's ASGI app: routes at the root and under ``/v1``, error
handlers that speak problem+json, and the :class:`Gate` middleware in front."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from infdash.sim.files import ROUTES as FILE_ROUTES
from infdash.sim.files import UPLOAD_ROUTES
from infdash.sim.gate import Gate
from infdash.sim.respond import ApiError, error_response, ok
from infdash.sim.routes_chats import ROUTES as CHAT_ROUTES
from infdash.sim.routes_engines import ROUTES as ENGINE_ROUTES
from infdash.sim.routes_misc import ROUTES as MISC_ROUTES
from infdash.sim.routes_tasks import ROUTES as TASK_ROUTES

if TYPE_CHECKING:
    from infdash.sim.world import World


async def health(request: Request) -> Response:
    """``GET /health``: no auth."""
    return ok(request, {"status": "ok"})


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(request, exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    code = codes.get(exc.status_code, "invalid_request")
    detail = f"{request.method} {request.url.path}: {exc.detail}"
    return error_response(request, ApiError(exc.status_code, code, detail))


async def _internal_error(request: Request, exc: Exception) -> Response:
    return error_response(request, ApiError(500, "internal_error", type(exc).__name__))


def build_app(world: World) -> ASGIApp:
    """The full ASGI app serving one world."""
    routes: list[BaseRoute] = [
        Route("/health", health, methods=["GET"]),
        *MISC_ROUTES,  # before the task routes: /tasks/queue-stats is not a task id
        *TASK_ROUTES,
        *ENGINE_ROUTES,
        *CHAT_ROUTES,
        *FILE_ROUTES,
    ]
    app = Starlette(
        routes=[*routes, *UPLOAD_ROUTES, Mount("/v1", routes=list(routes))],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
    app.state.world = world
    return Gate(app, world)
