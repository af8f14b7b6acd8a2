"""Engine, chat, file and usage models: tolerance of odd input, unknown statuses, partial merges."""

from __future__ import annotations

from typing import Any

import pytest

from infdash.api import (
    Agent,
    Chat,
    ChatMessage,
    Engine,
    EngineStatus,
    FileInfo,
    Me,
    QueueStats,
    RunResult,
    ToolInvocation,
    Usage,
    WorkerStatus,
    WorkspaceEvent,
    merge_engine,
    merge_message,
)
from infdash.api.events import workspace_event

ENGINE: dict[str, Any] = {
    "id": "eng_1",
    "name": "rig-a",
    "status": "running",
    "engine_version": "v1.10.15",
    "engine_pin": "",
    "created_at": "2026-10-01T10:00:00Z",
    "system_info": {
        "hostname": "rig-a.local",
        "os": "linux",
        "cpus": [{"cores": 16}, {"cores": "8"}],
        "ram": {"total": 68719476736},
        "gpus": [{"name": "RTX 4090"}],
    },
    "instance": {
        "cloud": "shadeform",
        "region": "us-east",
        "hourly_price": 120,
        "cloud_instance_type": "gpu_1x",
    },
    "workers": [
        {
            "id": "wrk_1",
            "index": 0,
            "status": "busy",
            "task_id": "task_1",
            "gpus": [{"id": "g1", "type": "nvidia", "name": "RTX 4090", "vram": 25769803776}],
            "cpus": [{"name": "EPYC", "cores": 8, "frequency": 3.1}],
            "rams": [{"total": 34359738368}, {"total": "1024"}],
        },
        {"id": "wrk_2", "index": "1", "status": "hibernating"},
        "not a worker",
    ],
}


@pytest.mark.parametrize("status", [s.value for s in EngineStatus if s is not EngineStatus.UNKNOWN])
def test_every_documented_engine_status(status: str) -> None:
    engine = Engine.from_dict({"id": "e", "status": status.upper()})
    assert engine.status.value == status
    assert engine.status_label == status


def test_unknown_engine_status_is_kept_raw() -> None:
    engine = Engine.from_dict({"id": "e", "status": "Quarantined"})
    assert engine.status is EngineStatus.UNKNOWN
    assert engine.status_label == "Quarantined"
    assert Engine.from_dict({"id": "e", "status": None}).status_label == "unknown"


def test_engine_parses_what_the_screen_needs() -> None:
    engine = Engine.from_dict(ENGINE)
    assert engine.name == "rig-a"
    assert engine.status.is_online
    assert engine.is_cloud
    assert engine.instance is not None
    assert engine.instance.instance_type == "gpu_1x"
    assert engine.instance.hourly_price == 120
    assert engine.system_info is not None
    assert engine.system_info.cpu_cores == 24
    assert engine.system_info.gpus == ("RTX 4090",)
    busy, odd = engine.workers  # the string item was skipped
    assert busy.status is WorkerStatus.BUSY
    assert busy.task_id == "task_1"
    assert busy.vram_total == 25769803776
    assert busy.ram_total == 34359738368 + 1024
    assert busy.cpus[0].cores == 8
    assert odd.index == 1
    assert odd.status is WorkerStatus.UNKNOWN
    assert odd.status_label == "hibernating"
    assert engine.busy_workers() == 1


@pytest.mark.parametrize("raw", [None, [], "eng", {"name": "no id"}])
def test_engine_without_id_is_malformed(raw: object) -> None:
    with pytest.raises(ValueError, match="engine"):
        Engine.from_dict(raw)


def test_engine_version_falls_back_to_system_info() -> None:
    engine = Engine.from_dict({"id": "e", "system_info": {"engine_version": "v1.9.3"}})
    assert engine.engine_version == "v1.9.3"


def test_merge_engine_with_and_without_fields() -> None:
    engine = Engine.from_dict(ENGINE)
    partial = {"id": "eng_1", "status": "draining", "name": "ignored-not-in-fields"}
    merged = merge_engine(engine, partial, ["status"])
    assert merged.status is EngineStatus.DRAINING
    assert merged.name == "rig-a"
    assert len(merged.workers) == 2
    merged = merge_engine(merged, {"engine_version": "v1.11.0-rc.2", "engine_pin": "canary"})
    assert (merged.engine_version, merged.engine_pin) == ("v1.11.0-rc.2", "canary")
    assert merged.status is EngineStatus.DRAINING
    with pytest.raises(ValueError, match="eng_2"):
        merge_engine(engine, {"id": "eng_2", "status": "stopped"})
    bare = merge_engine(Engine(id="eng_9"), {"status": "stopped"})
    assert bare.status is EngineStatus.STOPPED


def test_workspace_event_partial_and_full() -> None:
    partial = workspace_event("engines", {"id": "eng_1", "status": "stopped"}, ("status",))
    assert isinstance(partial, WorkspaceEvent)
    assert partial.partial
    assert partial.engine() is None
    assert partial.apply_to(Engine.from_dict(ENGINE)).status is EngineStatus.STOPPED
    full = workspace_event("engines", ENGINE, None)
    assert full is not None
    assert not full.partial
    engine = full.engine()
    assert engine is not None
    assert engine.name == "rig-a"
    assert workspace_event("done", {}, None) is None
    assert workspace_event("engines", "nope", None) is None


