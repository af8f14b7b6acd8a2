"""Response shapes: the three envelopes and RFC 9457 problem+json errors.

``X-API-Version: 1`` → ``{success, status, data}`` / ``{success: false, status, error}``;
``X-API-Version: 2`` → bare DTO; anything else → ``{data, messages}``. Errors are
problem+json except under version 1.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

ERROR_BASE = "https://api.inference.sh/errors/"


def _dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def api_version(headers: Any) -> str:
    """The requested envelope generation: "1", "2" or "" (current)."""
    value = str(headers.get("x-api-version", "")).strip()
    return value if value in ("1", "2") else ""


def reason(status: int) -> str:
    """HTTP reason phrase, e.g. ``Too Many Requests``."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def ok(request: Request, data: Any, status: int = 200) -> Response:
    """A success response in the envelope the caller asked for."""
    version = api_version(request.headers)
    if version == "2":
        body: Any = data
    elif version == "1":
        body = {"success": True, "status": status, "data": data}
    else:
        body = {"data": data, "messages": []}
    return Response(_dumps(body), status_code=status, media_type="application/json")


def no_content() -> Response:
    """204 with no body."""
    return Response(status_code=204)


def problem_body(
    status: int, code: str, detail: str, meta: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The problem+json members."""
    body: dict[str, Any] = {
        "type": ERROR_BASE + code,
        "title": reason(status),
        "status": status,
        "detail": detail,
    }
    if meta:
        body["meta"] = meta
    return body


def problem_bytes(
    version: str, status: int, code: str, detail: str, meta: dict[str, Any] | None = None
) -> tuple[bytes, str]:
    """(body, content type) of an error for one envelope generation."""
    if version == "1":
        error: dict[str, Any] = {"code": code, "message": detail}
        if meta:
            error["meta"] = meta
        legacy = {"success": False, "status": status, "error": error}
        return _dumps(legacy), "application/json"
    return _dumps(problem_body(status, code, detail, meta)), "application/problem+json"


class ApiError(Exception):
    """Raised by handlers; turned into problem+json by the app's exception handler."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        meta: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.meta = meta
        self.headers = headers or {}


def error_response(request: Request, exc: ApiError) -> Response:
    """Render an :class:`ApiError` for the caller's envelope generation."""
    body, media = problem_bytes(
        api_version(request.headers), exc.status, exc.code, exc.detail, exc.meta
    )
    return Response(body, status_code=exc.status, media_type=media, headers=exc.headers)


def not_found(what: str) -> ApiError:
    """404 ``not_found``."""
    return ApiError(404, "not_found", f"{what} not found")


def invalid_request(detail: str) -> ApiError:
    """400 ``invalid_request``."""
    return ApiError(400, "invalid_request", detail)
