"""Agent chat: turns with deltas, queueing, cancel, stop, tools, approvals, reconnects, R28,
and every chat route both ways."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from infdash.sim import SimConfig, SimServer
from tests.unit.sim.helpers import Frames, client, data, eventually, sse_fields

NDJSON = {"Accept": "application/x-ndjson"}
Event = tuple[str, dict[str, Any], list[str] | None]


def next_event(frames: Frames, ndjson: bool) -> Event | None:
    """The next event of a chat stream (heartbeats and ``retry:`` skipped)."""
    while (frame := frames.next()) is not None:
        if ndjson:
            line = json.loads(frame)
            if line.get("type") != "heartbeat":
                return line["event"], line["data"], line.get("fields")
            continue
        f = sse_fields(frame)
        if "event" in f:
            return f["event"], json.loads(f["data"]), None
    return None


def until(frames: Frames, ndjson: bool, done: Callable[[Event], bool]) -> list[Event]:
    """Events up to and including the first one ``done`` accepts."""
    out: list[Event] = []
    while True:
        event = next_event(frames, ndjson)
        assert event is not None, f"stream ended after {[e[0] for e in out]}"
        out.append(event)
        if done(event):
            return out


def idle(event: Event) -> bool:
    """A ``chats`` event showing the chat idle."""
    return event[0] == "chats" and event[1]["status"] == "idle"


def new_chat(c: httpx.Client) -> str:
    return str(data(c.post("/chats", json={"agent": "infsh/assistant"}))["id"])


def send(c: httpx.Client, chat_id: str, text: str) -> dict[str, Any]:
    result: dict[str, Any] = data(c.post(f"/chats/{chat_id}/messages", json={"message": text}))
    return result


def messages(c: httpx.Client, chat_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = data(c.get(f"/chats/{chat_id}/messages"))["items"]
    return items


@pytest.mark.parametrize("ndjson", [True, False])
def test_turn_deltas_add_up_to_the_final_content(sim: SimServer, ndjson: bool) -> None:
    with client(sim) as c:
        chat_id = new_chat(c)
        with c.stream("GET", f"/chats/{chat_id}/stream", headers=NDJSON if ndjson else {}) as r:
            frames = Frames(r, ndjson=ndjson)
            first = next_event(frames, ndjson)
            assert first is not None
            assert first[0] == "chats"
            assert first[1]["status"] == "idle"
            user = send(c, chat_id, "Hello there, plain answer please")
            assert (user["status"], user["order"], user["role"]) == ("ready", 1, "user")
            sim.advance(30)
            events = until(frames, ndjson, idle)
    names = [e[0] for e in events if e[0] != "delta"]
    assert names[:4] == ["chat_messages", "agent_runs", "chats", "chat_messages"]
    assert names[-3:] == ["chat_messages", "agent_runs", "chats"]
    assistant = events[3][1]
    assert (assistant["role"], assistant["status"], assistant["order"]) == (
        "assistant",
        "pending",
        2,
    )
    assert events[1][1]["state"] == "working"
    assert events[2][1]["status"] == "busy"
    deltas = [e[1] for e in events if e[0] == "delta"]
    assert len(deltas) > 20
    assert {d["resource_id"] for d in deltas} == {assistant["id"]}
    assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
    text = "".join(d["delta"]["response"] for d in deltas)
    final = events[-3][1]
    assert final["status"] == "ready"
    assert final["content"] == [{"type": "text", "text": text}]
    assert "|---|" in text
    assert "```" in text
    assert "#" in text
    assert events[-2][1]["state"] == "completed"
    assert events[-2][1]["finished_at"]
    assert events[-1][1]["active_run"] is None
    with client(sim) as c:
        listed = messages(c, chat_id)
        assert [m["order"] for m in listed] == [2, 1]  # default sort: order desc
        assert listed[0]["content"][0]["text"] == text


def test_think_streams_reasoning_first(sim: SimServer) -> None:
    with client(sim) as c:
        out = data(c.post("/agents/run", json={"agent": "infsh/assistant",
                                               "input": {"text": "think about it"}}))  # fmt: skip
        chat_id = out["assistant_message"]["chat_id"]
        sim.advance(30)
        final = messages(c, chat_id)[0]
    assert [p["type"] for p in final["content"]] == ["reasoning", "text"]
    assert final["content"][0]["text"]


def test_queued_message_becomes_ready_with_a_new_order(sim: SimServer) -> None:
    with client(sim) as c:
        first = data(c.post("/agents/run", json={"input": {"text": "plain one"}}))
        chat_id = first["user_message"]["chat_id"]
        run_id = first["assistant_message"]["agent_run_id"]
        with c.stream("GET", f"/chats/{chat_id}/stream", headers=NDJSON) as r:
            frames = Frames(r, ndjson=True)
            snap = next_event(frames, True)
            assert snap is not None
            assert snap[1]["status"] == "busy"
            assert snap[1]["active_run"]["id"] == run_id
            queued = data(c.post("/agents/run", json={"chat_id": chat_id,
                                                      "input": {"text": "plain two"}}))  # fmt: skip
            assert set(queued) == {"user_message"}
            msg = queued["user_message"]
            assert msg["status"] == "queued"
            assert msg["agent_run_id"] == run_id
            assert msg["order"] > 1000
            sim.advance(30)
            events = until(frames, True, lambda e: e[0] == "agent_runs" and e[1]["id"] != run_id)
            ready = next(e for e in events if e[0] == "chat_messages" and e[1]["id"] == msg["id"]
                         and e[1]["status"] == "ready")  # fmt: skip
            assert ready[2] == ["id", "chat_id", "status", "order", "agent_run_id"]
            assert ready[1]["order"] == 3
            assert ready[1]["agent_run_id"] == events[-1][1]["id"]
            sim.advance(30)
            until(frames, True, idle)
        orders = [(m["order"], m["role"], m["status"]) for m in messages(c, chat_id)]
        assert orders == [(4, "assistant", "ready"), (3, "user", "ready"),
                          (2, "assistant", "ready"), (1, "user", "ready")]  # fmt: skip
        page = data(c.post(f"/chats/{chat_id}/messages/list", json={
            "limit": 2, "sort": [{"field": "order", "dir": "asc"}]}))  # fmt: skip
        assert [m["order"] for m in page["items"]] == [1, 2]
        assert page["has_next"]
        users = data(c.get(f"/chats/{chat_id}/messages", params={"filters": json.dumps(
            [{"field": "role", "operator": "eq", "value": "user"}])}))  # fmt: skip
        assert users["total_items"] == 2


def test_cancel_queued_and_not_cancellable(sim: SimServer) -> None:
    with client(sim) as c:
        chat_id = new_chat(c)
        active = send(c, chat_id, "plain one")
        queued = send(c, chat_id, "plain two")
        cancelled = data(c.post(f"/chats/messages/{queued['id']}/cancel"))
        assert (cancelled["status"], cancelled["content"]) == ("cancelled", [])
        for msg_id in (active["id"], queued["id"]):
            r = c.post(f"/chats/messages/{msg_id}/cancel")
            assert r.status_code == 409
            assert r.json()["type"].endswith("/not_cancellable")
        assert c.post("/chats/messages/msg_nope/cancel").status_code == 404
        sim.advance(30)
        assert data(c.get(f"/chats/{chat_id}"))["status"] == "idle"
        listed = [(m["status"], m["order"]) for m in messages(c, chat_id)]
        assert listed == [("cancelled", queued["order"]), ("ready", 2), ("ready", 1)]


def test_stop_mid_reply_keeps_partial_text(sim: SimServer) -> None:
    with client(sim) as c:
        chat_id = new_chat(c)
        send(c, chat_id, "plain please")
        sim.advance(1.0)
        stopped = data(c.post(f"/chats/{chat_id}/stop"))
        assert stopped["status"] == "idle"
        assert stopped["active_run"] is None
        partial = messages(c, chat_id)[0]
        assert partial["status"] == "cancelled"
        text = partial["content"][0]["text"]
        assert 0 < len(text) < 200
        run = sim.call(lambda w: w.chats.chats[chat_id].messages[-1].run_id)
        sim.advance(30)
        assert messages(c, chat_id)[0]["content"][0]["text"] == text
        state = sim.call(
            lambda w: next(
                m for m in w.chats.messages.values() if m.run_id == run and m.role == "assistant"
            )
        )
        assert state.status == "cancelled"
        assert data(c.post(f"/chats/{chat_id}/stop"))["status"] == "idle"  # no-op when idle


def _tool_of(c: httpx.Client, chat_id: str) -> dict[str, Any]:
    tool: dict[str, Any] = messages(c, chat_id)[0]["tool_invocations"][0]
    return tool


def test_app_tool_runs_a_real_task(sim: SimServer) -> None:
    with client(sim) as c:
        chat_id = new_chat(c)
        send(c, chat_id, "please run the echo tool")
        sim.advance(2.0)
        tool = _tool_of(c, chat_id)
        assert (tool["type"], tool["status"], tool["display_name"]) == (
            "app", "in_progress", "infsh/echo")  # fmt: skip
        task = data(c.get(f"/tasks/{tool['task_id']}"))
        assert tool["execution_id"] == task["id"]
        assert task["app_ref"].startswith("infsh/echo@")
        assert task["input"] == tool["function"]["arguments"]
        sim.advance(40)
        final = messages(c, chat_id)[0]
        done = final["tool_invocations"][0]
        assert done["status"] == "completed"
        assert json.loads(done["result"]) == task["input"]
        assert data(c.get(f"/tasks/{task['id']}"))["status"] == 10
        assert final["status"] == "ready"
        assert [p["type"] for p in final["content"]] == ["text", "tool"]
        assert final["content"][1]["tool_calls"][0]["function"]["name"] == "infsh_echo"
        assert task["id"] in final["content"][0]["text"]


def test_approval_approve(sim: SimServer) -> None:
    with client(sim) as c:
        chat_id = new_chat(c)
        send(c, chat_id, "this is dangerous, approve it")
        sim.advance(5.0)
        chat = data(c.get(f"/chats/{chat_id}"))
        assert chat["status"] == "awaiting_input"
        assert chat["active_run"]["state"] == "input_required"
        [interrupt] = chat["pending_interrupts"]
        tool = _tool_of(c, chat_id)
        assert tool["status"] == "awaiting_approval"
        assert tool["task_id"] is None
        assert interrupt["reason"] == "tool_approval"
        assert interrupt["resource_id"] == tool["id"]
        assert interrupt["meta"]["tool_invocation_id"] == tool["id"]
        assert data(c.get(f"/chats/{chat_id}/status"))["status"] == "awaiting_input"
        approved = data(c.post(f"/tools/{tool['id']}/invoke"))
        assert approved["status"] == "in_progress"
        assert approved["task_id"]
        chat = data(c.get(f"/chats/{chat_id}"))
        assert chat["status"] == "busy"
        assert chat["pending_interrupts"] == []
        again = c.post(f"/tools/{tool['id']}/invoke")
        assert again.status_code == 400
        assert again.json()["type"].endswith("/invalid_state")
        sim.advance(40)
        assert _tool_of(c, chat_id)["status"] == "completed"
        assert data(c.get(f"/chats/{chat_id}"))["status"] == "idle"
        assert c.post("/tools/ti_nope/invoke").status_code == 404


def test_approval_reject_and_sign_in_flag(sim: SimServer) -> None:
    with client(sim) as c:
        chat_id = new_chat(c)
        send(c, chat_id, "approve this dangerous thing")
        sim.advance(5.0)
        tool = _tool_of(c, chat_id)
        sim.call(lambda w: setattr(w, "approvals_require_sign_in", True))
        for action in ("invoke", "reject"):
            r = c.post(f"/tools/{tool['id']}/{action}")
            assert r.status_code == 403
            assert r.json()["type"].endswith("/requires_sign_in")
        sim.call(lambda w: setattr(w, "approvals_require_sign_in", False))
        rejected = data(c.post(f"/tools/{tool['id']}/reject", json={"reason": "no thanks"}))
        assert (rejected["status"], rejected["result"]) == ("cancelled", "rejected: no thanks")
        sim.advance(30)
        final = messages(c, chat_id)[0]
        assert final["status"] == "ready"
        assert "did not run it" in final["content"][0]["text"]
        assert data(c.get(f"/chats/{chat_id}"))["status"] == "idle"


def test_client_tool_result(sim: SimServer) -> None:
    with client(sim) as c:
        chat_id = new_chat(c)
        send(c, chat_id, "use the client tool")
        sim.advance(5.0)
        tool = _tool_of(c, chat_id)
        assert (tool["type"], tool["status"]) == ("client", "awaiting_input")
        assert data(c.get(f"/chats/{chat_id}"))["status"] == "busy"
        assert c.post(f"/tools/{tool['id']}", json={"result": 5}).status_code == 400
        assert c.post(f"/tools/{tool['id']}/invoke").status_code == 400
        done = data(c.post(f"/tools/{tool['id']}", json={"result": "13:37"}))
        assert done["status"] == "completed"
        again = c.post(f"/tools/{tool['id']}", json={"result": "x"})
        assert again.status_code == 400
        assert again.json()["type"].endswith("/invalid_state")
        sim.advance(30)
        assert "13:37" in messages(c, chat_id)[0]["content"][0]["text"]


def test_reconnect_mid_reply_gets_a_fresh_snapshot(sim: SimServer) -> None:
    sim.call(lambda w: setattr(w.faults, "chat_drop_after_deltas", 3))
    with client(sim) as c:
        chat_id = new_chat(c)
        with c.stream("GET", f"/chats/{chat_id}/stream", headers=NDJSON) as r:
            frames = Frames(r, ndjson=True)
            send(c, chat_id, "plain please")
            sim.advance(1.0)
            events = []
            while (event := next_event(frames, True)) is not None:
                events.append(event)
            assert frames.eof
        assert [e[0] for e in events].count("delta") == 3
        sim.call(lambda w: setattr(w.faults, "chat_drop_after_deltas", None))
        with c.stream("GET", f"/chats/{chat_id}/stream", headers=NDJSON) as r:
            frames = Frames(r, ndjson=True)
            snap = next_event(frames, True)
            assert snap is not None
            assert snap[0] == "chats"
            assert snap[1]["status"] == "busy"
            pending = messages(c, chat_id)[0]
            assert pending["status"] == "pending"
            assert pending["content"][0]["text"]
            sim.advance(30)
            rest = until(frames, True, idle)
        assert rest[0][0] == "delta"
        assert rest[0][1]["seq"] > 3
        full = messages(c, chat_id)[0]
        assert full["status"] == "ready"
        assert full["content"][0]["text"].startswith(pending["content"][0]["text"])


@pytest.mark.parametrize("ndjson", [True, False])
def test_error_event_mid_reply_r28(sim: SimServer, ndjson: bool) -> None:
    sim.call(lambda w: setattr(w.faults, "chat_error_after_deltas", 5))
    with client(sim) as c:
        chat_id = new_chat(c)
        with c.stream("GET", f"/chats/{chat_id}/stream", headers=NDJSON if ndjson else {}) as r:
            frames = Frames(r, ndjson=ndjson)
            assert next_event(frames, ndjson) is not None  # the idle snapshot
            send(c, chat_id, "plain please")
            sim.advance(5.0)
            events = until(frames, ndjson, idle)
    names = [e[0] for e in events]
    error = events[names.index("error")][1]
    assert error["code"] == "internal_error"
    assert error["message"]
    deltas = [e[1]["delta"]["response"] for e in events if e[0] == "delta"]
    assert len(deltas) == 5
    failed = next(e[1] for e in events if e[0] == "chat_messages" and e[1]["status"] == "failed")
    assert failed["id"] == error["resource_id"]
    assert failed["content"][0]["text"] == "".join(deltas)
    run = next(e[1] for e in events if e[0] == "agent_runs" and e[1]["state"] == "failed")
    assert run["error"] == error["message"]


def test_routes_both_ways_and_bad_input(sim: SimServer) -> None:
    with client(sim) as c:
        agents = data(c.get("/agents"))
        assert data(c.post("/agents/list", json={})) == agents
        [agent] = agents["items"]
        assert (agent["namespace"], agent["name"]) == ("infsh", "assistant")
        by_id = data(c.post("/chats", json={"agent_id": agent["id"], "name": "mine"}))
        assert by_id["name"] == "mine"
        assert by_id["status"] == "idle"
        assert c.post("/chats", json={"agent": "infsh/nobody"}).status_code == 404
        bad = c.post("/agents/run", json={"agent": "infsh/nobody", "input": {"text": "hi"}})
        assert bad.status_code == 404
        bodies: list[dict[str, Any]] = [{"input": {"text": "   "}}, {"input": {}}, {"input": "hi"}]
        for body in bodies:
            r = c.post("/agents/run", json=body)
            assert r.status_code == 400
            assert r.json()["type"].endswith("/invalid_request")
        r = c.post(f"/chats/{by_id['id']}/messages", json={"message": ""})
        assert r.status_code == 400
        assert c.post("/agents/run", json={"chat_id": "chat_nope",
                                           "input": {"text": "x"}}).status_code == 404  # fmt: skip
        for path in ("/chats/chat_nope", "/chats/chat_nope/status", "/chats/chat_nope/messages",
                     "/chats/chat_nope/stream"):  # fmt: skip
            assert c.get(path).status_code == 404, path
        assert c.post("/chats/chat_nope/stop").status_code == 404
        assert c.post("/tools/ti_nope", json={"result": "x"}).status_code == 404
        send(c, by_id["id"], "plain hi")
        busy = [{"field": "status", "operator": "in", "value": ["busy", "awaiting_input"]}]
        listed = data(c.post("/chats/list", json={"filters": busy}))
        assert [ch["id"] for ch in listed["items"]] == [by_id["id"]]
        got = data(c.get("/chats", params={"filters": json.dumps(busy)}))
        assert got == listed
        assert data(c.get("/chats"))["total_items"] == 1
        steer = data(c.post(f"/chats/{by_id['id']}/steer", json={"message": "more"}))
        assert steer["status"] == "queued"


def _transcript(sim: SimServer) -> list[tuple[str, str, str]]:
    with client(sim) as c:
        chat_id = new_chat(c)
        send(c, chat_id, "hello")
        sim.advance(60)
        send(c, chat_id, "and again")
        sim.advance(60)
        return [(m["id"], m["status"], str(m["content"])) for m in messages(c, chat_id)]


def test_same_seed_same_chat(sim: SimServer, sim_config: SimConfig) -> None:
    first = _transcript(sim)
    with SimServer(sim_config) as again:
        assert _transcript(again) == first


@pytest.mark.parametrize("ndjson", [True, False])
def test_chat_stream_heartbeats_and_v1_prefix(sim: SimServer, ndjson: bool) -> None:
    beat = b'{"type":"heartbeat"}' if ndjson else b": heartbeat"
    with client(sim) as c:
        chat_id = new_chat(c)
        path = f"/v1/chats/{chat_id}/stream"
        with c.stream("GET", path, headers=NDJSON if ndjson else {}) as r:
            assert r.headers["content-type"].startswith(
                "application/x-ndjson" if ndjson else "text/event-stream"
            )
            frames = Frames(r, ndjson=ndjson)
            assert next_event(frames, ndjson) is not None
            sim.advance(10)
            assert frames.next() == beat
        assert data(c.get(f"/v1/chats/{chat_id}"))["id"] == chat_id
    assert eventually(sim, lambda w: w.stream_count() == 0)


def test_attachments_become_file_parts(sim: SimServer) -> None:
    ref = {"id": "file_1", "uri": "https://cloud.inference.sh/x.png", "filename": "x.png",
           "content_type": "image/png", "size": 3}  # fmt: skip
    with client(sim) as c:
        out = data(c.post("/agents/run", json={"input": {"attachments": [ref]}}))
        assert out["user_message"]["content"] == [{"type": "file", "file": ref}]
        r = c.post("/agents/run", json={"input": {"text": "x", "attachments": "nope"}})
        assert r.status_code == 400


def test_interrupt_resolve_and_agent_runs(sim: SimServer) -> None:
    with client(sim) as c:
        chat_id = new_chat(c)
        send(c, chat_id, "dangerous: approve")
        sim.advance(5.0)
        chat = data(c.get(f"/chats/{chat_id}"))
        run_id = chat["active_run_id"]
        assert run_id == chat["active_run"]["id"]
        assert data(c.get(f"/agent-runs/{run_id}"))["state"] == "input_required"
        [pending] = data(c.get(f"/agent-runs/{run_id}/interrupts"))
        assert pending == chat["pending_interrupts"][0]
        bad = c.post(f"/interrupts/{pending['id']}/resolve", json={"decision": "maybe"})
        assert bad.status_code == 400
        resolved = data(c.post(f"/interrupts/{pending['id']}/resolve", json={"decision": "allow"}))
        assert (resolved["status"], resolved["resolution"]) == ("resolved", "allow")
        assert resolved["resolved_at"]
        assert data(c.get(f"/agent-runs/{run_id}/interrupts")) == []
        again = c.post(f"/interrupts/{pending['id']}/resolve", json={"decision": "deny"})
        assert again.status_code == 400
        assert _tool_of(c, chat_id)["task_id"]
        sim.advance(40)
        assert data(c.get(f"/agent-runs/{run_id}"))["state"] == "completed"
        send(c, chat_id, "approve once more")
        sim.advance(5.0)
        [second] = data(c.get(f"/chats/{chat_id}"))["pending_interrupts"]
        body = {"decision": "deny", "data": {"reason": "not now"}}
        assert (
            data(c.post(f"/interrupts/{second['id']}/resolve", json=body))["resolution"] == "deny"
        )
        assert _tool_of(c, chat_id)["result"] == "rejected: not now"
        assert c.get("/agent-runs/run_nope").status_code == 404
        assert c.post("/interrupts/int_nope/resolve", json={"decision": "allow"}).status_code == 404


def test_cancelling_the_linked_task_fails_the_tool(sim: SimServer) -> None:
    with client(sim) as c:
        chat_id = new_chat(c)
        send(c, chat_id, "run it")
        sim.advance(1.5)
        tool = _tool_of(c, chat_id)
        c.post(f"/tasks/{tool['task_id']}/cancel", json={"force": True})
        assert (_tool_of(c, chat_id)["status"], _tool_of(c, chat_id)["result"]) == (
            "failed",
            "task cancelled",
        )
        sim.advance(30)
        final = messages(c, chat_id)[0]
        assert final["status"] == "ready"
        assert "failed" in final["content"][0]["text"]
