"""Re-pin the installers' dependencies: ``python -m installer.lock [--target NAME ...]``.

Resolves ``motcua[desktop]`` afresh for each target (the newest versions pyproject.toml allows,
binary wheels only) and writes ``installer/locks/<target>.txt`` with the SHA-256 of each wheel
file; with no ``--target``, also pins the Windows embeddable CPython
(``installer/locks/windows-python.txt``). Commit the locks: builds use nothing else.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from installer import windows_python
from installer.common import build_project_wheel, run_command
from installer.wheels import TARGETS, resolve, write_lock


def lock_target(name: str, project_wheel: Path, *, python: str, quiet: bool) -> Path:
    """Resolve one target and write its lock file; return the lock's path."""
    target = TARGETS[name]
    with tempfile.TemporaryDirectory(prefix=f"motcua-lock-{name}-") as tmp:
        resolve(target, project_wheel, Path(tmp), python=python, quiet=quiet)
        day = time.strftime("%Y-%m-%d")
        return write_lock(
            target,
            Path(tmp).glob("*.whl"),
            note=f"motcua[desktop] for CPython {target.python_version}, resolved {day}",
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Write the lock files; errors are one line on stderr and exit code 1."""
    parser = argparse.ArgumentParser(prog="python -m installer.lock", description=__doc__)
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), dest="targets")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    return run_command(lambda: _lock_all(args.targets, quiet=args.quiet))


def _lock_all(targets: list[str] | None, *, quiet: bool) -> None:
    """Lock ``targets`` (all, and the Windows CPython, when None)."""
    with tempfile.TemporaryDirectory(prefix="motcua-lock-") as tmp:
        wheel = build_project_wheel(Path(tmp), python=sys.executable, quiet=quiet, version=None)
        for name in targets or sorted(TARGETS):
            print(f"locked {lock_target(name, wheel, python=sys.executable, quiet=quiet)}")
    if not targets:
        print(f"locked {windows_python.write_lock(quiet=quiet)}")


if __name__ == "__main__":
    sys.exit(main())
