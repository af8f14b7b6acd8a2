"""The phase waterfall of a task: queue, prepare, load model (serving), setup, run, upload.

Two sources give the same model:

* :func:`waterfall_from_timings` — ``GET /tasks/{id}/timings`` groups (exact, one request);
* :func:`waterfall_from_events` — the task's own status events, free and live: it grows while
  the task runs, with no request.

**Phase mapping** (group labels are undocumented, reference §12.23; these are the docs'
concept-page names plus the simulator's, and the status names as a fallback):

==========  ============================================================
phase       group labels / statuses
==========  ============================================================
queue       ``queue``, ``queued``, ``received``, ``waiting``
prepare     ``prepare``, ``preparing``, ``dispatched``, ``dispatch``
serving     ``serving``, ``serve``, ``load model``, ``loading``, ``load``
setup       ``setup``, ``setting_up``, ``setting up``, ``init``
run         ``run``, ``running``, ``execute``, ``executing``
upload      ``upload``, ``uploading``
cancel      ``cancel``, ``cancelling``, ``canceling`` (time spent stopping)
==========  ============================================================

Any other label is kept as its cleaned, lower-cased self; terminal statuses end the walk and
are not phases.  Adjacent entries of the same phase merge into one bar.

**Cold start**: the platform enters ``serving`` ("Loading model") only when the model is not
resident on the worker — the simulator likewise walks prepare → serving → setup only on a cold
start, and its ``/timings`` carries no flag.  So a ``serving`` phase *is* the cold start: that
phase has ``cold_start=True`` and :attr:`Waterfall.cold_start` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from infdash.api.models.status import TaskStatus
from infdash.api.models.tasks import Task
from infdash.api.models.timings import TaskTimings
from infdash.ui.sanitize import clean_line

PHASE_NAMES: tuple[str, ...] = ("queue", "prepare", "serving", "setup", "run", "upload", "cancel")

_LABELS: dict[str, str] = {
    **dict.fromkeys(("queue", "queued", "received", "waiting"), "queue"),
    **dict.fromkeys(("prepare", "preparing", "dispatched", "dispatch"), "prepare"),
    **dict.fromkeys(("serving", "serve", "load model", "loading", "load"), "serving"),
    **dict.fromkeys(("setup", "setting_up", "setting up", "init"), "setup"),
    **dict.fromkeys(("run", "running", "execute", "executing"), "run"),
    **dict.fromkeys(("upload", "uploading"), "upload"),
    **dict.fromkeys(("cancel", "cancelling", "canceling"), "cancel"),
}
COLD_PHASE = "serving"


def phase_name(label: str) -> str:
    """The waterfall phase of a timings group label or status name (see the table)."""
    text = clean_line(label).strip().lower()
    return _LABELS.get(text, _LABELS.get(text.replace("-", "_"), text))


@dataclass(frozen=True)
class Phase:
    name: str
    start: datetime
    end: datetime | None
    """None while the phase is still going."""
    cold_start: bool = False

    def duration(self, now: datetime) -> timedelta:
        return max(timedelta(0), (self.end or now) - self.start)


@dataclass(frozen=True)
class Waterfall:
    phases: tuple[Phase, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    """None while the task is not finished."""

    @property
    def cold_start(self) -> bool:
        return any(p.cold_start for p in self.phases)

    @property
    def running(self) -> bool:
        return self.end is None and bool(self.phases)

    def total(self, now: datetime) -> timedelta:
        """Start to end (or to ``now`` while unfinished); zero when nothing is known."""
        if self.start is None:
            return timedelta(0)
        return max(timedelta(0), (self.end or now) - self.start)

    def bars(self, width: int, now: datetime) -> list[tuple[Phase, int, int]]:
        """(phase, offset, length) in cells, scaled to the total over ``width`` cells.

        A phase with any duration (or still going) is at least one cell long, and every bar
        fits inside ``width``; a zero-length phase gets length 0."""
        total = self.total(now).total_seconds()
        if self.start is None or width <= 0:
            return []
        out: list[tuple[Phase, int, int]] = []
        for phase in self.phases:
            seconds = phase.duration(now).total_seconds()
            begin = max(0.0, (phase.start - self.start).total_seconds())
            if total <= 0:
                offset, length = 0, (width if seconds > 0 or phase.end is None else 0)
            else:
                offset = min(width - 1, round(begin / total * width))
                length = round((begin + seconds) / total * width) - offset
                if seconds > 0 or phase.end is None:
                    length = max(1, length)
                length = max(0, min(length, width - offset))
            out.append((phase, offset, length))
        return out


def _merge(spans: list[tuple[str, datetime, datetime | None]]) -> tuple[Phase, ...]:
    """Adjacent spans of one phase become one; ``serving`` is flagged as the cold start."""
    phases: list[Phase] = []
    for name, start, end in spans:
        if phases and phases[-1].name == name:
            last = phases[-1]
            phases[-1] = Phase(name, last.start, end, last.cold_start)
        else:
            phases.append(Phase(name, start, end, name == COLD_PHASE))
    return tuple(phases)


def waterfall_from_timings(timings: TaskTimings) -> Waterfall:
    """The waterfall of ``GET /tasks/{id}/timings``.

    While the task runs the server ends its last group at "now"; here it is left open
    (``end=None``) so the bar keeps growing between refreshes."""
    finished = timings.status.is_terminal
    spans: list[tuple[str, datetime, datetime | None]] = []
    groups = [g for g in timings.groups if g.start_at is not None]
    for i, group in enumerate(groups):
        assert group.start_at is not None
        end = group.end_at
        if end is None and group.duration_ms > 0:
            end = group.start_at + timedelta(milliseconds=group.duration_ms)
        if i == len(groups) - 1 and not finished:
            end = None
        spans.append((phase_name(group.label), group.start_at, end))
    phases = _merge(spans)
    start = phases[0].start if phases else None
    end = None
    if finished and phases:
        ends = [p.end for p in phases if p.end is not None]
        end = max(ends) if ends else phases[-1].start
    return Waterfall(phases, start, end)


def waterfall_from_events(task: Task) -> Waterfall:
    """The waterfall from the task's status events (no request; grows while it runs).

    Stream partials carry ``status`` and ``updated_at`` but not ``events``: when the task's
    status is newer than its last event, the current phase starts at ``updated_at``."""
    walk: list[tuple[datetime, TaskStatus]] = []
    for event in task.events:
        at = event.event_time or event.created_at
        if at is not None and event.status is not TaskStatus.UNKNOWN:
            walk.append((at, event.status))
    walk.sort(key=lambda pair: pair[0])
    if task.status is not TaskStatus.UNKNOWN and (not walk or walk[-1][1] != task.status):
        at = task.updated_at or (walk[-1][0] if walk else task.created_at)
        if at is not None and (not walk or at >= walk[-1][0]):
            walk.append((at, task.status))
    spans: list[tuple[str, datetime, datetime | None]] = []
    end: datetime | None = None
    for i, (at, status) in enumerate(walk):
        if status.is_terminal:
            end = at
            break
        nxt = walk[i + 1][0] if i + 1 < len(walk) else None
        spans.append((phase_name(status.label), at, nxt))
    phases = _merge(spans)
    start = walk[0][0] if walk else None
    return Waterfall(phases, start, end)
