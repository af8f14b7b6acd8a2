"""Make network text safe to draw: no escape sequences, no control characters (R22).

A task's log, an app name or an error message comes from someone else's code.  Drawn raw, an
``ESC[2J`` would clear the screen, an OSC sequence retitle the terminal or write the clipboard.
Everything from the network passes through :func:`clean` (or :func:`clean_line`) before any
widget sees it, and is then drawn as plain text, never parsed as markup.
"""

from __future__ import annotations

import re

_ESCAPES = re.compile(
    r"""
    \x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?   # OSC ... BEL/ST (title, clipboard, links)
    | \x1b[P^_X][^\x1b\x9c]*(?:\x1b\\|\x9c)?      # DCS / PM / APC / SOS strings
    | \x1b\[[0-?]*[ -/]*[@-~]?                    # CSI (colours, cursor, clear)
    | \x9b[0-?]*[ -/]*[@-~]?                      # 8-bit CSI
    | \x9d[^\x07\x9c]*(?:\x07|\x9c)?              # 8-bit OSC
    | \x1b[ -/]*[0-~]?                            # other two-byte escapes
    """,
    re.VERBOSE,
)
# C0 and C1 controls, DEL, and the bidirectional overrides and isolates, which reorder what
# follows them on the row (a filename can be made to read backwards).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SEPARATORS = str.maketrans({"\u2028": "\n", "\u2029": "\n"})
"""Unicode line and paragraph separators: terminals disagree on their width; a newline is
what they mean."""


def clean(text: str) -> str:
    """``text`` without escape sequences or control characters; tabs and newlines are kept."""
    if text.isprintable():
        return text
    text = text.replace("\r\n", "\n").translate(_SEPARATORS)
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def clean_line(text: str) -> str:
    """One line for a table cell: as :func:`clean`, with tabs and newlines made spaces."""
    if text.isprintable():
        return text
    text = _ESCAPES.sub("", text.translate(_SEPARATORS))
    text = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    return _LINE_CONTROLS.sub("", text)
