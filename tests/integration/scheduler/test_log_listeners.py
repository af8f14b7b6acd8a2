"""Scheduler.listen_logs: the focused stream's new log entries, each once (issue 6).

Together with ``infdash.ui.detail.logs.LogFeed``: a backfill from ``/logs``, then live lines
through the hook — across stream drops, replays and the polling fallback — equal exactly the
lines a fresh read of ``/logs`` gives at the end: nothing missing, nothing twice.
"""

from __future__ import annotations

from collections import Counter

from benchmarks._harness import SimHarness, open_tasks
from infdash.api import InferenceClient, TaskLog, TaskStatus
from infdash.scheduler import ResourceKey, Tier
from infdash.scheduler.scheduler import Scheduler
from infdash.sim.logs import LOG_RUN
from infdash.sim.world import World
from infdash.ui.detail.logs import LogFeed, TaskLogLines
from infdash.ui.logs import LogLine


async def start_slow(client: InferenceClient) -> str:
    task = await client.tasks.run("infsh/slow", {})
    return task.id


def write_log(harness: SimHarness, task_id: str, text: str, log_type: int = LOG_RUN) -> None:
    def apply(world: World) -> None:
        world.append_logs(world.tasks[task_id], [(log_type, text)])

    harness.sim.call(apply)


async def reference_lines(client: InferenceClient, task_id: str) -> list[tuple[str, str]]:
    fresh = TaskLogLines().add((await client.tasks.logs(task_id)).logs)
    return [(line.text, line.phase) for line in fresh]


async def follow(
    harness: SimHarness, sched: Scheduler, feed: LogFeed, client: InferenceClient, seconds: float
) -> tuple[list[LogLine], list[LogLine], list[tuple[str, str]], list[tuple[str, str]]]:
    """Backfill, then ``seconds`` of live lines and ticks; a fresh read of ``/logs``; then
    ``settle`` more seconds so a reconnect in progress (its backoff sleeps on virtual time)
    completes, and a final read.  Returns (lines shown by backfill and ticks, lines heard
    live, the read after ``seconds``, the final read)."""
    heard: list[LogLine] = []
    shown: list[LogLine] = []
    stop = feed.attach(sched, heard.extend)

    async def ticking(duration: float) -> None:
        end = harness.vt.now + duration
        while harness.vt.now < end:
            await harness.run(1, [sched])
            shown.extend(await feed.tick(sched))

    try:
        shown.extend(await feed.backfill())
        await ticking(seconds)
        reference = await reference_lines(client, feed.task_id)
        await ticking(6)
        final = await reference_lines(client, feed.task_id)
        await harness.until(lambda: len(shown) + len(heard) >= len(reference))
        return shown, heard, reference, final
    finally:
        stop()


def assert_once_each(
    got: list[tuple[str, str]], reference: list[tuple[str, str]], final: list[tuple[str, str]]
) -> None:
    """Every line of ``reference`` arrived; nothing arrived more often than ``final`` has it."""
    have = Counter(got)
    assert Counter(reference) - have == Counter()  # nothing missing
    assert have - Counter(final) == Counter()  # nothing twice, nothing invented


async def test_backfill_then_live_lines_through_the_hook(harness: SimHarness) -> None:
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            tid = await start_slow(client)
            await harness.run(12, [sched])  # into the run phase: history to backfill
            sched.subscribe(tid, Tier.FOCUSED, "detail")
            assert await harness.until(lambda: ResourceKey.task(tid) in sched.streams.live)
            feed = LogFeed(sched, tid)
            heard: list[LogLine] = []
            stop = feed.attach(sched, heard.extend)
            backfill = await feed.backfill()
            assert backfill
            # ST-terminated OSCs: the api layer decodes base64 with BEL in it as non-text
            # (see the plain-encoding test below for the BEL form).
            write_log(harness, tid, "\x1b[2J\x1b]0;title\x1b\\\x1b]52;c;aGVsbG8=\x1b\\boom\x1b[0m")
            await harness.run(20, [sched])
            reference = await reference_lines(client, tid)  # time stands still from here
            assert await harness.until(lambda: len(backfill) + len(heard) >= len(reference))
            stop()
            write_log(harness, tid, "after unlisten")  # nobody hears it
            assert await reference_lines(client, tid) != reference
            await harness.run(2, [sched])
            assert feed.fetches == 1
            assert len(heard) > 20
            got = [(ln.text, ln.phase) for ln in backfill + heard]
            assert got == reference
            assert ("boom", "run") in got  # escape sequences gone (R22)
            assert not any("\x1b" in text or "\x07" in text for text, _ in got)
            phases = {ln.phase for ln in backfill + heard}
            assert {"task", "setup", "run"} <= phases
            assert [ln.seq for ln in backfill + heard] == list(range(len(got)))
        finally:
            await sched.stop()


