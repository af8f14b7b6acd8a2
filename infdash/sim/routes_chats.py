"""Agent and chat routes: agents list, run, chats CRUD-lite, messages, stream, stop, message
cancel, tool approvals and client tool results."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from infdash.sim.agents import AGENTS, AgentSpec, UnknownAgent, resolve_agent
from infdash.sim.chat_models import Chat, Message, ToolInvocation
from infdash.sim.chats import ChatEngine
from infdash.sim.clock import rfc3339
from infdash.sim.listing import ListSpec, parse_query, run_query, simple_filter
from infdash.sim.respond import invalid_request, not_found, ok
from infdash.sim.routes_common import json_body, query_body, stream_fault, world_of
from infdash.sim.streams import TopicStream, wants_ndjson
from infdash.sim.tasks import StreamEvent

CHAT_LIST = ListSpec(
    sort_keys={
        "updated_at": lambda c: c.updated_at,
        "created_at": lambda c: c.created_at,
        "status": lambda c: c.status,
        "name": lambda c: c.name,
        "id": lambda c: c.id,
    },
    predicate=simple_filter({"status": lambda c: c.status, "agent_id": lambda c: c.agent.id}),
    matches=lambda c, term: term in c.id.lower() or term in c.name.lower(),
    dto=Chat.dto,
    default_sort=(("updated_at", True),),
)
MESSAGE_LIST = ListSpec(
    sort_keys={
        "order": lambda m: m.order,
        "created_at": lambda m: m.created_at,
        "id": lambda m: m.id,
    },
    predicate=simple_filter({"role": lambda m: m.role, "status": lambda m: m.status}),
    matches=lambda m, term: term in m.text.lower(),
    dto=Message.dto,
    default_sort=(("order", True),),
    default_limit=50,
)


def _engine(request: Request) -> ChatEngine:
    return world_of(request).chats


def _agent(body: dict[str, Any]) -> AgentSpec:
    try:
        return resolve_agent(body.get("agent"), body.get("agent_id"))
    except UnknownAgent as exc:
        raise not_found(str(exc)) from exc


def _chat(request: Request, key: str = "id") -> Chat:
    chat = _engine(request).chats.get(request.path_params[key])
    if chat is None:
        raise not_found(f"chat {request.path_params[key]!r}")
    return chat


def _tool(request: Request) -> ToolInvocation:
    inv = _engine(request).tools.get(request.path_params["id"])
    if inv is None:
        raise not_found(f"tool invocation {request.path_params['id']!r}")
    return inv


def _text(value: Any, files: list[dict[str, Any]]) -> str:
    """The message text; it may be empty only when files are attached."""
    if value is None and files:
        return ""
    if not isinstance(value, str) or (not value.strip() and not files):
        raise invalid_request("message text must be a non-empty string")
    return value


async def list_agents(request: Request) -> Response:
    """``GET /agents`` and ``POST /agents/list``."""
    body = await json_body(request, required=False) if request.method == "POST" else {}
    stamp = rfc3339(world_of(request).config.start_time - 86400 * 90)
    spec = ListSpec(
        sort_keys={"name": lambda a: a.ref, "id": lambda a: a.id},
        predicate=simple_filter({"namespace": lambda a: a.namespace, "name": lambda a: a.name}),
        matches=lambda a, term: term in a.ref,
        dto=lambda a: a.dto(stamp),
        default_sort=(("name", False),),
    )
    if request.method == "GET":
        body = query_body(request)
    return ok(request, run_query(AGENTS.values(), parse_query(body, spec)))


async def agents_run(request: Request) -> Response:
    """``POST /agents/run``: ``{user_message, assistant_message}`` or a queued user message."""
    body = await json_body(request, required=True)
    engine = _engine(request)
    inp = body.get("input")
    if not isinstance(inp, dict):
        raise invalid_request("field 'input' must be an object with 'text'")
    attachments = inp.get("attachments") or []
    if not isinstance(attachments, list):
        raise invalid_request("input.attachments must be a list of FileRefs")
    files = [f for f in attachments if isinstance(f, dict)]
    text = _text(inp.get("text"), files)
    chat_id = body.get("chat_id")
    if chat_id:
        chat = engine.chats.get(str(chat_id))
        if chat is None:
            raise not_found(f"chat {chat_id!r}")
    else:
        chat = engine.create_chat(_agent(body))
    user, assistant = engine.send(chat, text, files)
    out: dict[str, Any] = {"user_message": user.dto()}
    if assistant is not None:
        out["assistant_message"] = assistant.dto()
    return ok(request, out)


async def create_chat(request: Request) -> Response:
    """``POST /chats``: a new idle chat."""
    body = await json_body(request, required=False)
    name = body.get("name")
    chat = _engine(request).create_chat(_agent(body), name if isinstance(name, str) else "")
    return ok(request, chat.dto())


async def post_message(request: Request) -> Response:
    """``POST /chats/{id}/messages`` (and ``/steer``): the user message."""
    chat = _chat(request)
    body = await json_body(request, required=True)
    user, _ = _engine(request).send(chat, _text(body.get("message"), []), [])
    return ok(request, user.dto())


async def list_chats(request: Request) -> Response:
    """``GET /chats`` and ``POST /chats/list``."""
    body = await json_body(request, required=False) if request.method == "POST" else None
    query = parse_query(body if body is not None else query_body(request), CHAT_LIST)
    return ok(request, run_query(_engine(request).chats.values(), query))


async def get_chat(request: Request) -> Response:
    """``GET /chats/{id}``."""
    return ok(request, _chat(request).dto())


async def chat_status(request: Request) -> Response:
    """``GET /chats/{id}/status``."""
    chat = _chat(request)
    return ok(request, {"id": chat.id, "status": chat.status,
                        "updated_at": rfc3339(chat.updated_at)})  # fmt: skip


async def list_messages(request: Request) -> Response:
    """``GET /chats/{id}/messages`` and ``POST /chats/{id}/messages/list``."""
    chat = _chat(request)
    body = await json_body(request, required=False) if request.method == "POST" else None
    query = parse_query(body if body is not None else query_body(request), MESSAGE_LIST)
    return ok(request, run_query(chat.messages, query))


async def stop_chat(request: Request) -> Response:
    """``POST /chats/{id}/stop``."""
    chat = _chat(request)
    _engine(request).stop(chat)
    return ok(request, chat.dto())


async def cancel_message(request: Request) -> Response:
    """``POST /chats/messages/{id}/cancel``: queued messages only."""
    msg = _engine(request).messages.get(request.path_params["id"])
    if msg is None:
        raise not_found(f"message {request.path_params['id']!r}")
    _engine(request).cancel_message(msg)
    return ok(request, msg.dto())


async def chat_stream(request: Request) -> Response:
    """``GET /chats/{id}/stream``: a ``chats`` snapshot, then live events; never ends."""
    fault = stream_fault(request)
    if fault is not None:
        return fault
    chat = _chat(request)
    world = world_of(request)

    def snapshot() -> list[StreamEvent]:
        return [StreamEvent(0, "chats", chat.dto(), None)]

    ndjson = wants_ndjson(request.headers.get("accept", ""))
    drop = world.faults.chat_drop_after_deltas
    return TopicStream(world, ndjson, f"chat:{chat.id}", snapshot, drop_after_deltas=drop)


async def invoke_tool(request: Request) -> Response:
    """``POST /tools/{id}/invoke``: approve."""
    inv = _tool(request)
    _engine(request).approve(inv)
    return ok(request, inv.dto())


async def reject_tool(request: Request) -> Response:
    """``POST /tools/{id}/reject`` ``{reason?}``."""
    inv = _tool(request)
    body = await json_body(request, required=False)
    reason = body.get("reason")
    _engine(request).reject(inv, reason if isinstance(reason, str) else "")
    return ok(request, inv.dto())


async def tool_result(request: Request) -> Response:
    """``POST /tools/{id}`` ``{result}``: a client tool's result."""
    inv = _tool(request)
    body = await json_body(request, required=True)
    result = body.get("result")
    if not isinstance(result, str):
        raise invalid_request("field 'result' must be a string")
    _engine(request).client_result(inv, result)
    return ok(request, inv.dto())


