"""One finished block of a chat reply, drawn from Markdown as a single widget.

Textual's ``Markdown`` widget mounts a widget per paragraph, list item, table cell and fence,
and every layout of the screen walks all of them: with a few kilobytes of replies on screen a
layout took ~100 ms, and a streaming reply causes many (benchmarks/bench_chat.py, B11/B12).
This widget renders its source once per width with Rich's Markdown into cached lines, so a
block is one node to lay out and drawing it is a list lookup.

Colours come from the app's theme variables: the Markdown styles (headings, emphasis, code,
links, tables) and the syntax highlighting of code fences are built from them, and a theme
change draws the block again.  Links are shown, never followed: no hyperlink escape codes.
"""

from __future__ import annotations

from typing import Any

from pygments.token import Comment, Keyword, Name, Number, Operator, String, Token
from rich.markdown import Markdown as RichMarkdown
from rich.style import Style
from rich.syntax import ANSISyntaxTheme
from rich.theme import Theme as RichTheme
from textual.app import App
from textual.geometry import Size
from textual.strip import Strip

from infdash.ui.theming import themed
from infdash.ui.widgets.drawn import DrawnLines

_MARKDOWN_STYLES: dict[str, tuple[str, str]] = {
    "markdown.h1": ("primary", "bold"),
    "markdown.h1.border": ("primary", ""),
    "markdown.h2": ("primary", "bold underline"),
    "markdown.h3": ("primary", "bold"),
    "markdown.h4": ("primary", "italic"),
    "markdown.h5": ("primary", "italic"),
    "markdown.h6": ("foreground-muted", "italic"),
    "markdown.code": ("accent", "bold"),
    "markdown.code_block": ("foreground", ""),
    "markdown.block_quote": ("foreground-muted", ""),
    "markdown.hr": ("foreground-muted", ""),
    "markdown.item.bullet": ("accent", "bold"),
    "markdown.item.number": ("accent", "bold"),
    "markdown.link": ("primary", "underline"),
    "markdown.link_url": ("secondary", "underline"),
    "markdown.table.border": ("foreground-muted", ""),
    "markdown.table.header": ("primary", "bold"),
}
"""Rich's Markdown style names → (theme variable, attributes)."""
_SYNTAX: dict[Any, str] = {
    Token: "foreground",
    Comment: "foreground-muted",
    Keyword: "accent",
    Name.Function: "primary",
    Name.Class: "primary",
    Name.Builtin: "secondary",
    String: "success",
    Number: "warning",
    Operator: "foreground",
}
"""Code fence token types → theme variables."""


def rich_theme(app: App[Any]) -> RichTheme:
    """The Markdown styles in the app's current theme."""
    styles = {
        name: themed(app, variable) + Style.parse(attributes or "none")
        for name, (variable, attributes) in _MARKDOWN_STYLES.items()
    }
    return RichTheme(styles, inherit=True)


def syntax_theme(app: App[Any]) -> ANSISyntaxTheme:
    """Code fence highlighting in the app's current theme."""
    return ANSISyntaxTheme({token: themed(app, variable) for token, variable in _SYNTAX.items()})


class MarkdownBlock(DrawnLines):
    """Markdown ``source`` drawn whole (cached per width, redrawn on a theme change)."""

    DEFAULT_CSS = """
    MarkdownBlock { height: auto; }
    """

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def extend(self, more: str) -> None:
        """More finished Markdown after the source (a block ends where ``source`` ends)."""
        self.source += more
        self.redraw(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if self._cache is None or self._cache[0] != width:
            self._cache = (width, self.draw(width))
        return len(self._cache[1])

    def draw(self, width: int) -> list[Strip]:
        if width <= 0:
            return []
        app = self.app
        console = app.console
        markdown = RichMarkdown(
            self.source,
            code_theme=syntax_theme(app),  # type: ignore[arg-type]  # Syntax takes a theme too
            hyperlinks=False,
        )
        options = console.options.update(width=width, height=None)
        base = self.rich_style
        with console.use_theme(rich_theme(app)):
            lines = console.render_lines(markdown, options, style=base, pad=True)
        return [Strip(line).crop_extend(0, width, base) for line in lines]
