"""ARCHITECTURE §1: imports flow ui → scheduler → api; the simulator stands alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "infdash"

FORBIDDEN = {
    "api": ("textual", "infdash.ui", "infdash.scheduler", "infdash.sim"),
    "scheduler": ("textual", "infdash.ui", "infdash.sim"),
    "sim": ("textual", "infdash.ui", "infdash.api", "infdash.scheduler"),
}


def imported_modules(path: Path) -> set[str]:
    """Every absolute module name a file imports, at any depth of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_does_not_import_what_it_must_not(layer: str) -> None:
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files, f"infdash/{layer} has no modules"
    offences = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in files
        for name in sorted(imported_modules(path))
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])
    ]
    assert offences == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from textual.app import App\n", encoding="utf-8")
    assert "textual.app" in imported_modules(module)
