"""How the task table looks: mixed statuses, marks, a placeholder gap, and a narrow terminal.

The table's clock is frozen (``tests.ui.table_app.NOW``), so relative times never drift.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from infdash.ui.widgets import TaskTable
from tests.ui.table_app import TableApp, make_source

SnapCompare = Callable[..., bool]


async def _mark_some(pilot: Pilot[None]) -> None:
    """Mark rows 1 and 2, leave the cursor on row 4."""
    await pilot.press("down", "space", "space", "down")
    await pilot.pause()


def test_mixed_statuses_with_marks(snap_compare: SnapCompare) -> None:
    app = TableApp(make_source(60, gaps=range(20, 24)))
    assert snap_compare(app, terminal_size=(120, 30), run_before=_mark_some)


def test_narrow_terminal_hides_columns(snap_compare: SnapCompare) -> None:
    app = TableApp(make_source(60, gaps=range(20, 24)))
    assert snap_compare(app, terminal_size=(60, 30), run_before=_mark_some)


def test_sorted_ascending_and_scrolled(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        table = pilot.app.query_one(TaskTable)
        table.sort_column = "status"
        table.sort_descending = False
        await pilot.press("pagedown", "down")
        await pilot.pause()

    app = TableApp(make_source(80, gaps=range(40, 44)))
    assert snap_compare(app, terminal_size=(120, 30), run_before=run_before)
