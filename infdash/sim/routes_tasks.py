"""Task routes: run, get, status, list, logs, timings, telemetry, cost, cancel, delete, streams."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from infdash.sim.catalog import UnknownApp, resolve
from infdash.sim.clock import parse_rfc3339
from infdash.sim.insights import cost, logs_dto, telemetry, timings_dto
from infdash.sim.listing import IMMUTABLE_TASK_KEYS, parse_query, run_query
from infdash.sim.respond import ApiError, invalid_request, no_content, not_found, ok
from infdash.sim.routes_common import flag, json_body, query_body, stream_fault, world_of
from infdash.sim.streams import TaskStream, account_stream, wants_ndjson
from infdash.sim.tasks import Task
from infdash.sim.webhooks import is_loopback_url
from infdash.sim.world import InvalidTransition, World

if TYPE_CHECKING:
    pass


def _task(request: Request) -> Task:
    task = world_of(request).get_task(request.path_params["id"])
    if task is None:
        raise not_found(f"task {request.path_params['id']!r}")
    return task


async def run(request: Request) -> Response:
    """``POST /run`` (waits by default) and ``POST /apps/run`` (returns at once by default)."""
    world = world_of(request)
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


def _task_page(world: World, body: dict[str, Any]) -> dict[str, Any]:
    """A task-list page; sorts on keys that never change reuse the world's cached order."""
    q = parse_query(body)
    if all(name in IMMUTABLE_TASK_KEYS for name, _ in q.sort):
        rows = world.task_sort_cache.rows(world.tasks.values(), q, world.task_set_version)
        return run_query(rows, q, presorted=True)
    return run_query(world.tasks.values(), q)


async def list_post(request: Request) -> Response:
    """``POST /tasks/list``."""
    body = await json_body(request, required=False)
    return ok(request, _task_page(world_of(request), body))


async def list_get(request: Request) -> Response:
    """``GET /tasks``: the same fields as query values (objects JSON-encoded)."""
    return ok(request, _task_page(world_of(request), query_body(request)))


async def get_logs(request: Request) -> Response:
    """``GET /tasks/{id}/logs``."""
    return ok(request, logs_dto(world_of(request), _task(request)))


async def get_timings(request: Request) -> Response:
    """``GET /tasks/{id}/timings``."""
    return ok(request, timings_dto(world_of(request), _task(request)))


async def get_telemetry(request: Request) -> Response:
    """``GET /tasks/{id}/telemetry``."""
    return ok(request, telemetry(world_of(request), _task(request)))


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
        world_of(request).cancel_task(task, force)
    except InvalidTransition as exc:
        raise ApiError(409, "invalid_transition", str(exc)) from exc
    return ok(request, {"id": task.id, "status": task.status, "cancelled": True})


async def delete(request: Request) -> Response:
    """``DELETE /tasks/{id}``: only finished tasks."""
    task = _task(request)
    try:
        world_of(request).delete_task(task)
    except InvalidTransition as exc:
        raise ApiError(409, "invalid_transition", str(exc)) from exc
    return no_content()


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
    return TaskStream(world_of(request), _task(request), ndjson, _last_event_id(request))


async def tasks_stream(request: Request) -> Response:
    """``GET /tasks/stream``."""
    fault = stream_fault(request)
    if fault is not None:
        return fault
    return account_stream(world_of(request), wants_ndjson(request.headers.get("accept", "")))


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
