"""Build the Windows setup program: ``python -m installer.build_windows --out DIR``.

Writes ``DIR/MotCuaXa-Setup-<version>-win64.exe``: an NSIS installer (Debian's ``makensis``
with its 64-bit stub) holding python.org's embeddable CPython 3.11 with Tcl/Tk
(:mod:`installer.windows_python`), and in its ``Lib\\site-packages`` the app and every
dependency of ``motcua[desktop]`` as pinned by ``installer/locks/win-cp311.txt``. Nothing is
installed with pip on the PC: the setup program only copies files, compiles them once, and
makes the shortcuts, the uninstaller and its entry in Windows' list of programs.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from installer import windows_python
from installer.common import (
    HERE,
    BuildError,
    build_parser,
    build_project_wheel,
    project_version,
    report,
    run,
    run_command,
)
from installer.wheels import WINDOWS_TARGET, download_locked, target_flags

NSIS_SCRIPT = HERE / "nsis" / "motcua.nsi"
#: Options of every start of the installed Python: UTF-8 mode, so that Vietnamese text printed
#: to a pipe or a file is not refused by the ANSI code page (the shortcuts use them too).
PYTHON_OPTIONS = ("-X", "utf8")
#: ``motcua`` on Windows (the ``._pth`` file sets the module path).
MOTCUA_CMD = f'@"%~dp0python\\python.exe" {" ".join(PYTHON_OPTIONS)} -m desktop.cli %*\r\n'


def setup_name(version: str) -> str:
    """Return the file name of the setup program of ``version``."""
    return f"MotCuaXa-Setup-{version}-win64.exe"


def install_site_packages(python_dir: Path, wheels: Sequence[Path], *, quiet: bool) -> Path:
    """Unpack ``wheels`` for Windows CPython 3.11 into ``python_dir/Lib/site-packages``.

    pip runs isolated from this machine's configuration, with no index: only these files.

    Returns:
        The site-packages folder.
    """
    site = python_dir / "Lib" / "site-packages"
    run(
        [sys.executable, "-m", "pip", "--isolated", "--disable-pip-version-check", "install"]
        + ["--no-index", "--no-deps", "--no-compile", "--no-warn-script-location", "--quiet"]
        + ["--target", str(site), *target_flags(WINDOWS_TARGET), *map(str, wheels)],
        quiet=quiet,
    )
    # Launchers pip wrote for THIS machine (Linux shell scripts): useless on Windows.
    shutil.rmtree(site / "bin", ignore_errors=True)
    return site


def make_payload(dest: Path, *, version: str | None, quiet: bool) -> str:
    """Fill ``dest`` with what the setup program installs.

    Returns:
        The version of the app in the payload.
    """
    python_dir = windows_python.assemble(dest / "python", quiet=quiet)
    wheels = download_locked(WINDOWS_TARGET, quiet=quiet)
    app = build_project_wheel(
        dest.parent / "app-wheel", python=sys.executable, quiet=quiet, version=version
    )
    install_site_packages(python_dir, [*wheels, app], quiet=quiet)
    (dest / "motcua.cmd").write_text(MOTCUA_CMD, encoding="ascii", newline="")
    return version or project_version()


def build_setup(
    out: Path, *, version: str | None = None, fast: bool = False, quiet: bool = False
) -> Path:
    """Build the setup program into ``out``.

    Args:
        out: the output folder (created when missing).
        version: the version to stamp (default: pyproject's); the upgrade test builds a higher one.
        fast: compress with zlib instead of solid LZMA (bigger, for tests only).
        quiet: print only the summary line.

    Returns:
        The setup program's path.

    Raises:
        BuildError: a download, a check or ``makensis`` failed.
    """
    makensis = shutil.which("makensis")
    if makensis is None:
        raise BuildError("makensis not found: apt-get install nsis")
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="motcua-win-") as tmp:
        payload = Path(tmp) / "payload"
        stamped = make_payload(payload, version=version, quiet=quiet)
        setup = out.absolute() / setup_name(stamped)
        run(
            [makensis, "-V2", "-INPUTCHARSET", "UTF8", "-XTarget amd64-unicode"]
            + [f"-DVERSION={stamped}", f"-DPAYLOAD={payload}", f"-DOUTFILE={setup}"]
            + [f"-DPYTHON_OPTIONS={' '.join(PYTHON_OPTIONS)}"]
            + [f"-DCOMPRESSOR={'zlib' if fast else 'lzma'}", NSIS_SCRIPT],
            quiet=quiet,
        )
    report("setup", setup, started)
    return setup


def main(argv: Sequence[str] | None = None) -> int:
    """Build the setup program; errors are one line on stderr and exit code 1."""
    parser = build_parser("python -m installer.build_windows", __doc__)
    parser.add_argument("--fast", action="store_true", help="zlib instead of LZMA (tests)")
    args = parser.parse_args(argv)
    return run_command(
        lambda: build_setup(args.out, version=args.version, fast=args.fast, quiet=args.quiet)
    )


if __name__ == "__main__":
    sys.exit(main())
