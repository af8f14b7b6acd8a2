"""TaskLogLines and LogFeed ordering without a server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from infdash.api import InferenceClient
from infdash.api.models.logs import TaskLog, TaskLogs, TaskLogType
from infdash.api.models.status import TaskStatus
from infdash.ui.detail.logs import (
    MAX_LINE_CHARS,
    LogFeed,
    TaskLogLines,
    display_line,
    phase_of,
    split_lines,
)

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def log(ident: str, content: str, kind: TaskLogType = TaskLogType.RUN) -> TaskLog:
    return TaskLog(id=ident, log_type=kind, content=content, created_at=T0)


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", []),
        ("one\n", ["one"]),
        ("one", ["one"]),
        ("a\nb\n", ["a", "b"]),
        ("a\n\nb", ["a", "", "b"]),
        ("a\r\nb\r\n", ["a", "b"]),
        ("10%\r50%\r100%\n", ["100%"]),
        ("50%\r\r", ["50%"]),
        ("\n", [""]),
    ],
)
def test_split_lines(text: str, lines: list[str]) -> None:
    assert split_lines(text) == lines


@pytest.mark.parametrize(
    ("kind", "phase"),
    [
        (TaskLogType.BUILD, "build"),
        (TaskLogType.RUN, "run"),
        (TaskLogType.SERVE, "serve"),
        (TaskLogType.SETUP, "setup"),
        (TaskLogType.TASK, "task"),
        (TaskLogType.UNKNOWN, "task"),
    ],
)
def test_phase_of(kind: TaskLogType, phase: str) -> None:
    assert phase_of(kind) == phase


def test_dedupes_by_id_and_numbers_lines() -> None:
    lines = TaskLogLines()
    first = lines.add([log("a", "x\ny\n"), log("b", "z\n", TaskLogType.SETUP)])
    assert [(ln.text, ln.phase, ln.seq) for ln in first] == [
        ("x", "run", 0),
        ("y", "run", 1),
        ("z", "setup", 2),
    ]
    assert lines.add([log("a", "x\ny\n"), log("b", "z\n")]) == []
    assert lines.count == 3
    assert len(lines) == 3
    assert lines.by_phase["run"] == 2
    assert lines.by_phase["setup"] == 1
    assert lines.known_ids == {"a", "b"}
    assert first[0].at == T0


def test_a_growing_entry_emits_only_its_tail() -> None:
    lines = TaskLogLines()
    assert [ln.text for ln in lines.add([log("a", "one\n")])] == ["one"]
    assert [ln.text for ln in lines.add([log("a", "one\ntwo\nthree\n")])] == ["two", "three"]
    assert lines.add([log("a", "one\n")]) == []  # shorter: a rewrite, not replayed
    assert [ln.seq for ln in lines.add([log("a", "one\ntwo\nthree\nfour")])] == [3]


def test_entries_without_id_are_keyed_by_content() -> None:
    lines = TaskLogLines()
    anon = TaskLog(id="", log_type=TaskLogType.TASK, content="Processing...")
    assert len(lines.add([anon])) == 1
    assert lines.add([anon]) == []
    assert len(lines.add([TaskLog(id="", log_type=TaskLogType.TASK, content="Done")])) == 1
    assert lines.known_ids == frozenset()


def test_lines_are_cleaned() -> None:
    lines = TaskLogLines()
    dirty = "\x1b[2J\x1b]0;pwned\x07\x1b]52;c;aGk=\x07hello \x1b[31mred\x1b[0m\tend\x07\n"
    (line,) = lines.add([log("a", dirty)])
    assert line.text == "hello red end"
    assert "\x1b" not in line.text


def test_a_runaway_line_is_cut_and_says_so() -> None:
    lines = TaskLogLines()
    huge = "\x1b[31m" + "y" * (MAX_LINE_CHARS + 5_000) + "\x1b[0m"
    (line, after) = lines.add([log("a", huge + "\nnext\n")])
    assert line.text == "y" * (MAX_LINE_CHARS - 5) + " … [5,009 more characters not shown]"
    assert after.text == "next"
    assert display_line("z" * MAX_LINE_CHARS) == "z" * MAX_LINE_CHARS  # at the cap: whole


class FakeClient(InferenceClient):
    """Answers ``/logs`` from a list; a gate lets a test hold the request in flight."""

    def __init__(self, entries: list[TaskLog]) -> None:
        self.entries = entries
        self.gate: asyncio.Event | None = None
        self.tasks = self  # type: ignore[assignment]

    async def logs(self, task_id: str) -> TaskLogs:
        if self.gate is not None:
            await self.gate.wait()
        return TaskLogs(task_id, TaskStatus.RUNNING, (), tuple(self.entries))

    def __getattr__(self, name: str) -> Any:  # pragma: no cover - not used
        raise AttributeError(name)


async def test_feed_before_backfill_is_held_and_ordered_after_it() -> None:
    client = FakeClient([log("a", "old 1\nold 2\n"), log("b", "old 3\n")])
    client.gate = asyncio.Event()
    feed = LogFeed(client, "task_1")
    pending = asyncio.ensure_future(feed.backfill())
    await asyncio.sleep(0)
    # Live entries arrive while /logs is in flight: one overlaps it, one is newer.
    assert feed.feed([log("b", "old 3\n"), log("c", "new 1\n")]) == []
    client.gate.set()
    lines = await pending
    assert [ln.text for ln in lines] == ["old 1", "old 2", "old 3", "new 1"]
    assert feed.feed([log("c", "new 1\n"), log("d", "new 2\n")])[0].text == "new 2"
    client.entries.append(log("e", "polled\n"))
    assert [ln.text for ln in await feed.catch_up()] == ["polled"]
    assert await feed.catch_up() == []
    assert feed.fetches == 3


async def test_catch_up_before_backfill_backfills() -> None:
    feed = LogFeed(FakeClient([log("a", "x\n")]), "task_1")
    assert [ln.text for ln in await feed.catch_up()] == ["x"]
    assert feed.backfilled
