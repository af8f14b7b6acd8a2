"""Response envelopes and error bodies.

The API has used three success envelopes (reference §1.3): the current ``{data, messages}``,
the bare DTO of ``X-API-Version: 2`` and the v1 ``{success, status, data}``. One rule reads all
three: a JSON object holding a ``data`` key is an envelope, anything else is the DTO itself.
Errors are RFC 9457 problem+json, the v1 ``{success: false, error: {code, message}}``, or —
from proxies and pre-auth rejections — plain text or HTML; each becomes one ``ApiError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from infdash.api.errors import BODY_SNIPPET, ApiError, UnexpectedResponseError, error_class_for


@dataclass(frozen=True, slots=True)
class ResponseMessage:
    """A notice the server attached to a response (concurrency limit, deprecation...)."""

    level: str
    code: str
    message: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def is_warning(self) -> bool:
        return self.level == "warning"

    @classmethod
    def from_dict(cls, raw: Any) -> ResponseMessage | None:
        if not isinstance(raw, dict):
            return None
        meta = raw.get("meta")
        return cls(
            level=str(raw.get("level") or "info"),
            code=str(raw.get("code") or ""),
            message=str(raw.get("message") or ""),
            meta=meta if isinstance(meta, dict) else {},
        )


@dataclass(frozen=True, slots=True)
class Envelope:
    """The unwrapped payload of a successful response plus any server messages."""

    data: Any
    messages: tuple[ResponseMessage, ...] = ()


def unwrap(body: Any) -> Envelope:
    """Unwrap any of the three envelopes; a body without ``data`` is the DTO itself."""
    if isinstance(body, dict) and "data" in body:
        raw_messages = body.get("messages")
        messages: tuple[ResponseMessage, ...] = ()
        if isinstance(raw_messages, list):
            parsed = (ResponseMessage.from_dict(m) for m in raw_messages)
            messages = tuple(m for m in parsed if m is not None)
        return Envelope(body["data"], messages)
    return Envelope(body)


def parse_success(response: httpx.Response, method: str, path: str) -> Envelope:
    """Decode a 2xx response: 204 or an empty body is ``None``; non-JSON is an error."""
    content = response.content
    if response.status_code == 204 or not content.strip():
        return Envelope(None)
    try:
        body = json.loads(content)
    except ValueError:
        ctype = response.headers.get("content-type", "unknown").split(";")[0]
        raise UnexpectedResponseError(
            f"expected JSON but got {ctype}: {_snippet(content)}",
            status=response.status_code,
            method=method,
            path=path,
            body=_snippet(content),
        ) from None
    return unwrap(body)


def parse_error(
    response: httpx.Response, method: str, path: str, retry_after: float | None = None
) -> ApiError:
    """Map an error response (problem+json, v1 error, plain text, HTML) to an exception."""
    status = response.status_code
    content = response.content
    body: Any = None
    if content.strip():
        try:
            body = json.loads(content)
        except ValueError:
            body = None
    code: str | None = None
    detail: str | None = None
    title: str | None = None
    meta: dict[str, Any] = {}
    if isinstance(body, dict):
        code, detail, title, meta = _fields_from_json(body)
        message = detail or title or _json_dump(body)
    else:
        message = _snippet(content) or response.reason_phrase or f"HTTP {status}"
        ctype = response.headers.get("content-type", "").split(";")[0]
        if ctype == "text/html":
            message = f"{response.reason_phrase or 'error'} (HTML page, probably from a proxy)"
    cls = error_class_for(status, code)
    return cls(
        message,
        status=status,
        code=code,
        detail=detail,
        title=title,
        meta=meta,
        retry_after=retry_after,
        method=method,
        path=path,
        body=_snippet(content),
    )


def _fields_from_json(
    body: dict[str, Any],
) -> tuple[str | None, str | None, str | None, dict[str, Any]]:
    """(code, detail, title, meta) from problem+json, the v1 error body, or bare ``message``."""
    code: str | None = None
    detail: str | None = None
    title: str | None = None
    meta: dict[str, Any] = {}
    type_ = body.get("type")
    if isinstance(type_, str) and type_:
        code = type_.rstrip("/").rsplit("/", 1)[-1] or None
    error = body.get("error")
    if isinstance(error, dict):
        code = code or _str(error.get("code"))
        detail = _str(error.get("message"))
        if isinstance(error.get("meta"), dict):
            meta = dict(error["meta"])
    detail = _str(body.get("detail")) or detail or _str(body.get("message"))
    title = _str(body.get("title"))
    if isinstance(body.get("meta"), dict):
        meta = dict(body["meta"])
    if isinstance(body.get("errors"), list) and "errors" not in meta:
        meta["errors"] = body["errors"]  # 412 requirement lists at top level (reference §1.4)
    return code, detail, title, meta


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _json_dump(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False)[:BODY_SNIPPET]


def _snippet(content: bytes) -> str:
    text = content.decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text[:BODY_SNIPPET] + ("…" if len(text) > BODY_SNIPPET else "")
