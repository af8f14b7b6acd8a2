"""A 503 with ``Retry-After`` but no rate-limit headers still closes the class (the client's
tracker drops such responses; the scheduler feeds the budget from the error)."""

from __future__ import annotations

import random

import httpx

from infdash.api import InferenceClient
from infdash.api.retry import NO_RETRY
from infdash.scheduler import Scheduler, Tier, VirtualTime

TASK = {"id": "t1", "status": 7, "updated_at": "2026-11-25T12:00:00.000Z"}


async def test_503_retry_after_silences_polling_for_that_long() -> None:
    vt = VirtualTime(0.0)
    sent: list[tuple[float, str, int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/status") and not any(s == 503 for _, _, s in sent):
            response = httpx.Response(503, headers={"Retry-After": "7"}, json={"status": 503})
        elif path.endswith("/status"):
            response = httpx.Response(200, json={"data": {"id": "t1", "status": 7}})
        else:
            response = httpx.Response(200, json={"data": TASK})
        sent.append((vt.now, path, response.status_code))
        return response

    client = InferenceClient(
        "http://api.test", "k", transport=httpx.MockTransport(handler), retry=NO_RETRY
    )
    async with client:
        sched = Scheduler(client, clock=vt, sleep=vt.sleep, rng=random.Random(1))
        await sched.start()
        try:
            sched.subscribe("t1", Tier.FOCUSED, "detail")
            while vt.now < 20.0:
                await sched.settle()
                due = vt.next_due()
                vt.advance_to(min(20.0, vt.now + 1.0 if due is None else due))
                await vt.settle()
            await sched.settle()
        finally:
            await sched.stop()
    (failed_at,) = [t for t, _, s in sent if s == 503]
    after = [t for t, _, _ in sent if t > failed_at]
    assert after
    assert min(after) >= failed_at + 7.0
    assert min(after) <= failed_at + 8.0
    # focused polls before and after: once a second
    assert sum(1 for t, _, _ in sent if t < failed_at) >= 2
