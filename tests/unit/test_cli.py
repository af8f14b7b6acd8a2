"""The command-line contract: version, help, and one clear line with exit 2 for bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest

from infdash import __version__
from infdash.cli import main


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m infdash` as a user would, capturing both streams."""
    return subprocess.run(
        [sys.executable, "-m", "infdash", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"infdash {__version__}"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--help"], "--demo"),
        (["sim", "--help"], "--speed"),
    ],
)
def test_help_lists_the_options(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    assert expected in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["sim", "--speed", "-1"], "expected a positive number"),
        (["sim", "--speed", "fast"], "expected a number"),
        (["sim", "--port", "99999"], "port must be between 0 and 65535"),
        (["sim", "--seed", "x"], "expected a whole number"),
        (["nosuchcommand"], "invalid choice"),
    ],
)
def test_bad_flags_give_one_line_and_exit_2(argv: list[str], message: str) -> None:
    result = run_cli(*argv)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_key_explains_where_to_put_it() -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    result = run_cli(env=env)
    assert result.returncode == 2
    assert "INFERENCE_API_KEY" in result.stderr
    assert "--demo" in result.stderr
    assert "Traceback" not in result.stderr


def test_traffic_must_not_be_negative() -> None:
    result = run_cli("sim", "--traffic", "-2")
    assert result.returncode == 2
    assert "expected zero or a positive number" in result.stderr


def test_demo_without_a_terminal_says_what_to_run_instead() -> None:
    result = run_cli("--demo")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "infdash: --demo opens the dashboard and needs a terminal; "
        "'infdash sim' serves the simulator alone"
    ]


def test_served_simulator_answers_and_stops_cleanly_on_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "infdash", "sim", "--port", "0", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        while "infdash simulator on " not in line:
            assert line, "the simulator never said where it listens"
            line = proc.stdout.readline()
        url = line.split()[3]
        response = httpx.get(
            f"{url}/tasks", headers={"Authorization": "Bearer inf_demo"}, trust_env=False
        )
        assert response.status_code == 200
        assert response.json()["data"]["total_items"] > 0
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "Traceback" not in err
