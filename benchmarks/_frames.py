"""A frame probe and key injector for headless Textual benchmarks (performance.md §5.1).

``Pilot.press``/``pause`` sleep in 20 ms steps, so they cannot time a frame.  The probe wraps
the app's private ``App._display`` (called once per compositor update, headless or not) and
stamps each frame with ``perf_counter``; it also serialises the update to ANSI, which headless
mode skips, so a frame costs what it would on a terminal.  A waiter registered with
:meth:`FrameProbe.when` is resolved *at* the first frame where its predicate holds, so the
time is the frame that showed the effect.

Keys go through the headless driver (``app._driver.send_message``), the path a terminal's
keys take.  Both hooks are private Textual API: they are used here only, Textual is pinned,
and :meth:`FrameProbe.check` fails loudly when no frame is seen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual import events
from textual._compositor import CompositorUpdate
from textual.app import App
from textual.screen import Screen


@dataclass
class _Waiter:
    predicate: Callable[[], bool]
    future: asyncio.Future[float]


@dataclass
class FrameProbe:
    """Times every frame ``app`` paints."""

    app: App[Any]
    serialise: bool = True
    """Also render each update to ANSI (what a real terminal frame costs)."""
    frames: list[float] = field(default_factory=list)
    bytes_out: int = 0
    _waiters: list[_Waiter] = field(default_factory=list)

    def __post_init__(self) -> None:
        original = self.app._display

        def display(screen: Screen[Any], renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None:
                return
            if self.serialise and isinstance(renderable, CompositorUpdate):
                self.bytes_out += len(renderable.render_segments(self.app.console))
            now = time.perf_counter()
            self.frames.append(now)
            if self._waiters:
                pending = []
                for waiter in self._waiters:
                    if waiter.future.done():
                        continue
                    if waiter.predicate():
                        waiter.future.set_result(now)
                    else:
                        pending.append(waiter)
                self._waiters = pending

        # Instance attribute shadows the method: the screen calls ``app._display(...)``.
        setattr(self.app, "_display", display)  # noqa: B010

    def when(self, predicate: Callable[[], bool]) -> asyncio.Future[float]:
        """A future set to the time of the first frame painted while ``predicate()`` holds."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.append(_Waiter(predicate, future))
        return future

    async def frame(self, predicate: Callable[[], bool], within: float = 30.0) -> float:
        """Wait for :meth:`when` ``predicate``; its frame time."""
        return await asyncio.wait_for(self.when(predicate), within)

    async def next_frame(self, within: float = 30.0) -> float:
        """The time of the next frame."""
        seen = len(self.frames)
        return await self.frame(lambda: len(self.frames) > seen, within)

    def check(self) -> None:
        """Fail when the hook stopped firing (a Textual upgrade moved ``_display``)."""
        if not self.frames:
            raise RuntimeError("frame probe saw no frame: App._display is no longer the hook")


def send_key(app: App[Any], key: str, character: str | None = None) -> float:
    """Inject ``key`` as a terminal would (through the driver); the time it was sent."""
    event = events.Key(key, character)
    event.set_sender(app)
    sent = time.perf_counter()
    driver = app._driver
    if driver is None:
        app.post_message(event)
    else:
        driver.send_message(event)
    return sent


async def ready(app: App[Any], probe: FrameProbe) -> None:
    """Wait for a first frame painted through the probe (and fail if none comes)."""
    await asyncio.sleep(0.05)
    app.refresh()
    await probe.next_frame()
    probe.check()


def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile of ``samples`` (nearest rank); NaN for none."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
