"""Task logs.

``TaskLog.content`` is a Go ``[]byte`` upstream, so it arrives base64-encoded; the docs show
plain strings and the simulator can send either (reference §12.9). Detection: strict base64
that decodes to text (valid UTF-8, or nearly so with the odd invalid byte, which becomes
U+FFFD) and has no stray control characters is decoded; anything else is taken as plain text.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from infdash.api.models.common import as_str, opt_int, parse_datetime, parse_items
from infdash.api.models.status import TaskEvent, TaskStatus

# Control characters that never occur in real log text. Tab, LF, CR and ESC do, and so do
# BEL (it ends OSC sequences such as a terminal title), backspace (progress spinners) and
# DEL (erase in some shells' output); the display cleans all of them, so they must not turn
# a decoded log back into base64.
_BAD_CONTROLS = re.compile(r"[\x00-\x06\x0b\x0c\x0e-\x1a\x1c-\x1f]")
# Base64 alphabet with padding only at the end; length checked separately.
_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_SURROGATES = re.compile("[\ud800-\udfff]")
# At most one replacement character per this many decoded characters.
_MAX_REPLACEMENT_RATIO = 8


class TaskLogType(enum.IntEnum):
    BUILD = 0
    RUN = 1
    SERVE = 2
    SETUP = 3
    TASK = 4
    UNKNOWN = -1

    @classmethod
    def parse(cls, value: Any) -> TaskLogType:
        code = opt_int(value)
        if code is None and isinstance(value, str):
            return _LOG_TYPE_NAMES.get(value.strip().lower(), cls.UNKNOWN)
        try:
            return cls(code) if code is not None and code >= 0 else cls.UNKNOWN
        except ValueError:
            return cls.UNKNOWN


_LOG_TYPE_NAMES = {m.name.lower(): m for m in TaskLogType if m is not TaskLogType.UNKNOWN}


def _scrub_surrogates(text: str) -> str:
    """Lone surrogates (from ``\\ud800`` escapes in JSON) become U+FFFD."""
    return _SURROGATES.sub("\ufffd", text)


def _looks_like_text(text: str) -> bool:
    """Decoded bytes count as text: no stray controls, and at most the odd invalid byte."""
    if _BAD_CONTROLS.search(text):
        return False
    bad = text.count("\ufffd")
    if bad == 0:
        return True
    return len(text) >= _MAX_REPLACEMENT_RATIO and bad * _MAX_REPLACEMENT_RATIO <= len(text)


def decode_log_content(value: Any) -> tuple[str, bool]:
    """(text, was_base64) for a ``TaskLog.content`` value."""
    if not isinstance(value, str):
        return ("" if value is None else str(value)), False
    if len(value) % 4 == 0 and len(value) >= 4 and _B64.fullmatch(value):
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = None
        if raw is not None:
            text = raw.decode("utf-8", "replace")
            if _looks_like_text(text):
                return text, True
    return _scrub_surrogates(value), False


@dataclass(frozen=True, slots=True)
class TaskLog:
    """One log entry; ``content`` is always decoded text (may hold several lines)."""

    id: str
    log_type: TaskLogType
    content: str
    created_at: datetime | None = None
    task_id: str = ""
    was_base64: bool = False

    @classmethod
    def from_dict(cls, raw: Any) -> TaskLog:
        if not isinstance(raw, dict):
            raise ValueError("task log is not an object")
        content, was_base64 = decode_log_content(raw.get("content"))
        return cls(
            id=as_str(raw.get("id")),
            log_type=TaskLogType.parse(raw.get("log_type")),
            content=content,
            created_at=parse_datetime(raw.get("created_at")),
            task_id=as_str(raw.get("task_id")),
            was_base64=was_base64,
        )

    def lines(self) -> list[str]:
        return self.content.splitlines()


@dataclass(frozen=True, slots=True)
class TaskLogs:
    """``GET /tasks/{id}/logs``."""

    task_id: str
    status: TaskStatus
    events: tuple[TaskEvent, ...]
    logs: tuple[TaskLog, ...]
    skipped: int = 0

    @classmethod
    def from_dict(cls, raw: Any, task_id: str = "") -> TaskLogs:
        data = raw if isinstance(raw, dict) else {}
        if isinstance(raw, list):  # tolerate a bare list of logs
            data = {"logs": raw}
        status, _ = TaskStatus.parse(data.get("status"))
        events, skipped_events = parse_items(data.get("events"), TaskEvent.from_dict)
        logs, skipped_logs = parse_items(data.get("logs"), TaskLog.from_dict)
        return cls(
            task_id=as_str(data.get("task_id")) or task_id,
            status=status,
            events=events,
            logs=logs,
            skipped=skipped_events + skipped_logs,
        )
