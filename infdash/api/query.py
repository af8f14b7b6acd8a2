"""Typed helpers for the common list contract (reference §2): filters, sort, search; and
safe path ids."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, Unpack

from infdash.api.models.status import TaskStatus

Operator = Literal[
    "eq",
    "neq",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "like",
    "ilike",
    "contains",
    "not_contains",
    "is_null",
    "is_not_null",
    "is_empty",
    "is_not_empty",
]
Direction = Literal["next", "prev"]


def _wire(value: Any) -> Any:
    """Statuses go out as their wire names; everything else as is."""
    if isinstance(value, TaskStatus):
        return value.label
    if isinstance(value, list | tuple | set | frozenset):
        return [_wire(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Filter:
    field: str
    operator: Operator
    value: Any = None

    @classmethod
    def eq(cls, field: str, value: Any) -> Filter:
        return cls(field, "eq", value)

    @classmethod
    def in_(cls, field: str, values: Iterable[Any]) -> Filter:
        return cls(field, "in", list(values))

    @classmethod
    def status_in(cls, statuses: Iterable[TaskStatus | int | str]) -> Filter:
        return cls("status", "in", list(statuses))

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "operator": self.operator, "value": _wire(self.value)}


@dataclass(frozen=True, slots=True)
class Sort:
    field: str
    dir: Literal["asc", "desc"] = "desc"

    @classmethod
    def asc(cls, field: str) -> Sort:
        return cls(field, "asc")

    @classmethod
    def desc(cls, field: str) -> Sort:
        return cls(field, "desc")

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "dir": self.dir}


class ListArgs(TypedDict, total=False):
    """The optional fields of a ``CursorListRequest``, as keyword arguments of every ``list``."""

    limit: int | None
    cursor: str | None
    direction: Direction
    filters: Sequence[Filter]
    sort: Sequence[Sort]
    search: str | None
    exact: bool


def list_body(**args: Unpack[ListArgs]) -> dict[str, Any]:
    """A ``CursorListRequest`` body with only the fields that were set."""
    body: dict[str, Any] = {}
    limit = args.get("limit")
    if limit is not None:
        body["limit"] = limit
    cursor = args.get("cursor")
    if cursor:
        body["cursor"] = cursor
        body["direction"] = args.get("direction", "next")
    if filters := args.get("filters"):
        body["filters"] = [f.to_dict() for f in filters]
    if sort := args.get("sort"):
        body["sort"] = [s.to_dict() for s in sort]
    if search := args.get("search"):
        body["search"] = {"term": search, "exact": args.get("exact", False)}
    return body


def page_params(limit: int | None, cursor: str | None) -> dict[str, Any] | None:
    """Query parameters of the ``GET`` flavour of a list (only what was set)."""
    params = {k: v for k, v in (("limit", limit), ("cursor", cursor)) if v}
    return params or None


def path_id(value: str, what: str = "id") -> str:
    """A path segment that cannot escape its route (empty, ``/``, ``.`` and ``..`` refused)."""
    if not isinstance(value, str) or not value or "/" in value or value in (".", ".."):
        raise ValueError(f"not a {what}: {value!r}")
    return value
