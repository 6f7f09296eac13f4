"""The layers point one way: forms ← store ← sync ← ui/app, and the server never imports store or ui."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# For each package, the project packages it must never import.
FORBIDDEN = {
    "desktop/forms": ("desktop.store", "desktop.sync", "desktop.ui", "desktop.app", "server"),
    "desktop/store": ("desktop.sync", "desktop.ui", "desktop.app", "server"),
    "desktop/sync": ("desktop.ui", "desktop.app", "server"),
    "server": ("desktop.store", "desktop.ui", "desktop.app", "desktop.cli"),
}
TK_MODULES = ("tkinter", "ttkbootstrap", "_tkinter")


def imported_modules(path: Path) -> set[str]:
    """Return every module name a source file imports, at any depth in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imported_modules(path):
            if any(name == bad or name.startswith(bad + ".") for bad in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_layers_point_one_way() -> None:
    problems = [p for pkg, bad in FORBIDDEN.items() for p in _violations(pkg, bad)]
    assert problems == []


def test_only_ui_imports_tk() -> None:
    problems = []
    for package in ("desktop/forms", "desktop/store", "desktop/sync", "server"):
        problems += _violations(package, TK_MODULES)
    for path in (ROOT / "desktop").glob("*.py"):
        # app.py may import the ui package, but not tkinter directly at module level of others
        if path.name in ("app.py", "demo.py"):
            continue
        for name in imported_modules(path):
            if name.split(".")[0] in TK_MODULES:
                problems.append(f"{path.relative_to(ROOT)} imports {name}")
    assert problems == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from desktop.ui import shell\n", encoding="utf-8")
    assert "desktop.ui" in imported_modules(sample)
