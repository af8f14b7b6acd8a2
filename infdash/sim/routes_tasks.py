"""Task routes: run, get, status, list, logs, timings, telemetry, cost, cancel, delete, streams."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from infdash.sim.catalog import UnknownApp, resolve
from infdash.sim.clock import parse_rfc3339
from infdash.sim.insights import cost, logs_dto, telemetry, timings_dto
from infdash.sim.listing import parse_query, run_query
from infdash.sim.respond import ApiError, invalid_request, no_content, not_found, ok, problem_bytes
from infdash.sim.streams import TaskStream, account_stream, wants_ndjson
from infdash.sim.tasks import Task
from infdash.sim.webhooks import is_loopback_url
from infdash.sim.world import InvalidTransition

if TYPE_CHECKING:
    from infdash.sim.world import World


def _world(request: Request) -> World:
    world: World = request.app.state.world
    return world


async def json_body(request: Request, required: bool) -> dict[str, Any]:
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
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "false", "0"):
        return value.lower() in ("true", "1")
    return None


def _task(request: Request) -> Task:
    task = _world(request).get_task(request.path_params["id"])
    if task is None:
        raise not_found(f"task {request.path_params['id']!r}")
    return task


async def run(request: Request) -> Response:
    """``POST /run`` (waits by default) and ``POST /apps/run`` (returns at once by default)."""
    world = _world(request)
    world.run_requests += 1
    body = await json_body(request, required=True)
    wait = request.url.path.rstrip("/").endswith("/run") and "/apps/" not in request.url.path
    if flag(body.get("wait")) is not None:
        wait = bool(flag(body.get("wait")))
    if "wait" in request.query_params:
        wait = flag(request.query_params["wait"]) is not False
    app_ref = body.get("app")
    if not isinstance(app_ref, str) or not app_ref.strip():
        raise invalid_request("field 'app' (namespace/name[@version]) is required")
    if not isinstance(body.get("input"), dict):
        raise invalid_request("field 'input' must be a JSON object")
    for key in ("setup",):
        if body.get(key) is not None and not isinstance(body[key], dict):
            raise invalid_request(f"field {key!r} must be an object")
    workers = body.get("workers")
    if workers is not None and not isinstance(workers, list):
        raise invalid_request("field 'workers' must be a list of worker ids")
    webhook = body.get("webhook")
    if webhook is not None and (not isinstance(webhook, str) or not is_loopback_url(webhook)):
        raise invalid_request("webhook must be a loopback http(s) URL in the simulator")
    if body.get("run_at"):
        try:
            body["_run_at"] = parse_rfc3339(str(body["run_at"]))
        except ValueError as exc:
            raise invalid_request("run_at must be an RFC 3339 timestamp") from exc
    function = body.get("function")
    try:
        app = resolve(app_ref, function if isinstance(function, str) else None)
    except UnknownApp as exc:
        raise not_found(str(exc).removesuffix(" not found")) from exc
    task = world.create_task(app, body)
    if wait:
        await world.wait_terminal(task)
    return ok(request, task.result_dto())


async def get_task(request: Request) -> Response:
    """``GET /tasks/{id}``: the full TaskDTO."""
    return ok(request, _task(request).dto())


async def get_status(request: Request) -> Response:
    """``GET /tasks/{id}/status``."""
    return ok(request, _task(request).status_dto())


async def list_post(request: Request) -> Response:
    """``POST /tasks/list``."""
    body = await json_body(request, required=False)
    return ok(request, run_query(_world(request).tasks.values(), parse_query(body)))


async def list_get(request: Request) -> Response:
    """``GET /tasks``: the same fields as query values (objects JSON-encoded)."""
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
    return ok(request, run_query(_world(request).tasks.values(), parse_query(body)))


async def get_logs(request: Request) -> Response:
    """``GET /tasks/{id}/logs``."""
    return ok(request, logs_dto(_world(request), _task(request)))


async def get_timings(request: Request) -> Response:
    """``GET /tasks/{id}/timings``."""
    return ok(request, timings_dto(_world(request), _task(request)))


async def get_telemetry(request: Request) -> Response:
    """``GET /tasks/{id}/telemetry``."""
    return ok(request, telemetry(_world(request), _task(request)))


async def get_cost(request: Request) -> Response:
    """``GET /usage/tasks/{id}/cost``: 404 until the task is terminal."""
    task = _task(request)
    if not task.terminal:
        raise not_found(f"cost of task {task.id!r}")
    return ok(request, cost(task))


async def cancel(request: Request) -> Response:
    """``POST /tasks/{id}/cancel`` with optional ``{force}``."""
    task = _task(request)
    body = await json_body(request, required=False)
    force = bool(flag(body.get("force")))
    try:
        _world(request).cancel_task(task, force)
    except InvalidTransition as exc:
        raise ApiError(409, "invalid_transition", str(exc)) from exc
    return ok(request, {"id": task.id, "status": task.status, "cancelled": True})


async def delete(request: Request) -> Response:
    """``DELETE /tasks/{id}``: only finished tasks."""
    task = _task(request)
    try:
        _world(request).delete_task(task)
    except InvalidTransition as exc:
        raise ApiError(409, "invalid_transition", str(exc)) from exc
    return no_content()


def stream_fault(request: Request) -> Response | None:
    faults = _world(request).faults
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


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        return None


async def task_stream(request: Request) -> Response:
    """``GET /tasks/{id}/stream``."""
    fault = stream_fault(request)
    if fault is not None:
        return fault
    ndjson = wants_ndjson(request.headers.get("accept", ""))
    return TaskStream(_world(request), _task(request), ndjson, _last_event_id(request))


async def tasks_stream(request: Request) -> Response:
    """``GET /tasks/stream``."""
    fault = stream_fault(request)
    if fault is not None:
        return fault
    return account_stream(_world(request), wants_ndjson(request.headers.get("accept", "")))


ROUTES = [
    Route("/run", run, methods=["POST"]),
    Route("/apps/run", run, methods=["POST"]),
    Route("/tasks/list", list_post, methods=["POST"]),
    Route("/tasks", list_get, methods=["GET"]),
    Route("/tasks/stream", tasks_stream, methods=["GET"]),
    Route("/tasks/{id}", get_task, methods=["GET"]),
    Route("/tasks/{id}", delete, methods=["DELETE"]),
    Route("/tasks/{id}/status", get_status, methods=["GET"]),
    Route("/tasks/{id}/logs", get_logs, methods=["GET"]),
    Route("/tasks/{id}/timings", get_timings, methods=["GET"]),
    Route("/tasks/{id}/telemetry", get_telemetry, methods=["GET"]),
    Route("/tasks/{id}/cancel", cancel, methods=["POST"]),
    Route("/tasks/{id}/stream", task_stream, methods=["GET"]),
    Route("/usage/tasks/{id}/cost", get_cost, methods=["GET"]),
]
