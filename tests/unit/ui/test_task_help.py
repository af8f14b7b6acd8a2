"""Platform failures explained; the curl that re-runs a task never holds the key."""

from __future__ import annotations

import json
import shlex
import subprocess

import pytest

from infdash.ui.task_help import PLATFORM_FAILURES, curl_command, failure_meaning


@pytest.mark.parametrize(
    "error",
    [
        "task interrupted, please retry",
        "task could not be dispatched, please retry",
        "task could not be processed after multiple attempts, please retry",
        "task expired while waiting for available capacity, please retry",
        "no active workers with matching resources",
        "no available workers — capacity reserved for higher-priority apps",
        "failed to prepare secrets for this app, please check your secret configuration",
        "session worker busy too long",
        "session worker offline",
        "Session expired or not found",
    ],
)
def test_every_documented_platform_failure_is_explained(error: str) -> None:
    meaning = failure_meaning(error)
    assert meaning is not None
    assert meaning[0].islower()


def test_an_app_error_is_left_alone() -> None:
    assert failure_meaning("CUDA out of memory") is None
    assert len(PLATFORM_FAILURES) == 10


def test_curl_runs_the_same_request_with_the_key_from_the_environment() -> None:
    line = curl_command(
        "https://api.inference.sh/",
        "infsh/echo@1.1.0",
        {"text": 'it\'s "quoted" $HOME'},
        setup={"gpu": "a100"},
        infra="private",
    )
    assert "$INFERENCE_API_KEY" in line
    assert "inf_" not in line
    words = shlex.split(line)
    assert words[:5] == ["curl", "-sS", "-X", "POST", "https://api.inference.sh/run?wait=false"]
    body = json.loads(words[words.index("-d") + 1])
    assert body == {
        "app": "infsh/echo@1.1.0",
        "input": {"text": 'it\'s "quoted" $HOME'},
        "setup": {"gpu": "a100"},
        "infra": "private",
    }


def test_the_curl_line_is_valid_shell() -> None:
    line = curl_command("http://127.0.0.1:8787", "infsh/echo", {"text": "a'b"})
    result = subprocess.run(["bash", "-n", "-c", line], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