async def resolve_interrupt(request: Request) -> Response:
    """``POST /interrupts/{id}/resolve`` ``{decision: allow|deny, data?: {reason?}}``."""
    engine = _engine(request)
    interrupt = engine.interrupts.get(request.path_params["id"])
    if interrupt is None:
        raise not_found(f"interrupt {request.path_params['id']!r}")
    body = await json_body(request, required=True)
    decision = body.get("decision")
    if decision not in ("allow", "deny"):
        raise invalid_request("decision must be 'allow' or 'deny'")
    extra = body.get("data")
    reason = extra.get("reason") if isinstance(extra, dict) else None
    reason = reason if isinstance(reason, str) else ""
    engine.resolve_interrupt(interrupt, decision == "allow", reason)
    return ok(request, interrupt)


async def get_run(request: Request) -> Response:
    """``GET /agent-runs/{id}``."""
    run = _engine(request).runs.get(request.path_params["id"])
    if run is None:
        raise not_found(f"agent run {request.path_params['id']!r}")
    return ok(request, run.dto())


async def run_interrupts(request: Request) -> Response:
    """``GET /agent-runs/{id}/interrupts``: the run's pending interrupts."""
    engine = _engine(request)
    run_id = request.path_params["id"]
    if run_id not in engine.runs:
        raise not_found(f"agent run {run_id!r}")
    pending = [i for i in engine.interrupts.values()
               if i["run_id"] == run_id and i["status"] == "pending"]  # fmt: skip
    return ok(request, pending)


ROUTES = [
    Route("/agents", list_agents, methods=["GET"]),
    Route("/agents/list", list_agents, methods=["POST"]),
    Route("/agents/run", agents_run, methods=["POST"]),
    Route("/agents/message", agents_run, methods=["POST"]),
    Route("/agents/messages", agents_run, methods=["POST"]),
    Route("/chats", create_chat, methods=["POST"]),
    Route("/chats", list_chats, methods=["GET"]),
    Route("/chats/list", list_chats, methods=["POST"]),
    Route("/chats/messages/{id}/cancel", cancel_message, methods=["POST"]),
    Route("/chats/{id}", get_chat, methods=["GET"]),
    Route("/chats/{id}/status", chat_status, methods=["GET"]),
    Route("/chats/{id}/messages", list_messages, methods=["GET"]),
    Route("/chats/{id}/messages", post_message, methods=["POST"]),
    Route("/chats/{id}/steer", post_message, methods=["POST"]),
    Route("/chats/{id}/messages/list", list_messages, methods=["POST"]),
    Route("/chats/{id}/stop", stop_chat, methods=["POST"]),
    Route("/chats/{id}/stream", chat_stream, methods=["GET"]),
    Route("/tools/{id}/invoke", invoke_tool, methods=["POST"]),
    Route("/tools/{id}/reject", reject_tool, methods=["POST"]),
    Route("/tools/{id}", tool_result, methods=["POST"]),
    Route("/interrupts/{id}/resolve", resolve_interrupt, methods=["POST"]),
    Route("/agent-runs/{id}", get_run, methods=["GET"]),
    Route("/agent-runs/{id}/interrupts", run_interrupts, methods=["GET"]),
]
