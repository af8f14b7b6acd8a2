"""The task detail's log path under stream faults (performance.md §6: R11, R12, R17–R19, R23,
R24).

Simulator → focused task stream (``FocusedStreams``) → ``Scheduler.listen_logs`` → ``LogFeed``
(backfill from ``/logs``, live entries, ``tick`` catch-ups).  Every test numbers its lines and
ends with the same check: the lines the feed handed out, in the order it handed them out, are
exactly the lines a fresh read of ``/logs`` gives — nothing missing, nothing twice, in order.

Time is virtual: the simulator's manual clock and the scheduler's (and its client's reconnect
sleeps') ``VirtualTime`` move together in ``SimHarness.run``; pushed frames are waited for with
``SimHarness.until`` while virtual time stands still.  Only R17 relies on a real timeout (a
half-open connection sends no byte the virtual watchdog could look at), kept short.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from benchmarks._harness import SimHarness, open_tasks
from infdash.api import InferenceClient
from infdash.api.client import StreamFormat
from infdash.scheduler import ResourceKey, Tier
from infdash.scheduler.scheduler import Scheduler
from infdash.sim.logs import LOG_RUN, LOG_SETUP
from infdash.sim.world import World
from infdash.ui.detail.logs import LogFeed, TaskLogLines
from infdash.ui.logs import LogLine
from infdash.ui.widgets.task_logs import TICK_SECONDS

FORMATS: list[StreamFormat] = ["ndjson", "sse"]


def fault(harness: SimHarness, **values: Any) -> None:
    def apply(world: World) -> None:
        for name, value in values.items():
            setattr(world.faults, name, value)

    harness.sim.call(apply)


def write_log(harness: SimHarness, task_id: str, text: str, log_type: int = LOG_RUN) -> None:
    harness.sim.call(lambda w: w.append_logs(w.tasks[task_id], [(log_type, text)]))


def client_for(
    harness: SimHarness,
    fmt: StreamFormat = "ndjson",
    *,
    idle_timeout: float | None = None,
    virtual_watchdog: bool = False,
) -> InferenceClient:
    """The harness's counted client, streaming ``fmt``; jitter pinned.  ``virtual_watchdog``
    runs the stream's idle watchdog on the harness's virtual clock."""
    client = harness.client()
    client.stream_format = fmt
    client.rand = lambda: 0.5
    if idle_timeout is not None:
        client.idle_timeout = idle_timeout
    if virtual_watchdog:
        client.monotonic = harness.vt
    return client


def last_event_ids(client: InferenceClient, task_id: str) -> list[str | None]:
    """The ``Last-Event-ID`` header of every stream request, in order (a live list)."""
    seen: list[str | None] = []

    async def hook(request: httpx.Request) -> None:
        if request.url.path.endswith(f"/tasks/{task_id}/stream"):
            seen.append(request.headers.get("last-event-id"))

    client.http.event_hooks["request"].append(hook)
    return seen


def open_requests(client: InferenceClient) -> int:
    """Requests holding (or waiting for) a pooled connection: openai-python's leak check."""
    return len(client.http._transport._pool._requests)  # type: ignore[attr-defined]


def followers() -> list[asyncio.Task[Any]]:
    """The scheduler's stream supervisors still running."""
    return [t for t in asyncio.all_tasks() if "FocusedStreams._follow" in repr(t.get_coro())]


def stream_connects(harness: SimHarness, task_id: str) -> list[float]:
    """Virtual times at which the task's stream was (re)opened."""
    return [h.at for h in harness.hits if h.path == f"/tasks/{task_id}/stream"]


async def reference(client: InferenceClient, task_id: str) -> list[tuple[str, str]]:
    """What a fresh read of ``/logs`` shows: the truth the feed must equal."""
    fresh = TaskLogLines().add((await client.tasks.logs(task_id)).logs)
    return [(line.text, line.phase) for line in fresh]


