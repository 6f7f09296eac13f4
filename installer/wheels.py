"""The app's dependencies as binary wheels for each target platform, pinned by a lock file.

A target is one CPython on one platform (``linux-cp311``, ``win-cp311``). Its lock file,
``installer/locks/<target>.txt``, pins every dependency of ``motcua[desktop]`` to one version
and one wheel file (``pip --require-hashes`` format), so a build is reproducible and a changed
file on the registry fails the build. ``python -m installer.lock`` writes the locks;
:func:`download_locked` fetches what a lock names.

``pip download --platform`` evaluates environment markers against the *building* interpreter,
not the target (a Linux build would miss ``tzdata; platform_system == "Windows"``), so when a
lock is made the wheel set is closed again here, with the markers evaluated for the target.
"""

from __future__ import annotations

import email.parser
import shutil
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from installer.common import (
    APP_EXTRAS,
    LOCKS,
    PROJECT_NAME,
    BuildError,
    cache_dir,
    pip,
    run,
    sha256_file,
)

# Debian 11 and Ubuntu 20.04 ship glibc 2.31, the oldest we support; pip < 23.3 does not expand
# ``manylinux_2_31`` to the older tags by itself, so every tag is listed.
_MANYLINUX = tuple(f"manylinux_2_{minor}_x86_64" for minor in range(31, 16, -1)) + (
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
    "linux_x86_64",
)
#: Distributions whose pure-Python wheel is taken even where a compiled one exists: fontTools'
#: compiled parts only speed up font building (4 x 5 MB of wheels for nothing on a commune PC).
PURE_PREFERRED = ("fonttools",)


@dataclass(frozen=True)
class Target:
    """One platform an installer must run on: pip's platform tags and the marker environment.

    Attributes:
        name: short name used in lock file names and ``bundle.json`` (``linux-cp311``).
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

    @property
    def lock(self) -> Path:
        """Return the path of the target's lock file."""
        return LOCKS / f"{self.name}.txt"


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


def _linux(version: str) -> Target:
    name = f"linux-cp{version.replace('.', '')}"
    return Target(name, _MANYLINUX, version, _environment("Linux", version))


#: Debian 12 has 3.11, Ubuntu 22.04 3.10, Ubuntu 24.04 3.12, Debian 13 3.13.
LINUX_TARGETS = tuple(_linux(v) for v in ("3.10", "3.11", "3.12", "3.13"))
#: The Windows installer ships its own CPython 3.11 (see ``installer.windows_python``).
WINDOWS_TARGET = Target("win-cp311", ("win_amd64",), "3.11", _environment("Windows", "3.11"))
TARGETS = {t.name: t for t in (*LINUX_TARGETS, WINDOWS_TARGET)}


def target_flags(target: Target) -> list[str]:
    """Return pip's ``--platform ... --python-version ... --implementation cp`` flags."""
    flags = ["--only-binary=:all:", "--implementation", "cp"]
    flags += ["--python-version", target.python_version, "--abi", target.abi, "--abi", "abi3"]
    flags += ["--abi", "none"]
    for tag in target.platforms:
        flags += ["--platform", tag]
    return flags


@dataclass
class _Dist:
    """A wheel in a target's folder: its name, version and declared requirements."""

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
        wheels: the wheel files of the target.
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
        name, asked = todo.pop()
        if (name, asked) in seen:
            continue
        seen.add((name, asked))
        for dist in dists.get(name, []):
            for req in dist.requires:
                if req.marker is not None and not _marker_applies(req.marker, target, asked):
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


