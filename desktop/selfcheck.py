"""Check that an installed copy of the app works on this PC: ``motcua --self-check``.

Run by the installers' tests (under wine and in a Debian chroot) and by the person who
installs, when something looks wrong. Each check runs even if an earlier one failed, and
prints one English line; the exit code is 0 only when every check passed:

* **imports**: the modules the app loads, and the native libraries under them;
* **window**: a ttkbootstrap window opens, draws and closes (Tcl/Tk and its library found);
* **store**: an encrypted profile is created in a throw-away folder and unlocked again;
* **fonts**: a Vietnamese-capable serif font for printing is found;
* **pdf**: a receipt slip is printed to a temporary PDF file.

Nothing here touches the clerk's real profile.
"""

from __future__ import annotations

import datetime as dt
import importlib
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from desktop import printing

#: The modules the app loads at some point, project and third-party (native parts included).
MODULES = (
    "desktop.app",
    "desktop.ui.session",
    "desktop.store",
    "desktop.sync.engine",
    "protocol.envelope",
    "sqlcipher3",
    "cryptography.hazmat.primitives.hpke",
    "zstandard",
    "PIL.Image",
    "fpdf",
    "segno",
    "requests",
    "apscheduler.schedulers.background",
    "sqlite_utils",
    "ttkbootstrap",
)

#: The password of the throw-away profile (it is deleted with its folder).
_PASSWORD = "self-check-password"


def check_imports() -> str:
    """Import every module of :data:`MODULES`.

    Returns:
        What was checked.
    """
    for name in MODULES:
        importlib.import_module(name)
    return f"{len(MODULES)} modules"


def check_window() -> str:
    """Open a ttkbootstrap window, let Tk draw it, and close it.

    Returns:
        The Tk version.
    """
    import ttkbootstrap as ttk

    root = ttk.App(title="Một Cửa Xã: tự kiểm tra", size=(320, 120))
    try:
        ttk.Label(root, text="Kiểm tra cửa sổ: Một Cửa Xã").pack(padx=20, pady=20)
        root.update()
        if not root.winfo_ismapped():
            raise RuntimeError("the window was not shown")
        return f"Tk {root.tk.call('info', 'patchlevel')}"
    finally:
        root.destroy()


def check_store(folder: Path) -> str:
    """Create an encrypted profile in ``folder``, close it, and unlock it again.

    Returns:
        The SQLCipher version.

    Raises:
        RuntimeError: the database file is readable without the key.
    """
    from desktop.store import profile
    from desktop.store.store import Store

    target = folder / "profile"
    Store.create(
        target, commune="02701", username="kiemtra", password=_PASSWORD, full_name="Tự kiểm tra"
    ).close()
    if (target / profile.DATABASE).read_bytes()[:16] == b"SQLite format 3\x00":
        raise RuntimeError("the database is not encrypted")
    with Store.open(target, "kiemtra", _PASSWORD) as store:
        version = store.read(lambda conn: conn.execute("PRAGMA cipher_version").fetchone()[0])
    return f"SQLCipher {version}"


def check_fonts() -> str:
    """Find the serif font printing embeds.

    Returns:
        The font family and its regular face.
    """
    fonts = printing.find_serif_fonts()
    return f"{fonts.family} ({fonts.regular})"


def check_pdf(folder: Path) -> str:
    """Print a receipt slip of a made-up dossier to a PDF in ``folder``.

    Returns:
        The size of the PDF written.

    Raises:
        RuntimeError: the file written is not a PDF.
    """
    from desktop.forms.procedures import get_procedure
    from desktop.forms.receipt import build_receipt

    record = {
        "dossier_no": "KT-0001",
        "procedure": "khai_sinh",
        "received_at": dt.datetime.now().isoformat(timespec="seconds"),
        "data.nguoi_yeu_cau_ho_ten": "Giàng Thị Ánh",
    }
    slip = build_receipt(
        get_procedure("khai_sinh"), record, commune_name="Xã Khao Mang", clerk_name="Tự kiểm tra"
    )
    out = printing.render_receipt(slip, signer=None, out_path=folder / "kiem-tra.pdf")
    if out.read_bytes()[:5] != b"%PDF-":
        raise RuntimeError(f"{out} is not a PDF")
    return f"{out.stat().st_size} bytes"


def run_checks(folder: Path) -> list[tuple[str, bool, str]]:
    """Run every check with ``folder`` as scratch space.

    Returns:
        ``(name, passed, detail)`` per check, in order; the detail of a failure is its error.
    """
    checks: Sequence[tuple[str, Callable[[], str]]] = (
        ("imports", check_imports),
        ("window", check_window),
        ("store", lambda: check_store(folder)),
        ("fonts", check_fonts),
        ("pdf", lambda: check_pdf(folder)),
    )
    results = []
    for name, check in checks:
        try:
            results.append((name, True, check()))
        except Exception as exc:  # every failure is reported, and the other checks still run
            results.append((name, False, f"{type(exc).__name__}: {exc}"))
    return results


def main() -> int:
    """Run the self-check, print one line per check; return 0 when all passed, else 1."""
    with tempfile.TemporaryDirectory(prefix="motcua-self-check-") as tmp:
        results = run_checks(Path(tmp))
    for name, passed, detail in results:
        print(f"{'ok' if passed else 'FAILED'}: {name}: {detail}", flush=True)
    failed = [name for name, passed, _detail in results if not passed]
    if failed:
        print(f"self-check failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("self-check passed")
    return 0
