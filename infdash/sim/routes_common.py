"""Helpers shared by the route modules: the world of a request, JSON bodies, list queries
from query strings, and the injected stream faults every stream route honours."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from infdash.sim.respond import invalid_request, no_content, problem_bytes

if TYPE_CHECKING:
    from infdash.sim.world import World


def world_of(request: Request) -> World:
    """The world serving this request."""
    world: World = request.app.state.world
    return world


async def json_body(request: Request, required: bool) -> dict[str, Any]:
    """The body as a JSON object; empty is ``{}`` unless required (else 400)."""
    raw = await request.body()
    if not raw.strip():
        if required:
            raise invalid_request("request body must be a JSON object")
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise invalid_request("request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise invalid_request("request body must be a JSON object")
    return body


def flag(value: Any) -> bool | None:
    """A boolean from JSON or a query string (``true/false/1/0``); None when neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "false", "0"):
        return value.lower() in ("true", "1")
    return None


def query_body(request: Request) -> dict[str, Any]:
    """A list request from ``GET`` query values (objects JSON-encoded, as the SDKs send)."""
    params = request.query_params
    body: dict[str, Any] = {}
    if "limit" in params:
        try:
            body["limit"] = int(params["limit"])
        except ValueError as exc:
            raise invalid_request("limit must be an integer") from exc
    for key in ("cursor", "direction"):
        if key in params:
            body[key] = params[key]
    for key in ("filters", "sort", "search"):
        if key in params:
            try:
                body[key] = json.loads(params[key])
            except ValueError as exc:
                if key != "search":
                    raise invalid_request(f"{key} must be JSON") from exc
                body[key] = {"term": params[key]}
    return body


def stream_fault(request: Request) -> Response | None:
    """The injected stream failure to answer with instead of a stream, if any."""
    faults = world_of(request).faults
    if faults.stream_html:
        html = "<html><body><h1>Sign in to the Wi-Fi</h1></body></html>"
        return Response(html, status_code=200, media_type="text/html")
    status = faults.stream_status
    if status is None:
        return None
    if status == 204:
        return no_content()
    codes = {401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "rate_limited"}
    code = codes.get(status, "internal_error")
    body, media = problem_bytes("", status, code, "injected stream failure")
    headers = {"Retry-After": "7"} if status == 429 else {}
    return Response(body, status_code=status, media_type=media, headers=headers)
