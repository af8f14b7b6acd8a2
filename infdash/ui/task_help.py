"""What a failed task's error means, and the ``curl`` that would run it again (no Textual).

The platform writes a handful of fixed messages into ``error`` when it, not the app, failed a
task (reference §3.1); each gets one sentence on what happened and what to do.  Anything else
is the app's own error and is shown as it is.  The ``curl`` line lets a user reproduce a task
outside the dashboard; the key is never in it, only ``$INFERENCE_API_KEY``.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

PLATFORM_FAILURES: tuple[tuple[str, str], ...] = (
    ("task interrupted", "the worker stopped mid-task (platform side); running it again is safe"),
    ("could not be dispatched", "no worker accepted it; run it again"),
    (
        "after multiple attempts",
        "the platform retried and gave up; run it again, and check the app if it repeats",
    ),
    (
        "expired while waiting for available capacity",
        "it waited about a day for a free worker; start an engine or run it on cloud infra",
    ),
    (
        "no active workers with matching resources",
        "no online worker has what the app needs (about 10 min of waiting); start or update "
        "an engine with matching GPUs, or use cloud infra",
    ),
    (
        "capacity reserved for higher-priority apps",
        "the workers are kept for higher-priority apps; try again later or on cloud infra",
    ),
    (
        "failed to prepare secrets",
        "the app's secrets are missing or wrong; check the app's secret configuration",
    ),
    ("session worker busy too long", "the session's worker stayed busy for ~30 s; retry"),
    ("session worker offline", "the session's worker went away; start a new session"),
    ("session expired or not found", "the session ended; start a new session"),
)


def failure_meaning(error: str) -> str | None:
    """One sentence for a documented platform failure, or None for an app's own error."""
    text = error.lower()
    return next((meaning for needle, meaning in PLATFORM_FAILURES if needle in text), None)


def curl_command(
    base_url: str,
    app: str,
    input: Any,
    *,
    setup: Mapping[str, Any] | None = None,
    infra: str = "",
    function: str = "",
) -> str:
    """The ``curl`` that runs this task again, the key left as ``$INFERENCE_API_KEY``."""
    body: dict[str, Any] = {"app": app, "input": input if input is not None else {}}
    if setup:
        body["setup"] = dict(setup)
    if infra:
        body["infra"] = infra
    if function:
        body["function"] = function
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    url = f"{base_url.rstrip('/')}/run?wait=false"
    return (
        f"curl -sS -X POST {shlex.quote(url)} "
        '-H "Authorization: Bearer $INFERENCE_API_KEY" '
        "-H 'Content-Type: application/json' "
        f"-d {shlex.quote(payload)}"
    )
