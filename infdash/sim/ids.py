"""Deterministic identifiers: the same seed, kind and counter always give the same id."""

from __future__ import annotations

import base64
import hashlib


def make_id(prefix: str, seed: int, kind: str, n: int) -> str:
    """An opaque id like ``task_k3v…`` derived from (seed, kind, n) by hashing."""
    digest = hashlib.sha256(f"{seed}:{kind}:{n}".encode()).digest()
    body = base64.b32encode(digest).decode("ascii").lower().rstrip("=")[:20]
    return f"{prefix}_{body}"


def short_id(full_id: str) -> str:
    """The short form shown in UIs: the first 8 characters after the prefix."""
    return full_id.split("_", 1)[-1][:8]
