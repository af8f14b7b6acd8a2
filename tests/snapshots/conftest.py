"""Snapshots draw wall-clock times: pin the process to UTC so every machine draws the same.

The status bar redraws its budget figures on a 1 s timer, so whether a snapshot showed the
requests just made depended on how long the run took: :func:`settle_status_bars` redraws them
before the picture is taken."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from textual.pilot import Pilot

from infdash.ui.widgets.status_bar import StatusBar


@pytest.fixture(autouse=True)
def utc_timezone() -> Iterator[None]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


async def settle_status_bars(pilot: Pilot[object]) -> None:
    """Redraw every status bar on screen now, from the budget as it is."""
    for bar in pilot.app.screen.query(StatusBar):
        bar.refresh_status()
    await pilot.pause()
