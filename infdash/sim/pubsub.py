"""Subscriptions: one asyncio queue per open stream, fed by the world and by heartbeat timers."""

from __future__ import annotations

import asyncio
import enum

from infdash.sim.clock import Scheduler, Timer
from infdash.sim.tasks import StreamEvent


class Signal(enum.Enum):
    """Non-event items a stream can receive."""

    HEARTBEAT = "heartbeat"
    CLOSE = "close"


Item = StreamEvent | Signal


class Subscription:
    """A stream's inbox; heartbeats arrive every ``interval`` simulated seconds."""

    def __init__(self, sched: Scheduler, interval: float) -> None:
        self.queue: asyncio.Queue[Item] = asyncio.Queue()
        self._sched = sched
        self._interval = interval
        self._timer: Timer | None = None
        self.closed = False
        self._arm()

    def _arm(self) -> None:
        if self._interval > 0 and not self.closed:
            self._timer = self._sched.call_later(self._interval, self._beat)

    def _beat(self) -> None:
        self.put(Signal.HEARTBEAT)
        self._arm()

    def put(self, item: Item) -> None:
        """Deliver one item (ignored once closed)."""
        if not self.closed:
            self.queue.put_nowait(item)

    def close(self) -> None:
        """Stop heartbeats and wake the reader with CLOSE."""
        if self.closed:
            return
        self.queue.put_nowait(Signal.CLOSE)
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()

    async def get(self) -> Item:
        """The next item, waiting as long as needed."""
        return await self.queue.get()
