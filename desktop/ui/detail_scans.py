"""The dossier detail's "Tệp đính kèm" tab: the dossier's scans, and importing a new one.

An imported scan is compacted to a legible grayscale image (a PDF is kept as it is) on a
worker thread, then attached; the sizes before and after are shown.
"""

from __future__ import annotations

import logging
import tkinter
from collections.abc import Callable, Sequence
from pathlib import Path
from tkinter import filedialog
from typing import TYPE_CHECKING

import ttkbootstrap as ttk

from desktop.forms.dates import format_datetime_vn
from desktop.ui.display import format_size
from desktop.ui.services import Services
from desktop.ui.widgets.tables import headed_tree, press_with_enter

if TYPE_CHECKING:
    from desktop.store.attachments import Attachment
    from desktop.store.scans import ScanResult

log = logging.getLogger(__name__)

#: Scan files offered by the import dialog.
SCAN_TYPES = [
    ("Ảnh quét hoặc PDF", "*.jpg *.jpeg *.png *.tif *.tiff *.bmp *.pdf"),
    ("Tất cả các tệp", "*"),
]


class ScansPanel(ttk.Frame):
    """List a dossier's attachments and import scans into it.

    Args:
        master: the notebook of the detail screen.
        services: the shared services.
        on_attached: called after a scan was attached (the screen reloads the dossier).

    Attributes:
        last_scan: the last compacted scan (its sizes), once one was imported.
        ask_scan_path: asks for a scan file to import (replaceable, e.g. in tests).
    """

    def __init__(
        self, master: tkinter.Misc, services: Services, *, on_attached: Callable[[], object]
    ) -> None:
        """Build the import bar and the empty list."""
        super().__init__(master, padding=8)
        self.services = services
        self.on_attached = on_attached
        self.dossier_id: str | None = None
        self.last_scan: ScanResult | None = None
        self.ask_scan_path: Callable[[], str] = self._ask_scan_path
        bar = ttk.Frame(self)
        bar.pack(fill="x", pady=(0, 6))
        self.import_button = ttk.Button(
            bar, text="Nhập bản quét từ tệp…", bootstyle="info", command=self.import_scan
        )
        self.import_button.pack(side="left")
        press_with_enter(self.import_button)
        self.scan_label = ttk.Label(bar, text="", bootstyle="secondary")
        self.scan_label.pack(side="left", padx=12)
        self.attachment_tree = headed_tree(
            self,
            (
                ("name", "Tên tệp", 300),
                ("mime", "Loại", 130),
                ("size", "Kích thước", 100),
                ("added", "Thêm lúc", 140),
            ),
        )

    def show(self, dossier_id: str, attachments: Sequence[Attachment]) -> None:
        """List the attachments of the dossier shown."""
        self.dossier_id = dossier_id
        tree = self.attachment_tree
        tree.delete(*tree.get_children())
        for attachment in attachments:
            tree.insert(
                "",
                "end",
                values=(
                    attachment.name,
                    attachment.mime,
                    format_size(attachment.size),
                    format_datetime_vn(attachment.created_at),
                ),
            )

    def _ask_scan_path(self) -> str:
        return (
            filedialog.askopenfilename(
                parent=self, title="Chọn bản quét để đính kèm", filetypes=SCAN_TYPES
            )
            or ""
        )

    def import_scan(self, path: str | None = None) -> None:
        """Import a scan: compact it to a legible grayscale image (or keep a PDF), attach it."""
        if self.dossier_id is None:
            return
        chosen = path or self.ask_scan_path()
        if not chosen:
            return
        source = Path(chosen)
        store, dossier_id = self.services.store, self.dossier_id

        def work() -> ScanResult:
            from desktop.store.scans import compact_scan  # imported on the worker thread

            result = compact_scan(source.read_bytes(), source.name)
            store.add_attachment(
                dossier_id, result.content, result.renamed(source.name), result.mime
            )
            return result

        self.scan_label.configure(text=f"Đang nén {source.name}…")
        self.import_button.configure(state="disabled")
        self.services.tasks.run(
            work,
            on_done=self._scan_imported,
            on_error=self._scan_failed,
            description="Nhập bản quét",
        )

    def _scan_imported(self, result: ScanResult) -> None:
        self.last_scan = result
        self.import_button.configure(state="normal")
        text = (
            f"Đã đính kèm: {format_size(result.size_before)} → {format_size(result.size_after)}"
            f" ({_share(result.size_after, result.size_before)})"
            if result.size_after < result.size_before
            else f"Đã đính kèm: {format_size(result.size_after)} (giữ nguyên)"
        )
        self.scan_label.configure(text=text, bootstyle="success")
        self.services.toast(text, "success")
        self.on_attached()

    def _scan_failed(self, error: BaseException) -> None:
        self.import_button.configure(state="normal")
        from desktop.store.scans import ScanError

        log.error("scan import failed", exc_info=error)
        text = error.message_vi if isinstance(error, ScanError) else str(error)
        self.scan_label.configure(text=f"Không nhập được: {text}", bootstyle="danger")


def _share(after: int, before: int) -> str:
    """Say how big the compacted file is next to the original ("còn 6% dung lượng")."""
    percent = 100 * after / before if before else 100
    if percent < 1:
        return "còn dưới 1% dung lượng"
    return f"còn {round(percent)}% dung lượng"