class Follower:
    """One ``LogFeed`` as the Logs tab drives it: attached, backfilled, ticked every step."""

    def __init__(self, harness: SimHarness, sched: Scheduler, task_id: str) -> None:
        self.harness = harness
        self.sched = sched
        self.feed = LogFeed(sched, task_id)
        self.got: list[LogLine] = []
        """Every line the feed handed out (live, backfill or tick), in arrival order."""
        self.heard = 0
        """How many of them came live from the stream."""
        self.ticked: list[LogLine] = []
        """The ones that came from ``tick`` catch-ups."""
        self.dropped = 0
        """Events the stream dropped for their size (the feed's ``on_dropped``)."""
        self._detach = self.feed.attach(sched, self._hear, self._dropped)
        self._next_tick = harness.vt.now

    @property
    def key(self) -> ResourceKey:
        return ResourceKey.task(self.feed.task_id)

    @property
    def live(self) -> bool:
        return self.key in self.sched.streams.live

    def _hear(self, lines: list[LogLine]) -> None:
        self.got.extend(lines)
        self.heard += len(lines)

    def _dropped(self) -> None:
        self.dropped += 1

    def texts(self) -> list[str]:
        return [line.text for line in self.got]

    async def backfill(self) -> None:
        self.got.extend(await self.feed.backfill())

    async def tick(self) -> list[LogLine]:
        lines = await self.feed.tick(self.sched)
        self.got.extend(lines)
        self.ticked.extend(lines)
        return lines

    async def step(self, seconds: float = 1.0) -> None:
        """Move time one step; tick every ``TICK_SECONDS`` as the Logs tab's timer does."""
        await self.harness.run(seconds, [self.sched])
        if self.harness.vt.now >= self._next_tick:
            self._next_tick = self.harness.vt.now + TICK_SECONDS
            await self.tick()

    async def until(self, condition: Callable[[], bool], steps: int = 120) -> None:
        """Step (and tick) until ``condition`` holds; fail after ``steps`` virtual seconds."""
        for _ in range(steps):
            if condition():
                return
            await self.step()
        raise AssertionError("the feed never got there")

    async def write_and_hear(self, text: str) -> bool:
        """Write one line; True once the stream delivered it live (virtual time standing
        still), False if the stream stopped being live instead."""
        write_log(self.harness, self.feed.task_id, text)
        assert await self.harness.until(lambda: text in self.texts() or not self.live)
        return text in self.texts()

    def detach(self) -> None:
        self._detach()

    async def check_exact(self, client: InferenceClient) -> list[tuple[str, str]]:
        """Wait until the feed has every line ``/logs`` has, then assert it is exactly that."""
        truth = await reference(client, self.feed.task_id)
        await self.until(lambda: len(self.got) >= len(truth))
        self.detach()
        assert [(line.text, line.phase) for line in self.got] == truth
        assert [line.seq for line in self.got] == list(range(len(self.got)))
        return truth


async def start_following(
    harness: SimHarness, client: InferenceClient, task_id: str, *, wait_live: bool = True
) -> tuple[Scheduler, Follower]:
    sched = harness.scheduler(client)
    await sched.start()
    sched.subscribe(task_id, Tier.FOCUSED, "detail")
    follower = Follower(harness, sched, task_id)
    if wait_live:
        assert await harness.until(lambda: follower.live)
    await follower.backfill()
    await follower.tick()  # the feed's first tick re-reads /logs once, whatever the stream
    return sched, follower


def history(harness: SimHarness, task_id: str) -> None:
    """Lines written before the screen opened: the backfill brings them."""
    write_log(harness, task_id, "setting up\nsetup done", LOG_SETUP)
    write_log(harness, task_id, "history 1\nhistory 2")


# -- R11: the stream drops mid-frame --------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_r11_drops_mid_frame_lose_and_double_nothing(
    harness: SimHarness, fmt: StreamFormat
) -> None:
    """Every connection is cut in the middle of its fourth frame; SSE resumes with
    Last-Event-ID (the simulator replays after it), NDJSON fills the gap from ``/logs``."""
    (tid,) = open_tasks(harness.sim, 1)
    history(harness, tid)
    fault(harness, stream_drop_after=3)
    async with client_for(harness, fmt) as client:
        resumed_from = last_event_ids(client, tid)
        sched, follower = await start_following(harness, client, tid)
        try:
            assert follower.texts() == ["setting up", "setup done", "history 1", "history 2"]
            for i in range(30):
                write_log(harness, tid, f"line {i:04d}")
                await follower.step()
            await follower.check_exact(client)
            connects = stream_connects(harness, tid)
            assert len(connects) >= 5  # it really dropped (and came back) again and again
            assert follower.heard > 0
            if fmt == "sse":
                assert resumed_from[0] is None
                ids = [int(i) for i in resumed_from[1:] if i is not None]
                assert len(ids) == len(resumed_from) - 1  # Last-Event-ID on every reconnect
                assert ids == sorted(ids)
                assert ids[-1] >= 25
        finally:
            await sched.stop()


# -- R12: the server ignores Last-Event-ID and replays from the start ------------------------


async def test_r12_full_replay_after_a_drop_shows_nothing_twice(harness: SimHarness) -> None:
    (tid,) = open_tasks(harness.sim, 1)
    history(harness, tid)
    fault(harness, stream_ignore_last_event_id=True, stream_drop_after=6)
    async with client_for(harness, "sse") as client:
        resumed_from = last_event_ids(client, tid)
        sched, follower = await start_following(harness, client, tid)
        try:
            dropped_at = None
            for i in range(12):
                if not await follower.write_and_hear(f"line {i:04d}"):
                    dropped_at = i  # cut mid-frame: the reconnect (after a virtual second)
                    fault(harness, stream_drop_after=None)  # replays the whole history
                    await follower.step()
                    assert await harness.until(lambda: follower.live)
            assert dropped_at is not None
            await follower.check_exact(client)
            assert len(stream_connects(harness, tid)) == 2
            assert resumed_from[1] is not None  # the client asked to resume…
            assert int(resumed_from[1]) > 1  # …and got history from id 1 instead
            assert follower.heard >= 10
        finally:
            await sched.stop()


