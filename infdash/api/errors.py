"""Exceptions raised by the API client.

One small hierarchy, so the scheduler and UI can branch on the *kind* of failure (auth, gone,
busy, broken) without parsing messages. Every exception's ``str()`` is one readable line that
says what happened and, where there is an obvious next step, what to do. None of them ever
holds the API key: they are built from the response status, headers and body only.
"""

from __future__ import annotations

from typing import Any

# A non-JSON error body (an HTML page from a proxy) is summarised to this many characters.
BODY_SNIPPET = 200


class ApiError(Exception):
    """Base class: something went wrong talking to the inference.sh API."""

    hint = ""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        title: str | None = None,
        meta: dict[str, Any] | None = None,
        retry_after: float | None = None,
        method: str | None = None,
        path: str | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title
        self.meta: dict[str, Any] = dict(meta or {})
        self.retry_after = retry_after
        self.method = method
        self.path = path
        self.body = body

    def __str__(self) -> str:
        parts: list[str] = []
        if self.status is not None:
            parts.append(str(self.status))
        if self.code:
            parts.append(self.code)
        head = " ".join(parts)
        text = f"{head}: {self.message}" if head else self.message
        if self.method and self.path:
            text += f" ({self.method} {self.path})"
        if self.hint:
            text += f" — {self.hint}"
        return _one_line(text)

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(status={self.status!r}, code={self.code!r}, {self.message!r})"


class TransportError(ApiError):
    """The request never got an HTTP answer: DNS, refused connection, reset, timeout."""

    hint = "check the network and the base URL"


class OutcomeUnknownError(TransportError):
    """A request that is not safe to repeat (``POST /run``) was sent, but no answer came back."""

    hint = "it may have gone through: check the task list before trying again"


class StreamError(ApiError):
    """A stream could not be kept going (wrong content type, too many reconnects)."""

    hint = "falling back to polling"


class StreamContentError(StreamError):
    """A stream answered 200 with something that is not an event stream (an HTML page...)."""


class StreamIdleError(StreamError):
    """No event and no heartbeat arrived within the idle timeout (watchdog)."""

    hint = "reconnecting"


class StreamOversizedError(StreamError):
    """An event was larger than the stream's cap: dropped, and the connection closed (R24).

    Reading on would mean skipping megabytes of a frame nobody will use, so the connection is
    recycled instead.  ``resume_id`` is the id the dropped event carried when its ``id:`` line
    came before the oversized data (SSE): resuming from it skips the event rather than having
    the server send it again."""

    hint = "reconnecting"

    def __init__(self, message: str, *, resume_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.resume_id = resume_id


class UnexpectedResponseError(ApiError):
    """A success status with a body that is not the JSON the API sends (e.g. a proxy page)."""

    hint = "is the base URL pointing at the API?"


class ValidationError(ApiError):
    """400/422: the request was malformed or its input invalid."""

    hint = "fix the request"


class PayloadTooLargeError(ValidationError):
    """413: the body (an upload) is larger than the server accepts."""

    hint = "send a smaller file"


class UnauthorizedError(ApiError):
    """401: the API key is missing, wrong or revoked."""

    hint = "check the API key"


class PaymentRequiredError(ApiError):
    """402: balance, payment method or plan limit."""

    hint = "check billing"


class ForbiddenError(ApiError):
    """403: the key lacks a scope, or the account/feature is not allowed to do this."""

    hint = "check the key's scopes"


class SignInRequiredError(ForbiddenError):
    """403 ``requires_sign_in``: only the account holder's own sign-in may do this (tool
    approvals); an API key never can."""

    hint = "approve or reject this tool in the inference.sh app; API keys cannot"


class NotFoundError(ApiError):
    """404: no such resource (task, app, cost not recorded yet)."""


class ConflictError(ApiError):
    """409: the resource is in a state that does not allow this."""


class InvalidTransitionError(ConflictError):
    """409 ``invalid_transition``: e.g. cancelling a task that already finished."""

    hint = "the task already moved on; refresh it"


class GoneError(ApiError):
    """410: retired app, expired or ended session."""


class PreconditionFailedError(ApiError):
    """412: missing secrets, credentials or scopes; ``requirements`` lists them."""

    hint = "add the missing secrets or integrations"

    @property
    def requirements(self) -> list[dict[str, Any]]:
        errors = self.meta.get("errors")
        return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


class RateLimitedError(ApiError):
    """429: over the rate limit; ``retry_after`` says how long to wait, if the server said."""

    def __str__(self) -> str:
        base = super().__str__()
        if self.retry_after is not None:
            return f"{base} — retry in {self.retry_after:g} s"
        return f"{base} — slow down and retry later"


class ServerError(ApiError):
    """5xx: the server or a proxy in front of it failed."""

    hint = "the service may be degraded; retry later"


_BY_STATUS: dict[int, type[ApiError]] = {
    400: ValidationError,
    401: UnauthorizedError,
    402: PaymentRequiredError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    412: PreconditionFailedError,
    413: PayloadTooLargeError,
    422: ValidationError,
    429: RateLimitedError,
}


def error_class_for(status: int, code: str | None) -> type[ApiError]:
    """The exception class for an HTTP error status (and code, where it refines it)."""
    if status == 409 and code == "invalid_transition":
        return InvalidTransitionError
    if status == 403 and code == "requires_sign_in":
        return SignInRequiredError
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return ApiError


def _one_line(text: str) -> str:
    """Collapse whitespace (newlines included) so a message always fits on one line."""
    return " ".join(text.split())
