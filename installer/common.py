"""What both installer builds share: paths, the download cache, commands, the project wheel,
and the ``SHA256SUMS`` manifest the Debian install script checks."""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent
PROJECT_NAME = "motcua"
#: The extra of the project a commune PC installs (no server libraries).
APP_EXTRAS = "desktop"
LOCKS = HERE / "locks"
MANIFEST_NAME = "SHA256SUMS"
# Never copied into the temporary source tree the project wheel is built from.
SOURCE_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "artifacts", "__pycache__", "*.pyc", "build", "dist", "*.egg-info",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "node_modules", "demo-*",
)  # fmt: skip


class BuildError(RuntimeError):
    """An installer could not be built (a download failed, a hash did not match...)."""


def cache_dir(*parts: str) -> Path:
    """Return (and create) a folder of the download cache, outside the repository.

    ``MOTCUA_INSTALLER_CACHE`` names the cache, else ``~/.cache/motcua-installer``.
    """
    root = os.environ.get("MOTCUA_INSTALLER_CACHE") or str(
        Path.home() / ".cache" / "motcua-installer"
    )
    folder = Path(root, *parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run(cmd: Sequence[str | os.PathLike[str]], *, quiet: bool, cwd: Path | None = None) -> str:
    """Run a command and return its output.

    Raises:
        BuildError: the command failed; the message carries the tail of its output.
    """
    argv = [str(c) for c in cmd]
    if not quiet:
        print("+", " ".join(argv), flush=True)
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=cwd)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise BuildError(f"command failed ({proc.returncode}): {' '.join(argv)}\n{tail}")
    return proc.stdout


def pip(python: str) -> list[str]:
    """Return the pip command prefix, with the shared HTTP cache of the installer builds."""
    return [python, "-m", "pip", "--disable-pip-version-check", "--no-input"] + [
        "--cache-dir",
        str(cache_dir("pip")),
    ]


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def project_version() -> str:
    """Return the project's version as pyproject.toml declares it."""
    import re

    text = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^version = "([^"]+)"', text, re.MULTILINE)
    if found is None:
        raise BuildError("pyproject.toml declares no version")
    return found.group(1)


def build_project_wheel(dest: Path, *, python: str, quiet: bool, version: str | None) -> Path:
    """Build the project's wheel from a clean copy of the checkout (no ``build/`` left behind).

    Args:
        dest: the folder the wheel is copied to.
        python: the interpreter whose pip builds the wheel.
        quiet: print nothing but errors.
        version: a version to stamp instead of pyproject's (the upgrade tests build a "newer"
            release from the same tree).

    Returns:
        The wheel's path inside ``dest``.
    """
    with tempfile.TemporaryDirectory(prefix="motcua-src-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(PROJECT_ROOT, src, ignore=SOURCE_IGNORE)
        if version is not None:
            pyproject = src / "pyproject.toml"
            text = pyproject.read_text(encoding="utf-8")
            stamped = text.replace(f'version = "{project_version()}"', f'version = "{version}"', 1)
            pyproject.write_text(stamped, encoding="utf-8")
        out = Path(tmp) / "out"
        run([*pip(python), "wheel", "--no-deps", "-w", out, src], quiet=quiet)
        wheels = list(out.glob(f"{PROJECT_NAME}-*.whl"))
        if len(wheels) != 1:
            raise BuildError(f"expected one {PROJECT_NAME} wheel, got {wheels}")
        dest.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(wheels[0], dest))


def write_manifest(bundle: Path) -> Path:
    """Write ``SHA256SUMS`` listing every file of ``bundle`` but itself, sorted, POSIX paths.

    Returns:
        The manifest's path.
    """
    lines = []
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        rel = path.relative_to(bundle).as_posix()
        if rel != MANIFEST_NAME:
            lines.append(f"{sha256_file(path)}  {rel}\n")
    manifest = bundle / MANIFEST_NAME
    manifest.write_text("".join(lines), encoding="utf-8", newline="\n")
    return manifest


def verify_manifest(bundle: Path) -> list[str]:
    """Check ``bundle`` against its ``SHA256SUMS`` the way the install script does.

    Returns:
        One English line per problem (missing, changed or unlisted file); empty when intact.
    """
    manifest = bundle / MANIFEST_NAME
    if not manifest.is_file():
        return [f"{MANIFEST_NAME} is missing"]
    problems: list[str] = []
    listed: set[str] = set()
    for line in manifest.read_text(encoding="utf-8").splitlines():
        digest, _, rel = line.partition("  ")
        listed.add(rel)
        path = bundle / rel
        if not path.is_file():
            problems.append(f"missing: {rel}")
        elif sha256_file(path) != digest:
            problems.append(f"checksum mismatch: {rel}")
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        rel = path.relative_to(bundle).as_posix()
        if rel != MANIFEST_NAME and rel not in listed:
            problems.append(f"not in the manifest: {rel}")
    return problems


def build_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """Return a build command's parser with the options every build has."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--version", help="version to stamp (default: pyproject.toml's)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    return parser


def run_command(build: Callable[[], object]) -> int:
    """Run one build command; a ``BuildError`` becomes one line on stderr and exit code 1."""
    try:
        build()
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def report(kind: str, path: Path, started: float) -> None:
    """Print the summary line of a build: what, where, how big, how long."""
    size = path.stat().st_size / 1e6
    print(f"{kind} {path}: {size:.1f} MB, built in {time.monotonic() - started:.0f} s")
