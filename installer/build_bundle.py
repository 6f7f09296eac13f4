"""Build the offline USB bundle for commune PCs: every wheel the app needs, a manifest, the scripts.

Run on a machine WITH access to the package registry, from the project checkout::

    python installer/build_bundle.py --out /media/usb/motcua
    python installer/build_bundle.py --out DIR --target linux-cp311          # one target only
    python installer/build_bundle.py --out DIR --windows-python python-3.11.9-amd64.exe

The bundle holds the project's wheel (``pip wheel --no-deps`` of a clean copy of this checkout),
every runtime dependency as a binary wheel for each target platform (``pip download
--only-binary=:all: --platform ... --python-version ... --implementation cp``), a pip wheel so the
PC needs no ``python3-venv``/``ensurepip``, ``install.sh``, ``install.ps1``, the installer README,
``bundle.json`` (what was built, for which targets) and ``SHA256SUMS`` (``sha256sum -c`` format,
every other file of the bundle), which the install scripts check before touching anything.

``pip download --platform`` evaluates environment markers against the *building* interpreter, not
the target (a Linux build would miss ``tzdata; platform_system == "Windows"``); so after each
download the wheel set is closed again here, with the markers evaluated for the target.
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

try:  # the build machine may have no standalone ``packaging``; pip always vendors one
    from packaging.markers import Marker
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name, parse_wheel_filename
    from packaging.version import Version
except ImportError:  # pragma: no cover - depends on the build machine
    from pip._vendor.packaging.markers import Marker  # type: ignore[no-redef,assignment]
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef,assignment]
    from pip._vendor.packaging.utils import (  # type: ignore[no-redef,assignment]
        canonicalize_name,
        parse_wheel_filename,
    )
    from pip._vendor.packaging.version import Version  # type: ignore[no-redef,assignment]

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent
PROJECT_NAME = "motcua"
#: The extras of the project a bundle installs (pyproject.toml's optional dependencies).
BUNDLE_EXTRAS = ("desktop", "server")
MANIFEST_NAME = "SHA256SUMS"
INFO_NAME = "bundle.json"
# Copied into the bundle root next to the wheels (README.md is the installer person's guide).
SCRIPTS = ("install.sh", "install.ps1", "README.md", "motcua.svg")
# Never copied into the temporary source tree the project wheel is built from.
SOURCE_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "artifacts", "__pycache__", "*.pyc", "build", "dist", "*.egg-info",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "node_modules", "demo-*",
)  # fmt: skip

# Debian 11 and Ubuntu 20.04 ship glibc 2.31, the oldest we support; pip < 23.3 does not expand
# ``manylinux_2_31`` to the older tags by itself, so every tag is listed.
_MANYLINUX = tuple(f"manylinux_2_{minor}_x86_64" for minor in range(31, 16, -1)) + (
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
    "linux_x86_64",
)


@dataclass(frozen=True)
class Target:
    """One platform the bundle must install on: pip's platform tags and the marker environment.

    Attributes:
        name: short name used on the command line and in ``bundle.json`` (``linux-cp311``).
        platforms: pip ``--platform`` tags, best first.
        python_version: ``X.Y`` of the target interpreter.
        environment: PEP 508 marker variables of the target.
    """

    name: str
    platforms: tuple[str, ...]
    python_version: str
    environment: dict[str, str] = field(hash=False)

    @property
    def abi(self) -> str:
        """Return the CPython ABI tag, e.g. ``cp311``."""
        return "cp" + self.python_version.replace(".", "")


def _environment(system: str, python_version: str) -> dict[str, str]:
    """Return the PEP 508 marker environment of a CPython on ``system`` (``Linux``/``Windows``)."""
    windows = system == "Windows"
    full = python_version + ".0"
    return {
        "implementation_name": "cpython",
        "implementation_version": full,
        "os_name": "nt" if windows else "posix",
        "platform_machine": "AMD64" if windows else "x86_64",
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": system,
        "platform_version": "",
        "python_full_version": full,
        "python_version": python_version,
        "sys_platform": "win32" if windows else "linux",
    }


def _make_targets() -> dict[str, Target]:
    """Return every target the bundle can hold, by name."""
    targets = {
        f"linux-cp{v.replace('.', '')}": Target(
            f"linux-cp{v.replace('.', '')}", _MANYLINUX, v, _environment("Linux", v)
        )
        for v in ("3.10", "3.11", "3.12")
    }
    targets["win-cp311"] = Target(
        "win-cp311", ("win_amd64",), "3.11", _environment("Windows", "3.11")
    )
    return targets


TARGETS = _make_targets()
DEFAULT_TARGETS = ("linux-cp310", "linux-cp311", "linux-cp312", "win-cp311")


class BundleError(RuntimeError):
    """The bundle could not be built (a download failed, a dependency has no binary wheel...)."""


def host_target() -> str:
    """Return the name of the target this interpreter runs on (for tests and quick bundles).

    Raises:
        BundleError: the host is not one of the supported targets.
    """
    name = (
        "win-cp" if os.name == "nt" else "linux-cp"
    ) + f"{sys.version_info[0]}{sys.version_info[1]}"
    if name not in TARGETS:
        raise BundleError(f"this machine ({name}) is not a supported target: {sorted(TARGETS)}")
    return name


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    """Check ``bundle`` against its ``SHA256SUMS`` the way the install scripts do.

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
    for path in sorted((bundle / "wheels").glob("*")):
        if path.relative_to(bundle).as_posix() not in listed:
            problems.append(f"not in the manifest: {path.relative_to(bundle).as_posix()}")
    return problems