MESSAGE: dict[str, Any] = {
    "id": "msg_a1",
    "chat_id": "chat_1",
    "role": "assistant",
    "status": "pending",
    "order": "2",
    "agent_run_id": "run_1",
    "content": [
        {"type": "reasoning", "text": "hmm "},
        {"type": "text", "text": "Hel"},
        {"type": "text", "text": "lo"},
        {"type": "image", "image": {"uri": "https://x/y.png"}},
        {"type": "tool", "tool_calls": [{"id": "c1"}, "junk"]},
        "junk",
    ],
    "tool_invocations": [
        {
            "id": "ti_1",
            "type": "app",
            "display_name": "infsh/echo",
            "function": {"name": "infsh_echo", "arguments": '{"message": "hi"}'},
            "status": "completed",
            "result": {"echo": "hi"},
            "execution_id": "task_9",
        },
        {"type": "client"},  # no id: skipped
    ],
}


def test_chat_message_parses_parts_and_tools() -> None:
    message = ChatMessage.from_dict(MESSAGE)
    assert message.order == 2
    assert message.text == "Hello"
    assert message.reasoning == "hmm "
    assert not message.is_final
    assert [p.type for p in message.content] == [
        "reasoning",
        "text",
        "text",
        "image",
        "tool",
        "text",
    ]
    assert message.content[3].image == "https://x/y.png"
    assert message.content[4].tool_calls == ({"id": "c1"},)
    (tool,) = message.tool_invocations
    assert tool.arguments == {"message": "hi"}
    assert tool.task_id == "task_9"  # the linked task of an app tool
    assert tool.result == "{'echo': 'hi'}"
    assert tool.is_final


@pytest.mark.parametrize(
    ("status", "final"),
    [
        ("pending", False),
        ("queued", False),
        ("ready", True),
        ("failed", True),
        ("cancelled", True),
        ("mystery", False),
    ],
)
def test_queued_is_not_final(status: str, final: bool) -> None:
    assert ChatMessage.from_dict({"id": "m", "status": status}).is_final is final


def test_merge_message_partial_keeps_content() -> None:
    queued = ChatMessage.from_dict(
        {
            "id": "m1",
            "status": "queued",
            "order": 1000001,
            "content": [{"type": "text", "text": "next"}],
        }
    )
    partial = {"id": "m1", "chat_id": "c", "status": "ready", "order": 5}
    ready = merge_message(queued, partial, ["id", "chat_id", "status", "order"])
    assert (ready.status, ready.order, ready.text) == ("ready", 5, "next")


def test_chat_turn_over_and_interrupts() -> None:
    busy = Chat.from_dict(
        {"id": "c", "status": "busy", "active_run": {"id": "r", "state": "working"}}
    )
    assert busy.is_busy
    assert not busy.turn_over
    waiting = Chat.from_dict(
        {
            "id": "c",
            "status": "awaiting_input",
            "active_run": {"id": "r", "state": "input_required"},
            "pending_interrupts": [
                {
                    "id": "i",
                    "reason": "tool_approval",
                    "resource_id": "ti_1",
                    "meta": '{"tool_name": "x"}',
                },
                {"reason": "no id"},
            ],
        }
    )
    assert not waiting.turn_over
    (interrupt,) = waiting.pending_interrupts
    assert interrupt.meta == {"tool_name": "x"}
    assert Chat.from_dict({"id": "c", "status": "idle"}).turn_over
    assert Chat.from_dict({"id": "c", "status": "waiting", "active_run": None}).turn_over
    assert Chat.from_dict({"id": "c", "status": "busy", "active_run": "junk"}).active_run is None


def test_run_result_queued_and_agent_ref() -> None:
    queued = RunResult.from_dict({"user_message": {"id": "u", "chat_id": "c", "status": "queued"}})
    assert queued.queued
    assert queued.chat_id == "c"
    assert queued.assistant_message is None
    agent = Agent.from_dict(
        {"id": "a", "namespace": "infsh", "name": "assistant", "version": {"version": "1.0.0"}}
    )
    assert agent.ref == "infsh/assistant@1.0.0"
    assert ToolInvocation.from_dict({"id": "t", "function": {"arguments": "{bad"}}).arguments == {
        "_raw": "{bad"
    }


def test_file_usage_and_me_models() -> None:
    info = FileInfo.from_dict({"id": "f", "size": "12", "upload_url": "https://s/put?sig=secret"})
    assert info.size == 12
    assert not info.uploaded
    assert "secret" not in repr(info)
    with pytest.raises(ValueError, match="file"):
        FileInfo.from_dict({"size": 1})
    stats = QueueStats.from_dict(
        {"total_queued": 5, "with_run_at": 2, "by_app": [{"app": "a", "count": "3"}]}
    )
    assert stats.ready_to_run == 3
    assert stats.by_app[0].count == 3
    usage = Usage.from_dict(
        [
            {"resource": "concurrency", "usage": 10, "limit": 10},
            {"resource": "agents", "type": "boolean", "enabled": True},
            "junk",
        ]
    )
    assert usage.concurrency is not None
    assert usage.concurrency.exhausted
    assert usage.get("agents") is not None
    assert usage.get("nope") is None
    assert Usage.from_dict(None).entries == ()
    me = Me.from_dict({"user": {"id": "u"}, "scopes": ["a", 3], "api_key": {"prefix": "inf_ab"}})
    assert me.scopes == ("a",)
    assert "inf_ab" not in repr(me)
