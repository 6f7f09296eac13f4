"""The house stays easy to read: small modules, short functions (outside tests and bench)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("desktop", "server", "protocol", "installer")
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _sources() -> list[Path]:
    return [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]


def long_modules(paths: list[Path], root: Path = ROOT) -> list[str]:
    """Return ``path: lines`` for every module over the limit."""
    found = []
    for path in paths:
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > MAX_MODULE_LINES:
            found.append(f"{path.relative_to(root)}: {lines} lines")
    return found


def long_functions(paths: list[Path], root: Path = ROOT) -> list[str]:
    """Return ``path:line name: lines`` for every function (or method) over the limit."""
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.name}: {length}")
    return found


def test_no_module_is_over_600_lines() -> None:
    assert long_modules(_sources()) == []


def test_no_function_is_over_80_lines() -> None:
    assert long_functions(_sources()) == []


def test_the_checks_see_a_long_function_and_a_long_module(tmp_path: Path) -> None:
    sample = tmp_path / "probe.py"
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    sample.write_text(f"def too_long() -> None:\n{body}\n", encoding="utf-8")
    assert long_functions([sample], tmp_path) == [f"probe.py:1 too_long: {MAX_FUNCTION_LINES + 1}"]
    sample.write_text("\n" * (MAX_MODULE_LINES + 1), encoding="utf-8")
    assert long_modules([sample], tmp_path) == [f"probe.py: {MAX_MODULE_LINES + 1} lines"]
