"""Files: ``POST /files`` hands out FileDTOs with a presigned-style ``upload_url`` served by
the simulator itself (``PUT /uploads/{token}``, no auth, short-lived token), and
``GET /files/{id}``. Uploaded bytes are kept only as a size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from infdash.sim.clock import rfc3339
from infdash.sim.listing import ListSpec, parse_query, run_query, simple_filter
from infdash.sim.respond import ApiError, invalid_request, no_content, not_found, ok
from infdash.sim.routes_common import json_body, query_body, world_of


@dataclass
class SimFile:
    """One file record and its upload token."""

    id: str
    filename: str
    content_type: str
    size: int
    category: str
    created_at: float
    updated_at: float
    token: str
    expires_at: float
    upload_base: str
    uploaded: bool = False

    def dto(self) -> dict[str, Any]:
        """``FileDTO`` (``upload_url`` becomes "" once uploaded)."""
        return {
            "id": self.id,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "path": f"files/{self.id}/{self.filename}",
            "remote_path": f"sim/files/{self.id}/{self.filename}",
            "uri": f"https://cloud.inference.sh/sim/files/{self.id}/{self.filename}",
            "upload_url": "" if self.uploaded else f"{self.upload_base}/uploads/{self.token}",
            "category": self.category,
            "metadata": {},
        }


def _too_large(name: str, size: int, cap: int) -> ApiError:
    return ApiError(
        413,
        "payload_too_large",
        f"file {name!r} is {size:,} bytes; the upload limit is {cap:,} bytes "
        f"({cap / 1048576:g} MiB)",
    )


async def create_files(request: Request) -> Response:
    """``POST /files``: one FileDTO with an ``upload_url`` per entry."""
    world = world_of(request)
    body = await json_body(request, required=True)
    entries = body.get("files")
    if not isinstance(entries, list) or not entries:
        raise invalid_request("field 'files' must be a non-empty list")
    cap = world.config.max_upload_bytes
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
            raise invalid_request("each file needs a string 'filename'")
        size = entry.get("size") or 0
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise invalid_request(f"invalid size {size!r} for {entry['filename']!r}")
        if size > cap:
            raise _too_large(entry["filename"], size, cap)
    now = world.now()
    base = str(request.base_url).rstrip("/")
    category = body.get("category") if isinstance(body.get("category"), str) else ""
    out = []
    for entry in entries:
        file_id = world.next_id("file")
        record = SimFile(
            id=file_id,
            filename=entry["filename"],
            content_type=str(entry.get("content_type") or "application/octet-stream"),
            size=int(entry.get("size") or 0),
            category=str(category),
            created_at=now,
            updated_at=now,
            token=world.next_id("upl").split("_", 1)[1] + file_id[-6:],
            expires_at=now + world.config.upload_url_ttl,
            upload_base=base,
        )
        world.files[file_id] = record
        out.append(record.dto())
    return ok(request, out)


async def get_file(request: Request) -> Response:
    """``GET /files/{id}``."""
    record = world_of(request).files.get(request.path_params["id"])
    if record is None:
        raise not_found(f"file {request.path_params['id']!r}")
    return ok(request, record.dto())


async def upload(request: Request) -> Response:
    """``PUT /uploads/{token}``: raw bytes, no auth; 403 for an unknown or expired token."""
    world = world_of(request)
    token = request.path_params["token"]
    record = next((f for f in world.files.values() if f.token == token), None)
    if record is None or world.now() > record.expires_at:
        raise ApiError(403, "forbidden", "upload URL is unknown or has expired")
    cap = world.config.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _too_large(record.filename, int(declared), cap)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise _too_large(record.filename, size, cap)
    record.size = size
    record.uploaded = True
    record.updated_at = world.now()
    if request.headers.get("content-type"):
        record.content_type = request.headers["content-type"]
    return Response(status_code=200)


FILE_LIST = ListSpec(
    sort_keys={
        "created_at": lambda f: f.created_at,
        "updated_at": lambda f: f.updated_at,
        "filename": lambda f: f.filename,
        "size": lambda f: f.size,
        "id": lambda f: f.id,
    },
    predicate=simple_filter(
        {
            "content_type": lambda f: f.content_type,
            "filename": lambda f: f.filename,
            "category": lambda f: f.category,
        }
    ),
    matches=lambda f, term: term in f.filename.lower() or term in f.id.lower(),
    dto=SimFile.dto,
)


async def list_files(request: Request) -> Response:
    """``GET /files`` and ``POST /files/list``."""
    body = await json_body(request, required=False) if request.method == "POST" else None
    query = parse_query(body if body is not None else query_body(request), FILE_LIST)
    return ok(request, run_query(world_of(request).files.values(), query))


async def delete_file(request: Request) -> Response:
    """``DELETE /files/{id}``: 204; the upload URL stops working."""
    if world_of(request).files.pop(request.path_params["id"], None) is None:
        raise not_found(f"file {request.path_params['id']!r}")
    return no_content()


ROUTES = [
    Route("/files", create_files, methods=["POST"]),
    Route("/files", list_files, methods=["GET"]),
    Route("/files/list", list_files, methods=["POST"]),
    Route("/files/{id}", get_file, methods=["GET"]),
    Route("/files/{id}", delete_file, methods=["DELETE"]),
]
UPLOAD_ROUTES = [Route("/uploads/{token}", upload, methods=["PUT"])]
