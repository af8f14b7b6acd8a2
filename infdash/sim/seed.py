"""Seeded history: ``history_size`` past tasks plus a few already running at start.

Deterministic for a seed and start time: one ``random.Random(seed)`` draws the history, each
task has its own stream derived from its id, and ids come from (seed, index). Logs of past
tasks are generated on first read (:func:`ensure_logs`), not at start, so a 3000-task world
starts quickly.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from infdash.sim.catalog import CATALOG, PLATFORM_FAILURES, AppRef, AppSpec
from infdash.sim.clock import rfc3339
from infdash.sim.ids import make_id
from infdash.sim.logs import LOG_TASK, log_entry, phase_lines
from infdash.sim.tasks import (
    CANCELLED,
    CANCELLING,
    COMPLETED,
    FAILED,
    PREPARING,
    QUEUED,
    RUNNING,
    SERVING,
    SETTING_UP,
    STATUS_NAMES,
    TERMINAL,
    UPLOADING,
    Task,
)
from infdash.sim.walk import PHASE_RATES, TICK, backdated_events, make_output, plan_durations

if TYPE_CHECKING:
    from infdash.sim.world import World

APP_WEIGHTS = {"infsh/echo": 3, "infsh/flux": 3, "infsh/llm": 3, "infsh/slow": 1, "infsh/flaky": 1}
RUNNING_APPS = ("infsh/slow", "infsh/flux", "infsh/slow", "infsh/llm")
APP_ERRORS = ("ValueError: prompt must not be empty", "CUDA out of memory (tried 2.5 GiB)")
MAX_PHASE_LINES = 3000


def sample_input(spec: AppSpec, rng: random.Random, n: int) -> dict[str, Any]:
    """A plausible input for an app."""
    if spec.name in ("flux",):
        return {"prompt": f"a lighthouse at dusk, study {n}", "seed": rng.randint(0, 9999)}
    if spec.name == "llm":
        return {"text": f"Summarise report #{n} in two sentences."}
    if spec.name == "slow":
        return {"steps": rng.randint(100, 2000)}
    return {"message": f"hello {n}", "n": n}


def _new_task(world: World, task_id: str, spec: AppSpec, created: float, n: int) -> Task:
    rng = random.Random(f"{world.config.seed}:{task_id}")
    version = rng.choice(spec.versions)
    task = Task(
        id=task_id,
        app=AppRef(spec, version, spec.functions[0]),
        created_at=created,
        input=sample_input(spec, rng, n),
        rng=rng,
    )
    task.plan = plan_durations(task)
    task.cold = rng.random() < 0.3
    return task


def _place(world: World, task: Task, rng: random.Random) -> None:
    worker = rng.choice(world.engines.workers())
    task.worker = worker
    task.engine_id = worker.engine.id
    task.engine_name = worker.engine.name


def seed_world(world: World) -> None:
    """Fill the world with past tasks and start the running ones."""
    rng = world.rng
    now = world.now()
    names = list(APP_WEIGHTS)
    weights = [APP_WEIGHTS[n] for n in names]
    past: list[Task] = []
    for i in range(world.config.history_size):
        spec = CATALOG[rng.choices(names, weights)[0]]
        created = now - rng.uniform(900.0, 7 * 86400.0)
        task = _new_task(world, make_id("task", world.config.seed, "past", i), spec, created, i)
        _walk_past(world, task, rng)
        past.append(task)
    for task in sorted(past, key=lambda t: t.created_at):
        world.add_task(task)
    for i in range(world.config.running_at_start):
        spec = CATALOG[RUNNING_APPS[i % len(RUNNING_APPS)]]
        task_id = make_id("task", world.config.seed, "running", i)
        task = _new_task(world, task_id, spec, now - rng.uniform(20.0, 60.0), i)
        worker = world.engines.take(spec.ref)
        if worker is None:
            break
        world.engines.assign(worker, task.id, spec.app_id, spec.version_id(task.app.version))
        task.worker = worker
        task.engine_id = worker.engine.id
        task.engine_name = worker.engine.name
        run_start = backdated_events(task, task.created_at, RUNNING)
        task.plan["run"] = max(task.plan["run"], now - run_start + 5.0)
        task.status = RUNNING
        task.updated_at = run_start
        ensure_logs(world, task, until=now)
        world.add_task(task)
        world.walker.run(task, remaining=task.plan["run"] - (now - run_start))


def schedule_traffic(world: World) -> None:
    """Background arrivals every ``traffic_interval`` (±50 %), from their own random stream."""
    interval = world.config.traffic_interval
    if not interval or interval <= 0:
        return
    rng = random.Random(f"{world.config.seed}:traffic")
    names = list(APP_WEIGHTS)
    weights = [APP_WEIGHTS[n] for n in names]
    count = 0

    def arrive() -> None:
        nonlocal count
        if world.closing:
            return
        count += 1
        spec = CATALOG[rng.choices(names, weights)[0]]
        app = AppRef(spec, spec.latest, spec.functions[0])
        world.create_task(app, {"input": sample_input(spec, rng, count)})
        world.sched.call_later(interval * rng.uniform(0.5, 1.5), arrive)

    world.sched.call_later(interval * rng.uniform(0.5, 1.5), arrive)


def _walk_past(world: World, task: Task, rng: random.Random) -> None:
    roll = rng.random()
    if task.app.spec.fails:
        outcome = FAILED if roll < 0.9 else CANCELLED
    else:
        outcome = COMPLETED if roll < 0.8 else FAILED if roll < 0.9 else CANCELLED
    _place(world, task, rng)
    if outcome == CANCELLED and rng.random() < 0.4:
        backdated_events(task, task.created_at, QUEUED)
        queued_at = task.events[-1][1]
        task.worker = None
        task.engine_id = task.engine_name = None
        task.events.append((CANCELLED, queued_at + rng.uniform(1.0, 30.0)))
    elif outcome == CANCELLED:
        at = backdated_events(task, task.created_at, RUNNING)
        cut = at + rng.uniform(0.2, 1.0) * task.plan["run"]
        task.events += [(CANCELLING, cut), (CANCELLED, cut + rng.uniform(0.5, 2.0))]
    elif outcome == FAILED:
        at = backdated_events(task, task.created_at, RUNNING)
        task.events.append((FAILED, at + rng.uniform(0.1, 1.0) * task.plan["run"]))
        if task.app.spec.fails or rng.random() < 0.5:
            task.error = rng.choice(PLATFORM_FAILURES)
            task.refunded = True
        else:
            task.error = rng.choice(APP_ERRORS)
    else:
        end = backdated_events(task, task.created_at, 0)
        task.events.append((COMPLETED, end))
        rate = task.app.spec.run_log_rate
        task.run_steps = min(MAX_PHASE_LINES, int(task.plan["run"] * rate))
        tokens = None
        if task.app.spec.streams_tokens:
            from infdash.sim.logs import llm_tokens

            tokens = llm_tokens(task.rng)
        task.output = make_output(task, tokens)
    task.status = task.events[-1][0]
    task.updated_at = task.events[-1][1]
    task.logs_ready = False


_FEEDS: dict[int, list[str]] = {
    PREPARING: ["prepare"],
    SERVING: ["serve"],
    SETTING_UP: ["setup"],
    RUNNING: ["run"],
    UPLOADING: ["upload"],
}


def ensure_logs(world: World, task: Task, until: float | None = None) -> None:
    """Generate the logs of a seeded task from its events (once), in per-tick chunks."""
    if task.logs_ready and until is None:
        return
    rng = random.Random(f"{world.config.seed}:{task.id}:logs")
    enc = world.config.log_encoding
    entries: list[dict[str, Any]] = []
    events = task.events
    steps = 0

    def add(at: float, lines: list[tuple[int, str]]) -> None:
        by_type: dict[int, list[str]] = {}
        for log_type, text in lines:
            by_type.setdefault(log_type, []).append(text)
        for log_type, texts in by_type.items():
            body = "".join(t + "\n" for t in texts)
            entries.append(log_entry(task.id, len(entries), rfc3339(at), log_type, body, enc))

    add(task.created_at, [(LOG_TASK, f"task received: {task.app.text} ({task.app.function})")])
    end_time = until if until is not None else events[-1][1]
    for idx, (status, start) in enumerate(events):
        end = events[idx + 1][1] if idx + 1 < len(events) else end_time
        if status in TERMINAL:
            word = STATUS_NAMES[status]
            add(start, [(LOG_TASK, f"task {word} after {start - task.created_at:.1f}s")])
            break
        add(start, [(LOG_TASK, f"status: {STATUS_NAMES[status]}")])
        feeds = list(_FEEDS.get(status, []))
        if status == PREPARING and any(s == SERVING for s, _ in events):
            feeds.append("build")
        t = start + TICK
        acc = {f: 0.0 for f in feeds}
        lines_total = 0
        while t < end and lines_total < MAX_PHASE_LINES:
            lines: list[tuple[int, str]] = []
            for feed in feeds:
                rate = task.app.spec.run_log_rate if feed == "run" else PHASE_RATES[feed]
                acc[feed] += rate * TICK
                n = int(acc[feed])
                acc[feed] -= n
                lines += phase_lines(feed, task.app.spec, rng, n, steps)
                if feed == "run":
                    steps += n
            lines_total += len(lines)
            if lines:
                add(t, lines)
            t += TICK
    task.logs = entries
    task.log_count = len(entries)
    task.logs_ready = True
    if until is not None:
        task.run_steps = steps
