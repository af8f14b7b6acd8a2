"""The infdash Textual app: one mode per area, the theme, and the session's lifetime.

Wiring only.  The app starts the scheduler when it mounts and stops it (and closes the client)
when it unmounts; screens get the :class:`Services` through their constructors.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from infdash.ui.gc_freeze import freeze_startup_objects, unfreeze_objects
from infdash.ui.services import Services
from infdash.ui.theming import apply_theme

MODE_KEYS = (("1", "tasks", "Tasks"), ("2", "engines", "Engines"), ("3", "chat", "Chat"))


class InfdashApp(App[None]):
    """The dashboard for one connection (a real account or the embedded simulator)."""

    CSS_PATH = "app.tcss"
    TITLE = "infdash"
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(key, f"switch_mode('{mode}')", title, id=f"app.mode.{mode}",
                    tooltip=f"Show {title.lower()}")
            for key, mode, title in MODE_KEYS
        ),
        Binding("question_mark", "toggle_keys", "Keys", id="app.keys",
                tooltip="Show or hide every key of the focused area"),
    ]  # fmt: skip

    def __init__(self, services: Services, *, theme: str = "") -> None:
        super().__init__()
        self.services = services
        self._theme_name = theme
        self.add_mode("tasks", self._tasks_screen)
        self.add_mode("engines", self._engines_screen)
        self.add_mode("chat", self._chats_screen)

    def _tasks_screen(self) -> Screen[None]:
        from infdash.ui.screens.task_list import TaskListScreen

        return TaskListScreen(self.services)

    def _engines_screen(self) -> Screen[None]:
        from infdash.ui.screens.engines import EnginesScreen

        return EnginesScreen(self.services)

    def _chats_screen(self) -> Screen[None]:
        from infdash.ui.screens.chats import ChatsScreen

        return ChatsScreen(self.services)

    async def on_mount(self) -> None:
        problem = apply_theme(self, self._theme_name)
        if problem:
            self.notify(problem, severity="warning")
        await self.services.scheduler.start()
        await self.switch_mode("tasks")
        # After the first frame, so the collection does not delay it (B18 cold start).
        self.call_after_refresh(freeze_startup_objects)

    async def on_unmount(self) -> None:
        await self.services.scheduler.stop()
        await self.services.client.aclose()
        unfreeze_objects()

    async def show_engine(self, engine_id: str) -> None:
        """Switch to the engines area with ``engine_id`` selected and its details open."""
        from infdash.ui.screens.engines import EnginesScreen

        await self.switch_mode("engines")
        screen = self.screen
        if isinstance(screen, EnginesScreen):
            screen.show_record(engine_id)

    def action_toggle_keys(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def toggle_bell(self) -> None:
        """Ring the terminal bell (as well as the toast) when a watched task finishes."""
        self.services.bell = not self.services.bell
        state = "on" if self.services.bell else "off"
        self.notify(f"bell when a watched task finishes: {state}")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        state = "off" if self.services.bell else "on"
        yield SystemCommand(
            f"Turn the bell {state}",
            "Ring the terminal bell when a watched task finishes",
            self.toggle_bell,
        )
        for key, mode, title in MODE_KEYS:
            yield SystemCommand(
                f"Go to {title.lower()}",
                f"Switch to the {title.lower()} view (key {key})",
                partial(self.switch_mode, mode),
            )
