"""The task status enum (reference §5), parsed tolerantly from ints or lowercase names."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from infdash.api.models.common import as_str, parse_datetime


class TaskStatus(enum.IntEnum):
    UNKNOWN = 0
    RECEIVED = 1
    QUEUED = 2
    DISPATCHED = 3
    PREPARING = 4
    SERVING = 5
    SETTING_UP = 6
    RUNNING = 7
    CANCELLING = 8
    UPLOADING = 9
    COMPLETED = 10
    FAILED = 11
    CANCELLED = 12
    REJECTED = 13

    @property
    def is_terminal(self) -> bool:
        return self >= TaskStatus.COMPLETED

    @property
    def label(self) -> str:
        """The lowercase wire name (``setting_up``)."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: Any) -> tuple[TaskStatus, int | None]:
        """(status, raw int code). Unknown ints/names → UNKNOWN; the raw int is kept for display."""
        if isinstance(value, bool):
            return cls.UNKNOWN, None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int):
            return _BY_CODE.get(value, cls.UNKNOWN), value
        if isinstance(value, str):
            text = value.strip().lower()
            if text.lstrip("-").isdigit():
                return cls.parse(int(text))
            member = _BY_NAME.get(text.replace("-", "_"))
            if member is not None:
                return member, int(member)
        return cls.UNKNOWN, None


_BY_NAME = {member.name.lower(): member for member in TaskStatus}
# A dict lookup: Enum's own call is several times slower, and a list page parses thousands.
_BY_CODE = {int(member): member for member in TaskStatus}
# The docs' spelling variant of cancelled.
_BY_NAME["canceled"] = TaskStatus.CANCELLED


def status_display(status: TaskStatus, code: int | None) -> str:
    """``running``, or ``unknown(42)`` for a code this client does not know."""
    if status is TaskStatus.UNKNOWN and code not in (None, 0):
        return f"unknown({code})"
    return status.label


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """One status transition of a task."""

    id: str
    status: TaskStatus
    status_code: int | None
    event_time: datetime | None
    created_at: datetime | None

    @classmethod
    def from_dict(cls, raw: Any) -> TaskEvent:
        if not isinstance(raw, dict):
            raise ValueError("task event is not an object")
        data = raw
        status, code = TaskStatus.parse(data.get("status"))
        return cls(
            id=as_str(data.get("id")),
            status=status,
            status_code=code,
            event_time=parse_datetime(data.get("event_time")),
            created_at=parse_datetime(data.get("created_at")),
        )
