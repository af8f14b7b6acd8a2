"""One notification per error episode: a failure is told once, until a success ends it.

A poll that fails every 30 s must not stack thirty identical toasts; the status line keeps
saying what is wrong, and the toast comes again only after things worked in between.
"""

from __future__ import annotations


class Episodes:
    """Tracks which sources are failing; :meth:`failed` is True only when an episode starts."""

    def __init__(self) -> None:
        self._failing: dict[str, str] = {}

    def failed(self, source: str, message: str) -> bool:
        """Record a failure of ``source``; True if this starts an episode (so notify)."""
        starts = source not in self._failing
        self._failing[source] = message
        return starts

    def succeeded(self, source: str) -> None:
        self._failing.pop(source, None)

    def message(self, source: str) -> str | None:
        return self._failing.get(source)
