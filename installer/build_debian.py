"""Build the Debian/Ubuntu bundle: ``python -m installer.build_debian --out DIR``.

Writes ``DIR/motcua-<version>-debian.tar.xz``, one folder ``motcua-<version>/`` holding:

* ``wheels/``: the app's wheel and every dependency of ``motcua[desktop]`` for CPython 3.10,
  3.11, 3.12 and 3.13 (Ubuntu 22.04, Debian 12, Ubuntu 24.04, Debian 13), as pinned by
  ``installer/locks/linux-cp3XX.txt``, plus pip (so the PC needs no ``ensurepip``);
* ``debs/``: python3-tk, fonts-liberation2 and python3-venv for Debian 12 amd64, each with what
  it needs beyond a base system (:mod:`installer.debs`), and ``debs/<package>.list``;
* ``install.sh``, ``README.md`` (the installer person's guide), ``motcua.svg``,
  ``bundle.json`` (what was built) and ``SHA256SUMS`` (every other file; install.sh refuses a
  damaged or padded copy before it writes anything).

The wheels are re-packed without compression (their ``RECORD`` hashes cover the unpacked
files, so they stay valid wheels) so that xz, over the sorted tar, stores once what the four
Pythons' builds of a library share: 111 MB of wheels become about 40 MB.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

from installer import debs
from installer.common import (
    APP_EXTRAS,
    HERE,
    PROJECT_NAME,
    BuildError,
    build_parser,
    build_project_wheel,
    project_version,
    report,
    run_command,
    sha256_file,
    write_manifest,
)
from installer.wheels import LINUX_TARGETS, download_locked

INFO_NAME = "bundle.json"
SCRIPTS = ("install.sh", "README.md", "motcua.svg")
#: xz settings: a dictionary big enough to reach back over the four builds of one library, and
#: one thread (threads cut the stream into blocks that cannot refer to each other).
XZ = "xz -T1 --lzma2=preset=1,dict=64MiB"


def tarball_name(version: str) -> str:
    """Return the file name of the bundle of ``version``."""
    return f"{PROJECT_NAME}-{version}-debian.tar.xz"


def store_wheel(src: Path, dest: Path) -> Path:
    """Copy a wheel to ``dest`` with every member stored uncompressed (same names, same bytes).

    Returns:
        The new wheel's path.
    """
    out = dest / src.name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy.external_attr = info.external_attr
            zout.writestr(copy, zin.read(info), compress_type=zipfile.ZIP_STORED)
    return out


def fill_bundle(
    folder: Path, *, version: str | None, with_debs: bool, quiet: bool
) -> dict[str, object]:
    """Write the bundle's files into ``folder`` (new or empty).

    Returns:
        The content of ``bundle.json``.
    """
    wheels_dir = folder / "wheels"
    wheels_dir.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="motcua-deb-") as tmp:
        app = build_project_wheel(Path(tmp), python=sys.executable, quiet=quiet, version=version)
        shutil.copy2(app, wheels_dir / app.name)
    targets = {}
    for target in LINUX_TARGETS:
        files = download_locked(target, quiet=quiet)
        for path in files:
            if not (wheels_dir / path.name).exists():
                store_wheel(path, wheels_dir)
        targets[target.name] = {
            "python": target.python_version,
            "wheels": {p.name: sha256_file(p) for p in files},  # as downloaded, before re-packing
        }
    deb_sets = debs.download(folder / "debs", quiet=quiet) if with_debs else {}
    for package, names in deb_sets.items():
        (folder / "debs" / f"{package}.list").write_text("\n".join(names) + "\n", encoding="utf-8")
    for script in SCRIPTS:
        shutil.copy2(HERE / script, folder / script)
    (folder / "install.sh").chmod(0o755)
    info: dict[str, object] = {
        "name": PROJECT_NAME,
        "version": version or project_version(),
        "app_wheel": app.name,
        "app_extras": APP_EXTRAS,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "targets": targets,
        "debs": deb_sets,
    }
    (folder / INFO_NAME).write_text(
        json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8", newline="\n"
    )
    write_manifest(folder)
    return info


def make_tarball(folder: Path, tarball: Path) -> Path:
    """Pack ``folder`` into ``tarball`` (sorted, owned by root, xz; see :data:`XZ`)."""
    subprocess.run(
        ["tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "-I", XZ]
        + ["-cf", str(tarball), "-C", str(folder.parent), folder.name],
        check=True,
    )
    return tarball


def build_bundle(
    out: Path, *, version: str | None = None, with_debs: bool = True, quiet: bool = False
) -> Path:
    """Build the bundle's tarball into ``out``.

    Args:
        out: the output folder (created when missing).
        version: the version to stamp (default: pyproject's); tests build a higher one.
        with_debs: carry the .deb files (needs a Debian 12 amd64 build machine).
        quiet: print only the summary line.

    Returns:
        The tarball's path.

    Raises:
        BuildError: a download or a check failed.
    """
    if shutil.which("xz") is None:
        raise BuildError("xz not found: apt-get install xz-utils")
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="motcua-bundle-") as tmp:
        stamped = version or project_version()
        folder = Path(tmp) / f"{PROJECT_NAME}-{stamped}"
        fill_bundle(folder, version=version, with_debs=with_debs, quiet=quiet)
        tarball = make_tarball(folder, out.absolute() / tarball_name(stamped))
    report("bundle", tarball, started)
    return tarball


def main(argv: Sequence[str] | None = None) -> int:
    """Build the bundle; errors are one line on stderr and exit code 1."""
    parser = build_parser("python -m installer.build_debian", __doc__)
    parser.add_argument("--no-debs", action="store_true", help="carry no .deb files")
    args = parser.parse_args(argv)
    return run_command(
        lambda: build_bundle(
            args.out, version=args.version, with_debs=not args.no_debs, quiet=args.quiet
        )
    )


if __name__ == "__main__":
    sys.exit(main())
