"""The dossier detail's print buttons: the receipt slip and the procedure's result paper.

Each paper is rendered as PDF on a worker thread (``desktop.printing`` is imported there, so
the screen opens without it), then opened with the system viewer or sent to the printer. The
QR code is signed with the device key when the sync engine has one; before that the paper
carries an unsigned QR that still names the dossier.
"""

from __future__ import annotations

import logging
import tempfile
import time
import tkinter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import ttkbootstrap as ttk

from desktop.forms.model import Procedure
from desktop.forms.vietnamese import fold
from desktop.ui.form_options import commune_options
from desktop.ui.services import Services
from desktop.ui.widgets.tables import press_with_enter

if TYPE_CHECKING:
    from desktop.printing.qr import Signer
    from desktop.printing.system import Handoff
    from desktop.store.records import DossierRecord

log = logging.getLogger(__name__)

#: Printouts are plain PDF files (the viewer and the printer need them); personal data must
#: not pile up outside the encrypted store, so files older than this are deleted.
PRINTOUT_KEEP_S = 2 * 24 * 3600

#: Says something under the buttons: ``say(text, bootstyle)``.
Say = Callable[[str, str], None]


class PrintPanel(ttk.Frame):
    """The print buttons of one dossier: the receipt slip and the result paper.

    "In thẳng ra máy in" sends the papers to the printer instead of the PDF viewer.

    Args:
        master: the detail screen's action row.
        services: the shared services.
        say: shows a message on the detail screen.

    Attributes:
        printouts: the last PDF written per kind ("receipt", "certificate").
        open_pdf: hands a PDF to the system viewer (replaceable, e.g. in tests).
        print_pdf: sends a PDF to a printer (replaceable).
    """

    def __init__(self, master: tkinter.Misc, services: Services, *, say: Say) -> None:
        """Build the buttons; ``show`` gives them a dossier."""
        super().__init__(master)
        self.services = services
        self.say = say
        self.record: DossierRecord | None = None
        self.procedure: Procedure | None = None
        self.printouts: dict[str, Path] = {}
        self.open_pdf: Callable[[Path], Handoff | bool] = _open_with_viewer
        self.print_pdf: Callable[[Path, str | None], Handoff | bool] = _send_to_printer
        self.print_certificate_button = ttk.Button(
            self, text="In giấy", bootstyle="primary", command=self.print_certificate
        )
        self.print_certificate_button.pack(side="right")
        self.print_receipt_button = ttk.Button(
            self,
            text="In phiếu tiếp nhận",
            bootstyle="primary-outline",
            command=self.print_receipt,
        )
        self.print_receipt_button.pack(side="right", padx=(0, 8))
        self.to_printer = tkinter.BooleanVar(value=bool(services.settings.printer))
        ttk.Checkbutton(
            self, text="In thẳng ra máy in", variable=self.to_printer, bootstyle="round-toggle"
        ).pack(side="right", padx=(0, 14))
        for button in (self.print_receipt_button, self.print_certificate_button):
            press_with_enter(button)

    def show(self, record: DossierRecord, procedure: Procedure) -> None:
        """Print the papers of this dossier from now on."""
        self.record, self.procedure = record, procedure
        self.print_certificate_button.configure(text=f"In {procedure.result_document.lower()}")

    def print_receipt(self) -> None:
        """Render the receipt slip on a worker thread, then open or print it."""
        if self.record is None or self.procedure is None:
            return
        procedure, flat = self.procedure, dict(self.record.record)
        commune, clerk = self._commune_name(self.record), self.services.clerk
        clerk_name = clerk.full_name or clerk.username
        signer, out = self._signer(), self._output_path(self.record, "phieu-tiep-nhan")

        def render() -> Path:
            from desktop.forms.receipt import build_receipt
            from desktop.printing.pdf import render_receipt

            slip = build_receipt(procedure, flat, commune_name=commune, clerk_name=clerk_name)
            return render_receipt(slip, signer=signer, out_path=out)

        self._print("receipt", render, "In phiếu tiếp nhận")

    def print_certificate(self) -> None:
        """Render the certificate or extract on a worker thread, then open or print it."""
        if self.record is None or self.procedure is None:
            return
        procedure, flat = self.procedure, dict(self.record.record)
        settings = self.services.settings
        style = {"mung": settings.date_words_mung, "zero_tens": settings.date_words_zero_tens}
        commune, signer = self._commune_name(self.record), self._signer()
        signer_title = settings.signer_title or "Chủ tịch"
        out = self._output_path(self.record, _slug(procedure.result_document))

        def render() -> Path:
            from desktop.printing.pdf import render_certificate

            return render_certificate(
                procedure.code,
                flat,
                commune_name=commune,
                signer_name=settings.signer_name,
                signer_title=signer_title,
                signer=signer,
                date_in_words_style=style,
                out_path=out,
                fonts=settings.font_path or None,
            )

        self._print("certificate", render, f"In {procedure.result_document.lower()}")

    # -- helpers -----------------------------------------------------------------------------

    def _output_path(self, record: DossierRecord, kind: str) -> Path:
        base = self.services.profile_dir
        folder = (Path(base) if base else Path(tempfile.gettempdir()) / "motcua") / "printouts"
        folder.mkdir(parents=True, exist_ok=True)
        _remove_old_printouts(folder)
        number = record.dossier_no.replace("/", "-")
        return folder / f"{number}-{kind}.pdf"

    def _signer(self) -> Signer | None:
        # The device key belongs to the sync engine; before the engine is up the paper prints
        # with an unsigned QR code that still names the dossier.
        if self.services.sync is None:
            return None
        try:
            return self.services.sync.printout_signer()
        except Exception:  # no key can be made now (store busy, engine stopping): print anyway
            log.exception("no printout signer from the sync engine")
            return None

    def _commune_name(self, record: DossierRecord) -> str:
        code = str(record.record.get("commune") or self.services.store.commune)
        option = commune_options().by_value(code)
        return option.label if option is not None else code

    def _print(self, kind: str, render: Callable[[], Path], description: str) -> None:
        self.say(f"{description}: đang tạo tệp PDF…", "secondary")
        self.services.tasks.run(
            render,
            on_done=lambda path: self._printed(kind, Path(path)),
            on_error=self._print_failed,
            description=description,
        )

    def _printed(self, kind: str, path: Path) -> None:
        self.printouts[kind] = path
        if self.to_printer.get():
            handoff = self.print_pdf(path, self.services.settings.printer or None)
            done = "Đã gửi tới máy in"
        else:
            handoff = self.open_pdf(path)
            done = "Đã mở tệp PDF"
        if handoff:
            self.say(f"{done}: {path}", "success")
            self.services.toast(f"{done}.", "success")
        else:
            from desktop.printing.system import Handoff

            reason = handoff.message if isinstance(handoff, Handoff) else ""
            self.say(f"Đã tạo tệp PDF {path}. {reason}".strip(), "warning")
            self.services.toast("Đã tạo tệp PDF, nhưng chưa mở được.", "warning")

    def _print_failed(self, error: BaseException) -> None:
        from desktop.printing.fonts import FontNotFound

        log.error("printing failed", exc_info=error)
        text = error.message_vi if isinstance(error, FontNotFound) else str(error)
        self.say(f"Không in được: {text}. Hãy kiểm tra rồi thử lại.", "danger")
        self.services.toast("Không in được.", "danger")


def _open_with_viewer(path: Path) -> Handoff:
    from desktop.printing.system import open_with_system_viewer

    return open_with_system_viewer(path)


def _send_to_printer(path: Path, printer: str | None) -> Handoff:
    from desktop.printing.system import send_to_default_printer

    return send_to_default_printer(path, printer)


def _remove_old_printouts(folder: Path) -> None:
    """Delete PDFs in ``folder`` older than :data:`PRINTOUT_KEEP_S`."""
    cutoff = time.time() - PRINTOUT_KEEP_S
    for old in folder.glob("*.pdf"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass  # in use by a viewer, or gone already: try again next time


def _slug(text: str) -> str:
    """Return an ASCII file-name part for a document title ("Giấy khai sinh" → giay-khai-sinh)."""
    return "-".join(fold(text).split()) or "giay"
