"""Quick status facets: one key each, written into the query text the user can still edit.

A facet is not a hidden second filter: pressing ``f`` puts ``status:failed`` into the filter
bar (replacing any status term), so what is shown is always what the bar says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Facet:
    key: str
    name: str
    status_term: str | None
    """The ``status:`` value this facet writes, or None for "all"."""


FACETS: tuple[Facet, ...] = (
    Facet("a", "all", None),
    Facet("o", "active", "active"),
    Facet("q", "queued", "queued"),
    Facet("r", "running", "running"),
    Facet("d", "done", "completed"),
    Facet("f", "failed", "failed"),
    Facet("c", "cancelled", "cancelled"),
)

_STATUS_TERM = re.compile(r"(?:(?<=\s)|^)[-!]?(?:status|s):\S*\s*", re.IGNORECASE)
_STATUS_VALUE = re.compile(r"(?:(?<=\s)|^)(?:status|s):(\S+)", re.IGNORECASE)


def with_facet(text: str, facet: Facet) -> str:
    """``text`` with its status terms replaced by ``facet``'s (removed for "all")."""
    rest = _STATUS_TERM.sub("", text).strip()
    if facet.status_term is None:
        return rest
    term = f"status:{facet.status_term}"
    return f"{term} {rest}".strip()


def active_facet(text: str) -> Facet | None:
    """The facet whose single status term ``text`` holds (all when it has none)."""
    values = _STATUS_VALUE.findall(text)
    if not values:
        return FACETS[0]
    if len(values) != 1:
        return None
    return next((f for f in FACETS if f.status_term == values[0].lower()), None)
