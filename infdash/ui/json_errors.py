"""Parse a JSON object typed by a person, and say exactly where and why it is wrong.

The run dialog takes a task's input (and setup) as JSON text.  ``json.JSONDecodeError`` speaks
in Python's words ("Expecting ',' delimiter: line 2 column 14 (char 20)"); this module turns that
into one short line a user can act on ("input: line 2, column 14: expected ',' or '}'") and keeps
the position, so the editor can put its cursor on the mistake.  No Textual here: it is pure logic.
"""

from __future__ import annotations

import json
import re
from typing import Any

_WORD = re.compile(r"[A-Za-z_]\w*")
_PLAIN_REASONS = {
    "Expecting ':' delimiter": "expected ':' after the property name",
    "Extra data": "unexpected text after the JSON value",
    "Invalid \\escape": "invalid escape in a string",
    "Invalid \\uXXXX escape": "invalid \\u escape in a string",
}


class JsonInputError(ValueError):
    """JSON text that is not a valid object; ``line`` and ``column`` count from 1."""

    def __init__(self, message: str, line: int, column: int, offset: int) -> None:
        super().__init__(message)
        self.message = message
        """The whole one-line message, starting with what was being parsed."""
        self.line = line
        self.column = column
        self.offset = offset
        """Character offset of the problem in the text (0-based)."""


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    """The JSON object in ``text``; blank text is ``{}``.

    Args:
        text: What the user typed.
        what: The field's name, used as the message prefix ("input", "setup").

    Raises:
        JsonInputError: The text is not JSON, or is JSON but not an object.
    """
    if not text.strip():
        return {}
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        reason = _reason(error.msg, text, error.pos)
        raise _error(what, text, error.pos, reason) from None
    except _ConstantError as error:
        raise _error(what, text, max(text.find(error.name), 0), error.reason) from None
    if not isinstance(value, dict):
        start = len(text) - len(text.lstrip())
        line, column = _position(text, start)
        message = f"{what} must be a JSON object {{...}}, not {_kind(value)}"
        raise JsonInputError(message, line, column, start)
    return value


class _ConstantError(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name
        self.reason = f"{name} is not valid JSON (use a number or null)"


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are Python extensions; the API's JSON parser refuses them.
    raise _ConstantError(name)


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _error(what: str, text: str, offset: int, reason: str) -> JsonInputError:
    line, column = _position(text, offset)
    return JsonInputError(f"{what}: line {line}, column {column}: {reason}", line, column, offset)


def _reason(msg: str, text: str, pos: int) -> str:
    """Python's decoder message in plain words, using the text around ``pos`` for context."""
    if pos >= len(text.rstrip()) and msg != "Extra data":
        return "unexpected end of text (is a closing bracket or quote missing?)"
    if msg == "Expecting ',' delimiter":
        closer = "}" if _innermost(text, pos) == "{" else "]"
        return f"expected ',' or '{closer}'"
    if msg == "Expecting property name enclosed in double quotes":
        if _previous_char(text, pos) == ",":
            return "expected a property name after ',' (trailing commas are not allowed)"
        if text[pos : pos + 1] == "'":
            return "property names need double quotes, not single quotes"
        return "expected a property name in double quotes"
    if msg == "Expecting value":
        if _previous_char(text, pos) == "," and text[pos : pos + 1] == "]":
            return "expected a value after ',' (trailing commas are not allowed)"
        if text[pos : pos + 1] == "'":
            return "strings need double quotes, not single quotes"
        if word := _WORD.match(text, pos):
            return f"unknown word '{word.group()[:20]}' (JSON has only true, false and null)"
        return "expected a value"
    if msg.startswith("Unterminated string"):
        return "unterminated string (a closing '\"' is missing)"
    if msg.startswith("Invalid control character"):
        return "control character inside a string (write a newline as \\n, a tab as \\t)"
    return _PLAIN_REASONS.get(msg, msg[:1].lower() + msg[1:])


def _previous_char(text: str, pos: int) -> str:
    before = text[:pos].rstrip()
    return before[-1:] if before else ""


def _innermost(text: str, pos: int) -> str:
    """The innermost bracket (``{`` or ``[``) still open at ``pos``, skipping strings."""
    stack: list[str] = []
    in_string = escaped = False
    for char in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append(char)
        elif char in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else "{"


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return "a number"