def _run(cmd: Sequence[str | os.PathLike[str]], *, quiet: bool) -> None:
    """Run a command; on failure raise ``BundleError`` with the tail of its output."""
    argv = [str(c) for c in cmd]
    if not quiet:
        print("+", " ".join(argv), flush=True)
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise BundleError(f"command failed ({proc.returncode}): {' '.join(argv)}\n{tail}")


def _pip(python: str, pip_cache: Path | None) -> list[str]:
    """Return the pip command line prefix, with the shared download cache when given."""
    cmd = [python, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    if pip_cache is not None:
        cmd += ["--cache-dir", str(pip_cache)]
    return cmd


def build_project_wheel(dest: Path, *, python: str, pip_cache: Path | None, quiet: bool) -> Path:
    """Build the project's wheel from a clean copy of the checkout (no ``build/`` left behind).

    Returns:
        The wheel's path inside ``dest``.
    """
    with tempfile.TemporaryDirectory(prefix="motcua-src-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(PROJECT_ROOT, src, ignore=SOURCE_IGNORE)
        out = Path(tmp) / "out"
        _run([*_pip(python, pip_cache), "wheel", "--no-deps", "-w", out, src], quiet=quiet)
        wheels = list(out.glob(f"{PROJECT_NAME}-*.whl"))
        if len(wheels) != 1:
            raise BundleError(f"expected one {PROJECT_NAME} wheel, got {wheels}")
        dest.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(wheels[0], dest))


def _target_flags(target: Target) -> list[str]:
    """Return pip's ``--platform ... --python-version ... --implementation cp`` flags."""
    flags = ["--only-binary=:all:", "--implementation", "cp"]
    flags += ["--python-version", target.python_version, "--abi", target.abi, "--abi", "abi3"]
    flags += ["--abi", "none"]
    for tag in target.platforms:
        flags += ["--platform", tag]
    return flags


@dataclass
class _Dist:
    """A wheel in a target's download folder: its name, version and declared requirements."""

    name: str
    version: Version
    requires: list[Requirement]


def read_wheel(path: Path) -> _Dist:
    """Return the name, version and ``Requires-Dist`` of a wheel file."""
    name, version, _build, _tags = parse_wheel_filename(path.name)
    with zipfile.ZipFile(path) as zf:
        meta_name = next(
            n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
        )
        meta = email.parser.BytesParser().parsebytes(zf.read(meta_name), headersonly=True)
    requires = [Requirement(r) for r in meta.get_all("Requires-Dist") or []]
    return _Dist(canonicalize_name(name), version, requires)


def missing_requirements(
    wheels: Iterable[Path], target: Target, root: str, extras: Iterable[str] = ()
) -> list[Requirement]:
    """Return the requirements that ``wheels`` do not satisfy for ``target``, walking from ``root``.

    Markers are evaluated in the target's environment, once per extra that was asked for (so
    ``psycopg[binary]`` brings ``psycopg-binary``).

    Args:
        wheels: the wheel files downloaded for the target.
        target: the platform they must install on.
        root: the distribution the install starts from (``motcua``).
        extras: the extras of ``root`` the install asks for.

    Returns:
        The requirements with no wheel, or only a wheel of a version the specifier excludes.
    """
    dists: dict[str, list[_Dist]] = {}
    for path in wheels:
        dist = read_wheel(path)
        dists.setdefault(dist.name, []).append(dist)
    missing: list[Requirement] = []
    seen: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[str, frozenset[str]]] = [(canonicalize_name(root), frozenset(extras))]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for dist in dists.get(name, []):
            for req in dist.requires:
                if req.marker is not None and not _marker_applies(req.marker, target, extras):
                    continue
                req_name = canonicalize_name(req.name)
                ok = [
                    d
                    for d in dists.get(req_name, [])
                    if req.specifier.contains(d.version, prereleases=True)
                ]
                if not ok:
                    missing.append(req)
                todo.append((req_name, frozenset(req.extras)))
    return missing


