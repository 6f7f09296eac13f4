"""Hand a finished PDF to the operating system: open it in the viewer, or print it.

No Tk here: the UI calls these from a worker and shows the message when they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Handoff:
    """The outcome of handing a file to the system: truthy when it worked.

    Unpacks as ``ok, message = open_with_system_viewer(path)``.

    Attributes:
        ok: the viewer or the print job was started.
        message: a Vietnamese message saying what to do when it was not ("" on success).
    """

    ok: bool
    message: str = ""

    def __bool__(self) -> bool:
        """Return ``ok``."""
        return self.ok

    def __iter__(self) -> Iterator[object]:
        """Yield ``ok`` then ``message`` (for tuple unpacking)."""
        return iter((self.ok, self.message))


def open_with_system_viewer(path: str | os.PathLike[str]) -> Handoff:
    """Open a file with the desktop's default application.

    Args:
        path: the PDF to show.

    Returns:
        A truthy :class:`Handoff` when the viewer was started, else a falsy one whose
        ``message`` (Vietnamese) says what to do.
    """
    target = Path(path)
    if not target.is_file():
        return Handoff(False, f"Không tìm thấy tệp {target.name} để mở.")
    try:
        if sys.platform.startswith("win"):
            os.startfile(str(target))  # type: ignore[attr-defined]  # Windows only
            return Handoff(True)
        opener = "open" if sys.platform == "darwin" else shutil.which("xdg-open")
        if opener is None:
            return Handoff(
                False,
                (
                    "Máy chưa có chương trình mở tệp PDF (xdg-open). Hãy cài gói xdg-utils và "
                    f"một trình xem PDF, hoặc mở tệp {target} bằng tay."
                ),
            )
        subprocess.Popen(  # noqa: S603 - fixed program, path passed as one argument
            [opener, str(target)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return Handoff(True)
    except OSError as exc:
        return Handoff(False, f"Không mở được tệp {target.name}: {exc.strerror or exc}.")


def send_to_default_printer(path: str | os.PathLike[str], printer: str | None = None) -> Handoff:
    """Send a PDF to the default printer (or the printer named in the settings).

    Uses ``lp`` (CUPS) on Linux and the shell's "print" verb on Windows.

    Args:
        path: the PDF to print.
        printer: a printer name from the settings, or None for the default printer.

    Returns:
        A truthy :class:`Handoff` when the job was handed over, else a falsy one whose
        ``message`` (Vietnamese) says what to do.
    """
    target = Path(path)
    if not target.is_file():
        return Handoff(False, f"Không tìm thấy tệp {target.name} để in.")
    if sys.platform.startswith("win"):
        try:
            # "print" goes to the default printer through the PDF viewer's print verb.
            os.startfile(str(target), "print")  # type: ignore[attr-defined]  # Windows only
            return Handoff(True)
        except OSError as exc:
            return Handoff(
                False,
                (
                    "Không gửi được lệnh in: máy cần một trình xem PDF có chức năng in "
                    f"(ví dụ Adobe Reader, Foxit). Chi tiết: {exc.strerror or exc}."
                ),
            )
    lp = shutil.which("lp")
    if lp is None:
        return Handoff(
            False,
            (
                "Máy chưa cài hệ thống in (lệnh lp của CUPS). Hãy cài gói cups-client và chọn "
                "máy in mặc định, hoặc mở tệp PDF rồi in từ trình xem."
            ),
        )
    command = [lp, *(["-d", printer] if printer else []), str(target)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return Handoff(False, f"Không gửi được lệnh in: {exc}.")
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        reason = detail[-1] if detail else f"mã lỗi {done.returncode}"
        return Handoff(False, f"Máy in chưa nhận lệnh in ({reason}). Hãy kiểm tra máy in mặc định.")
    return Handoff(True)
