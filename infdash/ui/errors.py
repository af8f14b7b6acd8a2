"""One line for any error a worker can meet: what happened and what to do (never a traceback)."""

from __future__ import annotations

import math

from infdash.api import (
    ApiError,
    OutcomeUnknownError,
    RateLimitedError,
    TransportError,
    UnauthorizedError,
)
from infdash.ui.sanitize import clean_line


def describe(error: BaseException) -> str:
    """A one-line, display-safe description of ``error``."""
    if isinstance(error, UnauthorizedError):
        return "the API key was refused (401) — check the key of this profile"
    if isinstance(error, RateLimitedError):
        wait = error.retry_after
        return f"rate limited — try again in {math.ceil(wait)} s" if wait else "rate limited"
    if isinstance(error, OutcomeUnknownError):
        return "sent, but no answer came — check before trying again"
    if isinstance(error, TransportError):
        return f"cannot reach the server: {clean_line(error.message)}"
    if isinstance(error, ApiError):
        return clean_line(str(error)) or f"server error {error.status}"
    return clean_line(f"{type(error).__name__}: {error}")
