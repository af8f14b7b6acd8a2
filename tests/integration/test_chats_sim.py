"""Agent chat against the simulator: routes, both stream framings, and the chat session's
turn logic (deltas, queue, cancel, stop, approvals, tools, reconnect, R28)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import pytest

from infdash.api import (
    ApprovalRequested,
    ChatError,
    ChatEvent,
    ChatSession,
    ChatStreamReconnecting,
    ClientToolCompleted,
    ConflictError,
    ForbiddenError,
    InferenceClient,
    MessageUpdated,
    NotFoundError,
    SignInRequiredError,
    TurnEnded,
    ValidationError,
)
from infdash.api.chats import ChatSnapshot, MessageFrame
from infdash.api.client import StreamFormat
from infdash.sim import SimConfig, SimServer

from .conftest import ClientFactory, count_requests, open_requests, while_time_moves

FORMATS: list[StreamFormat] = ["ndjson", "sse"]


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(seed=7, manual_clock=True, history_size=5, running_at_start=0)


async def follow(
    sim: SimServer,
    session: ChatSession,
    *,
    turns: int | None = 1,
    on_event: Callable[[ChatEvent], object] | None = None,
    step: float = 0.05,
) -> list[ChatEvent]:
    """Collect session events while simulated time moves, until ``turns`` turns ended (or, with
    ``turns=None``, until the session's iterator ends by itself)."""
    events: list[ChatEvent] = []

    async def consume() -> list[ChatEvent]:
        async for event in session:
            events.append(event)
            if on_event is not None:
                result = on_event(event)
                if asyncio.iscoroutine(result):
                    await result
            if turns is not None and sum(isinstance(e, TurnEnded) for e in events) >= turns:
                break
        return events

    return await while_time_moves(sim, consume(), step, 20_000)


def assistant_updates(events: list[ChatEvent]) -> list[MessageUpdated]:
    return [e for e in events if isinstance(e, MessageUpdated) and e.message.role == "assistant"]


def assert_no_lost_or_doubled_text(updates: list[MessageUpdated], final: str) -> None:
    """Every text shown while streaming is a prefix of the final text, and grows only."""
    shown = [u.streaming_text for u in updates]
    for before, after in itertools.pairwise(shown):
        assert after.startswith(before)
    for text in shown:
        assert final.startswith(text)


async def test_agents_and_unknown_agent(client: InferenceClient) -> None:
    agents = await client.chats.agents()
    assert [a.ref for a in agents.items] == ["infsh/assistant@1.0.0"]
    with pytest.raises(NotFoundError):
        await client.chats.run("hello", agent="nobody/nothing")


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_turn_streams_exactly_the_final_text(
    sim: SimServer, make_client: ClientFactory, fmt: StreamFormat
) -> None:
    client = await make_client(stream_format=fmt)
    async with client.chats.session(agent="infsh/assistant") as session:
        user = await session.send("plain: tell me about lighthouses")
        assert user.status == "ready"
        events = await follow(sim, session)
    updates = assistant_updates(events)
    final = updates[-1].message
    assert final.status == "ready"
    assert len(final.text) > 100
    deltas = [u for u in updates if u.source == "delta"]
    assert len(deltas) > 5
    assert deltas[-1].streaming_text == final.text  # the streamed text is the final content
    assert updates[-1].streaming_text == final.text
    assert_no_lost_or_doubled_text(updates, final.text)
    turn = next(e for e in events if isinstance(e, TurnEnded))
    assert turn.chat.status == "idle"
    assert not turn.failed
    rest = await client.chats.transcript(session.chat_id or "")
    assert [m.role for m in rest] == ["user", "assistant"]
    assert rest[-1].text == final.text
    assert open_requests(client) == 0


async def test_existing_chat_subscribes_before_sending(
    sim: SimServer, client: InferenceClient
) -> None:
    chat = await client.chats.create(agent="infsh/assistant", name="mine")
    assert chat.status == "idle"
    async with client.chats.session(chat.id) as session:
        user = await session.send("plain hello there")
        events = await follow(sim, session)
    first_user = next(
        e for e in events if isinstance(e, MessageUpdated) and e.message.role == "user"
    )
    assert first_user.message.id == user.id  # seen on the stream: we were subscribed first
    assert sum(isinstance(e, TurnEnded) for e in events) == 1
    assert (await client.chats.get(chat.id)).name == "mine"


async def test_never_ends_a_turn_on_the_initial_snapshot(
    sim: SimServer, client: InferenceClient
) -> None:
    chat = await client.chats.create()
    async with client.chats.session(chat.id) as session:
        await session.send("plain one")
        events = await follow(sim, session)
    ended = [i for i, e in enumerate(events) if isinstance(e, TurnEnded)]
    replies = [i for i, e in enumerate(events) if isinstance(e, MessageUpdated)]
    assert ended[0] > max(replies)  # the idle snapshot before the send did not end it


async def test_queued_message_and_cancel(sim: SimServer, client: InferenceClient) -> None:
    chat = await client.chats.create()
    queued_ids: list[str] = []
    async with client.chats.session(chat.id) as session:
        first = await session.send("plain a long answer please")

        async def on_event(event: ChatEvent) -> None:
            if isinstance(event, MessageUpdated) and event.source == "delta" and not queued_ids:
                second = await session.send("plain and a second question")
                assert second.status == "queued"
                third = await session.send("plain and a third one")
                assert third.status == "queued"
                queued_ids.extend([second.id, third.id])
                cancelled = await session.cancel(third.id)
                assert cancelled.status == "cancelled"
                with pytest.raises(ConflictError) as info:
                    await session.cancel(first.id)  # ready, not queued
                assert info.value.code == "not_cancellable"
                assert "\n" not in str(info.value)

        events = await follow(sim, session, turns=2, on_event=on_event)
    second_id, third_id = queued_ids
    second = session.messages[second_id]
    assert second.status == "ready"
    assert second.order < 1_000_000  # the provisional order was replaced
    assert session.messages[third_id].status == "cancelled"
    replies = {u.message.id for u in assistant_updates(events)}
    assert len(replies) == 2
    transcript = await client.chats.transcript(chat.id)
    assert [m.order for m in transcript] == sorted(m.order for m in transcript)


async def test_stop_mid_reply_keeps_the_partial_text(
    sim: SimServer, client: InferenceClient
) -> None:
    async with client.chats.session(agent="infsh/assistant") as session:
        await session.send("plain please write a lot")
        stopped = False

        async def on_event(event: ChatEvent) -> None:
            nonlocal stopped
            if (
                isinstance(event, MessageUpdated)
                and event.source == "delta"
                and not stopped
                and len(event.streaming_text) > 20
            ):
                stopped = True
                await session.stop()

        events = await follow(sim, session, on_event=on_event)
    last = assistant_updates(events)[-1]
    assert last.message.status == "cancelled"
    assert len(last.streaming_text) > 20
    assert last.message.text == last.streaming_text


@pytest.mark.parametrize("decision", ["approve", "reject"])
async def test_tool_approval(sim: SimServer, client: InferenceClient, decision: str) -> None:
    async with client.chats.session(agent="infsh/assistant") as session:
        await session.send("please approve this dangerous tool")

        async def on_event(event: ChatEvent) -> None:
            if isinstance(event, ApprovalRequested):
                if decision == "approve":
                    await session.approve(event.invocation.id)
                else:
                    await session.reject(event.invocation.id, "not today")

        events = await follow(sim, session, on_event=on_event)
    requests = [e for e in events if isinstance(e, ApprovalRequested)]
    assert len(requests) == 1  # once, though the message and the chat both announce it
    invocation_id = requests[0].invocation.id
    final = assistant_updates(events)[-1].message
    assert final.status == "ready"
    tool = next(t for t in final.tool_invocations if t.id == invocation_id)
    if decision == "approve":
        assert tool.status == "completed"
        assert tool.task_id
        task = await client.tasks.get(tool.task_id)
        assert task.app_name == "infsh/echo"
    else:
        assert tool.status == "cancelled"
        assert tool.result == "rejected: not today"
    with pytest.raises(ValidationError) as info:  # no longer awaiting approval
        await client.chats.approve_tool(invocation_id)
    assert info.value.code == "invalid_state"


async def test_approval_with_an_api_key_requires_sign_in(
    sim: SimServer, client: InferenceClient
) -> None:
    sim.call(lambda w: setattr(w, "approvals_require_sign_in", True))
    async with client.chats.session(agent="infsh/assistant") as session:
        await session.send("approve this please")
        refused: list[ForbiddenError] = []

        async def on_event(event: ChatEvent) -> None:
            if isinstance(event, ApprovalRequested) and not refused:
                with pytest.raises(SignInRequiredError) as info:
                    await session.approve(event.invocation.id)
                refused.append(info.value)
                await session.stop()

        await follow(sim, session, on_event=on_event)
    error = refused[0]
    assert isinstance(error, ForbiddenError)
    assert error.status == 403
    assert error.code == "requires_sign_in"
    text = str(error)
    assert "\n" not in text
    assert "API key" in text


async def test_app_tool_links_its_task(sim: SimServer, client: InferenceClient) -> None:
    async with client.chats.session(agent="infsh/assistant") as session:
        await session.send("run the tool please")
        events = await follow(sim, session)
    final = assistant_updates(events)[-1].message
    tool = next(t for t in final.tool_invocations if t.type == "app")
    assert tool.status == "completed"
    assert tool.task_id
    assert tool.function_name == "infsh_echo"
    task = await client.tasks.get(tool.task_id)
    assert task.status.is_terminal


async def test_client_tool_runs_once(sim: SimServer, client: InferenceClient) -> None:
    calls: list[dict[str, object]] = []

    def local_time(arguments: dict[str, object]) -> str:
        calls.append(arguments)
        return "12:34"

    async with client.chats.session(
        agent="infsh/assistant", tools={"get_local_time": local_time}
    ) as session:
        await session.send("client: what time is it here?")
        events = await follow(sim, session)
    assert len(calls) == 1
    completed = [e for e in events if isinstance(e, ClientToolCompleted)]
    assert len(completed) == 1
    assert completed[0].result == "12:34"
    final = assistant_updates(events)[-1].message
    tool = next(t for t in final.tool_invocations if t.type == "client")
    assert tool.status == "completed"
    assert tool.result == "12:34"
    assert "12:34" in final.text


@pytest.mark.parametrize("fmt", FORMATS)
async def test_reconnect_mid_reply_loses_and_doubles_nothing(
    sim: SimServer, make_client: ClientFactory, fmt: StreamFormat
) -> None:
    sim.call(lambda w: setattr(w.faults, "chat_drop_after_deltas", 15))
    client = await make_client(stream_format=fmt)
    async with client.chats.session(agent="infsh/assistant") as session:
        await session.send("plain a long story please")
        events = await follow(sim, session)
    assert any(isinstance(e, ChatStreamReconnecting) for e in events)
    assert session.stream is not None
    assert session.stream.connections >= 2
    updates = assistant_updates(events)
    final = updates[-1].message
    assert final.status == "ready"
    assert_no_lost_or_doubled_text(updates, final.text)
    assert updates[-1].streaming_text == final.text
    assert any(u.source == "reconcile" for u in updates)
    assert open_requests(client) == 0


@pytest.mark.parametrize("fmt", FORMATS)
async def test_error_event_mid_reply_keeps_partial_and_closes(
    sim: SimServer, make_client: ClientFactory, fmt: StreamFormat
) -> None:
    """R28: partial text kept, message marked failed, stream closed cleanly."""
    sim.call(lambda w: setattr(w.faults, "chat_error_after_deltas", 10))
    client = await make_client(stream_format=fmt)
    async with client.chats.session(agent="infsh/assistant") as session:
        await session.send("plain tell me something")
        events = await follow(sim, session, turns=None)  # ends by itself after the failed turn
    errors = [e for e in events if isinstance(e, ChatError)]
    assert len(errors) == 1
    assert errors[0].code == "internal_error"
    updates = assistant_updates(events)
    failed = updates[-1]
    assert failed.message.status == "failed"
    assert len(failed.streaming_text) > 0  # the partial text is kept
    assert "model provider error" in failed.message.error
    turn = [e for e in events if isinstance(e, TurnEnded)]
    assert turn
    assert turn[-1].failed
    assert open_requests(client) == 0

    # the retry action: the same prompt again, on a fresh subscription
    sim.call(lambda w: setattr(w.faults, "chat_error_after_deltas", None))
    async with client.chats.session(session.chat_id) as again:
        with pytest.raises(ValueError, match="nothing to retry"):
            await again.retry()
        await again.send("plain tell me something")
        retried = await follow(sim, again)
    final = assistant_updates(retried)[-1]
    assert final.message.status == "ready"
    assert final.message.id != failed.message.id
    async with client.chats.session(agent="infsh/assistant") as fresh:
        sim.call(lambda w: setattr(w.faults, "chat_error_after_deltas", 3))
        await fresh.send("plain short")
        first = await follow(sim, fresh, turns=None)  # closed after the failed turn
        assert any(isinstance(e, ChatError) for e in first)
        sim.call(lambda w: setattr(w.faults, "chat_error_after_deltas", None))
        await fresh.retry()  # reopens the stream
        second = await follow(sim, fresh)
    assert assistant_updates(second)[-1].message.status == "ready"
    assert open_requests(client) == 0


async def test_bad_input_is_mapped(sim: SimServer, client: InferenceClient) -> None:
    posts = count_requests(client, "POST", "/agents/run")
    with pytest.raises(ValidationError, match="empty"):
        await client.chats.run("   ")
    assert posts[0] == 0  # refused before sending
    chat = await client.chats.create()
    with pytest.raises(ValidationError) as info:
        await client.request("POST", f"/chats/{chat.id}/messages", json={"message": ""})
    assert info.value.status == 400
    for call in (
        client.chats.get("chat_missing"),
        client.chats.messages("chat_missing"),
        client.chats.cancel_message("msg_missing"),
        client.chats.approve_tool("ti_missing"),
        client.chats.submit_tool_result("ti_missing", "x"),
        client.chats.send("chat_missing", "hello"),
    ):
        with pytest.raises(NotFoundError):
            await call
    stream = client.chats.stream("chat_missing")
    with pytest.raises(NotFoundError):
        async with stream:
            await stream.__anext__()


@pytest.mark.parametrize("fmt", FORMATS)
async def test_raw_chat_stream_and_lists(
    sim: SimServer, make_client: ClientFactory, fmt: StreamFormat
) -> None:
    client = await make_client(stream_format=fmt)
    chat = await client.chats.create(name="raw")
    frames: list[object] = []

    async def consume() -> None:
        async with client.chats.stream(chat.id) as stream:
            async for frame in stream:
                frames.append(frame)
                if len(frames) == 1:
                    await client.chats.send(chat.id, "plain hi")
                if isinstance(frame, MessageFrame) and frame.data.get("role") == "user":
                    return

    await while_time_moves(sim, consume(), 0.05)
    first = frames[0]
    assert isinstance(first, ChatSnapshot)
    assert first.first
    assert first.chat.id == chat.id

    listed = await client.chats.list(limit=-1)
    assert chat.id in {c.id for c in listed.items}
    queried = await client.chats.list_query(limit=10)
    assert chat.id in {c.id for c in queried.items}
    page = await client.chats.messages(chat.id, limit=1)
    assert len(page.items) == 1
    assert page.has_next
    await asyncio.to_thread(sim.advance, 30)  # let the reply finish
    whole = await client.chats.transcript(chat.id)
    paged = await client.chats.transcript(chat.id, page_size=1)  # one cursor page at a time
    assert [m.id for m in paged] == [m.id for m in whole]
    assert [m.order for m in whole] == sorted(m.order for m in whole)
    assert [m.role for m in whole] == ["user", "assistant"]
    assert open_requests(client) == 0


@pytest.mark.parametrize("drop", [2, 9])
@pytest.mark.parametrize("fmt", FORMATS)
async def test_frequent_drops_while_reasoning_lose_and_double_nothing(
    sim: SimServer, make_client: ClientFactory, fmt: StreamFormat, drop: int
) -> None:
    sim.call(lambda w: setattr(w.faults, "chat_drop_after_deltas", drop))
    client = await make_client(stream_format=fmt)
    async with client.chats.session(agent="infsh/assistant") as session:
        await session.send("think and answer please")
        events = await follow(sim, session, step=0.03)
    assert sum(isinstance(e, ChatStreamReconnecting) for e in events) >= 2
    updates = assistant_updates(events)
    final = updates[-1].message
    assert final.status == "ready"
    assert final.reasoning
    assert_no_lost_or_doubled_text(updates, final.text)
    shown = [u.reasoning for u in updates]
    for before, after in itertools.pairwise(shown):
        assert after.startswith(before)
    assert shown[-1] == final.reasoning


async def test_resolve_the_approval_interrupt_of_a_run(
    sim: SimServer, client: InferenceClient
) -> None:
    resolved: list[str] = []
    async with client.chats.session(agent="infsh/assistant") as session:
        await session.send("approve this dangerous thing")

        async def on_event(event: ChatEvent) -> None:
            if isinstance(event, ApprovalRequested) and not resolved:
                chat = session.chat
                assert chat is not None
                assert chat.active_run is not None
                run = await client.chats.agent_run(chat.active_run.id)
                assert run.state == "input_required"
                pending = await client.chats.run_interrupts(run.id)
                (interrupt,) = (i for i in pending if i.resource_id == event.invocation.id)
                done = await client.chats.resolve_interrupt(interrupt.id, "deny", "no thanks")
                assert done is not None
                assert done.status == "resolved"
                resolved.append(interrupt.id)

        events = await follow(sim, session, on_event=on_event)
    final = assistant_updates(events)[-1].message
    tool = next(t for t in final.tool_invocations if t.type == "app")
    assert tool.status == "cancelled"
    assert tool.result == "rejected: no thanks"
    with pytest.raises(ValidationError) as info:
        await client.chats.resolve_interrupt(resolved[0], "allow")
    assert info.value.code == "invalid_state"
    with pytest.raises(NotFoundError):
        await client.chats.agent_run("run_missing")
