"""The server and the wire modules import only what the layering allows."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("desktop.store", "desktop.ui", "desktop.app", "tkinter", "ttkbootstrap")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_server_and_wire_never_import_store_or_ui() -> None:
    files = sorted((ROOT / "server").glob("*.py")) + [
        ROOT / "desktop" / "sync" / name for name in ("wire.py", "envelope.py", "keys.py")
    ]
    assert len(files) > 5
    for path in files:
        for name in _imports(path):
            assert not name.startswith(FORBIDDEN), f"{path.relative_to(ROOT)} imports {name}"
        if path.parent.name == "server":
            desktop = {n for n in _imports(path) if n.startswith("desktop")}
            allowed = (
                "desktop.forms",
                "desktop.sync.wire",
                "desktop.sync.envelope",
                "desktop.sync.keys",
                "desktop.sync",
            )
            assert all(n.startswith(allowed) for n in desktop), (path, desktop)