def _marker_applies(marker: Marker, target: Target, extras: frozenset[str]) -> bool:
    """Return whether ``marker`` holds on ``target`` for the base install or any asked extra."""
    return any(
        marker.evaluate({**target.environment, "extra": extra}) for extra in ("", *sorted(extras))
    )


def download_target(
    target: Target,
    dest: Path,
    *,
    project_wheel: Path,
    python: str,
    pip_cache: Path | None,
    quiet: bool,
) -> list[Path]:
    """Download the project's dependencies as binary wheels for ``target`` into ``dest``.

    Returns:
        The wheel files in ``dest`` (the project's own wheel included).

    Raises:
        BundleError: a download failed, or the set cannot be closed for the target.
    """
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(project_wheel, dest)
    pip: list[str] = [*_pip(python, pip_cache), "download", "--dest", str(dest)]
    pip += _target_flags(target)
    version = parse_wheel_filename(project_wheel.name)[1]
    _run(
        [*pip, "--find-links", str(dest), f"{PROJECT_NAME}[{','.join(BUNDLE_EXTRAS)}]=={version}"],
        quiet=quiet,
    )
    _run([*pip, "--no-deps", "pip"], quiet=quiet)  # bootstraps a venv without ensurepip
    for _round in range(10):
        missing = missing_requirements(dest.glob("*.whl"), target, PROJECT_NAME, BUNDLE_EXTRAS)
        if not missing:
            return sorted(dest.glob("*.whl"))
        if not quiet:
            print(f"[{target.name}] adding for the target's markers: {[str(r) for r in missing]}")
        specs = {f"{r.name}{r.specifier}" for r in missing}
        _run([*pip, "--no-deps", *sorted(specs)], quiet=quiet)
    raise BundleError(f"[{target.name}] could not close the dependency set: {missing}")


def check_offline_resolution(
    wheels_dir: Path, app_wheel: Path, target: Target, *, python: str, quiet: bool
) -> None:
    """Resolve the app for ``target`` from ``wheels_dir`` alone (``--no-index``), as the PC will.

    Raises:
        BundleError: pip cannot find a compatible wheel for some requirement.
    """
    with tempfile.TemporaryDirectory(prefix="motcua-resolve-") as tmp:
        _run(
            [*_pip(python, None), "install", "--dry-run", "--ignore-installed", "--no-index"]
            + ["--find-links", str(wheels_dir), "--target", tmp, *_target_flags(target)]
            + [f"{app_wheel}[{','.join(BUNDLE_EXTRAS)}]"],
            quiet=quiet,
        )


