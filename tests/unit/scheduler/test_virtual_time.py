"""VirtualTime: sleepers wake exactly when a harness moves time past them, never before."""

from __future__ import annotations

import asyncio

from infdash.scheduler import VirtualTime


async def test_sleepers_wake_in_order_when_time_is_moved() -> None:
    vt = VirtualTime(0.0)
    woke: list[tuple[str, float]] = []

    async def nap(name: str, delay: float) -> None:
        await vt.sleep(delay)
        woke.append((name, vt.now))

    tasks = [asyncio.create_task(nap("b", 5.0)), asyncio.create_task(nap("a", 2.0))]
    await asyncio.sleep(0)
    assert vt.next_due() == 2.0
    vt.advance_to(1.0)
    await vt.settle()
    assert woke == []
    vt.advance(4.0)
    await vt.settle()
    await asyncio.gather(*tasks)
    assert woke == [("a", 5.0), ("b", 5.0)]
    assert vt.next_due() is None
    assert vt.waking == 0


async def test_a_cancelled_sleeper_is_forgotten() -> None:
    vt = VirtualTime(0.0)
    task = asyncio.create_task(vt.sleep(3.0))
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert vt.next_due() is None
    vt.advance(10.0)
    assert vt.waking == 0
