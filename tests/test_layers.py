"""The layers point one way, checked on the real import graph against an allow-list.

forms ← store ← sync ← ui/app; printing between forms and ui; protocol under both the sync
engine and the server; the server loads only forms, protocol and itself. Only the ui (and the
programs that start it) load Tk; only the server (and the demo that embeds it) loads the server's
libraries, so a commune PC installs without them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import import_graph

ROOT = Path(__file__).resolve().parents[1]
PROBE = Path(import_graph.__file__)


def _graph(root: Path) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, str(PROBE), str(root)],
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def graph() -> dict[str, list[str]]:
    return _graph(ROOT)


def test_every_project_module_is_probed(graph: dict[str, list[str]]) -> None:
    modules = import_graph.project_modules(ROOT)
    assert set(graph) == {m for m in modules if not m.endswith(".__main__")}
    assert "server.service" in graph and "desktop.sync.engine" in graph
    # The probe really sees transitive loads: the server's app drags in its storage layer.
    assert "server.storage" in graph["server.app"]


def test_layers_point_one_way(graph: dict[str, list[str]]) -> None:
    assert import_graph.violations(ROOT, graph) == []


def test_every_module_has_a_layer() -> None:
    lost = [m for m in import_graph.project_modules(ROOT) if import_graph.layer_of(m) is None]
    assert lost == ["desktop"]


def _copy_tree(tmp_path: Path) -> Path:
    for package in import_graph.PROJECT:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return tmp_path


def test_the_check_fails_when_the_server_imports_the_sync_engine(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    domain = root / "server" / "domain.py"
    domain.write_text(
        domain.read_text(encoding="utf-8") + "\nfrom desktop.sync import engine\n",
        encoding="utf-8",
    )
    problems = import_graph.violations(root, _graph(root))
    assert "server.domain imports desktop.sync.engine" in problems
    assert "server.domain loads desktop.sync.engine at run time" in problems
    # ... and every server module that imports server.domain is caught too, transitively.
    assert "server.service loads desktop.sync.engine at run time" in problems


def test_the_check_sees_a_lazy_import_of_tk_outside_the_ui(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    module = root / "desktop" / "store" / "search.py"
    module.write_text(
        module.read_text(encoding="utf-8") + "\n\ndef _probe() -> None:\n    import tkinter\n",
        encoding="utf-8",
    )
    problems = import_graph.violations(root, _graph(root))
    assert "desktop.store.search imports tkinter" in problems
