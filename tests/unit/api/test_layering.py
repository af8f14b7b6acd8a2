"""infdash.api is the bottom layer: it must import neither Textual nor the layers above it."""

from __future__ import annotations

import subprocess
import sys


def test_api_imports_no_textual_scheduler_or_ui() -> None:
    code = (
        "import sys, infdash.api\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual'"
        " or m.startswith(('infdash.scheduler', 'infdash.ui', 'infdash.sim')))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
