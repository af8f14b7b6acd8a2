"""Tolerant models: tasks, statuses, logs (base64/plain), pages, timings, telemetry, cost."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from infdash.api.models import (
    CursorPage,
    DeltaAccumulator,
    ResourceStatus,
    Task,
    TaskCost,
    TaskLog,
    TaskLogs,
    TaskLogType,
    TaskStatus,
    TaskTimings,
    decode_log_content,
    merge_delta,
)
from infdash.api.models.metrics import parse_telemetry

FULL_TASK = {
    "id": "task_1",
    "short_id": "t1",
    "created_at": "2026-11-25T12:00:00.000Z",
    "updated_at": "2026-11-25T12:00:05.123Z",
    "status": 7,
    "app": {"id": "app_1", "namespace": "infsh", "name": "echo"},
    "app_version": {"id": "ver_1", "version": "1.0.0"},
    "app_id": "app_1",
    "app_version_id": "ver_1",
    "function": "run",
    "infra": "cloud",
    "workers": ["wrk_1", 5],
    "engine_id": "eng_1",
    "engine": {"id": "eng_1", "name": "rig-a", "status": "running"},
    "worker_id": "wrk_1",
    "worker": {"id": "wrk_1", "index": 0, "status": "busy", "gpus": [{"name": "RTX 4090"}]},
    "run_at": None,
    "webhook": "https://example.invalid/hook",
    "setup": {"model": "x"},
    "input": {"text": "hi"},
    "output": None,
    "error": None,
    "events": [{"id": "ev1", "status": 1, "event_time": "2026-11-25T12:00:00Z"}, "bad"],
    "logs": [],
    "session_id": "sess_1",
    "some_future_field": {"x": 1},
}


def test_task_parses_everything_the_ui_needs() -> None:
    task = Task.from_dict(FULL_TASK)
    assert task.id == "task_1"
    assert task.short_id == "t1"
    assert task.created_at == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert task.updated_at is not None
    assert task.updated_at.tzinfo is not None
    assert task.status is TaskStatus.RUNNING
    assert task.status_code == 7
    assert task.app_ref == "infsh/echo@1.0.0"
    assert task.workers == ("wrk_1",)
    assert task.engine is not None
    assert task.engine.name == "rig-a"
    assert task.worker is not None
    assert task.worker.gpus == ("RTX 4090",)
    assert task.setup == {"model": "x"}
    assert task.input == {"text": "hi"}
    assert task.error == ""
    assert len(task.events) == 1
    assert task.skipped == 1
    assert task.session_id == "sess_1"
    assert not task.is_terminal


def test_task_minimal_and_wrong_types_default() -> None:
    task = Task.from_dict({"id": "t", "status": "weird", "created_at": 12, "engine": "nope"})
    assert task.status is TaskStatus.UNKNOWN
    assert task.status_code is None
    assert task.engine is None
    assert task.created_at == datetime.fromtimestamp(12, UTC) or task.created_at is None
    assert Task.from_dict({"id": "t", "app": "infsh/echo@2"}).app_ref == "infsh/echo@2"


@pytest.mark.parametrize("raw", [None, "task", 3, {"status": 1}, {"id": ""}])
def test_task_without_id_is_malformed(raw: object) -> None:
    with pytest.raises(ValueError, match="task"):
        Task.from_dict(raw)


@pytest.mark.parametrize(
    ("value", "status", "code"),
    [
        (7, TaskStatus.RUNNING, 7),
        ("running", TaskStatus.RUNNING, 7),
        ("RUNNING", TaskStatus.RUNNING, 7),
        ("setting_up", TaskStatus.SETTING_UP, 6),
        ("12", TaskStatus.CANCELLED, 12),
        ("canceled", TaskStatus.CANCELLED, 12),
        (13, TaskStatus.REJECTED, 13),
        (10.0, TaskStatus.COMPLETED, 10),
        (42, TaskStatus.UNKNOWN, 42),
        ("mystery", TaskStatus.UNKNOWN, None),
        (None, TaskStatus.UNKNOWN, None),
        (True, TaskStatus.UNKNOWN, None),
    ],
)
def test_status_parse(value: object, status: TaskStatus, code: int | None) -> None:
    assert TaskStatus.parse(value) == (status, code)


def test_terminal_statuses_and_unknown_display() -> None:
    assert {s for s in TaskStatus if s.is_terminal} == {
        TaskStatus.COMPLETED,
        TaskStatus.FAILED,
        TaskStatus.CANCELLED,
        TaskStatus.REJECTED,
    }
    assert Task.from_dict({"id": "t", "status": 42}).status_label == "unknown(42)"
    assert Task.from_dict({"id": "t", "status": 7}).status_label == "running"


def _b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("content", "text", "was_b64"),
    [
        (_b64("hello world\n"), "hello world\n", True),
        (_b64("step 1/3 ✓ ünïcode"), "step 1/3 ✓ ünïcode", True),
        (_b64("\x1b[32mgreen\x1b[0m"), "\x1b[32mgreen\x1b[0m", True),
        (_b64("\x1b]0;title\x07ok\n"), "\x1b]0;title\x07ok\n", True),  # OSC ended by BEL
        (_b64("spin |\x08/\x08-"), "spin |\x08/\x08-", True),
        (_b64("typo\x7f fixed"), "typo\x7f fixed", True),
        (_b64(b"\x01\x02\x03\x04\x05binary"), _b64(b"\x01\x02\x03\x04\x05binary"), False),
        ("Loading model weights...", "Loading model weights...", False),
        ("Done", "Done", False),  # valid base64 alphabet, but decodes to junk bytes
        ("abcd", "abcd", False),
        ("QUJD", "ABC", True),
        ("hello==", "hello==", False),
        ("", "", False),
        (_b64(b"\x00\x01\x02\x03binary"), _b64(b"\x00\x01\x02\x03binary"), False),
        (_b64(b"progress 50% \xff done ok"), "progress 50% \ufffd done ok", True),
        ("bad \ud800 surrogate", "bad \ufffd surrogate", False),
        (None, "", False),
    ],
)
def test_log_content_detection(content: object, text: str, was_b64: bool) -> None:
    assert decode_log_content(content) == (text, was_b64)


def test_task_log_and_logs_dto() -> None:
    log = TaskLog.from_dict(
        {"id": "l1", "log_type": 3, "content": _b64("a\nb"), "created_at": "2026-11-25T12:00:00Z"}
    )
    assert log.log_type is TaskLogType.SETUP
    assert log.lines() == ["a", "b"]
    assert TaskLog.from_dict({"id": "l2", "log_type": 99}).log_type is TaskLogType.UNKNOWN
    assert TaskLog.from_dict({"id": "l3", "log_type": "run"}).log_type is TaskLogType.RUN
    logs = TaskLogs.from_dict(
        {"task_id": "t", "status": "completed", "events": [], "logs": [{"id": "l1"}, 7]}
    )
    assert logs.status is TaskStatus.COMPLETED
    assert len(logs.logs) == 1
    assert logs.skipped == 1


def test_cursor_page_skips_and_counts_malformed_items() -> None:
    page = CursorPage.from_dict(
        {
            "items": [{"id": "a"}, "oops", {"no": "id"}, {"id": "b", "status": "queued"}],
            "next_cursor": "c2",
            "prev_cursor": "",
            "has_next": True,
            "has_previous": False,
            "total_items": 40,
            "items_per_page": 4,
        },
        Task.from_dict,
    )
    assert [t.id for t in page.items] == ["a", "b"]
    assert page.skipped == 2
    assert page.next_cursor == "c2"
    assert page.prev_cursor is None
    assert page.has_next
    assert not page.has_previous
    assert page.total_items == 40
    assert page.items_per_page == 4
    empty = CursorPage.from_dict(None, Task.from_dict)
    assert empty.items == ()
    assert empty.total_items is None


def test_resource_status() -> None:
    status = ResourceStatus.from_dict({"id": "t", "status": "uploading", "updated_at": None})
    assert status.status is TaskStatus.UPLOADING
    assert status.updated_at is None


def test_timings() -> None:
    timings = TaskTimings.from_dict(
        {
            "task_id": "t",
            "status": 10,
            "total_duration": "5s",
            "groups": [
                {"label": "queue", "duration_ms": 1000, "start_at": "2026-11-25T12:00:00Z"},
                {"label": "run", "duration_ms": 4000},
                None,
            ],
            "events": [{"status": "queued", "duration_ms": 1000, "next_status": 3}],
        }
    )
    assert [g.label for g in timings.groups] == ["queue", "run"]
    assert timings.total_duration_ms == 5000
    assert timings.skipped == 1
    assert timings.events[0].status == "queued"
    assert timings.events[0].next_status == "dispatched"


def test_telemetry_samples() -> None:
    samples, skipped = parse_telemetry(
        [
            {
                "timestamp": "2026-11-25T12:00:00Z",
                "task_seq": 1,
                "system_info": {
                    "cpus": [{"usage": 50}, {"usage": 70}],
                    "ram": {"total": 100, "used": 25},
                    "gpus": [{"name": "A100", "memory_used": 10, "memory_total": 40, "usage": 90}],
                },
            },
            "junk",
        ]
    )
    assert skipped == 1
    sample = samples[0]
    assert sample.cpu_usage == 60
    assert sample.ram_usage == 25
    assert sample.gpus[0].vram_fraction == 0.25
    assert sample.gpus[0].usage == 90


def test_cost_in_microcents() -> None:
    cost = TaskCost.from_dict(
        {"total": 250_000_000, "charged": 150_000_000, "discount": 100_000_000}
    )
    assert cost.usd == Decimal("1.5")
    assert cost.total_usd == Decimal("2.5")
    assert TaskCost.from_dict({"total": 12}).charged == 12


def test_delta_merge_rules() -> None:
    out: dict[str, object] = {}
    merge_delta(out, {"response": "Hel", "reasoning": "th"})
    merge_delta(out, {"response": "lo", "reasoning": "ink", "usage": {"tokens": 1}})
    merge_delta(
        out,
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"a"'},
                }
            ]
        },
    )
    merge_delta(out, {"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]})
    merge_delta(out, {"usage": {"tokens": 5}, "finish": "stop"})
    assert out["response"] == "Hello"
    assert out["reasoning"] == "think"
    assert out["usage"] == {"tokens": 5}
    assert out["finish"] == "stop"
    assert out["tool_calls"] == [
        {
            "index": 0,
            "id": "c1",
            "type": "function",
            "function": {"name": "f", "arguments": '{"a": 1}'},
        }
    ]


def test_delta_accumulator_drops_replays_by_seq() -> None:
    acc = DeltaAccumulator()
    assert acc.apply({"resource_id": "", "seq": 1, "delta": {"response": "a"}})
    assert acc.apply({"resource_id": "", "seq": 2, "delta": {"response": "b"}})
    assert not acc.apply({"resource_id": "", "seq": 2, "delta": {"response": "b"}})
    assert not acc.apply({"seq": 3})
    assert acc.output == {"response": "ab"}
