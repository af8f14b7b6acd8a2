"""The Logs tab end to end under hostile input (performance.md §6: R22, R24 and R25).

Simulator → focused task stream → ``LogFeed`` → ``TaskLogs`` → ``LogView``, mounted in a tiny
app: the checks read what the view draws (``render_line``) and the whole frame as the terminal
would receive it (the compositor's ``render_segments``).  The R25 memory check feeds the
``LogView`` directly (the simulator shares the process, so its own copy of a flood would count).
"""

from __future__ import annotations

import gc
import re
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from benchmarks._harness import open_tasks
from infdash.scheduler import ResourceKey, Tier
from infdash.sim import SimServer
from infdash.sim.logs import LOG_RUN
from infdash.sim.world import World
from infdash.ui.logs import LogLine
from infdash.ui.services import Services
from infdash.ui.widgets.log_view import LogView
from infdash.ui.widgets.task_logs import TaskLogs
from tests.ui.harness import sim_services, wait_for

SIZE = (110, 24)
# Textual's own output: cursor moves and colours.  Anything else with ESC came from the log.
TEXTUAL_SEQUENCES = re.compile(r"\x1b\[\d+;\d+H|\x1b\[[0-9;]*m")
FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 but tab/newline, ESC, DEL, C1


class LogsApp(App[None]):
    """Just the Logs tab of one task."""

    def __init__(self, services: Services, task_id: str, max_lines: int = 100_000) -> None:
        super().__init__()
        self.services = services
        self.task_id = task_id
        self.max_lines = max_lines

    def compose(self) -> ComposeResult:
        yield TaskLogs(self.services, self.task_id, max_lines=self.max_lines, id="task-logs")


@pytest.fixture
async def services(sim: SimServer) -> AsyncIterator[Services]:
    services = sim_services(sim)
    await services.scheduler.start()
    try:
        yield services
    finally:
        await services.scheduler.stop()
        await services.client.aclose()


def write_logs(sim: SimServer, task_id: str, *texts: str) -> None:
    def apply(world: World) -> None:
        world.append_logs(world.tasks[task_id], [(LOG_RUN, text) for text in texts])

    sim.call(apply)


def rows(view: LogView) -> list[str]:
    body = view.lines
    return [
        "".join(segment.text for segment in body.render_line(y))
        for y in range(body.scrollable_content_region.height)
    ]


def frame(app: App[None]) -> str:
    """The whole screen as the bytes a terminal would be sent."""
    return app.screen._compositor.render_full_update().render_segments(app.console)


EVIL = (
    "start \x1b[2Jclear \x1b]0;t\x07title \x1b]52;c;ZXZpbA==\x07clip "
    "\x9b31mcsi \x9d0;x\x07osc nel\x85 sep\u2028a\u2029b \x07bell \x90dcs\x9c end"
)
SHOWN = "start clear title clip csi osc nel sep a b bell dcs end"


@pytest.mark.parametrize("encoding", ["base64", "plain"])
async def test_r22_escape_sequences_and_controls_never_reach_the_terminal(
    sim: SimServer, services: Services, encoding: str
) -> None:
    """A clear-screen, a window title, a clipboard write (OSC 52), 8-bit CSI/OSC/DCS, BEL and
    the Unicode line separators, streamed as a task's log line (base64 as the API sends a Go
    ``[]byte``, BEL included, or plain text): the frame carries none of the controls, the text
    around them survives, and the separators do not break the line."""
    sim.call(lambda w: setattr(w.config, "log_encoding", encoding))
    (tid,) = open_tasks(sim, 1)
    scheduler = services.scheduler
    scheduler.subscribe(tid, Tier.FOCUSED, "detail")
    app = LogsApp(services, tid)
    async with app.run_test(size=SIZE) as pilot:
        logs = app.query_one(TaskLogs)
        view = logs.view
        await wait_for(pilot, lambda: ResourceKey.task(tid) in scheduler.streams.live)
        await wait_for(pilot, lambda: logs.feed.backfilled)
        write_logs(sim, tid, "before", EVIL, "after")
        await wait_for(pilot, lambda: view.buffer.total == 3)
        assert logs.feed.lines.count == 3
        await pilot.pause()
        shown = [row.rstrip() for row in rows(view) if row.strip()]
        assert shown == ["run   │ before", f"run   │ {SHOWN}", "run   │ after"]
        assert all(not FORBIDDEN.search(row) for row in rows(view))
        raw = frame(app)
        assert SHOWN in raw  # one row: the separators are not line breaks
        leftover = TEXTUAL_SEQUENCES.sub("", raw)
        assert not FORBIDDEN.search(leftover), repr(FORBIDDEN.findall(leftover))
        assert "\x1b]" not in raw
        assert "\x1b[2J" not in raw
        assert "ZXZpbA" not in raw  # the clipboard payload is gone with its sequence


