"""How the log viewer looks: following mixed phases, a search with highlights, a filtered view.

Lines carry fixed UTC times (the snapshot conftest pins ``TZ=UTC``), so timestamps never drift.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult
from textual.pilot import Pilot

from infdash.ui.widgets.log_view import LogLine, LogView

SnapCompare = Callable[..., bool]
START = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
_SCRIPT = [
    ("build", "Step {i}/12 : RUN pip install -r requirements.txt"),
    ("setup", "loading weights shard {i} of 8 from cache"),
    ("serve", "worker ready on port 80{i:02d}"),
    ("run", "step {i}: loss=0.{i:03d} tokens/s=1,2{i:02d} (warning: slow disk)"),
    ("task", "uploaded output/frame-{i:04d}.png"),
    ("run", "Traceback (most recent call last): retrying step {i}"),
]


def lines(count: int) -> list[LogLine]:
    out = []
    for i in range(count):
        phase, template = _SCRIPT[i % len(_SCRIPT)]
        out.append(LogLine(template.format(i=i), phase, START + timedelta(seconds=1.5 * i), i))
    return out


class LogSnapApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LogView(max_lines=50)

    def on_mount(self) -> None:
        view = self.query_one(LogView)
        view.focus()
        view.append(lines(70))
        view.flush()


async def _settle(pilot: Pilot[None]) -> None:
    view = pilot.app.query_one(LogView)
    view.flush()
    await pilot.pause()
    view._update_status()
    await pilot.pause()


def test_following_mixed_phases_with_timestamps(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("t")
        await _settle(pilot)

    assert snap_compare(LogSnapApp(), terminal_size=(120, 30), run_before=run_before)


def test_search_highlights_paused_with_badge(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("pageup")
        view = pilot.app.query_one(LogView)
        view.append(lines(75)[70:])
        await pilot.press("slash", *"warning", "enter", "n")
        await _settle(pilot)

    assert snap_compare(LogSnapApp(), terminal_size=(120, 30), run_before=run_before)


def test_filtered_to_matches_and_wrapped(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("slash", *"step", "enter", "ampersand", "w")
        await _settle(pilot)

    assert snap_compare(LogSnapApp(), terminal_size=(60, 20), run_before=run_before)


def test_selection_over_matches_with_timestamps(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("t", "pageup", "slash", *"warning", "enter", "v", *["j"] * 6)
        await _settle(pilot)

    assert snap_compare(LogSnapApp(), terminal_size=(120, 30), run_before=run_before)
