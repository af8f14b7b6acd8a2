"""`infdash --demo` in a real pseudo-terminal: the dashboard opens on the embedded simulator,
shows tasks, and ctrl+q quits with status 0 (simulator stopped, no traceback)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time


def read_until(fd: int, needle: bytes, deadline: float) -> bytes:
    seen = b""
    while needle not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"never saw {needle!r}; got {seen[-400:]!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def drain_until_exit(fd: int, proc: subprocess.Popen[bytes], deadline: float) -> bytes:
    """Keep reading (a full pty buffer would block the child) until it exits."""
    seen = b""
    while proc.poll() is None:
        assert time.monotonic() < deadline, "the dashboard did not quit"
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    proc.wait(timeout=5)
    return seen


def test_demo_opens_in_a_terminal_and_quits_cleanly() -> None:
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "INFDASH_CONFIG_FILE": "/nonexistent"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "infdash", "--demo"],
        stdin=child,
        stdout=child,
        stderr=child,
        env=env,
        close_fds=True,
    )
    os.close(child)
    try:
        screen = read_until(main, b"infsh/", time.monotonic() + 30)
        assert b"Traceback" not in screen
        os.write(main, b"\x11")  # ctrl+q
        rest = drain_until_exit(main, proc, time.monotonic() + 20)
        assert proc.returncode == 0
        assert b"Traceback" not in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
