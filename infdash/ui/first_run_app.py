"""The app shown when no API key is configured: the first-run screen and nothing else.

It has no client and no scheduler (there is nothing to connect with); choosing the demo ends
it with the result ``"demo"`` so the caller opens the dashboard on the simulator.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from infdash.ui.screens.first_run import FirstRunScreen
from infdash.ui.theming import apply_theme


class FirstRunApp(App[str]):
    TITLE = "infdash"

    def __init__(self, config_file: Path, *, theme: str = "") -> None:
        super().__init__()
        self._config_file = config_file
        self._theme_name = theme

    def on_mount(self) -> None:
        apply_theme(self, self._theme_name)
        self.push_screen(FirstRunScreen(self._config_file, on_demo=self._open_demo))

    def _open_demo(self) -> None:
        self.exit(result="demo")
