"""The status walk of a live task: received → queued → dispatched → preparing → (serving) →
setting_up → running → uploading → completed, or failed / cancelled.

Every step is a timer on the simulated clock; log lines and token deltas are emitted by
chained ticks while a phase lasts. A cancelled task's timers are dropped, so nothing it had
planned can fire afterwards.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from infdash.sim.logs import LOG_TASK, llm_tokens, phase_lines
from infdash.sim.tasks import (
    COMPLETED,
    DISPATCHED,
    FAILED,
    PREPARING,
    QUEUED,
    RUNNING,
    SERVING,
    SETTING_UP,
    STATUS_NAMES,
    UPLOADING,
    Task,
)
from infdash.sim.webhooks import deliver_webhook

if TYPE_CHECKING:
    from infdash.sim.world import World

TICK = 0.5
"""Simulated seconds between log ticks."""
PHASE_RATES = {"prepare": 2.0, "build": 6.0, "serve": 3.0, "setup": 2.0, "upload": 2.0}
"""Log lines per simulated second of the non-run phases."""
LIVE_FAILURE = "task interrupted, please retry"


def plan_durations(task: Task) -> dict[str, float]:
    """Draw every phase duration of a task from its own random stream."""
    spec = task.app.spec
    r = task.rng
    plan = {
        "receive": r.uniform(0.1, 0.3),
        "dispatch": r.uniform(0.1, 0.4),
        "prepare": r.uniform(*spec.prepare),
        "serving": r.uniform(*spec.serving),
        "setup": r.uniform(*spec.setup),
        "run": r.uniform(*spec.run),
        "upload": r.uniform(*spec.upload),
    }
    return plan


def make_output(task: Task, tokens: list[str] | None = None) -> Any:
    """The output of a completed task, by app."""
    spec = task.app.spec
    if spec.output_kind == "image":
        return {
            "image": {
                "uri": f"https://cloud.inference.sh/sim/{task.id}/output.png",
                "filename": "output.png",
                "content_type": "image/png",
                "size": 400_000 + sum(map(ord, task.id)) * 97,
                "width": 1024,
                "height": 1024,
            }
        }
    if spec.output_kind == "text":
        return {"text": "".join(tokens or [])}
    if spec.name == "slow":
        return {"result": "done", "steps": task.run_steps}
    return dict(task.input)


class Walker:
    """Moves live tasks through their statuses on the world's clock."""

    def __init__(self, world: World) -> None:
        self.w = world

    def later(self, task: Task, delay: float, fn: Callable[[], None]) -> None:
        """A timer owned by the task (dropped when it is cancelled or ends)."""
        task.timers.append(self.w.sched.call_later(delay, fn))

    def log(self, task: Task, lines: list[tuple[int, str]]) -> None:
        """Write log lines now."""
        self.w.append_logs(task, lines)

    def begin(self, task: Task) -> None:
        """Plan a new task and schedule its move to ``queued`` (at ``run_at`` if later)."""
        task.plan = plan_durations(task)
        self.log(task, [(LOG_TASK, f"task received: {task.app.text} ({task.app.function})")])
        delay = task.plan["receive"]
        if task.run_at is not None:
            delay = max(delay, task.run_at - self.w.now())
        self.later(task, delay, lambda: self.enqueue(task))

    def enqueue(self, task: Task) -> None:
        """→ queued, then try to find a worker."""
        self.w.set_status(task, QUEUED)
        self.log(task, [(LOG_TASK, "waiting for an available worker")])
        self.w.queue.append(task.id)
        self.dispatch()

    def dispatch(self) -> None:
        """Hand idle workers to queued tasks in arrival order."""
        for task_id in list(self.w.queue):
            task = self.w.tasks.get(task_id)
            if task is None or task.status != QUEUED:
                self.w.queue.remove(task_id)
                continue
            worker = self.w.engines.take(task.app.spec.ref, task.workers or None)
            if worker is None:
                continue
            self.w.queue.remove(task_id)
            spec = task.app.spec
            self.w.engines.assign(worker, task.id, spec.app_id, spec.version_id(task.app.version))
            roll = task.rng.random()
            warm = task.app.spec.ref in worker.warm_apps
            task.cold = (not warm) or roll < task.app.spec.cold_start_chance
            task.engine_id = worker.engine.id
            task.engine_name = worker.engine.name
            self.w.set_status(task, DISPATCHED, worker=worker)
            self.log(
                task,
                [(LOG_TASK, f"dispatched to worker {worker.index} on engine {worker.engine.name}")],
            )
            self.later(task, task.plan["dispatch"], functools.partial(self.prepare, task))

    def phase(
        self,
        task: Task,
        status: int,
        duration: float,
        feeds: list[tuple[str, float]],
        then: Callable[[], None],
    ) -> None:
        """Enter a status for ``duration``, writing lines of each (phase, rate) per tick."""
        self.w.set_status(task, status)
        self.log(task, [(LOG_TASK, f"status: {STATUS_NAMES[status]}")])
        self.later(task, duration, then)
        self.ticks(task, status, duration, feeds)

    def ticks(
        self, task: Task, status: int, duration: float, feeds: list[tuple[str, float]]
    ) -> None:
        """Chained log ticks while the task stays in ``status``."""
        end_at = self.w.now() + duration
        acc = [0.0 for _ in feeds]

        def tick() -> None:
            if task.status != status:
                return
            lines: list[tuple[int, str]] = []
            for i, (phase, rate) in enumerate(feeds):
                acc[i] += rate * TICK
                n = int(acc[i])
                acc[i] -= n
                lines.extend(phase_lines(phase, task.app.spec, task.rng, n, task.run_steps))
                if phase == "run":
                    task.run_steps += n
            self.log(task, lines)
            if self.w.now() + TICK < end_at - TICK / 2:
                self.later(task, TICK, tick)

        if duration > TICK:
            self.later(task, TICK, tick)

    def prepare(self, task: Task) -> None:
        """→ preparing (image pulls on a cold start)."""
        feeds = [("prepare", PHASE_RATES["prepare"])]
        if task.cold:
            feeds.append(("build", PHASE_RATES["build"]))
        nxt = self.serve if task.cold else self.set_up
        self.phase(task, PREPARING, task.plan["prepare"], feeds, lambda: nxt(task))

    def serve(self, task: Task) -> None:
        """→ serving (model load; only on a cold start)."""
        feeds = [("serve", PHASE_RATES["serve"])]
        self.phase(task, SERVING, task.plan["serving"], feeds, lambda: self.set_up(task))

    def set_up(self, task: Task) -> None:
        """→ setting_up."""
        feeds = [("setup", PHASE_RATES["setup"])]
        self.phase(task, SETTING_UP, task.plan["setup"], feeds, lambda: self.run(task))

    def run(self, task: Task, remaining: float | None = None) -> None:
        """→ running: app logs, token deltas for streaming apps, then upload or failure."""
        spec = task.app.spec
        duration = task.plan["run"] if remaining is None else remaining
        if remaining is None:
            self.w.set_status(task, RUNNING)
            self.log(task, [(LOG_TASK, "status: running")])
        tokens: list[str] = []
        if spec.streams_tokens:
            tokens = llm_tokens(task.rng)
            step = duration / len(tokens)
            for i, token in enumerate(tokens):
                self.later(
                    task, step * i + step / 2, functools.partial(self.w.emit_delta, task, token)
                )
        if spec.fails:
            end: Callable[[], None] = lambda: self.finish(task, FAILED, LIVE_FAILURE)  # noqa: E731
        else:
            end = lambda: self.upload(task, tokens)  # noqa: E731
        self.later(task, duration, end)
        self.ticks(task, RUNNING, duration, [("run", spec.run_log_rate)])

    def upload(self, task: Task, tokens: list[str]) -> None:
        """→ uploading, then completed with the app's output."""
        feeds = [("upload", PHASE_RATES["upload"])]
        output = make_output(task, tokens)
        self.phase(
            task,
            UPLOADING,
            task.plan["upload"],
            feeds,
            lambda: self.finish(task, COMPLETED, None, output),
        )

    def finish(self, task: Task, status: int, error: str | None, output: Any = None) -> None:
        """End the task: free its worker, publish the terminal task, fire the webhook."""
        if task.terminal:
            return
        task.cancel_timers()
        if task.id in self.w.queue:
            self.w.queue.remove(task.id)
        elapsed = self.w.now() - task.created_at
        word = STATUS_NAMES[status]
        self.log(task, [(LOG_TASK, f"task {word} after {elapsed:.1f}s")])
        if task.worker is not None:
            self.w.engines.release(task.worker, task.app.spec.ref)
        task.error = error
        if status == COMPLETED:
            task.output = output
        if status == FAILED and error == LIVE_FAILURE:
            task.refunded = True
        self.w.set_status(task, status)
        if task.worker is not None:
            self.dispatch()
        if task.webhook and not task.webhook_sent:
            task.webhook_sent = True
            self.w.spawn(deliver_webhook(self.w, task))


def backdated_events(task: Task, start: float, until: int) -> float:
    """Fill ``task.events`` from ``received`` up to status ``until`` starting at ``start``;
    returns the time the last recorded status began. Uses the task's plan."""
    plan = task.plan
    t = start
    steps: list[tuple[int, float]] = [
        (1, plan["receive"]),
        (2, task.rng.uniform(0.0, 4.0)),
        (3, plan["dispatch"]),
        (4, plan["prepare"]),
    ]
    if task.cold:
        steps.append((5, plan["serving"]))
    steps += [(6, plan["setup"]), (7, plan["run"]), (9, plan["upload"])]
    for status, duration in steps:
        task.events.append((status, t))
        if status == until:
            return t
        t += duration
    return t
