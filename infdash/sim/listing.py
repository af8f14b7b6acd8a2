"""Task-list queries: filters, sort, search and opaque keyset cursors (both directions).

A cursor encodes the sort values and id of the boundary row, so pages stay free of gaps and
duplicates while the list keeps changing elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from infdash.sim.clock import parse_rfc3339
from infdash.sim.respond import ApiError, invalid_request
from infdash.sim.tasks import STATUS_BY_NAME, Task

MAX_ROWS = 10_000
DEFAULT_LIMIT = 10

SORT_KEYS: dict[str, Callable[[Task], Any]] = {
    "created_at": lambda t: t.created_at,
    "updated_at": lambda t: t.updated_at,
    "status": lambda t: t.status,
    "app": lambda t: t.app.spec.ref,
    "id": lambda t: t.id,
}
LIST_OPS = ("eq", "neq", "in", "not_in")
RANGE_OPS = ("eq", "neq", "gt", "gte", "lt", "lte")
TEXT_OPS = (*LIST_OPS, "like", "ilike", "contains", "not_contains")


@dataclass(frozen=True)
class ListSpec:
    """What one resource's list understands: sort keys, filters, search, defaults, DTO.

    Tasks, engines, chats, messages and agents share the list contract through this."""

    sort_keys: dict[str, Callable[[Any], Any]]
    predicate: Callable[[Any], Callable[[Any], bool]]
    """Builds a row predicate from one ``{field, operator, value}`` filter (raises 400)."""
    matches: Callable[[Any, str], bool]
    """Does a row match a lower-cased search term."""
    dto: Callable[[Any], dict[str, Any]]
    default_sort: tuple[tuple[str, bool], ...] = (("created_at", True),)
    default_limit: int = DEFAULT_LIMIT


@dataclass
class ListQuery:
    """A parsed ``CursorListRequest``."""

    spec: ListSpec | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str = ""
    backward: bool = False
    predicates: list[Callable[[Any], bool]] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=lambda: [("created_at", True)])
    term: str = ""

    @property
    def keys(self) -> dict[str, Callable[[Any], Any]]:
        """Sort keys of the listed resource."""
        return self.spec.sort_keys if self.spec is not None else SORT_KEYS


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _status_codes(value: Any) -> set[int]:
    codes: set[int] = set()
    for item in _as_list(value):
        if isinstance(item, bool):
            raise ApiError(400, "invalid_filter", f"invalid status {item!r}")
        if isinstance(item, int):
            codes.add(item)
        elif isinstance(item, str) and item.strip().lower() in STATUS_BY_NAME:
            codes.add(STATUS_BY_NAME[item.strip().lower()])
        elif isinstance(item, str) and item.strip().isdigit():
            codes.add(int(item.strip()))
        else:
            raise ApiError(400, "invalid_filter", f"unknown status {item!r}")
    return codes


def _membership(op: str, matches: Callable[[Task], bool]) -> Callable[[Task], bool]:
    if op in ("eq", "in"):
        return matches
    return lambda t: not matches(t)


def _time_value(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_rfc3339(value)
        except ValueError:
            pass
    raise invalid_request(f"invalid timestamp {value!r}")


def _predicate(item: Any) -> Callable[[Task], bool]:
    if not isinstance(item, dict) or "field" not in item:
        raise invalid_request("each filter needs field, operator and value")
    name = str(item["field"])
    op = str(item.get("operator") or "eq").lower()
    value = item.get("value")
    if name == "status":
        if op not in LIST_OPS:
            raise invalid_request(f"operator {op!r} not supported for status")
        codes = _status_codes(value)
        return _membership(op, lambda t: t.status in codes)
    if name == "app":
        if op not in TEXT_OPS:
            raise invalid_request(f"operator {op!r} not supported for app")
        if op in LIST_OPS:
            refs = {str(v) for v in _as_list(value)}
            return _membership(op, lambda t: t.app.spec.ref in refs or t.app.text in refs)
        needle = str(value).strip("%").lower()
        found: Callable[[Task], bool] = lambda t: needle in t.app.text.lower()  # noqa: E731
        return found if op != "not_contains" else (lambda t: not found(t))
    if name == "engine_id":
        if op == "is_null":
            return lambda t: t.engine_id is None
        if op == "is_not_null":
            return lambda t: t.engine_id is not None
        if op not in LIST_OPS:
            raise invalid_request(f"operator {op!r} not supported for engine_id")
        ids = {str(v) for v in _as_list(value)}
        return _membership(op, lambda t: t.engine_id in ids)
    if name in ("created_at", "updated_at"):
        if op not in RANGE_OPS:
            raise invalid_request(f"operator {op!r} not supported for {name}")
        bound = _time_value(value)
        key = SORT_KEYS[name]
        ops: dict[str, Callable[[float], bool]] = {
            "eq": lambda v: abs(v - bound) < 0.0005,
            "neq": lambda v: abs(v - bound) >= 0.0005,
            "gt": lambda v: v > bound,
            "gte": lambda v: v >= bound,
            "lt": lambda v: v < bound,
            "lte": lambda v: v <= bound,
        }
        check = ops[op]
        return lambda t: check(key(t))
    raise invalid_request(f"unknown filter field {name!r}")


def simple_filter(
    getters: dict[str, Callable[[Any], Any]],
) -> Callable[[Any], Callable[[Any], bool]]:
    """A filter builder over string-valued fields: ``eq neq in not_in contains``."""

    def build(item: Any) -> Callable[[Any], bool]:
        if not isinstance(item, dict) or "field" not in item:
            raise invalid_request("each filter needs field, operator and value")
        name = str(item["field"])
        if name not in getters:
            raise invalid_request(f"unknown filter field {name!r}")
        get = getters[name]
        op = str(item.get("operator") or "eq").lower()
        value = item.get("value")
        if op in LIST_OPS:
            wanted = {str(v) for v in _as_list(value)}
            return _membership(op, lambda r: str(get(r)) in wanted)
        if op == "contains":
            needle = str(value).lower()
            return lambda r: needle in str(get(r)).lower()
        raise invalid_request(f"operator {op!r} not supported for {name}")

    return build


def parse_query(body: dict[str, Any], spec: ListSpec | None = None) -> ListQuery:
    """Validate a list request body (or the decoded query of a ``GET`` list route); without
    ``spec`` it is the task list."""
    default_limit = spec.default_limit if spec is not None else DEFAULT_LIMIT
    q = ListQuery(spec=spec)
    if spec is not None:
        q.sort = list(spec.default_sort)
    limit = body.get("limit", default_limit)
    if limit is None:
        limit = default_limit
    if isinstance(limit, bool) or not isinstance(limit, int) or limit == 0 or limit < -1:
        raise invalid_request(f"invalid limit {limit!r}")
    q.limit = MAX_ROWS if limit == -1 else min(limit, MAX_ROWS)
    q.cursor = "" if limit == -1 else str(body.get("cursor") or "")
    direction = str(body.get("direction") or "next").lower()
    if direction not in ("next", "forward", "prev", "backward"):
        raise invalid_request(f"invalid direction {direction!r}")
    q.backward = direction in ("prev", "backward") and limit != -1
    filters = body.get("filters") or []
    if not isinstance(filters, list):
        raise invalid_request("filters must be a list")
    build = spec.predicate if spec is not None else _predicate
    q.predicates = [build(f) for f in filters]
    sort = body.get("sort") or []
    if not isinstance(sort, list):
        raise invalid_request("sort must be a list")
    if sort:
        q.sort = []
        for item in sort:
            if not isinstance(item, dict) or item.get("field") not in q.keys:
                raise invalid_request(f"unknown sort {item!r}")
            desc = str(item.get("dir") or "asc").lower() == "desc"
            q.sort.append((str(item["field"]), desc))
    search = body.get("search") or {}
    if isinstance(search, str):
        search = {"term": search}
    if not isinstance(search, dict):
        raise invalid_request("search must be an object")
    q.term = str(search.get("term") or "").strip().lower()
    return q


def _values(q: ListQuery, t: Any) -> list[Any]:
    return [q.keys[name](t) for name, _ in q.sort] + [t.id]


def _compare(q: ListQuery, a: list[Any], b: list[Any]) -> int:
    dirs = [desc for _, desc in q.sort] + [False]
    for x, y, desc in zip(a, b, dirs, strict=True):
        if x != y:
            r = -1 if x < y else 1
            return -r if desc else r
    return 0


def encode_cursor(values: list[Any]) -> str:
    """Opaque cursor text."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(q: ListQuery, text: str) -> list[Any]:
    """Boundary values of a cursor; a malformed one → 400 ``invalid_request``."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise invalid_request("invalid cursor") from exc
    if not isinstance(values, list) or len(values) != len(q.sort) + 1:
        raise invalid_request("cursor does not match this sort")
    return values


def _sort(rows: list[Any], q: ListQuery) -> None:
    """Sort in place by the query's keys then id, each key in its own direction.

    One stable pass per key, last key first: keys of mixed types (times, ints, text) and
    mixed directions sort with C-speed key functions instead of a Python comparator.
    """
    rows.sort(key=lambda t: t.id)
    for name, desc in reversed(q.sort):
        rows.sort(key=q.keys[name], reverse=desc)


def _first_after(rows: list[Any], q: ListQuery, bound: list[Any], inclusive: bool) -> int:
    """Index of the first row past ``bound`` (at or past it when ``inclusive``): a bisection."""
    lo, hi = 0, len(rows)
    while lo < hi:
        mid = (lo + hi) // 2
        order = _compare(q, _values(q, rows[mid]), bound)
        if order > 0 or (inclusive and order == 0):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _task_matches(t: Task, term: str) -> bool:
    return term in t.id.lower() or term in t.short_id.lower() or term in t.app.text


IMMUTABLE_TASK_KEYS = frozenset({"created_at", "id", "app"})
"""Task sort keys that never change once a task exists, so a sorted order stays valid."""


class SortCache:
    """The last full sort of a collection per sort spec, reused while ``version`` holds.

    Deep paging re-sorts the whole collection per request; with 50k tasks that was most of
    a page's cost. Only valid for sort keys that cannot change while the version stands.
    """

    def __init__(self) -> None:
        self._sorted: dict[tuple[tuple[str, bool], ...], tuple[int, list[Any]]] = {}

    def rows(self, items: Iterable[Any], q: ListQuery, version: int) -> list[Any]:
        """``items`` sorted for ``q`` (shared, do not mutate)."""
        key = tuple(q.sort)
        hit = self._sorted.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        ordered = list(items)
        _sort(ordered, q)
        self._sorted[key] = (version, ordered)
        return ordered


def run_query(tasks: Iterable[Any], q: ListQuery, *, presorted: bool = False) -> dict[str, Any]:
    """One page of the matching rows as a ``CursorListResponse`` (items as DTOs).

    ``presorted``: ``tasks`` is already in ``q``'s order (filtering keeps that order).
    """
    rows = [t for t in tasks if all(p(t) for p in q.predicates)]
    matches = q.spec.matches if q.spec is not None else _task_matches
    dto = q.spec.dto if q.spec is not None else Task.dto
    if q.term:
        rows = [t for t in rows if matches(t, q.term)]
    if not presorted:
        _sort(rows, q)
    start, end = 0, min(len(rows), q.limit)
    if q.cursor:
        bound = decode_cursor(q, q.cursor)
        if q.backward:
            end = _first_after(rows, q, bound, inclusive=True)
            start = max(0, end - q.limit)
        else:
            start = _first_after(rows, q, bound, inclusive=False)
            end = min(len(rows), start + q.limit)
    page = rows[start:end]
    return {
        "items": [dto(t) for t in page],
        "next_cursor": encode_cursor(_values(q, page[-1])) if page else "",
        "prev_cursor": encode_cursor(_values(q, page[0])) if page else "",
        "has_next": end < len(rows),
        "has_previous": start > 0,
        "items_per_page": len(page),
        "total_items": len(rows),
    }
