"""How the run dialog, the confirm dialog and the first-run screen look (100 x 32).

Cursor blink is switched off so every frame is the same; the config path is a fixed fake.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Static, TextArea

from infdash.api import NotFoundError, Task
from infdash.ui.screens import ConfirmDialog, FirstRunScreen, RunDialog, RunRequest

SnapCompare = Callable[..., bool]
SIZE = (100, 32)
APPS = ("infsh/flux-schnell@1.0.0", "infsh/echo@1.1.0", "acme/whisper@2.0.0")


@pytest.fixture(autouse=True)
def _no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)


class Harness(App[None]):
    """A plain background screen with one dialog or screen pushed on top."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self._make = make

    def compose(self) -> ComposeResult:
        yield Static("the task list would be here", markup=False)

    def on_mount(self) -> None:
        self.push_screen(self._make())


async def _never(request: RunRequest) -> Task:
    raise AssertionError("snapshots never submit")


def test_run_dialog_empty(snap_compare: SnapCompare) -> None:
    app = Harness(lambda: RunDialog(_never, APPS))
    assert snap_compare(app, terminal_size=SIZE)


def test_run_dialog_json_error(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()

    text = '{\n  "prompt": "a cat in a hat",\n  "steps": 4\n  "seed": 7\n}'
    app = Harness(lambda: RunDialog(_never, APPS, app="infsh/flux-schnell@1.0.0", input_text=text))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_run_dialog_server_error_with_setup(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    async def not_found(request: RunRequest) -> Task:
        raise NotFoundError("app not found", status=404, code="not_found")

    app = Harness(
        lambda: RunDialog(
            not_found,
            APPS,
            app="infsh/nope@1.0.0",
            input_text='{"prompt": "a cat"}',
            setup_text='{"model": "large"}',
            infra="private",
        )
    )
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_confirm_three_tasks(snap_compare: SnapCompare) -> None:
    items = [
        "tsk_8f2a1c  infsh/flux-schnell@1.0.0  (running)",
        "tsk_91bd07  infsh/echo@1.1.0  (queued)",
        "tsk_a4c3e9  acme/whisper@2.0.0  (preparing)",
    ]
    app = Harness(lambda: ConfirmDialog("Cancel 3 tasks?", items, confirm_label="Cancel tasks"))
    assert snap_compare(app, terminal_size=SIZE)


def test_first_run(snap_compare: SnapCompare) -> None:
    path = Path("/home/user/.config/infdash/config.toml")
    app = Harness(lambda: FirstRunScreen(path))
    assert snap_compare(app, terminal_size=SIZE)