async def test_r11_r12_drops_and_replays_together_keep_the_order(harness: SimHarness) -> None:
    """Every connection replays from the start and is cut after four frames, so no
    connection ever gets past the replay: the scheduler gives the stream up, polls, and
    starts a new one (which begins with a snapshot, not the lines written in between)."""
    (tid,) = open_tasks(harness.sim, 1)
    history(harness, tid)
    fault(harness, stream_ignore_last_event_id=True, stream_drop_after=4)
    async with client_for(harness, "sse") as client:
        sched, follower = await start_following(harness, client, tid)
        try:
            for i in range(40):
                write_log(harness, tid, f"line {i:04d}")
                await follower.step()
            await follower.check_exact(client)
            assert len(stream_connects(harness, tid)) > 5
        finally:
            await sched.stop()


# -- R17: half-open connection: silence without FIN ----------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_r17_a_silent_stream_is_left_and_the_feed_catches_up(
    harness: SimHarness, fmt: StreamFormat
) -> None:
    (tid,) = open_tasks(harness.sim, 1)
    history(harness, tid)
    # A real (short) watchdog: a half-open connection sends nothing a virtual one could see.
    async with client_for(harness, fmt, idle_timeout=0.3) as client:
        sched, follower = await start_following(harness, client, tid)
        try:
            assert await follower.write_and_hear("before the silence")
            fault(harness, stream_stall=True)
            write_log(harness, tid, "written into the silence 1\nwritten into the silence 2")
            # The watchdog fires, the stream reconnects (after a virtual wait that has not
            # passed yet) and the scheduler falls back to polling meanwhile.
            assert await harness.until(lambda: not follower.live)
            assert follower.texts()[-1] == "before the silence"
            caught = await follower.tick()
            assert [line.text for line in caught] == [
                "written into the silence 1",
                "written into the silence 2",
            ]
            fault(harness, stream_stall=False)
            await follower.until(lambda: follower.live)  # the reconnect delivers again
            assert await follower.write_and_hear("after the silence")
            await follower.check_exact(client)
            assert len(stream_connects(harness, tid)) >= 2
        finally:
            await sched.stop()


# -- R18: slow loris: a byte every 4 s, never a whole frame ---------------------------------


async def test_r18_slow_loris_trips_the_event_watchdog(harness: SimHarness) -> None:
    def configure(world: World) -> None:
        world.config.heartbeat_interval = 4.0  # a byte every 4 s
        world.config.sse_retry_ms = 8000  # the reconnect waits 8 s: the feed polls meanwhile

    harness.sim.call(configure)
    (tid,) = open_tasks(harness.sim, 1)
    history(harness, tid)
    async with client_for(harness, "sse", idle_timeout=30.0, virtual_watchdog=True) as client:
        sched, follower = await start_following(harness, client, tid)
        try:
            assert await follower.write_and_hear("before the trickle")
            fault(harness, stream_trickle=True)
            began = harness.vt.now
            write_log(harness, tid, "during the trickle")
            await follower.until(lambda: not follower.live, steps=60)
            left_after = harness.vt.now - began
            assert 30.0 <= left_after <= 40.0  # no complete frame for 30 s: left
            await follower.until(lambda: bool(follower.ticked), steps=6)  # polled meanwhile
            assert [line.text for line in follower.ticked] == ["during the trickle"]
            fault(harness, stream_trickle=False)
            await follower.until(lambda: follower.live)
            assert await follower.write_and_hear("after the trickle")
            await follower.check_exact(client)
            assert len(stream_connects(harness, tid)) >= 2
        finally:
            await sched.stop()


# -- R19: heartbeats only -------------------------------------------------------------------


async def test_r19_heartbeat_only_stream_is_kept_and_lines_come_by_polling(
    harness: SimHarness,
) -> None:
    """Heartbeats from the first byte on and never an event: the connection is kept (the
    heartbeats feed the watchdog, so no reconnect churn) and the lines come from ``/logs``."""
    fault(harness, stream_heartbeat_only=True)
    (tid,) = open_tasks(harness.sim, 1)
    history(harness, tid)
    async with client_for(harness, "sse", idle_timeout=30.0, virtual_watchdog=True) as client:
        sched, follower = await start_following(harness, client, tid, wait_live=False)
        try:
            for i in range(12):
                write_log(harness, tid, f"line {i:04d}")
                await follower.step(10.0)
            await follower.check_exact(client)
            assert len(stream_connects(harness, tid)) == 1  # 2 minutes, one connection
            assert follower.heard == 0
            assert not follower.live
        finally:
            await sched.stop()


