"""Engine routes (list, get, drain/update/stop/restart, stream) and the workspace events
stream ``GET /events``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from infdash.sim.engine_lifecycle import EngineActionError
from infdash.sim.engines import Engine
from infdash.sim.listing import ListSpec, parse_query, run_query, simple_filter
from infdash.sim.respond import ApiError, not_found, ok
from infdash.sim.routes_common import json_body, query_body, stream_fault, world_of
from infdash.sim.streams import TopicStream, wants_ndjson
from infdash.sim.tasks import StreamEvent

ENGINE_LIST = ListSpec(
    sort_keys={
        "name": lambda e: e.name,
        "status": lambda e: e.status,
        "created_at": lambda e: e.created_at,
        "updated_at": lambda e: e.updated_at,
        "id": lambda e: e.id,
    },
    predicate=simple_filter({"status": lambda e: e.status, "name": lambda e: e.name}),
    matches=lambda e, term: term in e.id.lower() or term in e.name.lower(),
    dto=Engine.dto,
    default_sort=(("name", False),),
)


def _engine(request: Request) -> Engine:
    engine = world_of(request).engines.engine(request.path_params["id"])
    if engine is None:
        raise not_found(f"engine {request.path_params['id']!r}")
    return engine


async def list_post(request: Request) -> Response:
    """``POST /engines/list``."""
    body = await json_body(request, required=False)
    engines = world_of(request).engines.engines
    return ok(request, run_query(engines, parse_query(body, ENGINE_LIST)))


async def list_get(request: Request) -> Response:
    """``GET /engines``."""
    engines = world_of(request).engines.engines
    return ok(request, run_query(engines, parse_query(query_body(request), ENGINE_LIST)))


async def get_engine(request: Request) -> Response:
    """``GET /engines/{id}``."""
    return ok(request, _engine(request).dto())


async def action(request: Request) -> Response:
    """``POST /engines/{id}/{drain|update|stop|restart}``: the engine after the call."""
    engine = _engine(request)
    lifecycle = world_of(request).lifecycle
    name = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    body = await json_body(request, required=False)
    try:
        if name == "drain":
            lifecycle.drain(engine)
        elif name == "update":
            lifecycle.update(engine, body.get("version"))
        elif name == "stop":
            lifecycle.stop(engine)
        else:
            lifecycle.restart(engine)
    except EngineActionError as exc:
        raise ApiError(exc.status, exc.code, exc.detail) from exc
    return ok(request, engine.dto())


async def engine_stream(request: Request) -> Response:
    """``GET /engines/{id}/stream``: the full engine at connect and after every change."""
    fault = stream_fault(request)
    if fault is not None:
        return fault
    engine = _engine(request)
    ndjson = wants_ndjson(request.headers.get("accept", ""))

    def snapshot() -> list[StreamEvent]:
        return [StreamEvent(0, "update", engine.dto(), None)]

    return TopicStream(world_of(request), ndjson, f"engine:{engine.id}", snapshot)


async def events_stream(request: Request) -> Response:
    """``GET /events``: ``engines`` and ``tasks`` events of the workspace."""
    fault = stream_fault(request)
    if fault is not None:
        return fault
    ndjson = wants_ndjson(request.headers.get("accept", ""))
    return TopicStream(world_of(request), ndjson, "events")


ROUTES = [
    Route("/engines", list_get, methods=["GET"]),
    Route("/engines/list", list_post, methods=["POST"]),
    Route("/engines/{id}", get_engine, methods=["GET"]),
    Route("/engines/{id}/drain", action, methods=["POST"]),
    Route("/engines/{id}/update", action, methods=["POST"]),
    Route("/engines/{id}/stop", action, methods=["POST"]),
    Route("/engines/{id}/restart", action, methods=["POST"]),
    Route("/engines/{id}/stream", engine_stream, methods=["GET"]),
    Route("/events", events_stream, methods=["GET"]),
]