# -- R24: one 20 MB event ------------------------------------------------------------------


async def test_r24_a_dropped_giant_event_is_said_above_the_log(
    sim: SimServer, services: Services
) -> None:
    """The stream's first connection sends one 20 MB log event: the tab says in one line that
    it was dropped and the stream reconnected, and the lines before and after it show."""
    (tid,) = open_tasks(sim, 1)
    write_logs(sim, tid, "before the giant")
    sim.call(lambda w: setattr(w.faults, "stream_oversized_event", 20 * 2**20))
    scheduler = services.scheduler
    scheduler.subscribe(tid, Tier.FOCUSED, "detail")
    app = LogsApp(services, tid)
    async with app.run_test(size=SIZE) as pilot:
        logs = app.query_one(TaskLogs)
        note = app.query_one("#log-note", Static)
        await wait_for(pilot, lambda: logs.dropped_events == 1, rounds=2000)
        assert note.has_class("-shown", "-warning")
        assert str(note.render()) == (
            "Dropped 1 live log event over 8.0 MiB and reconnected the stream; "
            "what it carried shows only if /logs has it."
        )
        write_logs(sim, tid, "after the giant")
        await wait_for(pilot, lambda: logs.view.buffer.total == 2)
        assert [logs.view.buffer.text(i) for i in range(2)] == [
            "before the giant",
            "after the giant",
        ]
        assert note.has_class("-shown", "-warning")  # the notice stays


# -- R25: a flood -----------------------------------------------------------------------------


async def test_r25_a_flood_through_the_stream_keeps_the_newest_lines_and_says_what_dropped(
    sim: SimServer, services: Services
) -> None:
    """200,000 lines in 20 stream frames into a view capped at 20,000: every line reaches the
    feed, the view keeps exactly the newest 20,000 and its status line says how many went."""
    (tid,) = open_tasks(sim, 1)
    scheduler = services.scheduler
    scheduler.subscribe(tid, Tier.FOCUSED, "detail")
    app = LogsApp(services, tid, max_lines=20_000)
    async with app.run_test(size=SIZE) as pilot:
        logs = app.query_one(TaskLogs)
        view = logs.view
        await wait_for(pilot, lambda: ResourceKey.task(tid) in scheduler.streams.live)
        await wait_for(pilot, lambda: logs.feed.backfilled)
        for start in range(0, 200_000, 10_000):
            write_logs(sim, tid, *(f"flood {i:06d}" for i in range(start, start + 10_000)))
        await wait_for(pilot, lambda: view.buffer.total == 200_000, rounds=2000)
        assert logs.feed.lines.count == 200_000
        assert len(view.buffer) == 20_000
        assert view.dropped == 180_000
        assert [view.buffer.text(i) for i in (180_000, 199_999)] == [
            "flood 180000",
            "flood 199999",
        ]
        assert [view.buffer.seq(i) for i in view.buffer.iter_shown()] == list(
            range(180_000, 200_000)
        )
        await wait_for(pilot, lambda: view.status.dropped == "180,000 older lines dropped")
        assert "180,000 older lines dropped" in str(view.status.render())
        assert view.following
        shown = [row.rstrip() for row in rows(view) if row.strip()]
        assert shown[-1] == "run   │ flood 199999"


class FloodApp(App[None]):
    def __init__(self, max_lines: int) -> None:
        super().__init__()
        self.max_lines = max_lines

    def compose(self) -> ComposeResult:
        yield LogView(self.max_lines)


async def test_r25_flood_memory_is_bounded_by_the_cap() -> None:
    """200,000 lines of about 60 characters into a view capped at 20,000: what stays
    allocated afterwards is within the B8 budget for the retained lines (25 MiB per 100k),
    about a tenth of what keeping them all would take."""
    cap, total, batch = 20_000, 200_000, 2_000
    at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    app = FloodApp(cap)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        await pilot.pause()
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for start in range(0, total, batch):
                text = "step {:07d} loss=0.{:03d} lr=3e-4 tokens/s=1234.5"
                view.append(
                    [
                        LogLine(text.format(i, i % 997), "run", at, i)
                        for i in range(start, start + batch)
                    ]
                )
                view.flush()
            gc.collect()
            retained = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert len(view.buffer) == cap
        assert view.dropped == total - cap
        assert view.buffer.text(total - 1).startswith(f"step {total - 1:07d} ")
        assert retained < 25 * 2**20 * cap // 100_000, f"{retained / 2**20:.1f} MiB retained"
        await wait_for(pilot, lambda: view.status.dropped == "180,000 older lines dropped")