async def test_r19_a_live_stream_turning_heartbeat_only_does_not_hide_lines(
    harness: SimHarness,
) -> None:
    """The stream delivers, then its events stop while heartbeats go on: the connection
    looks healthy for ever, so only a periodic ``/logs`` read can bring the new lines."""
    (tid,) = open_tasks(harness.sim, 1)
    history(harness, tid)
    async with client_for(harness, "sse", idle_timeout=30.0, virtual_watchdog=True) as client:
        sched, follower = await start_following(harness, client, tid)
        try:
            assert await follower.write_and_hear("streamed")
            fetches = follower.feed.fetches
            fault(harness, stream_heartbeat_only=True)
            write_log(harness, tid, "never streamed")
            await follower.until(lambda: "never streamed" in follower.texts(), steps=90)
            assert follower.live  # the stream was kept all along
            assert len(stream_connects(harness, tid)) == 1
            assert follower.feed.fetches - fetches <= 2  # at a low rate, not every tick
            await follower.check_exact(client)
        finally:
            await sched.stop()


# -- R23: multi-byte characters split across chunks -----------------------------------------


@pytest.mark.parametrize(("fmt", "chunk"), [("ndjson", 1), ("sse", 3), ("ndjson", 7)])
async def test_r23_split_utf8_in_log_lines_is_reassembled(
    harness: SimHarness, fmt: StreamFormat, chunk: int
) -> None:
    harness.sim.call(lambda w: setattr(w.config, "log_encoding", "plain"))
    fault(harness, stream_chunk_size=chunk)
    (tid,) = open_tasks(harness.sim, 1)
    texts = ["ünïcødé ✓ 🎉", "日本語のログ", "Ωμέγα — ½ € 𝄞", "emoji 👩\u200d💻 done"]
    async with client_for(harness, fmt) as client:
        sched, follower = await start_following(harness, client, tid)
        try:
            for text in texts:
                assert await follower.write_and_hear(text)
            assert follower.texts() == texts
            assert follower.heard == len(texts)
            await follower.check_exact(client)
        finally:
            await sched.stop()


# -- R24: one 20 MB event --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_r24_a_20_mb_event_is_dropped_said_and_the_stream_recycled(
    harness: SimHarness, fmt: StreamFormat
) -> None:
    """The first connection sends its snapshot, then one 20 MB log event: the client drops it
    at the 8 MiB cap, closes that connection and reconnects; the listener hears of the drop
    once, and the lines before and after it all arrive, in order, once."""
    (tid,) = open_tasks(harness.sim, 1)
    history(harness, tid)
    fault(harness, stream_oversized_event=20 * 2**20)
    async with client_for(harness, fmt) as client:
        sched, follower = await start_following(harness, client, tid, wait_live=False)
        try:
            assert await harness.until(lambda: follower.dropped == 1)  # 8 MiB over loopback
            await follower.step()  # the reconnect's wait
            assert len(stream_connects(harness, tid)) == 2
            heard = follower.heard
            write_log(harness, tid, "after the giant")  # the new connection delivers it live
            assert await harness.until(lambda: "after the giant" in follower.texts())
            assert follower.heard == heard + 1
            assert follower.live
            await follower.check_exact(client)
            assert follower.dropped == 1
            assert len(stream_connects(harness, tid)) == 2
            assert not any("x" * 100 in text for text in follower.texts())
        finally:
            await sched.stop()


# -- R29: leaving while the stream delivers -------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_r29_releasing_the_task_mid_stream_closes_its_stream(
    harness: SimHarness, fmt: StreamFormat
) -> None:
    """What leaving the detail screen does (release the focus, detach the feed) while lines
    are flowing: the supervisor ends, the response is closed on both ends, nothing reopens."""
    (tid,) = open_tasks(harness.sim, 1)
    async with client_for(harness, fmt) as client:
        sched, follower = await start_following(harness, client, tid)
        try:
            assert await follower.write_and_hear("streamed")
            assert open_requests(client) == 1
            assert len(followers()) == 1
            write_log(harness, tid, "in flight as the user leaves")
            follower.detach()
            sched.release(tid, "detail")
            assert await harness.until(lambda: open_requests(client) == 0)
            assert await harness.until(lambda: not followers())
            assert await harness.until(lambda: harness.sim.call(lambda w: w.stream_count()) == 0)
            assert not follower.live
            await harness.run(30, [sched])
            assert len(stream_connects(harness, tid)) == 1  # nothing reopened it
            assert open_requests(client) == 0
        finally:
            await sched.stop()
