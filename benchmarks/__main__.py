"""Run every benchmark (`python -m benchmarks`); each prints its figures against its target.

A benchmark is a module `benchmarks/bench_*.py` with a `main() -> int` that returns 0 when every
figure meets its target. This runner exits non-zero when any misses, so a regression is visible,
but it is not part of `make test`: these machines are noisy, and targets are medians.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(selected: list[str]) -> int:
    """Run the named benchmarks (all when none are named); return how many missed a target."""
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if selected:
        names = [name for name in names if any(s in name for s in selected)]
    missed = 0
    for name in names:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        if module.main() != 0:
            missed += 1
    return missed


if __name__ == "__main__":
    sys.exit(1 if main(sys.argv[1:]) else 0)
