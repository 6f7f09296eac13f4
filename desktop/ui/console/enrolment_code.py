"""Issuing an enrolment code in the console: pick the commune, then show the code and its QR.

A commune PC joins the province with a one-time code (``devices.issue_code``). Provincial IT
usually reads it out on the phone or sends a photo, so the dialog shows the code large, in a
monospace font, grouped as the server gives it (``VJKEX-3APE0``), with the commune, when it
expires, and a QR code of the code itself. The QR holds exactly the code and nothing else: the
PC's first-run wizard (step "Máy chủ tỉnh", field "Mã đăng ký máy") or its settings take it typed, and a phone's
camera app shows it as text to copy. It is drawn on a Canvas from
:func:`desktop.printing.qr.qr_matrix` (error correction M) with the four-module quiet zone
scanners need, at least 240 pixels across so a phone photographs it from the screen.
"""

from __future__ import annotations

import datetime as dt
import tkinter
import tkinter.font
from collections.abc import Callable, Sequence

import ttkbootstrap as ttk

from desktop.forms.dates import format_datetime_vn
from desktop.printing.qr import qr_matrix
from desktop.ui.dialogs import Dialog
from protocol.admin import IssuedCode

__all__ = ["CODE_FONT_SIZE", "CommunePickDialog", "EnrolmentCodeDialog", "QrCanvas"]

#: Point size of the code in the dialog (read out over the phone, photographed).
CODE_FONT_SIZE = 36
#: Smallest side of the drawn QR, quiet zone included, in pixels.
QR_MIN_PX = 240
#: Light modules around the code: the QR standard asks for four.
QUIET_MODULES = 4


def monospace_family() -> str:
    """Return the family of Tk's fixed-width font on this system (``DejaVu Sans Mono``…)."""
    return str(tkinter.font.nametofont("TkFixedFont").actual("family"))


