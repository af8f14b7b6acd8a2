"""A task's logs as one ordered, deduplicated stream of clean display lines.

Two sources feed one :class:`TaskLogLines`: the backfill from ``GET /tasks/{id}/logs`` and
the live entries the scheduler's focused task stream receives (``Scheduler.listen_logs``).
Entries are deduplicated by log id, so whatever order and overlap the two sources have,
every line is shown once.  :class:`LogFeed` orders them: live entries that arrive while the
backfill request is in flight are held back and added after it, so the backfill's (older)
lines come first.  When the stream is not live (polling fallback) :meth:`LogFeed.catch_up`
re-reads ``/logs`` and adds what is new.

Rules (documented for the screen and its tests):

* **Dedup key**: the log id.  An entry without an id (the docs' ``"logs": "Processing..."``
  string form) is keyed by ``(type, created_at, content)``.
* **Growing entries**: the simulator never changes an entry after writing it, but the real API
  stores logs as rows that *may* be appended to under the same id.  A known id whose content
  is longer than what was consumed emits only the new tail; a same-length or shorter content
  (a rewrite) emits nothing.  A tail that continues an unterminated last line shows as a new
  line (the half line was already on screen; nothing is shown twice).
* **Lines**: content is split on ``\\n`` (``\\r\\n`` too); a trailing newline ends the last line
  rather than adding an empty one; inside a line, carriage returns (progress bars) keep what a
  terminal would show — the text after the last ``\\r``.  Every line then goes through
  :func:`~infdash.ui.sanitize.clean_line` (R22): no escape sequence or control character
  reaches the screen; a line longer than ``MAX_LINE_CHARS`` is cut, and says so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from infdash.api import InferenceClient
from infdash.api.models.logs import TaskLog, TaskLogs, TaskLogType
from infdash.scheduler.limits import Priority
from infdash.scheduler.ratelimit import GET_TASK
from infdash.scheduler.subscriptions import ResourceKey
from infdash.ui.logs.buffer import PHASES, LogLine
from infdash.ui.sanitize import clean_line

if TYPE_CHECKING:
    from infdash.scheduler.scheduler import Scheduler

_PHASE_OF: dict[TaskLogType, str] = {
    TaskLogType.BUILD: "build",
    TaskLogType.RUN: "run",
    TaskLogType.SERVE: "serve",
    TaskLogType.SETUP: "setup",
    TaskLogType.TASK: "task",
    TaskLogType.UNKNOWN: "task",  # an unknown type is the platform's to explain
}


def phase_of(log_type: TaskLogType) -> str:
    """The tab a log type belongs to (``build``/``run``/``serve``/``setup``/``task``)."""
    return _PHASE_OF.get(log_type, "task")


def split_lines(text: str) -> list[str]:
    """Raw display lines of a chunk of content (see the module rules), not yet cleaned."""
    if not text:
        return []
    parts = text.split("\n")
    if parts[-1] == "":
        parts.pop()
    out: list[str] = []
    for part in parts:
        part = part.removesuffix("\r")
        if "\r" in part:
            shown = [seg for seg in part.split("\r") if seg]
            part = shown[-1] if shown else ""
        out.append(part)
    return out


MAX_LINE_CHARS = 32_768
"""A longer line is cut for display, the cut said at its end: one runaway line (a 20 MB blob
printed by a task) would otherwise stall cleaning, search and wrapping for every frame."""


def display_line(raw: str) -> str:
    """``raw`` cleaned for the screen (R22), cut at ``MAX_LINE_CHARS``."""
    if len(raw) <= MAX_LINE_CHARS:
        return clean_line(raw)
    cut = len(raw) - MAX_LINE_CHARS
    return f"{clean_line(raw[:MAX_LINE_CHARS])} … [{cut:,} more characters not shown]"


def _key(log: TaskLog) -> str:
    if log.id:
        return log.id
    stamp = log.created_at.isoformat() if log.created_at is not None else ""
    return f"\x00{int(log.log_type)}\x00{stamp}\x00{log.content}"


class TaskLogLines:
    """Pure: turns :class:`TaskLog` entries into :class:`LogLine` s, each line once."""

    def __init__(self) -> None:
        self._consumed: dict[str, int] = {}  # dedup key → characters of content already shown
        self.count = 0
        """Lines emitted so far (the next line's ``seq``)."""
        self.by_phase: dict[str, int] = dict.fromkeys(PHASES, 0)
        """Lines emitted per phase (the tab badges)."""

    def __len__(self) -> int:
        return self.count

    def seen(self, log_id: str) -> bool:
        return log_id in self._consumed

    @property
    def known_ids(self) -> frozenset[str]:
        """Ids of the entries consumed so far (``client.tasks.stream(known_log_ids=...)``)."""
        return frozenset(k for k in self._consumed if not k.startswith("\x00"))

    def add(self, logs: Iterable[TaskLog]) -> list[LogLine]:
        """The lines of ``logs`` not emitted before, in the order given."""
        out: list[LogLine] = []
        for log in logs:
            key = _key(log)
            done = self._consumed.get(key, 0)
            if key in self._consumed and len(log.content) <= done:
                continue  # a duplicate, or a rewrite we do not replay
            self._consumed[key] = len(log.content)
            phase = phase_of(log.log_type)
            for raw in split_lines(log.content[done:]):
                out.append(LogLine(display_line(raw), phase, log.created_at, self.count))
                self.count += 1
                self.by_phase[phase] = self.by_phase.get(phase, 0) + 1
        return out


async def poll_logs(client: InferenceClient, task_id: str) -> tuple[TaskLog, ...]:
    """Every log entry of the task so far (``GET /tasks/{id}/logs``)."""
    logs = await client.tasks.logs(task_id)
    return logs.logs


LinesCallback = Callable[[list[LogLine]], None]


class LogFeed:
    """Backfill, then live lines, for one task: nothing missing, nothing twice.

    Usage by the detail screen::

        feed = LogFeed(scheduler, task_id)
        stop = feed.attach(scheduler, on_lines)   # live entries from the focused stream
        show(await feed.backfill())               # history + whatever arrived meanwhile
        ...                                       # on_lines(lines) for every later batch
        show(await feed.tick(scheduler))          # every few seconds: catches up only
        stop()                                    # while (or just after) polling

    Why ``tick``: when the focused stream gives up and the scheduler falls back to polling,
    no live entries arrive.  ``tick`` re-reads ``/logs`` while the stream is not live and once
    more when it is live again (a new stream fetches the entries written in between itself,
    before its live ones, so the order holds; this read is the safety net).  While the stream
    is live it still re-reads every ``reconcile_ticks`` ticks (R19): a stream that sends only
    heartbeats looks healthy for ever, and would otherwise hide new lines for good.

    ``source`` is a :class:`~infdash.scheduler.scheduler.Scheduler` (requests go through its
    rate budget at poll priority) or a bare :class:`~infdash.api.InferenceClient`.
    """

    def __init__(
        self, source: Scheduler | InferenceClient, task_id: str, *, reconcile_ticks: int = 20
    ) -> None:
        self.task_id = task_id
        self.reconcile_ticks = reconcile_ticks
        """While the stream is live, every this many ticks re-read ``/logs`` anyway (at the
        Logs tab's 3 s tick: once a minute, the reconcile rate of performance.md R19)."""
        self._live_ticks = 0
        self.lines = TaskLogLines()
        self._source = source
        self._backfilled = False
        self._pending: list[TaskLog] = []
        self.fetches = 0
        """``/logs`` requests made (backfill and catch-ups)."""
        self._was_live = False  # the first tick re-reads once: the stream may have connected
        # after the backfill's answer, and a new stream starts with a snapshot, not the logs
        self.finished = False
        """A ``/logs`` answer said the task has ended: its log is complete, stop fetching."""

    @property
    def backfilled(self) -> bool:
        return self._backfilled

    async def _fetch(self) -> TaskLogs:
        self.fetches += 1
        source = self._source
        if isinstance(source, InferenceClient):
            logs = await source.tasks.logs(self.task_id)
        else:
            client = source.client
            call: Callable[[], Awaitable[TaskLogs]] = lambda: client.tasks.logs(self.task_id)  # noqa: E731
            logs = await source.user_action(GET_TASK, call, priority=Priority.POLL)
        self.finished = self.finished or logs.status.is_terminal
        return logs

    async def backfill(self) -> list[LogLine]:
        """Every line so far: ``/logs`` first, then live entries fed while it was in flight.

        On an error the held-back live entries stay held (nothing is lost); call again."""
        logs = await self._fetch()
        self._backfilled = True
        pending, self._pending = self._pending, []
        return self.lines.add((*logs.logs, *pending))

    def feed(self, logs: Iterable[TaskLog]) -> list[LogLine]:
        """Live entries: their new lines (none before :meth:`backfill`, which returns them)."""
        if not self._backfilled:
            self._pending.extend(logs)
            return []
        return self.lines.add(logs)

    async def catch_up(self) -> list[LogLine]:
        """Polling fallback: re-read ``/logs`` and return only unseen lines."""
        if not self._backfilled:
            return await self.backfill()
        logs = await self._fetch()
        return self.lines.add(logs.logs)

    async def tick(self, scheduler: Scheduler) -> list[LogLine]:
        """Call on a timer: :meth:`catch_up` while the task's stream is not live, once right
        after it became live again and every ``reconcile_ticks`` ticks while it stays live;
        otherwise — or once the task's log is complete — nothing (no request)."""
        if self.finished and self._backfilled:
            return []
        live = self.streaming(scheduler)
        was_live, self._was_live = self._was_live, live
        if live and was_live and self._backfilled:
            self._live_ticks += 1
            if self._live_ticks < self.reconcile_ticks:
                return []
        self._live_ticks = 0
        return await self.catch_up()

    def attach(
        self,
        scheduler: Scheduler,
        on_lines: LinesCallback,
        on_dropped: Callable[[], None] | None = None,
    ) -> Callable[[], None]:
        """Hear the focused stream's new entries; ``on_lines`` gets each non-empty batch of new
        lines once the backfill is done, ``on_dropped`` each event the stream dropped for its
        size (R24).  Returns the detach function."""

        def hear(logs: tuple[TaskLog, ...]) -> None:
            lines = self.feed(logs)
            if lines:
                on_lines(lines)

        return scheduler.listen_logs(self.task_id, hear, on_dropped)

    def streaming(self, scheduler: Scheduler) -> bool:
        """True while the scheduler's stream of this task is live (no catch-up needed)."""
        return ResourceKey.task(self.task_id) in scheduler.streams.live