def build_bundle(
    out: Path,
    *,
    targets: Sequence[str] = DEFAULT_TARGETS,
    python: str = sys.executable,
    pip_cache: Path | None = None,
    windows_python: Path | None = None,
    quiet: bool = False,
) -> dict[str, object]:
    """Build the whole bundle into ``out`` (which must not exist or be empty).

    Args:
        out: the bundle folder (e.g. on the USB stick).
        targets: names from ``TARGETS``.
        python: the interpreter whose pip downloads (any supported Python works).
        pip_cache: pip's cache folder, shared between runs to avoid downloading twice.
        windows_python: the python.org Windows installer (``python-3.11.x-amd64.exe``) to ship
            for PCs without Python; copied to ``python/``.
        quiet: print only the summary.

    Returns:
        The content of ``bundle.json``.

    Raises:
        BundleError: bad arguments or a failed build or download.
    """
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        raise BundleError(f"unknown target(s) {unknown}; choose from {sorted(TARGETS)}")
    if out.exists() and any(out.iterdir()):
        raise BundleError(f"{out} is not empty; give a new folder")
    if windows_python is not None and not windows_python.is_file():
        raise BundleError(f"Windows Python installer not found: {windows_python}")
    started = time.monotonic()
    wheels_dir = out / "wheels"
    wheels_dir.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="motcua-bundle-") as tmp:
        project_wheel = build_project_wheel(
            Path(tmp) / "project", python=python, pip_cache=pip_cache, quiet=quiet
        )
        per_target: dict[str, list[str]] = {}
        for name in targets:
            files = download_target(
                TARGETS[name],
                Path(tmp) / name,
                project_wheel=project_wheel,
                python=python,
                pip_cache=pip_cache,
                quiet=quiet,
            )
            per_target[name] = [f.name for f in files]
            for f in files:
                if not (wheels_dir / f.name).exists():
                    shutil.copy2(f, wheels_dir / f.name)
    app_wheel = wheels_dir / project_wheel.name
    for name in targets:
        check_offline_resolution(wheels_dir, app_wheel, TARGETS[name], python=python, quiet=quiet)
    for script in SCRIPTS:
        shutil.copy2(HERE / script, out / script)
    os.chmod(out / "install.sh", 0o755)
    if windows_python is not None:
        (out / "python").mkdir()
        shutil.copy2(windows_python, out / "python" / windows_python.name)
    version = str(parse_wheel_filename(project_wheel.name)[1])
    info: dict[str, object] = {
        "name": PROJECT_NAME,
        "version": version,
        "app_wheel": project_wheel.name,
        "app_extras": ",".join(BUNDLE_EXTRAS),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "targets": {
            name: {
                "python": TARGETS[name].python_version,
                "platforms": list(TARGETS[name].platforms),
                "wheels": per_target[name],
            }
            for name in targets
        },
        "windows_python_installer": (
            f"python/{windows_python.name}" if windows_python is not None else None
        ),
    }
    (out / INFO_NAME).write_text(
        json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8", newline="\n"
    )
    manifest = write_manifest(out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(
        f"bundle {out}: {PROJECT_NAME} {version}, targets {', '.join(targets)}, "
        f"{len(list(wheels_dir.iterdir()))} wheels, {size / 1e6:.1f} MB, "
        f"built in {time.monotonic() - started:.0f} s; manifest sha256 {sha256_file(manifest)}"
    )
    return info


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="build_bundle.py",
        description="Build the offline USB bundle (wheels, manifest, install scripts).",
    )
    parser.add_argument("--out", type=Path, required=True, help="new or empty bundle folder")
    parser.add_argument(
        "--target",
        action="append",
        dest="targets",
        metavar="NAME",
        help=f"target platform, repeatable: {', '.join(sorted(TARGETS))}, or 'host' "
        f"(default: {' '.join(DEFAULT_TARGETS)})",
    )
    parser.add_argument("--pip-cache", type=Path, help="pip cache folder shared between builds")
    parser.add_argument(
        "--windows-python",
        type=Path,
        help="python.org installer python-3.11.x-amd64.exe to ship for PCs without Python",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.add_argument(
        "--verify", action="store_true", help="only check an existing bundle against its manifest"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Build (or with ``--verify`` check) a bundle; errors are one clear line and exit code 1."""
    args = _parse_args(argv)
    if args.verify:
        problems = verify_manifest(args.out)
        for line in problems:
            print(line, file=sys.stderr)
        print("bundle OK" if not problems else f"bundle damaged: {len(problems)} problem(s)")
        return 1 if problems else 0
    targets = [host_target() if t == "host" else t for t in (args.targets or DEFAULT_TARGETS)]
    try:
        build_bundle(
            args.out,
            targets=list(dict.fromkeys(targets)),
            pip_cache=args.pip_cache,
            windows_python=args.windows_python,
            quiet=args.quiet,
        )
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
