"""infdash.ui.detail stays Textual-free: importing it loads no Textual module."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_detail_models_loads_no_textual() -> None:
    code = (
        "import sys, infdash.ui.detail; "
        "bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]; "
        "print(bad); raise SystemExit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
