"""The files a task produced: every URI in its output, with where in the output it sits.

Apps return files as URIs in their output JSON — a bare string (``"image": "https://…"``) or
an object with a ``uri``/``url`` (the platform's ``File`` shape, ``{"uri": …, "filename": …}``).
The detail screen lists them so a user can copy one or open it in a browser without reading
the JSON.  Everything returned is cleaned: a URI cannot carry an escape sequence to the screen.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infdash.ui.sanitize import clean_line

_SCHEMES = ("https://", "http://", "inf://", "s3://", "gs://")
MAX_FILES = 100
"""Outputs with more files list the first hundred (an app returning a thousand frames)."""


@dataclass(frozen=True, slots=True)
class OutputFile:
    path: str
    """Where in the output: ``image``, ``images[2]``, ``result.video``."""
    uri: str


def _is_uri(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower().startswith(_SCHEMES)


def _walk(value: Any, path: str, depth: int) -> Iterator[OutputFile]:
    if depth > 12:
        return
    if _is_uri(value):
        yield OutputFile(path or "output", clean_line(str(value).strip()))
    elif isinstance(value, dict):
        uri = value.get("uri") or value.get("url")
        if _is_uri(uri):
            yield OutputFile(path or "output", clean_line(str(uri).strip()))
            return
        for key, item in value.items():
            name = clean_line(str(key))
            yield from _walk(item, f"{path}.{name}" if path else name, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]", depth + 1)


def output_files(output: Any) -> list[OutputFile]:
    """Every file URI in ``output``, in document order, at most :data:`MAX_FILES`."""
    files: list[OutputFile] = []
    for found in _walk(output, "", 0):
        files.append(found)
        if len(files) >= MAX_FILES:
            break
    return files
