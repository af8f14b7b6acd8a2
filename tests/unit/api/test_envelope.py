"""Envelopes (all three generations) and error bodies → exceptions."""

from __future__ import annotations

import json

import httpx
import pytest

from infdash.api.envelope import parse_error, parse_success, unwrap
from infdash.api.errors import (
    ApiError,
    ConflictError,
    ForbiddenError,
    InvalidTransitionError,
    NotFoundError,
    PreconditionFailedError,
    RateLimitedError,
    ServerError,
    UnauthorizedError,
    UnexpectedResponseError,
    ValidationError,
)

PROBLEM = "application/problem+json"


def _response(status: int, body: object | bytes, ctype: str = "application/json") -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers={"content-type": ctype})


def test_current_envelope_unwraps_data_and_messages() -> None:
    body = {
        "data": {"id": "t1"},
        "messages": [
            {"level": "warning", "code": "concurrency", "message": "queued", "meta": {"n": 1}},
            "junk",
        ],
    }
    env = unwrap(body)
    assert env.data == {"id": "t1"}
    assert len(env.messages) == 1
    assert env.messages[0].is_warning
    assert env.messages[0].meta == {"n": 1}


def test_v1_envelope_unwraps_data() -> None:
    env = unwrap({"success": True, "status": 200, "data": {"id": "t1"}})
    assert env.data == {"id": "t1"}
    assert env.messages == ()


def test_bare_dto_is_the_data() -> None:
    assert unwrap({"id": "t1", "status": 7}).data == {"id": "t1", "status": 7}
    assert unwrap([1, 2]).data == [1, 2]


@pytest.mark.parametrize(("status", "content"), [(204, b""), (200, b""), (200, b"  \n")])
def test_empty_body_is_none(status: int, content: bytes) -> None:
    assert parse_success(httpx.Response(status, content=content), "GET", "/x").data is None


def test_non_json_success_is_a_clear_error() -> None:
    response = _response(200, b"<html><body>Login to the wifi</body></html>", "text/html")
    with pytest.raises(UnexpectedResponseError) as info:
        parse_success(response, "GET", "/tasks/t1")
    text = str(info.value)
    assert "\n" not in text
    assert "text/html" in text
    assert "GET /tasks/t1" in text


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "invalid_filter", ValidationError),
        (401, "unauthorized", UnauthorizedError),
        (403, "forbidden", ForbiddenError),
        (404, "not_found", NotFoundError),
        (409, "conflict", ConflictError),
        (409, "invalid_transition", InvalidTransitionError),
        (422, "validation_error", ValidationError),
        (429, "rate_limited", RateLimitedError),
        (500, "internal_error", ServerError),
        (503, "app_maintenance", ServerError),
        (418, "teapot", ApiError),
    ],
)
def test_problem_json_maps_to_class(status: int, code: str, cls: type[ApiError]) -> None:
    body = {
        "type": f"https://api.inference.sh/errors/{code}",
        "title": "Title",
        "status": status,
        "detail": "what went wrong",
        "meta": {"required_scope": "apps:read"},
    }
    error = parse_error(_response(status, body, PROBLEM), "GET", "/tasks/t1", retry_after=7.0)
    assert type(error) is cls
    assert error.status == status
    assert error.code == code
    assert error.detail == "what went wrong"
    assert error.meta == {"required_scope": "apps:read"}
    assert error.retry_after == 7.0
    line = str(error)
    assert "\n" not in line
    assert line.startswith(f"{status} {code}: what went wrong (GET /tasks/t1)")


def test_invalid_transition_is_a_conflict() -> None:
    assert issubclass(InvalidTransitionError, ConflictError)


def test_v1_error_body() -> None:
    body = {"success": False, "status": 404, "error": {"code": "not_found", "message": "no app"}}
    error = parse_error(_response(404, body), "POST", "/run")
    assert isinstance(error, NotFoundError)
    assert error.code == "not_found"
    assert str(error) == "404 not_found: no app (POST /run)"


def test_html_error_body_gives_one_clear_line() -> None:
    html = b"<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>"
    error = parse_error(_response(502, html, "text/html; charset=utf-8"), "GET", "/tasks/t1")
    assert isinstance(error, ServerError)
    assert error.code is None
    line = str(error)
    assert "\n" not in line
    assert "HTML page" in line
    assert "502" in line
    assert "retry later" in line


def test_plain_text_error_body() -> None:
    error = parse_error(
        _response(451, b"service not available in your region", "text/plain"), "GET", "/x"
    )
    assert "service not available in your region" in str(error)


def test_json_error_without_detail_uses_title_then_message() -> None:
    error = parse_error(_response(403, {"message": "Access denied. IP blocked"}), "GET", "/x")
    assert isinstance(error, ForbiddenError)
    assert "Access denied" in str(error)
    titled = parse_error(_response(404, {"title": "Not Found"}), "GET", "/x")
    assert "Not Found" in str(titled)


def test_412_requirements_top_level_and_meta() -> None:
    top = {"errors": [{"type": "secret", "key": "HF_TOKEN", "message": "missing"}]}
    error = parse_error(_response(412, top), "POST", "/run")
    assert isinstance(error, PreconditionFailedError)
    assert error.requirements[0]["key"] == "HF_TOKEN"
    in_meta = {
        "type": "https://api.inference.sh/errors/requirements_not_met",
        "meta": {"errors": [{"type": "scope", "key": "apps:execute"}]},
    }
    error = parse_error(_response(412, in_meta, PROBLEM), "POST", "/run")
    assert isinstance(error, PreconditionFailedError)
    assert error.requirements[0]["key"] == "apps:execute"


def test_rate_limited_message_says_when() -> None:
    body = {"type": "https://api.inference.sh/errors/rate_limited", "detail": "too many"}
    error = parse_error(_response(429, body, PROBLEM), "GET", "/tasks/t1", retry_after=7.0)
    assert str(error).endswith("retry in 7 s")
