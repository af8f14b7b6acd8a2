"""Decode a big list page one item at a time, so a worker thread gives the GIL back.

Why this exists: ``json.loads`` is a single C call. For a 2.8 MB page of 1,000 tasks it holds
the GIL for ~25 ms, even in the worker thread of ``asyncio.to_thread``, so the event loop still
stalls that long per page (performance.md B2: loop lag p99 <= 50 ms). Threads only trade the
GIL between bytecodes, so :func:`loads_stepwise` walks the envelope in Python — the top-level
object or array, and the values of its ``data`` and ``items`` keys — and decodes every other
value (each list item, each cursor field) with one call of json's C scanner of its own
(~25 µs a task). The loop then waits at most a switch interval (5 ms) plus one item.

The result is exactly ``json.loads(content)``'s: the bytes are decoded as it decodes them,
every value and key goes through the same C scanner, and the walker accepts only JSON's grammar
(JSON whitespace, string keys, no trailing comma or extra data). Anything else — malformed JSON
included — falls back to ``json.loads(content)``, so errors and their messages are its own.
One difference no caller sees: the scanner shares equal key strings within one call, so each
item gets its own key objects instead of sharing them page-wide.
"""

from __future__ import annotations

import contextlib
import json
import json.scanner
import re
from collections.abc import Callable
from typing import Any

# json.decoder's own whitespace rule: only these four characters, nothing Unicode calls space.
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_BLANKS = frozenset(" \t\n\r")
# The C scanner of a default JSONDecoder, as json.loads uses (its raw_decode minus a Python
# wrapper): one value from an index; raises StopIteration where none starts. (typeshed types
# its argument as a scanner, a TODO: it reads a decoder's settings.)
_scan: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(
    json.JSONDecoder()  # type: ignore[arg-type]
)
# Containers walked value by value; any other value is decoded whole. Envelope `data`, page
# `items` (reference §1.3: {data, messages}, v1 {success, status, data}, or the bare page).
_WALKED_KEYS = frozenset({"data", "items"})
_MAX_DEPTH = 3  # top object -> data -> items: deeper containers are items, decoded whole


class _Unexpected(ValueError):
    """The walker met something it does not handle itself: json.loads decides."""


def loads_stepwise(content: bytes) -> Any:
    """``json.loads(content)``, decoded in steps of at most one list item each."""
    with contextlib.suppress(Exception):  # anything unexpected: json.loads' own result/error
        return _document(content.decode(json.detect_encoding(content), "surrogatepass"))
    return json.loads(content)


def _skip(s: str, i: int) -> int:
    """The index of the first non-whitespace character from ``i`` on (or ``len(s)``)."""
    match = _WHITESPACE.match(s, i)
    return match.end() if match else i  # a `*` pattern always matches


def _document(s: str) -> Any:
    i = _skip(s, 0)
    if s[i : i + 1] not in ("{", "["):
        raise _Unexpected  # a scalar or nothing: not a page
    value, i = _container(s, i, 0)
    if _skip(s, i) != len(s):
        raise _Unexpected  # "Extra data"
    return value


def _container(s: str, i: int, depth: int) -> tuple[Any, int]:
    """The object or array starting at ``s[i]``, walked; returns it and the index past it."""
    if s[i] == "[":
        return _array(s, i)
    obj: dict[str, Any] = {}
    i = _skip(s, i + 1)
    if s[i : i + 1] == "}":
        return obj, i + 1
    while True:
        if s[i : i + 1] != '"':
            raise _Unexpected  # keys must be strings
        key, i = _scan(s, i)  # the scanner's own string rules (escapes, strictness)
        i = _skip(s, i)
        if s[i : i + 1] != ":":
            raise _Unexpected
        i = _skip(s, i + 1)
        if key in _WALKED_KEYS and depth + 1 < _MAX_DEPTH and s[i : i + 1] in ("{", "["):
            value, i = _container(s, i, depth + 1)
        else:
            value, i = _scan(s, i)
        obj[key] = value  # a repeated key: the last value wins, in the first one's place
        i = _skip(s, i)
        end = s[i : i + 1]
        if end == "}":
            return obj, i + 1
        if end != ",":
            raise _Unexpected
        i = _skip(s, i + 1)


def _array(s: str, i: int) -> tuple[list[Any], int]:
    """The array starting at ``s[i]``, one scanner call per element."""
    items: list[Any] = []
    append = items.append
    i = _skip(s, i + 1)
    if s[i : i + 1] == "]":
        return items, i + 1
    while True:
        item, i = _scan(s, i)  # between items the interpreter may hand over the GIL
        append(item)
        end = s[i : i + 1]
        if end in _BLANKS:  # (the regex only when there is whitespace: most bodies have none)
            i = _skip(s, i)
            end = s[i : i + 1]
        if end == "]":
            return items, i + 1
        if end != ",":
            raise _Unexpected
        i += 1
        if s[i : i + 1] in _BLANKS:
            i = _skip(s, i)