def resolve(target: Target, project_wheel: Path, dest: Path, *, python: str, quiet: bool) -> None:
    """Download the newest dependencies of ``motcua[desktop]`` for ``target`` into ``dest``.

    Used only to make a lock; builds download what the lock names (:func:`download_locked`).

    Raises:
        BuildError: a download failed, or the set cannot be closed for the target.
    """
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(project_wheel, dest)
    cmd = [*pip(python), "download", "--dest", str(dest), *target_flags(target)]
    version = parse_wheel_filename(project_wheel.name)[1]
    requirement = f"{PROJECT_NAME}[{APP_EXTRAS}]=={version}"
    run([*cmd, "--find-links", str(dest), requirement], quiet=quiet)
    run([*cmd, "--no-deps", "pip"], quiet=quiet)  # bootstraps a venv without ensurepip
    for _round in range(10):
        missing = missing_requirements(dest.glob("*.whl"), target, PROJECT_NAME, [APP_EXTRAS])
        if not missing:
            break
        specs = sorted({f"{r.name}{r.specifier}" for r in missing})
        run([*cmd, "--no-deps", *specs], quiet=quiet)
    else:
        raise BuildError(f"[{target.name}] could not close the dependency set: {missing}")
    _prefer_pure(dest, target, python=python, quiet=quiet)


def _prefer_pure(dest: Path, target: Target, *, python: str, quiet: bool) -> None:
    """Replace the compiled wheels of :data:`PURE_PREFERRED` by the same version's pure one."""
    for path in sorted(dest.glob("*.whl")):
        name, version, _build, tags = parse_wheel_filename(path.name)
        if name not in PURE_PREFERRED or any(t.platform == "any" for t in tags):
            continue
        run(
            [*pip(python), "download", "--no-deps", "--dest", str(dest), "--only-binary=:all:"]
            + ["--platform", "any", "--implementation", "py", "--abi", "none"]
            + ["--python-version", target.python_version, f"{name}=={version}"],
            quiet=quiet,
        )
        path.unlink()


def write_lock(target: Target, wheels: Iterable[Path], *, note: str) -> Path:
    """Write the lock file of ``target``: one ``name==version --hash=sha256:...`` per wheel.

    Args:
        target: whose lock it is.
        wheels: the dependency wheels (the project's own wheel is skipped).
        note: a comment line saying how the lock was made.

    Returns:
        The lock file's path.
    """
    lines = [f"# {target.name}: {note}\n", "# Written by `python -m installer.lock`.\n"]
    for path in sorted(wheels, key=lambda p: p.name.lower()):
        dist = read_wheel(path)
        if dist.name == PROJECT_NAME:
            continue
        lines.append(f"{dist.name}=={dist.version} --hash=sha256:{sha256_file(path)}\n")
    target.lock.parent.mkdir(parents=True, exist_ok=True)
    target.lock.write_text("".join(lines), encoding="utf-8", newline="\n")
    return target.lock


def locked_hashes(target: Target) -> dict[str, str]:
    """Return the pinned ``name==version`` of each wheel in ``target``'s lock, by SHA-256.

    Raises:
        BuildError: the target has no lock file.
    """
    if not target.lock.is_file():
        raise BuildError(f"no lock file {target.lock}; run `python -m installer.lock`")
    pins: dict[str, str] = {}
    for line in target.lock.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            pin, _, digest = line.partition(" --hash=sha256:")
            pins[digest.strip()] = pin.strip()
    return pins


def download_locked(target: Target, *, python: str = sys.executable, quiet: bool) -> list[Path]:
    """Fetch the wheels ``target``'s lock names into the cache (hash-checked by pip).

    Returns:
        The wheel files, one per lock line, in the cache folder of the target.

    Raises:
        BuildError: the download failed, or a file does not match its pinned hash.
    """
    dest = cache_dir("wheels", target.name)
    pins = locked_hashes(target)
    found = {sha256_file(p): p for p in sorted(dest.glob("*.whl"))}
    if not set(pins) <= set(found):  # a second build needs no registry at all
        run(
            [*pip(python), "download", "--no-deps", "--require-hashes", "--dest", str(dest)]
            + [*target_flags(target), "-r", str(target.lock)],
            quiet=quiet,
        )
        found = {sha256_file(p): p for p in sorted(dest.glob("*.whl"))}
    absent = [pin for digest, pin in pins.items() if digest not in found]
    if absent:
        raise BuildError(f"[{target.name}] locked wheels missing after download: {absent}")
    return sorted(found[digest] for digest in pins)
