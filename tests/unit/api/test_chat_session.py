"""Chat session, engine stream and upload logic on scripted transports — the cases the
simulator cannot produce (re-published client tools, an error with no follow-up, text
alignment races, a PUT to another host)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from infdash.api import (
    ChatError,
    ChatEvent,
    ClientToolCompleted,
    EngineStatus,
    EngineUpdate,
    ForbiddenError,
    MessageUpdated,
    OutcomeUnknownError,
    PayloadTooLargeError,
    SignInRequiredError,
    StreamReconnecting,
    TurnEnded,
    ValidationError,
)
from infdash.api.chat_events import StreamedText

from .fakes import KEY, Recorder, json_response, make_client, ndjson, stream_response


def test_text_skips_duplicates_after_a_reconcile() -> None:
    text = StreamedText()
    for chunk in ("Hel", "lo"):
        text.append(chunk)
    text.reset("Hello, wor", align=True)  # fetched while ", " and "wor" were in flight
    text.decide(contiguous=True)  # no delta was missed between the connections
    text.append(", ")
    assert text.text == "Hello, wor"
    text.append("wor")
    assert text.text == "Hello, wor"
    text.append("ld")
    assert text.text == "Hello, world"
    text.append("!")
    assert text.text == "Hello, world!"


def test_text_keeps_a_new_chunk_that_only_looked_like_a_duplicate() -> None:
    text = StreamedText()
    text.append("a b ")
    text.reset("a b c x", align=True)
    text.decide(contiguous=False)  # "c x" came in deltas this client never saw
    text.append("c ")  # really new text that happens to occur inside the fetched text
    assert text.text == "a b c x"
    text.append("d")
    assert text.text == "a b c xc d"


def test_text_without_duplicates_and_plain_reset() -> None:
    text = StreamedText()
    text.append("x")
    text.reset("xyz", align=True)
    text.append("!")
    assert text.text == "xyz!"
    text.reset("xy", align=False)  # an older snapshot never shortens what we show
    assert text.text == "xyz!"


def test_text_keeps_the_fetched_text_when_duplicates_are_ambiguous() -> None:
    text = StreamedText()
    text.append('{"rema')
    text.reset('{"remain', align=True)  # "in" arrived in a delta this client missed
    text.decide(contiguous=False)
    text.append("in")  # new, though the fetched text also ends with "in"
    text.append('g": 0}')
    assert text.text == '{"remain'  # never "remaing": wait for authoritative text
    text.reset('{"remaining": 0}', align=False)
    text.append("!")
    assert text.text == '{"remaining": 0}!'


def test_text_chunk_matching_text_before_the_floor_is_new() -> None:
    text = StreamedText()
    text.append('{"remai')
    text.reset('{"remain', align=True)  # only "n" was missed
    text.decide(contiguous=False)
    text.append("in")  # cannot repeat anything: the fetched text adds just "n"
    assert text.text == '{"remainin'


def test_text_known_duplicates_cut_inside_a_chunk() -> None:
    text = StreamedText()
    text.append("ab")
    text.reset("abcd", align=True)
    text.decide(contiguous=True)
    text.append("cdef")  # the server split "cd" + "ef" differently than the REST text
    assert text.text == "abcdef"


def _chat(status: str, run: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"event": "chats", "data": {"id": "c1", "status": status, "active_run": run}}


def _msg(**fields: Any) -> dict[str, Any]:
    return {
        "event": "chat_messages",
        "data": {"id": "m2", "chat_id": "c1", "role": "assistant", "order": 2, **fields},
    }


CLIENT_TOOL = {
    "id": "ti_1",
    "type": "client",
    "status": "awaiting_input",
    "function": {"name": "get_local_time", "arguments": {"tz": "UTC"}},
}
RUN = {"id": "r1", "state": "working", "chat_id": "c1"}


def _delta(seq: int, text: str) -> dict[str, Any]:
    return {
        "event": "delta",
        "data": {"resource_id": "m2", "seq": seq, "delta": {"response": text}},
    }


def _chat_script(sent: asyncio.Event, tail: list[dict[str, Any]]) -> list[Any]:
    return [
        ndjson(_chat("idle")),  # the initial snapshot: must not end anything
        sent,
        ndjson(
            {"event": "agent_runs", "data": RUN},
            _chat("busy", RUN),
            _msg(status="pending", content=[]),
            {
                "event": "delta",
                "data": {"resource_id": "m2", "seq": 1, "delta": {"response": "He"}},
            },
            {
                "event": "delta",
                "data": {"resource_id": "m2", "seq": 1, "delta": {"response": "He"}},
            },
            {"event": "delta", "data": {"resource_id": "m2", "seq": 2, "delta": {"response": "y"}}},
            *tail,
        ),
    ]


def _run_route(recorder: Recorder, sent: asyncio.Event) -> None:
    def run(request: httpx.Request) -> httpx.Response:
        sent.set()
        user = {"id": "m1", "chat_id": "c1", "role": "user", "status": "ready", "order": 1}
        return json_response(
            200,
            {
                "data": {
                    "user_message": user,
                    "assistant_message": {
                        "id": "m2",
                        "chat_id": "c1",
                        "status": "pending",
                        "agent_run_id": "r1",
                    },
                }
            },
        )

    recorder.add("POST", "/agents/run", run)


async def _events(session: Any) -> list[ChatEvent]:
    events: list[ChatEvent] = []
    async for event in session:
        events.append(event)
        if isinstance(event, TurnEnded):
            break
    return events


async def test_client_tool_runs_once_though_republished() -> None:
    recorder, sent = Recorder(), asyncio.Event()
    tool_done = {**CLIENT_TOOL, "status": "completed", "result": "noon"}
    response, _ = stream_response(
        _chat_script(
            sent,
            [
                _msg(status="pending", content=[], tool_invocations=[CLIENT_TOOL]),
                _msg(status="pending", content=[], tool_invocations=[CLIENT_TOOL]),  # again
                _msg(
                    status="ready",
                    content=[{"type": "text", "text": "Hey noon"}],
                    tool_invocations=[tool_done],
                ),
                _chat("idle"),
            ],
        )
    )
    recorder.add("GET", "/chats/c1/stream", response)
    _run_route(recorder, sent)
    recorder.add("POST", "/tools/ti_1", json_response(200, {"data": tool_done}))
    client, _ = make_client(recorder)
    calls: list[dict[str, Any]] = []

    async def local_time(arguments: dict[str, Any]) -> dict[str, str]:
        calls.append(arguments)
        return {"time": "noon"}

    async with client.chats.session("c1", tools={"get_local_time": local_time}) as session:
        user = await session.send("what time is it?")
        assert user.status == "ready"
        events = await _events(session)
    assert calls == [{"tz": "UTC"}]
    assert len(recorder.calls("POST", "/tools/ti_1")) == 1
    assert (
        recorder.calls("POST", "/tools/ti_1")[0].content == b'{"result":"{\\"time\\": \\"noon\\"}"}'
    )
    assert [type(e) for e in events if isinstance(e, ClientToolCompleted)] == [ClientToolCompleted]
    deltas = [
        e.streaming_text for e in events if isinstance(e, MessageUpdated) and e.source == "delta"
    ]
    assert deltas == ["He", "Hey"]  # the replayed seq 1 was dropped
    assert isinstance(events[-1], TurnEnded)
    # the stream was opened before the message was sent
    order = [(r.method, r.url.path) for r in recorder.requests]
    assert order.index(("GET", "/chats/c1/stream")) < order.index(("POST", "/agents/run"))
    await client.aclose()


async def test_error_event_marks_failed_and_closes_after_the_turn() -> None:
    recorder, sent = Recorder(), asyncio.Event()
    error = {
        "resource_id": "m2",
        "run_id": "r1",
        "code": "internal_error",
        "message": "model provider error: upstream connection reset",
    }
    tail = [{"event": "error", "data": error}, _chat("idle"), _chat("busy", RUN)]
    hang = asyncio.Event()  # never set: the session would hang here if it kept reading
    response, stream = stream_response([*_chat_script(sent, tail), hang])
    recorder.add("GET", "/chats/c1/stream", response)
    _run_route(recorder, sent)
    client, _ = make_client(recorder)
    async with client.chats.session("c1") as session:
        await session.send("hi")
        events = [e async for e in session]  # ends by itself
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("ChatError") == 1
    failed = next(e for e in events if isinstance(e, MessageUpdated) and e.source == "local")
    assert failed.message.status == "failed"
    assert failed.streaming_text == "Hey"
    assert isinstance(events[-1], TurnEnded)
    assert events[-1].failed
    assert isinstance(next(e for e in events if isinstance(e, ChatError)), ChatError)
    assert stream.closed
    await client.aclose()


async def test_send_refuses_empty_text_before_any_request() -> None:
    recorder = Recorder()
    client, _ = make_client(recorder)
    async with client.chats.session("c1") as session:
        with pytest.raises(ValidationError, match="empty"):
            await session.send(" \n ")
    assert recorder.requests == []
    await client.aclose()


async def test_engine_stream_reconnects_after_done_until_told() -> None:
    recorder = Recorder()
    engine = {"id": "e1", "name": "rig-a", "status": "running", "workers": []}
    first, _ = stream_response(
        [
            ndjson(
                {"event": "update", "data": engine},
                {"type": "heartbeat"},
                {"event": "done", "data": {}},
            )
        ]
    )
    second, _ = stream_response(
        [ndjson({"event": "update", "data": {**engine, "status": "stopped"}})]
    )
    recorder.add("GET", "/engines/e1/stream", first, second)
    recorder.add("GET", "/engines/e1", json_response(200, {"data": engine}))
    client, vt = make_client(recorder)
    stream = client.engines.stream("e1", until=lambda e: e.status is EngineStatus.STOPPED)
    async with stream:
        events = [e async for e in stream]
    kinds = [type(e) for e in events]
    assert kinds == [EngineUpdate, StreamReconnecting, EngineUpdate]
    last = events[-1]
    assert isinstance(last, EngineUpdate)
    assert last.fields == ("status",)
    assert vt.sleeps  # a fake sleep between the connections
    await client.aclose()


async def test_engine_action_is_not_retried_after_sending() -> None:
    recorder = Recorder()
    recorder.add("POST", "/engines/e1/drain", httpx.ReadError("reset"))
    client, _ = make_client(recorder)
    with pytest.raises(OutcomeUnknownError):
        await client.engines.drain("e1")
    assert len(recorder.calls("POST", "/engines/e1/drain")) == 1
    await client.aclose()


async def test_upload_put_to_another_host_carries_no_key() -> None:
    recorder = Recorder()
    created = {"id": "f1", "filename": "a.png", "upload_url": "https://storage.test/put/abc"}
    recorder.add("POST", "/files", json_response(200, {"data": [created]}))
    recorder.add("PUT", "/put/abc", httpx.Response(200))
    recorder.add(
        "GET", "/files/f1", json_response(200, {"data": {**created, "upload_url": "", "size": 3}})
    )
    client, _ = make_client(recorder)
    stored = await client.files.upload(b"png", "a.png", "image/png")
    assert stored.size == 3
    post, put, _ = recorder.requests
    assert post.headers["authorization"] == f"Bearer {KEY}"
    assert put.url.host == "storage.test"
    assert "authorization" not in put.headers
    assert put.headers["content-type"] == "image/png"
    assert put.content == b"png"
    await client.aclose()


async def test_413_and_requires_sign_in_map_to_clear_one_line_errors() -> None:
    recorder = Recorder()
    too_big = {
        "type": "https://api.inference.sh/errors/payload_too_large",
        "status": 413,
        "title": "Payload Too Large",
        "detail": "big.bin is 11 MiB;\nthe cap is 10 MiB",
    }
    sign_in = {
        "type": "https://api.inference.sh/errors/requires_sign_in",
        "status": 403,
        "title": "Forbidden",
        "detail": "tool approval needs the account holder",
    }
    recorder.add("POST", "/files", json_response(413, too_big))
    recorder.add("POST", "/tools/ti_1/invoke", json_response(403, sign_in))
    client, _ = make_client(recorder)
    with pytest.raises(PayloadTooLargeError) as big:
        await client.files.create("big.bin", size=11 << 20)
    assert isinstance(big.value, ValidationError)
    with pytest.raises(SignInRequiredError) as refused:
        await client.chats.approve_tool("ti_1")
    assert isinstance(refused.value, ForbiddenError)
    for error in (big.value, refused.value):
        text = str(error)
        assert "\n" not in text
        assert KEY not in text
        assert KEY not in repr(error)
    assert "API key" in str(refused.value)
    await client.aclose()


async def test_workspace_events_reconnect_without_resume_and_filter_tables() -> None:
    recorder = Recorder()
    first, _ = stream_response(
        [
            ndjson(
                {
                    "event": "engines",
                    "data": {"id": "e1", "status": "draining"},
                    "fields": ["status"],
                },
                {"event": "transactions", "data": {"id": "tx1"}},
                {"type": "heartbeat"},
            )
        ]
    )
    second, _ = stream_response(
        [
            ndjson(
                {
                    "event": "engines",
                    "data": {"id": "e1", "status": "stopped"},
                    "fields": ["status"],
                }
            )
        ]
    )
    recorder.add("GET", "/events", first, second)
    client, vt = make_client(recorder)
    seen: list[Any] = []
    async with client.events(tables={"engines"}) as stream:
        async for event in stream:
            seen.append(event)
            if len(seen) == 3:
                break
    assert [type(e).__name__ for e in seen] == [
        "WorkspaceEvent",
        "StreamReconnecting",
        "WorkspaceEvent",
    ]
    assert [e.data["status"] for e in seen if not isinstance(e, StreamReconnecting)] == [
        "draining",
        "stopped",
    ]
    assert all("last-event-id" not in r.headers for r in recorder.calls("GET", "/events"))
    assert vt.sleeps
    await client.aclose()


async def test_refused_tool_result_is_an_event_not_a_crash() -> None:
    recorder, sent = Recorder(), asyncio.Event()
    response, _ = stream_response(
        _chat_script(
            sent,
            [
                _msg(status="pending", content=[], tool_invocations=[CLIENT_TOOL]),
                _msg(status="cancelled", content=[{"type": "text", "text": "Hey"}]),
                _chat("idle"),
            ],
        )
    )
    recorder.add("GET", "/chats/c1/stream", response)
    _run_route(recorder, sent)
    refused = {
        "type": "https://api.inference.sh/errors/invalid_state",
        "status": 400,
        "detail": "tool invocation is cancelled",
    }
    recorder.add("POST", "/tools/ti_1", json_response(400, refused))
    client, _ = make_client(recorder)
    async with client.chats.session("c1", tools={"get_local_time": lambda _: "noon"}) as s:
        await s.send("time?")
        events = await _events(s)
    error = next(e for e in events if isinstance(e, ChatError))
    assert error.code == "invalid_state"
    assert isinstance(events[-1], TurnEnded)
    await client.aclose()
