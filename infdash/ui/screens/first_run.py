"""The first-run screen: no API key is configured, so say where one goes, or open the demo.

Shown instead of the dashboard when neither the environment, the config file nor the command
line gives a key.  It names the three places a key can come from (with the real config path and
the exact TOML schema of :mod:`infdash.config`), offers the simulated demo account, and never
shows a key: it has none, and it does not read the environment.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from infdash.config import API_KEY_ENV, DEFAULT_PROFILE

DEMO_RESULT = "demo"
"""What the app exits with when the user picks the demo and no ``on_demo`` was given."""
NO_KEY_EXIT_CODE = 2
"""A missing key is a usage problem: quitting here exits with this code."""


class FirstRunScreen(Screen[None]):
    """Explain how to configure an API key; ``d`` opens the demo, ``q`` quits."""

    BINDING_GROUP_TITLE = "First run"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "d",
            "demo",
            "Open the demo",
            id="first_run.demo",
            tooltip="Explore infdash on a simulated account; no key needed",
        ),
        Binding(
            "q",
            "quit_no_key",
            "Quit",
            id="first_run.quit",
            tooltip="Quit; configure a key and start infdash again",
        ),
    ]
    DEFAULT_CSS = """
    FirstRunScreen {
        align: center middle;
        #first-run {
            width: 80;
            max-width: 100%;
            height: auto;
            max-height: 100%;
            border: round $primary;
            border-title-color: $text;
            border-title-style: bold;
            padding: 1 2;
        }
        .step { margin-top: 1; text-style: bold; }
        .code { color: $text; background: $panel; padding: 0 2; margin-left: 3; }
        .note { color: $text-muted; margin-left: 3; }
        #first-run-demo { margin-top: 1; color: $accent; text-style: bold; }
    }
    """

    def __init__(self, config_file: Path, *, on_demo: Callable[[], None] | None = None) -> None:
        """
        Args:
            config_file: Where the config lives (``infdash.config.config_path()``), shown as is.
            on_demo: Called when the user picks the demo (the caller opens the dashboard on the
                simulator).  ``None`` ends the app with the result ``"demo"`` instead.
        """
        super().__init__()
        self._config_file = config_file
        self._on_demo = on_demo

    def compose(self) -> ComposeResult:
        profile = f"[profiles.{DEFAULT_PROFILE}]"
        with VerticalScroll(id="first-run") as box:
            box.border_title = "infdash: no API key configured"
            yield _text("infdash needs an inference.sh API key. Put it in one of these places:")
            yield _text("1. The environment", "step")
            yield _text(f"export {API_KEY_ENV}=inf_...", "code")
            yield _text(f"2. The config file, {self._config_file}", "step", "first-run-path")
            yield _text(f'{profile}\napi_key = "inf_..."', "code")
            yield _text("or name a variable that holds the key:", "note")
            yield _text(f'{profile}\napi_key_env = "MY_INFERENCE_KEY"', "code")
            yield _text("3. The command line", "step")
            yield _text("infdash --api-key inf_...", "code")
            yield _text("(others on this machine can see it in the process list)", "note")
            yield _text(
                "Press d to open the demo (a simulated account, no key needed).\nPress q to quit.",
                None,
                "first-run-demo",
            )
        yield Footer()

    def action_demo(self) -> None:
        if self._on_demo is not None:
            self._on_demo()
        else:
            self.app.exit(result=DEMO_RESULT)

    def action_quit_no_key(self) -> None:
        self.app.exit(return_code=NO_KEY_EXIT_CODE)


def _text(text: str, classes: str | None = None, widget_id: str | None = None) -> Static:
    """Plain text (never markup: the path comes from the environment)."""
    return Static(Content(text), classes=classes, id=widget_id)