class QrCanvas(tkinter.Canvas):
    """A QR code of ``text`` drawn with one rectangle per dark module, on white.

    Attributes:
        text: what the code holds.
        matrix: its modules (True = dark), without the quiet zone.
        module_px: the side of one module in pixels.
        quiet: the quiet zone, in modules.
    """

    def __init__(
        self,
        master: tkinter.Misc,
        text: str,
        *,
        min_px: int = QR_MIN_PX,
        quiet: int = QUIET_MODULES,
    ) -> None:
        """Draw the code at least ``min_px`` across (whole pixels per module, never blurred)."""
        self.text = text
        self.matrix = qr_matrix(text)
        self.quiet = quiet
        modules = len(self.matrix) + 2 * quiet
        self.module_px = max(-(-min_px // modules), 3)
        side = modules * self.module_px
        super().__init__(
            master, width=side, height=side, background="white", highlightthickness=0, bd=0
        )
        self.side = side
        px = self.module_px
        for y, row in enumerate(self.matrix):
            for x, dark in enumerate(row):
                if dark:
                    left, top = (x + quiet) * px, (y + quiet) * px
                    self.create_rectangle(
                        left, top, left + px, top + px, fill="black", outline="", width=0
                    )


def expiry_text(expires_at_ms: int) -> str:
    """Return when a code expires as ``dd/mm/yyyy HH:MM`` (server time, in local time)."""
    return format_datetime_vn(dt.datetime.fromtimestamp(expires_at_ms / 1000))


class CommunePickDialog(Dialog):
    """Ask which commune the new enrolment code is for; the result is its code (or None).

    Args:
        master: a widget of the window.
        communes: ``(label, code)`` pairs in the order to offer them.
        default: the commune selected at first (the devices screen's filter).
        on_result: called with the chosen commune code, or None when cancelled.
    """

    def __init__(
        self,
        master: tkinter.Misc,
        communes: Sequence[tuple[str, str]],
        *,
        default: str | None = None,
        on_result: Callable[[str | None], object] | None = None,
    ) -> None:
        """Build and show the dialog."""
        super().__init__(master, "Cấp mã đăng ký máy", on_result=on_result)
        self.communes = list(communes)
        ttk.Label(
            self.body,
            text="Cấp mã đăng ký dùng một lần cho một máy mới (hoặc máy đã bị thu hồi) của xã:",
            wraplength=460,
            justify="left",
        ).pack(anchor="w")
        self.box = ttk.Combobox(
            self.body, values=[label for label, _ in self.communes], state="readonly", width=40
        )
        codes = [code for _, code in self.communes]
        self.box.current(codes.index(default) if default in codes else 0)
        self.box.pack(anchor="w", pady=(8, 4))
        ttk.Label(
            self.body,
            text="Mã có hạn 72 giờ và chỉ dùng được cho một máy của xã đã chọn.",
            bootstyle="secondary",
        ).pack(anchor="w")
        self.add_button("Quay lại", None)
        self.ok_button = ttk.Button(
            self.buttons, text="Cấp mã (Enter)", bootstyle="primary", command=self._confirm
        )
        self.ok_button.pack(side="right", padx=(8, 0))
        self.default_button = self.ok_button
        self.show(focus=self.box)

    @property
    def commune(self) -> str:
        """Return the chosen commune's code."""
        return self.communes[max(self.box.current(), 0)][1]

    def _confirm(self) -> None:
        self.close(self.commune)


class EnrolmentCodeDialog(Dialog):
    """Show an issued enrolment code large, with its commune, expiry and a QR code of it.

    Args:
        master: a widget of the window.
        issued: the server's answer.
        commune_label: the commune's name as the console shows it.
    """

    def __init__(self, master: tkinter.Misc, issued: IssuedCode, *, commune_label: str) -> None:
        """Build and show the dialog."""
        super().__init__(master, "Mã đăng ký máy mới")
        self.issued = issued
        ttk.Label(
            self.body, text=f"Mã đăng ký máy cho {commune_label}", font="-size 13 -weight bold"
        ).grid(row=0, column=0, sticky="w")
        self.code_label = ttk.Label(
            self.body,
            text=issued["code"],
            font=(monospace_family(), CODE_FONT_SIZE, "bold"),
            bootstyle="primary",
        )
        self.code_label.grid(row=1, column=0, sticky="w", pady=(10, 6))
        self.expiry_label = ttk.Label(
            self.body,
            text=f"Hết hạn lúc {expiry_text(issued['expires_at'])} · dùng được một lần, "
            "cho một máy của xã này.",
        )
        self.expiry_label.grid(row=2, column=0, sticky="w")
        ttk.Label(
            self.body,
            text=(
                "Ở máy của xã: khi mở phần mềm lần đầu, bước «Máy chủ tỉnh» có ô «Mã đăng ký "
                "máy» — gõ mã này (chữ hoa hay thường, có dấu gạch hay không đều được). Máy đã "
                "cài thì vào Cài đặt → Đồng bộ → «Mã đăng ký máy».\n\nMã QR bên phải chứa đúng "
                "mã này, không có gì khác: chụp màn hình bằng điện thoại để mang tới máy xã "
                "hoặc gửi cho cán bộ xã."
            ),
            wraplength=430,
            justify="left",
        ).grid(row=3, column=0, sticky="nw", pady=(12, 0))
        self.qr = QrCanvas(self.body, issued["code"])
        self.qr.grid(row=0, column=1, rowspan=4, sticky="ne", padx=(24, 0))
        self.copy_button = ttk.Button(
            self.buttons, text="Sao chép mã", bootstyle="secondary", command=self.copy_code
        )
        self.copy_button.pack(side="left")
        self.close_button = self.add_button("Đóng", None, bootstyle="primary", default=True)
        self.show()

    def copy_code(self) -> None:
        """Put the code on the clipboard (to paste into a message to the commune)."""
        self.clipboard_clear()
        self.clipboard_append(self.issued["code"])
        self.copy_button.configure(text="Đã sao chép ✓")
