"""File DTOs (reference §3.3): what ``POST /files`` and ``GET /files/{id}`` return."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infdash.api.models.common import as_dict, as_int, as_str, opt_str, parse_datetime


@dataclass(frozen=True, slots=True)
class FileInfo:
    """A stored file. ``upload_url`` is set until the bytes were PUT (presigned, no auth)."""

    id: str
    filename: str = ""
    content_type: str = ""
    size: int = 0
    uri: str = ""
    upload_url: str = field(default="", repr=False)  # a bearer capability: keep it out of logs
    path: str = ""
    category: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def uploaded(self) -> bool:
        return not self.upload_url

    def ref(self) -> dict[str, Any]:
        """The ``FileRef`` used for chat attachments."""
        return {
            "id": self.id,
            "uri": self.uri,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
        }

    @classmethod
    def from_dict(cls, raw: Any) -> FileInfo:
        data = as_dict(raw)
        ident = opt_str(data.get("id"))
        if ident is None:
            raise ValueError("file has no id")
        return cls(
            id=ident,
            filename=as_str(data.get("filename")),
            content_type=as_str(data.get("content_type")),
            size=as_int(data.get("size")),
            uri=as_str(data.get("uri")),
            upload_url=as_str(data.get("upload_url")),
            path=as_str(data.get("path")),
            category=as_str(data.get("category")),
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
        )