async def test_no_duplicates_across_stream_drops_and_replays(harness: SimHarness) -> None:
    harness.sim.call(lambda w: setattr(w.faults, "stream_drop_after", 4))
    harness.sim.call(lambda w: setattr(w.faults, "stream_ignore_last_event_id", True))
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            tid = await start_slow(client)
            await harness.run(8, [sched])
            sched.subscribe(tid, Tier.FOCUSED, "detail")
            feed = LogFeed(sched, tid)
            shown, heard, reference, final = await follow(harness, sched, feed, client, 40)
            assert heard, "the stream delivered nothing live"
            connects = [h for h in harness.hits if h.path == f"/tasks/{tid}/stream"]
            assert len(connects) > 5  # it dropped and reconnected many times
            got = [(ln.text, ln.phase) for ln in shown + heard]
            # Order is by arrival; as multisets: nothing missing, nothing twice.
            assert_once_each(got, reference, final)
        finally:
            await sched.stop()


async def test_polling_fallback_still_brings_every_line(harness: SimHarness) -> None:
    harness.sim.call(lambda w: setattr(w.faults, "stream_html", True))  # never streams
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            tid = await start_slow(client)
            sched.subscribe(tid, Tier.FOCUSED, "detail")
            feed = LogFeed(sched, tid)
            shown, heard, _reference, final = await follow(harness, sched, feed, client, 20)
            assert heard == []
            assert not feed.streaming(sched)
            assert feed.fetches > 5  # one catch-up per tick
            got = [(ln.text, ln.phase) for ln in shown]
            assert got == final  # polling only: in order, too
        finally:
            await sched.stop()


async def test_listeners_are_per_task_and_a_raising_one_is_kept(harness: SimHarness) -> None:
    a, b = open_tasks(harness.sim, 2)
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe(a, Tier.FOCUSED, "detail")
            sched.subscribe(b, Tier.FOCUSED, "detail-2")
            assert await harness.until(
                lambda: {ResourceKey.task(a), ResourceKey.task(b)} <= sched.streams.live
            )
            got_a: list[TaskLog] = []
            got_b: list[TaskLog] = []
            calls = [0]

            def broken(_logs: tuple[TaskLog, ...]) -> None:
                calls[0] += 1
                raise RuntimeError("a display bug")

            sched.listen_logs(a, broken)
            stop_a = sched.listen_logs(a, got_a.extend)
            sched.listen_logs(b, got_b.extend)
            write_log(harness, a, "to a")
            write_log(harness, b, "to b")
            assert await harness.until(lambda: bool(got_a) and bool(got_b))
            assert [log.content for log in got_a] == ["to a\n"]
            assert [log.content for log in got_b] == ["to b\n"]
            write_log(harness, a, "again")
            assert await harness.until(lambda: calls[0] == 2)  # still called, stream alive
            assert await harness.until(lambda: len(got_a) == 2)
            stop_a()
            stop_a()  # twice is harmless
            write_log(harness, a, "unheard")
            assert await harness.until(lambda: calls[0] == 3)
            assert len(got_a) == 2
            assert ResourceKey.task(a) in sched.streams.live
            status = sched.store.get(a)
            assert status is not None
            assert status.status is TaskStatus.RUNNING
        finally:
            await sched.stop()


async def test_escape_sequences_arrive_cleaned_with_plain_encoding(harness: SimHarness) -> None:
    harness.sim.call(lambda w: setattr(w.config, "log_encoding", "plain"))
    (tid,) = open_tasks(harness.sim, 1)
    async with harness.client() as client:
        sched = harness.scheduler(client)
        await sched.start()
        try:
            sched.subscribe(tid, Tier.FOCUSED, "detail")
            assert await harness.until(lambda: ResourceKey.task(tid) in sched.streams.live)
            feed = LogFeed(sched, tid)
            heard: list[LogLine] = []
            stop = feed.attach(sched, heard.extend)
            assert await feed.backfill() == []
            write_log(harness, tid, "\x1b[2J\x1b]0;title\x07\x1b]52;c;aGVsbG8=\x07boom\x1b[0m\r")
            assert await harness.until(lambda: bool(heard))
            stop()
            assert [(ln.text, ln.phase, ln.seq) for ln in heard] == [("boom", "run", 0)]
        finally:
            await sched.stop()
