"""The few Debian 12 packages a commune PC may lack, with what they need, as .deb files.

For each package of :data:`ROOT_PACKAGES`, apt's own resolver decides what to carry: it is run
(simulated, with this machine's package lists) against a *baseline* dpkg status made of what
every Debian 12 system has: the packages of priority required (what ``debootstrap
--variant=minbase`` installs), and ``python3`` with everything it depends on (the installer needs
a Python to run at all). What the resolver
would install on top of the baseline is downloaded with ``apt-get download`` for Debian 12
amd64. The build machine must therefore be Debian 12 amd64 with current package lists.

Only packages the baseline lacks are carried, never a newer build of one it has: python3-venv
pins the exact python3.11 build it belongs to, and carrying that Python update would add
9.5 MB to every stick for a package install.sh rarely needs (it installs python3-venv only when
Python's ``venv`` module does not work; pip itself comes from its wheel, not ``ensurepip``). On
a Debian 12 whose python3.11 is older than the stick's, that install fails with a clear message.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from installer.common import BuildError, cache_dir, run

#: What install.sh may need: Tk for the window, a Vietnamese serif for printing, venv.
ROOT_PACKAGES = ("python3-tk", "fonts-liberation2", "python3-venv")
DPKG_STATUS = Path("/var/lib/dpkg/status")
# "Inst NAME (VERSION ...": a new package; "Inst NAME [OLD] (VERSION ...": an upgrade (skipped).
_INST = re.compile(r"^Inst (\S+) \((\S+) ")


def _stanzas(status_text: str) -> dict[str, str]:
    """Return the installed packages' stanzas of a dpkg status file, by package name."""
    found = {}
    for stanza in status_text.split("\n\n"):
        name = re.search(r"^Package: (\S+)", stanza, re.MULTILINE)
        if name and re.search(r"^Status: install ok installed", stanza, re.MULTILINE):
            found[name.group(1)] = stanza.strip()
    return found


def _depends(stanza: str) -> list[list[str]]:
    """Return the Depends and Pre-Depends of a stanza: one list of alternatives per clause."""
    clauses = []
    for fieldname in ("Depends", "Pre-Depends"):
        line = re.search(rf"^{fieldname}: (.*)$", stanza, re.MULTILINE)
        if line:
            for clause in line.group(1).split(","):
                clauses.append([a.split()[0].split(":")[0] for a in clause.split("|")])
    return clauses


def baseline_status(status_text: str) -> str:
    """Return a dpkg status holding what every Debian 12 has: priority required, ``python3``,
    and everything they depend on (as installed here)."""
    installed = _stanzas(status_text)
    provides: dict[str, str] = {}
    for name, stanza in installed.items():
        line = re.search(r"^Provides: (.*)$", stanza, re.MULTILINE)
        for virtual in line.group(1).split(",") if line else ():
            provides.setdefault(virtual.split()[0], name)
    todo = [
        name
        for name, stanza in installed.items()
        if re.search(r"^Priority: required$", stanza, re.MULTILINE)
    ] + ["python3"]
    keep: set[str] = set()
    while todo:
        name = todo.pop()
        name = name if name in installed else provides.get(name, name)
        if name in keep or name not in installed:
            continue
        keep.add(name)
        for alternatives in _depends(installed[name]):
            present = [a if a in installed else provides.get(a) for a in alternatives]
            todo.extend([p for p in present if p][:1])  # the first alternative that is here
    return "\n\n".join(installed[name] for name in sorted(keep)) + "\n\n"


def resolve(package: str, status: Path, *, quiet: bool) -> list[tuple[str, str]]:
    """Return the ``(name, version)`` that apt would install for ``package`` over ``status``.

    Raises:
        BuildError: apt cannot resolve it (no package lists: run ``apt-get update``).
    """
    output = run(
        ["apt-get", "install", "--simulate", "--no-install-recommends", "-o"]
        + [f"Dir::State::status={status}", package],
        quiet=quiet,
    )
    found = [(m.group(1), m.group(2)) for m in map(_INST.match, output.splitlines()) if m]
    if not any(name == package for name, _version in found):
        raise BuildError(f"apt would not install {package}: {output[-500:]}")
    return found


def _check_host() -> None:
    """Raise ``BuildError`` unless this machine can fetch Debian 12 amd64 packages."""
    if shutil.which("apt-get") is None or not DPKG_STATUS.is_file():
        raise BuildError("the .deb files are fetched with apt: build on Debian 12 amd64")
    release = Path("/etc/debian_version").read_text(encoding="utf-8").strip()
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not release.startswith("12") or arch != "amd64":
        raise BuildError(f"the .deb files are for Debian 12 amd64; this is {release} {arch}")


def download(
    dest: Path, packages: Iterable[str] = ROOT_PACKAGES, *, quiet: bool
) -> dict[str, list[str]]:
    """Download each package of ``packages`` with what it needs into ``dest``.

    Returns:
        For each package, the file names (in ``dest``) install.sh installs for it, in order.

    Raises:
        BuildError: not Debian 12 amd64, or apt failed.
    """
    _check_host()
    cache = cache_dir("debs")
    status = cache / "baseline-status"
    status.write_text(baseline_status(DPKG_STATUS.read_text(encoding="utf-8")), encoding="utf-8")
    dest.mkdir(parents=True, exist_ok=True)
    sets: dict[str, list[str]] = {}
    for package in packages:
        files = []
        for name, version in resolve(package, status, quiet=quiet):
            pattern = f"{name}_{version.replace(':', '%3a')}_*.deb"
            if not list(cache.glob(pattern)):
                run(["apt-get", "download", f"{name}={version}"], quiet=quiet, cwd=cache)
            deb = sorted(cache.glob(pattern))[0]
            shutil.copy2(deb, dest / deb.name)
            files.append(deb.name)
        sets[package] = files
    return sets
