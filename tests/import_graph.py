"""The project's real import graph, and the allow-list of who may import whom.

Two views of the graph, both checked against one allow-list:

* **at run time**: each project module is imported in a freshly forked child of a fresh
  interpreter that holds no project module, and whatever project module (and guarded third-party
  library) it drags into ``sys.modules`` is recorded, transitively included;
* **in the source**: every ``import`` statement at any depth of a file (lazy imports inside
  functions run only later, so the run-time view cannot see them).

Run as a script (``python tests/import_graph.py ROOT``) it prints the run-time graph of the tree
under ROOT as JSON; ``tests/test_layers.py`` runs it that way so that the probe starts clean.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path

#: Top-level project packages.
PROJECT = ("desktop", "server", "protocol")

#: For each layer (the longest matching prefix wins), the project packages its modules may load.
#: ``desktop`` alone is the namespace package every desktop module passes through.
ALLOWED: dict[str, tuple[str, ...]] = {
    "protocol": ("protocol",),
    "desktop.forms": ("desktop.forms",),
    "desktop.store": ("desktop.forms", "desktop.store", "protocol"),
    "desktop.sync": ("desktop.forms", "desktop.store", "desktop.sync", "protocol"),
    "desktop.printing": ("desktop.forms", "desktop.printing"),
    # The provincial IT console's client: the admin requests, statistics and exports.
    "desktop.console": (
        "desktop.forms",
        "desktop.store",
        "desktop.sync",
        "desktop.console",
        "protocol",
    ),
    # The console's screens read the admin answers' shapes and names (``protocol.admin``).
    "desktop.ui": (
        "desktop.forms",
        "desktop.store",
        "desktop.sync",
        "desktop.printing",
        "desktop.console",
        "desktop.ui",
        "protocol",
    ),
    "desktop.cli": (
        "desktop.forms",
        "desktop.store",
        "desktop.sync",
        "desktop.console",
        "desktop.cli",
        "desktop.selfcheck",
    ),
    # ``motcua --self-check``: loads what the app loads, opens a Tk window (installers' tests).
    "desktop.selfcheck": ("desktop",),
    "desktop.app": ("desktop",),
    # The demo starts an embedded provincial server next to the app: the one desktop module that
    # may load the server.
    "desktop.demo": ("desktop", "server", "protocol"),
    "server": ("desktop.forms", "protocol", "server"),
}

#: Third-party libraries only some layers may load (the commune PC installs without the server's).
TK_LIBRARIES = ("tkinter", "_tkinter", "ttkbootstrap")
SERVER_LIBRARIES = ("sqlalchemy", "starlette", "uvicorn", "psycopg")
GUARDED: dict[str, tuple[str, ...]] = {
    "desktop.ui": TK_LIBRARIES,
    "desktop.app": TK_LIBRARIES,
    "desktop.selfcheck": TK_LIBRARIES,
    "desktop.demo": TK_LIBRARIES + SERVER_LIBRARIES,
    "server": SERVER_LIBRARIES,
}
#: Heavy libraries every layer may load: imported once by the probe's parent to save time.
PRELOAD = (
    "cryptography.hazmat.primitives.hpke",
    "zstandard",
    "requests",
    "fpdf",
    "PIL.Image",
    "apscheduler.schedulers.background",
    "sqlite_utils",
    "segno",
)


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layer_of(module: str) -> str | None:
    """Return the layer a module belongs to (the longest key of :data:`ALLOWED` it is under)."""
    best = None
    for layer in ALLOWED:
        if _within(module, (layer,)) and (best is None or len(layer) > len(best)):
            best = layer
    return best


def module_name(root: Path, path: Path) -> str:
    """Return the dotted module name of a source file under ``root``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path) -> dict[str, Path]:
    """Return every project module under ``root`` (name → file)."""
    found: dict[str, Path] = {}
    for package in PROJECT:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(root, path)] = path
    return found


def source_imports(path: Path) -> set[str]:
    """Return every module a file's ``import`` statements name, at any depth of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _guarded_libraries() -> tuple[str, ...]:
    return tuple(sorted({lib for libs in GUARDED.values() for lib in libs}))


def runtime_graph(root: Path, modules: list[str]) -> dict[str, list[str]]:
    """Import each module in its own forked child; return what each loaded (project + guarded).

    Must run in an interpreter that has loaded no project module (see :func:`main`).
    """
    watched = PROJECT + _guarded_libraries()
    graph: dict[str, list[str]] = {}
    for module in modules:
        if module.endswith(".__main__"):  # runs its program when imported; checked in source only
            continue
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: import, report, leave without running any cleanup
            os.close(read_end)
            try:
                __import__(module)
                loaded = sorted(n for n in sys.modules if _within(n, watched))
                out = json.dumps({"loaded": loaded})
            except BaseException as exc:  # a module that fails to import is a finding too
                out = json.dumps({"error": f"{type(exc).__name__}: {exc}"})
            os.write(write_end, out.encode())
            os._exit(0)
        os.close(write_end)
        chunks = []
        while chunk := os.read(read_end, 65536):
            chunks.append(chunk)
        os.close(read_end)
        os.waitpid(pid, 0)
        result = json.loads(b"".join(chunks) or b'{"error": "child died"}')
        graph[module] = result.get("loaded", ["!" + result.get("error", "")])
    return graph


def violations(root: Path, graph: dict[str, list[str]]) -> list[str]:
    """Return every import, at run time or in the source, that the allow-lists forbid."""
    problems: list[str] = []
    modules = project_modules(root)
    for module, path in modules.items():
        layer = layer_of(module)
        if layer is None:  # a top-level package's __init__ (desktop): imports nothing
            allowed: tuple[str, ...] = ()
            guarded: tuple[str, ...] = ()
        else:
            allowed = ALLOWED[layer]
            guarded = GUARDED.get(layer, ())
        forbidden_libs = tuple(lib for lib in _guarded_libraries() if lib not in guarded)
        for name in graph.get(module, []):
            if name.startswith("!"):
                problems.append(f"{module} fails to import: {name[1:]}")
            elif _within(name, PROJECT):
                namespace = name == "desktop"
                if not namespace and not _within(name, allowed):
                    problems.append(f"{module} loads {name} at run time")
            elif _within(name, forbidden_libs):
                problems.append(f"{module} loads {name} at run time")
        for name in source_imports(path):
            if (
                _within(name, PROJECT)
                and name != "desktop"
                and not _within(name, allowed)
                or _within(name, forbidden_libs)
            ):
                problems.append(f"{module} imports {name}")
    return sorted(set(problems))


def main(argv: list[str]) -> int:
    """Print the run-time import graph of the project tree at ``argv[0]`` as JSON."""
    root = Path(argv[0]).resolve()
    sys.path.insert(0, str(root))
    for name in PRELOAD:
        __import__(name)
    stray = [n for n in sys.modules if _within(n, PROJECT)]
    assert not stray, f"the probe must start without project modules, has {stray}"
    print(json.dumps(runtime_graph(root, sorted(project_modules(root)))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
