"""Pick the colour theme: the profile's or the flag's, falling back to Textual's default.

Every colour in infdash comes from the theme's variables, so any registered Textual theme
restyles the whole app.  A name that is not registered is reported in one line (with the
names that are), never a crash.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from textual.app import App, InvalidThemeError
from textual.color import Color, ColorParseError


def apply_theme(app: App[Any], name: str) -> str | None:
    """Switch ``app`` to theme ``name`` (empty = keep the default); a problem as one line."""
    if not name:
        return None
    try:
        app.theme = name
    except InvalidThemeError:
        names = ", ".join(sorted(app.available_themes))
        return f"unknown theme {name!r}; using {app.theme}. Themes: {names}"
    return None


def themed(app: App[Any], variable: str) -> Style:
    """A Rich style coloured by the theme variable ``variable`` (empty if the theme lacks it)."""
    variables = app.theme_variables
    value = variables.get(variable)
    if not value:
        return Style()
    try:
        colour = Color.parse(value)
        if colour.a < 1:  # e.g. $foreground-muted: blend it over the background as CSS would
            colour = Color.parse(variables.get("background", "black")) + colour
    except ColorParseError:
        return Style()
    return Style(color=colour.rich_color)
