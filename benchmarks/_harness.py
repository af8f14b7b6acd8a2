"""Drive a scheduler against the simulator on one virtual clock (tests and benchmarks).

The simulator runs on its manual clock; the scheduler (and its client's reconnect sleeps) on a
:class:`VirtualTime`.  :meth:`SimHarness.run` moves both together, from one due sleeper to the
next (at most ``max_step`` apart), and lets every scheduler settle — loop asleep, no poll in
flight — before time moves on.  So ten simulated minutes take seconds, and every wait the
scheduler chooses is exact.  Requests are counted on the wire by an httpx event hook.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from infdash.api import InferenceClient, classify
from infdash.api.retry import NO_RETRY
from infdash.scheduler.clock import VirtualTime
from infdash.scheduler.policy import Tier
from infdash.scheduler.scheduler import Scheduler
from infdash.sim import SimServer
from infdash.sim.catalog import CATALOG, AppRef
from infdash.sim.tasks import RUNNING, Task
from infdash.sim.world import World


@dataclass(frozen=True, slots=True)
class Hit:
    """One response the server sent, at virtual time ``at``."""

    at: float
    method: str
    path: str
    limit_class: str | None
    status: int
    client: int
    reset: str | None = None
    date: str | None = None


class SimHarness:
    def __init__(self, sim: SimServer, *, start: float = 1000.0) -> None:
        self.sim = sim
        self.vt = VirtualTime(start)
        self.start = start
        self.sim_origin: float = sim.call(lambda w: w.now())
        self.hits: list[Hit] = []
        self._clients = 0

    def client(self) -> InferenceClient:
        """A client that never retries on its own, sleeps on virtual time and is counted."""
        number = self._clients
        self._clients += 1

        async def hook(response: httpx.Response) -> None:
            request = response.request
            path = request.url.path
            path = path[3:] if path.startswith("/v1/") else path
            cls = classify(request.method, path)
            name = None if cls is None else str(cls)
            self.hits.append(
                Hit(
                    self.vt.now,
                    request.method,
                    path,
                    name,
                    response.status_code,
                    number,
                    response.headers.get("x-ratelimit-reset"),
                    response.headers.get("date"),
                )
            )

        client = InferenceClient(
            self.sim.base_url, self.sim.api_key, retry=NO_RETRY, sleep=self.vt.sleep
        )
        client.http.event_hooks["response"].append(hook)
        return client

    def scheduler(self, client: InferenceClient, seed: int = 1, **options: object) -> Scheduler:
        rng = random.Random(seed)
        return Scheduler(
            client,
            clock=self.vt,
            sleep=self.vt.sleep,
            rng=rng,
            **options,  # type: ignore[arg-type]
        )

    async def advance_to(self, when: float) -> None:
        step = when - self.vt.now
        if step > 0:
            await asyncio.to_thread(self.sim.advance, step)
        self.vt.advance_to(when)
        await self.vt.settle()

    async def run(
        self,
        seconds: float,
        schedulers: Sequence[Scheduler],
        *,
        max_step: float = 1.0,
        each: Callable[[float], None] | None = None,
    ) -> None:
        """Move time ``seconds`` ahead; ``each(now)`` runs at every settled step."""
        end = self.vt.now + seconds
        while True:
            for s in schedulers:
                await s.settle()
            if each is not None:
                each(self.vt.now)
            if self.vt.now >= end:
                return
            due = self.vt.next_due()
            target = min(end, self.vt.now + max_step, math.inf if due is None else due)
            await self.advance_to(max(target, self.vt.now))

    async def until(self, condition: Callable[[], bool], real_seconds: float = 5.0) -> bool:
        """Wait (real time, virtual time standing still) for pushed data such as a stream frame."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + real_seconds
        while not condition():
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.002)
        return True

    def to_virtual(self, sim_epoch: float) -> float:
        """A simulated epoch (unskewed) as virtual scheduler time."""
        return self.start + sim_epoch - self.sim_origin

    def requests(
        self, limit_class: str, since: float = -math.inf, until: float = math.inf
    ) -> list[Hit]:
        return [h for h in self.hits if h.limit_class == limit_class and since <= h.at < until]

    def max_per_window(self, limit_class: str, window: float = 60.0) -> int:
        """Most requests of one class in any window (statuses other than 429 and 401)."""
        times = sorted(h.at for h in self.hits if h.limit_class == limit_class)
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while times[lo] <= t - window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def count_status(self, status: int) -> int:
        return sum(1 for h in self.hits if h.status == status)


def open_tasks(sim: SimServer, count: int, app: str = "infsh/slow") -> list[str]:
    """``count`` running tasks that stay open (no walk): the world only changes when told."""

    def make(world: World) -> list[str]:
        spec = CATALOG[app]
        now = world.now()
        ids = []
        for _ in range(count):
            task = Task(
                id=world.next_task_id(),
                app=AppRef(spec, spec.versions[-1], spec.functions[0]),
                created_at=now - 30.0,
                input={},
                rng=random.Random(0),
                status=RUNNING,
                updated_at=now - 10.0,
            )
            task.events.append((RUNNING, now - 10.0))
            world.add_task(task)
            ids.append(task.id)
        return ids

    return sim.call(make)


def set_status(sim: SimServer, task_id: str, status: int) -> None:
    def apply(world: World) -> None:
        task = world.tasks[task_id]
        world.set_status(task, status)

    sim.call(apply)


async def two_schedulers(harness: SimHarness, first: list[str], second: list[str]) -> None:
    """R35: two clients on one key, each watching its own visible rows, for two minutes."""
    async with harness.client() as a_client, harness.client() as b_client:
        a = harness.scheduler(a_client, seed=1)
        b = harness.scheduler(b_client, seed=2)
        await a.start()
        await b.start()
        try:
            a.subscribe_many(first, Tier.VISIBLE, "table")
            b.subscribe_many(second, Tier.VISIBLE, "table")
            await harness.run(120, [a, b])
        finally:
            await a.stop()
            await b.stop()
