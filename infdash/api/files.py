"""File uploads (reference §3.3) as the ``client.files`` namespace.

An upload is two requests: ``POST /files`` (limit class ``upload``, 50/min, tracked like every
limited call) returns a presigned ``upload_url``; the bytes then go there with ``PUT``. That
second request must not carry the API key — the URL may point at a storage host — so it goes
through the same connection pool but with ``auth=None``, never the client's bearer auth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

import httpx

from infdash.api.envelope import parse_error
from infdash.api.errors import TransportError, UnexpectedResponseError, ValidationError
from infdash.api.models.common import CursorPage
from infdash.api.models.files import FileInfo
from infdash.api.query import ListArgs, path_id

if TYPE_CHECKING:
    from infdash.api.client import InferenceClient

DEFAULT_CONTENT_TYPE = "application/octet-stream"


class FilesAPI:
    """``client.files``: upload and inspect files."""

    def __init__(self, client: InferenceClient) -> None:
        self._client = client

    async def create(
        self, filename: str, *, content_type: str | None = None, size: int | None = None
    ) -> FileInfo:
        """``POST /files`` for one file: the record with its ``upload_url``."""
        if not filename or not filename.strip():
            raise ValidationError("file name is empty: give the upload a file name")
        entry: dict[str, object] = {"filename": filename}
        if content_type:
            entry["content_type"] = content_type
        if size is not None:
            entry["size"] = size
        envelope = await self._client.request(
            "POST", "/files", json={"files": [entry]}, idempotent=False
        )
        data = envelope.data
        items = data if isinstance(data, list) else [data]
        if not items or not isinstance(items[0], dict):
            raise UnexpectedResponseError(
                "POST /files answered without a file record", method="POST", path="/files"
            )
        return FileInfo.from_dict(items[0])

    async def put_bytes(self, upload_url: str, data: bytes, content_type: str) -> None:
        """PUT ``data`` to a presigned URL with no Authorization header."""
        url = httpx.URL(self._client.base_url).join(upload_url)
        try:
            response = await self._client.http.request(
                "PUT", url, content=data, headers={"Content-Type": content_type}, auth=None
            )
        except httpx.TransportError as exc:
            raise TransportError(
                f"upload failed: {type(exc).__name__}", method="PUT", path=url.path
            ) from None
        if not response.is_success:
            raise parse_error(response, "PUT", url.path)

    async def upload(
        self, data: bytes, filename: str, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> FileInfo:
        """Create the record, PUT the bytes, and return the stored file (``uri`` to use)."""
        created = await self.create(filename, content_type=content_type, size=len(data))
        if created.upload_url:
            await self.put_bytes(created.upload_url, data, content_type)
        return await self.get(created.id)

    async def list(self, **args: Unpack[ListArgs]) -> CursorPage[FileInfo]:
        """``POST /files/list``: one page, newest first by default."""
        return await self._client.list_page("/files/list", FileInfo.from_dict, **args)

    async def delete(self, file_id: str) -> None:
        await self._client.request(
            "DELETE", f"/files/{path_id(file_id, 'file id')}", idempotent=False
        )

    async def get(self, file_id: str) -> FileInfo:
        envelope = await self._client.request("GET", f"/files/{path_id(file_id, 'file id')}")
        return FileInfo.from_dict(envelope.data)
