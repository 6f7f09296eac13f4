"""The "Chi tiết hồ sơ" screen: everything about one dossier, its next steps and its papers.

- a header with the person's name, the dossier number, procedure, status, dates, book entry;
- buttons for the status transitions the lifecycle allows (huỷ and trả lại ask for a reason);
- print buttons: the receipt slip and the procedure's certificate or extract, rendered as
  PDF on a worker thread, then opened with the system viewer or sent to the printer;
- tabs: all fields by section (as on the paper), the status timeline, attachments (import a
  scan: compacted to a legible grayscale image, sizes before and after shown) and the audit
  trail.

Loading reads a handful of rows by primary key; it runs on a worker thread anyway so a busy
disk never freezes the window.
"""

from __future__ import annotations

import functools
import logging
import tempfile
import tkinter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ttkbootstrap as ttk

from desktop.forms.dates import format_date_vn, format_datetime_vn
from desktop.forms.lifecycle import ACTION_LABELS, allowed_transitions, status_label
from desktop.forms.model import FieldKind, Procedure, record_data
from desktop.forms.procedures import get_procedure
from desktop.ui.display import STATUS_STYLES, book_entry, format_size
from desktop.ui.form_renderer import ScrollArea, commune_options, province_options
from desktop.ui.services import Services

log = logging.getLogger(__name__)

#: Transitions that need a reason and a confirmation.
_NEEDS_REASON = frozenset({"huy", "tra_lai"})
#: Order of the transition buttons (forward steps first).
_TRANSITION_ORDER = ("dang_xu_ly", "cho_ky", "hoan_thanh", "tra_lai", "huy")
#: Scan files offered by the import dialog.
_SCAN_TYPES = [
    ("Ảnh quét hoặc PDF", "*.jpg *.jpeg *.png *.tif *.tiff *.bmp *.pdf"),
    ("Tất cả các tệp", "*"),
]


def field_display(procedure: Procedure, name: str, value: object) -> str:
    """Return a stored field value as the clerk reads it (dates dd/mm/yyyy, names for codes)."""
    if value is None or value == "":
        return "—"
    text = str(value)
    field = procedure.field(name) if procedure.has_field(name) else None
    if field is None:
        return text
    if field.kind is FieldKind.DATE:
        return format_date_vn(text)
    if field.kind is FieldKind.COMMUNE:
        option = commune_options().by_value(text)
        return option.label if option else text
    if field.kind is FieldKind.PROVINCE:
        option = province_options().by_value(text)
        return option.label if option else text
    if field.kind in (FieldKind.CHOICE, FieldKind.SEX):
        return field.option_label(text)
    return text


class DossierDetailScreen(ttk.Frame):
    """Show one dossier; move it through its lifecycle; print; attach scans.

    Args:
        master: the shell's content frame.
        services: the shared services.
        **kwargs: ignored (``on_show`` reads ``dossier_id``).

    Attributes:
        printouts: the last PDF written per kind ("receipt", "certificate").
        open_pdf: hands a PDF to the system viewer (replaceable, e.g. in tests).
        print_pdf: sends a PDF to a printer (replaceable).
        ask_scan_path: asks for a scan file to import (replaceable).
    """

    def __init__(self, master: tkinter.Misc, services: Services, **kwargs: Any) -> None:
        """Build the empty layout; ``on_show(dossier_id=...)`` fills it."""
        super().__init__(master)
        self.services = services
        self.dossier_id: str | None = None
        self.record: Any = None
        self.procedure: Procedure | None = None
        self.history: list[Any] = []
        self.audit: list[Any] = []
        self.attachments: list[Any] = []
        self.printouts: dict[str, Path] = {}
        self.last_scan: Any = None
        self.loading = False
        self.transition_buttons: dict[str, ttk.Button] = {}
        #: The value label of each field shown (rebuilt only when the procedure changes).
        self.value_labels: dict[str, ttk.Label] = {}
        self._fields_of: str | None = None
        self.open_pdf: Callable[[Path], Any] = _open_with_viewer
        self.print_pdf: Callable[[Path, str | None], Any] = _send_to_printer
        self.ask_scan_path: Callable[[], str] = self._ask_scan_path
        self._build()

    # -- layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        header = ttk.Frame(self)
        header.pack(fill="x")
        self.name_label = ttk.Label(header, text="", font="-size 15 -weight bold")
        self.name_label.pack(side="left")
        self.status_badge = ttk.Label(header, text="", padding=(10, 3), bootstyle="@info")
        self.status_badge.pack(side="left", padx=12)
        self.late_badge = ttk.Label(
            header, text="Đăng ký quá hạn", padding=(10, 3), bootstyle="@danger"
        )
        self.facts_label = ttk.Label(self, text="", bootstyle="secondary", justify="left")
        self.facts_label.pack(anchor="w", pady=(2, 8))

        actions = ttk.Frame(self)
        actions.pack(fill="x", pady=(0, 8))
        self.transitions_frame = ttk.Frame(actions)
        self.transitions_frame.pack(side="left")
        self.print_certificate_button = ttk.Button(
            actions, text="In giấy", bootstyle="primary", command=self.print_certificate
        )
        self.print_certificate_button.pack(side="right")
        self.print_receipt_button = ttk.Button(
            actions,
            text="In phiếu tiếp nhận",
            bootstyle="primary-outline",
            command=self.print_receipt,
        )
        self.print_receipt_button.pack(side="right", padx=(0, 8))
        self.to_printer = tkinter.BooleanVar(
            value=bool(getattr(self.services.settings, "printer", ""))
        )
        ttk.Checkbutton(
            actions, text="In thẳng ra máy in", variable=self.to_printer, bootstyle="round-toggle"
        ).pack(side="right", padx=(0, 14))
        for button in (self.print_receipt_button, self.print_certificate_button):
            button.bind("<Return>", _press)
        self.message = ttk.Label(self, text="", bootstyle="secondary", wraplength=1000)
        self.message.pack(anchor="w", pady=(0, 6))

        self.tabs = ttk.Notebook(self)
        self.tabs.pack(fill="both", expand=True)
        self.tabs.enable_traversal()  # Ctrl+Tab moves between the tabs
        self.fields_area = ScrollArea(self.tabs)
        self.tabs.add(self.fields_area, text="Thông tin hồ sơ")
        self.timeline = self._tree_tab(
            "Tiến trình",
            (
                ("at", "Thời gian", 140),
                ("from", "Từ", 110),
                ("to", "Sang", 110),
                ("clerk", "Cán bộ", 120),
                ("note", "Ghi chú", 420),
            ),
        )
        attachments_tab = ttk.Frame(self.tabs, padding=8)
        self.tabs.add(attachments_tab, text="Tệp đính kèm")
        bar = ttk.Frame(attachments_tab)
        bar.pack(fill="x", pady=(0, 6))
        self.import_button = ttk.Button(
            bar, text="Nhập bản quét từ tệp…", bootstyle="info", command=self.import_scan
        )
        self.import_button.pack(side="left")
        self.import_button.bind("<Return>", _press)
        self.scan_label = ttk.Label(bar, text="", bootstyle="secondary")
        self.scan_label.pack(side="left", padx=12)
        self.attachment_tree = self._tree(
            attachments_tab,
            (
                ("name", "Tên tệp", 300),
                ("mime", "Loại", 130),
                ("size", "Kích thước", 100),
                ("added", "Thêm lúc", 140),
            ),
        )
        self.audit_tree = self._tree_tab(
            "Nhật ký",
            (
                ("at", "Thời gian", 140),
                ("clerk", "Cán bộ", 110),
                ("action", "Việc", 160),
                ("summary", "Nội dung", 460),
            ),
        )

    def _tree(
        self, parent: tkinter.Misc, columns: tuple[tuple[str, str, int], ...]
    ) -> ttk.Treeview:
        tree = ttk.Treeview(parent, columns=[c[0] for c in columns], show="headings", height=8)
        for column, text, width in columns:
            tree.heading(column, text=text, anchor="w")
            tree.column(column, width=width, anchor="w")
        tree.pack(fill="both", expand=True)
        return tree

    def _tree_tab(self, title: str, columns: tuple[tuple[str, str, int], ...]) -> ttk.Treeview:
        frame = ttk.Frame(self.tabs, padding=8)
        self.tabs.add(frame, text=title)
        return self._tree(frame, columns)

    # -- loading -----------------------------------------------------------------------------

    def on_show(self, dossier_id: str | None = None, **_: Any) -> None:
        """Load and show a dossier (the one shown before when no id is given)."""
        if dossier_id:
            self.dossier_id = str(dossier_id)
        if self.dossier_id:
            self.reload()

    def reload(self) -> None:
        """Read the dossier, its history, audit trail and attachments on a worker thread."""
        if self.dossier_id is None:
            return
        store = self.services.store
        dossier_id = self.dossier_id
        self.loading = True

        def load() -> tuple[Any, list[Any], list[Any], list[Any]]:
            record = store.get_dossier(dossier_id)
            return (
                record,
                list(store.status_history(dossier_id)),
                list(store.audit_trail(dossier_id)),
                list(store.attachments(dossier_id)),
            )

        self.services.tasks.run(
            load, on_done=self._loaded, on_error=self._load_failed, description="Mở hồ sơ"
        )

    def _loaded(self, bundle: tuple[Any, list[Any], list[Any], list[Any]]) -> None:
        record, history, audit, attachments = bundle
        if str(record.id) != self.dossier_id:
            return  # another dossier was opened meanwhile
        self.loading = False
        self.record, self.history, self.audit, self.attachments = (
            record,
            history,
            audit,
            attachments,
        )
        self.procedure = get_procedure(record.procedure)
        self._render()

    def _load_failed(self, error: BaseException) -> None:
        self.loading = False
        log.error("loading dossier %s failed", self.dossier_id, exc_info=error)
        self.name_label.configure(text="Không mở được hồ sơ")
        self.message.configure(
            text=f"Không đọc được hồ sơ này ({error}). Hãy thử lại từ màn hình Tìm kiếm.",
            bootstyle="danger",
        )

    # -- rendering ---------------------------------------------------------------------------

    def _render(self) -> None:
        record, procedure = self.record, self.procedure
        assert procedure is not None
        flat = record.record
        self.name_label.configure(text=procedure.display_name(record_data(flat)))
        status = record.status
        self.status_badge.configure(
            text=status_label(status), bootstyle=f"@{STATUS_STYLES.get(status, 'info')}"
        )
        if record.late:
            self.late_badge.pack(side="left")
        else:
            self.late_badge.pack_forget()
        facts = [
            f"Số hồ sơ: {record.dossier_no}",
            procedure.title,
            f"Tiếp nhận: {format_datetime_vn(record.received_at)}",
            f"Hẹn trả: {format_date_vn(record.due_at)}" if record.due_at else "",
            book_entry(flat.get("book_number"), flat.get("book_type"), flat.get("book_year")),
        ]
        self.facts_label.configure(text="   ·   ".join(f for f in facts if f))
        self.print_certificate_button.configure(text=f"In {procedure.result_document.lower()}")
        self._render_transitions(status)
        self._render_fields(procedure, record_data(flat))
        self._render_timeline()
        self._render_attachments()
        self._render_audit()

    def _render_transitions(self, status: str) -> None:
        for button in self.transition_buttons.values():
            button.destroy()
        self.transition_buttons.clear()
        allowed = allowed_transitions(status)
        for target in _TRANSITION_ORDER:
            if target not in allowed:
                continue
            style = "danger-outline" if target in _NEEDS_REASON else "success"
            button = ttk.Button(
                self.transitions_frame,
                text=ACTION_LABELS.get(target, status_label(target)),
                bootstyle=style,
                command=lambda t=target: self.request_transition(t),
            )
            button.pack(side="left", padx=(0, 8))
            button.bind("<Return>", _press)
            self.transition_buttons[target] = button

    def _render_fields(self, procedure: Procedure, data: dict[str, Any]) -> None:
        if self._fields_of == procedure.code:
            # Same procedure as the dossier shown before: only the values change.
            for name, label in self.value_labels.items():
                label.configure(text=field_display(procedure, name, data.get(name)))
            return
        body = self.fields_area.body
        for child in body.winfo_children():
            child.destroy()
        self.value_labels.clear()
        self._fields_of = procedure.code
        wide = (FieldKind.PLACE, FieldKind.TEXTAREA, FieldKind.DATE_IN_WORDS)
        for section in procedure.sections:
            frame = ttk.Labelframe(body, text=section.title, padding=(12, 4, 12, 8))
            frame.pack(fill="x", pady=(0, 8))
            # Same column sizes in every section, so the eye runs down one line of labels.
            frame.columnconfigure(0, minsize=250)
            frame.columnconfigure(2, minsize=250)
            frame.columnconfigure((1, 3), weight=1, uniform="value")
            row, column = 0, 0
            for field in section.fields:
                span = field.kind in wide
                if span and column:
                    row, column = row + 1, 0
                ttk.Label(frame, text=f"{field.label}:", bootstyle="secondary").grid(
                    row=row, column=column * 2, sticky="nw", padx=(0, 8), pady=1
                )
                value = ttk.Label(
                    frame,
                    text=field_display(procedure, field.name, data.get(field.name)),
                    wraplength=760 if span else 300,
                    justify="left",
                )
                self.value_labels[field.name] = value
                value.grid(
                    row=row,
                    column=column * 2 + 1,
                    columnspan=3 if span else 1,
                    sticky="nw",
                    padx=(0, 16),
                    pady=1,
                )
                if span or column == 1:
                    row, column = row + 1, 0
                else:
                    column = 1

    def _render_timeline(self) -> None:
        tree = self.timeline
        tree.delete(*tree.get_children())
        for change in self.history:
            tree.insert(
                "",
                "end",
                values=(
                    format_datetime_vn(change.at),
                    status_label(change.from_status) or "—",
                    status_label(change.to_status),
                    change.clerk or "",
                    change.note or "",
                ),
            )

    def _render_attachments(self) -> None:
        tree = self.attachment_tree
        tree.delete(*tree.get_children())
        for attachment in self.attachments:
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

    def _render_audit(self) -> None:
        tree = self.audit_tree
        tree.delete(*tree.get_children())
        for entry in self.audit:
            tree.insert(
                "",
                "end",
                values=(
                    format_datetime_vn(entry.at),
                    entry.clerk or "",
                    entry.action,
                    entry.summary,
                ),
            )

    # -- status transitions ------------------------------------------------------------------

    def request_transition(self, target: str) -> None:
        """Move the dossier to ``target``; huỷ and trả lại first ask for a reason."""
        if target in _NEEDS_REASON:
            from desktop.ui.dialogs import ReasonDialog

            ReasonDialog(
                self,
                title=ACTION_LABELS[target],
                message=(
                    "Hồ sơ sẽ bị huỷ và không thể sửa tiếp. Ghi rõ lý do huỷ."
                    if target == "huy"
                    else "Hồ sơ sẽ được trả lại cho người nộp. Ghi rõ lý do để người dân bổ sung."
                ),
                ok_text=ACTION_LABELS[target],
                on_result=functools.partial(self._reason_given, target),
            )
            return
        self.transition(target)

    def _reason_given(self, target: str, reason: str | None) -> None:
        if reason:
            self.transition(target, reason)

    def transition(self, target: str, note: str = "") -> None:
        """Ask the store to move the dossier to ``target`` (off the Tk thread)."""
        if self.dossier_id is None:
            return
        move = functools.partial(self.services.store.transition, self.dossier_id, target, note=note)
        for button in self.transition_buttons.values():
            button.configure(state="disabled")
        self.services.tasks.run(
            move,
            on_done=lambda _r: self._moved(target),
            on_error=self._move_failed,
            description="Chuyển trạng thái hồ sơ",
        )

    def _moved(self, target: str) -> None:
        self.services.toast(f"Đã chuyển hồ sơ sang «{status_label(target)}».", "success")
        self.reload()

    def _move_failed(self, error: BaseException) -> None:
        log.error("transition failed", exc_info=error)
        self.message.configure(
            text=f"Không chuyển được trạng thái: {error}. Hãy tải lại hồ sơ rồi thử lại.",
            bootstyle="danger",
        )
        self.reload()

    # -- printing ----------------------------------------------------------------------------

    def _output_path(self, kind: str) -> Path:
        base = self.services.profile_dir
        folder = (Path(base) if base else Path(tempfile.gettempdir()) / "motcua") / "printouts"
        folder.mkdir(parents=True, exist_ok=True)
        _remove_old_printouts(folder)
        number = str(self.record.dossier_no).replace("/", "-")
        return folder / f"{number}-{kind}.pdf"

    def _signer(self) -> Callable[[bytes], bytes] | None:
        # The device key belongs to the sync engine; before the engine is up (or in a build
        # without it) the paper prints with an unsigned QR code that still names the dossier.
        candidate = getattr(self.services.sync, "printout_signer", None)
        if not callable(candidate):
            return None
        try:
            signer = candidate()
        except Exception:
            log.exception("no printout signer from the sync engine")
            return None
        return signer if callable(signer) else None

    def _commune_name(self) -> str:
        code = str(self.record.record.get("commune") or getattr(self.services.store, "commune", ""))
        option = commune_options().by_value(code)
        return option.label if option is not None else code

    def print_receipt(self) -> None:
        """Render the receipt slip on a worker thread, then open or print it."""
        if self.record is None or self.procedure is None:
            return
        procedure, flat = self.procedure, dict(self.record.record)
        commune, clerk = self._commune_name(), self.services.clerk
        clerk_name = clerk.full_name or clerk.username
        signer, out = self._signer(), self._output_path("phieu-tiep-nhan")

        def render() -> Path:
            from desktop.forms.printing.pdf import render_receipt
            from desktop.forms.receipt import build_receipt

            slip = build_receipt(procedure, flat, commune_name=commune, clerk_name=clerk_name)
            return render_receipt(slip, signer=signer, out_path=out)

        self._print("receipt", render, "In phiếu tiếp nhận")

    def print_certificate(self) -> None:
        """Render the certificate or extract on a worker thread, then open or print it."""
        if self.record is None or self.procedure is None:
            return
        procedure, flat = self.procedure, dict(self.record.record)
        settings = self.services.settings
        style = {
            "mung": bool(getattr(settings, "date_words_mung", False)),
            "zero_tens": str(getattr(settings, "date_words_zero_tens", "linh")),
        }
        commune, signer = self._commune_name(), self._signer()
        signer_name = str(getattr(settings, "signer_name", "") or "")
        signer_title = str(getattr(settings, "signer_title", "") or "Chủ tịch")
        font_path = str(getattr(settings, "font_path", "") or "") or None
        out = self._output_path(_slug(procedure.result_document))

        def render() -> Path:
            from desktop.forms.printing.pdf import render_certificate

            return render_certificate(
                procedure.code,
                flat,
                commune_name=commune,
                signer_name=signer_name,
                signer_title=signer_title,
                signer=signer,
                date_in_words_style=style,
                out_path=out,
                fonts=font_path,
            )

        self._print("certificate", render, f"In {procedure.result_document.lower()}")

    def _print(self, kind: str, render: Callable[[], Path], description: str) -> None:
        self.message.configure(text=f"{description}: đang tạo tệp PDF…", bootstyle="secondary")
        self.services.tasks.run(
            render,
            on_done=lambda path: self._printed(kind, Path(path)),
            on_error=self._print_failed,
            description=description,
        )

    def _printed(self, kind: str, path: Path) -> None:
        self.printouts[kind] = path
        if self.to_printer.get():
            printer = str(getattr(self.services.settings, "printer", "") or "") or None
            handoff = self.print_pdf(path, printer)
            done = "Đã gửi tới máy in"
        else:
            handoff = self.open_pdf(path)
            done = "Đã mở tệp PDF"
        if handoff:
            self.message.configure(text=f"{done}: {path}", bootstyle="success")
            self.services.toast(f"{done}.", "success")
        else:
            reason = getattr(handoff, "message", "") or ""
            self.message.configure(
                text=f"Đã tạo tệp PDF {path}. {reason}".strip(), bootstyle="warning"
            )
            self.services.toast("Đã tạo tệp PDF, nhưng chưa mở được.", "warning")

    def _print_failed(self, error: BaseException) -> None:
        log.error("printing failed", exc_info=error)
        text = getattr(error, "message_vi", None) or str(error)
        self.message.configure(
            text=f"Không in được: {text}. Hãy kiểm tra rồi thử lại.", bootstyle="danger"
        )
        self.services.toast("Không in được.", "danger")

    # -- attachments -------------------------------------------------------------------------

    def _ask_scan_path(self) -> str:
        from tkinter import filedialog

        return (
            filedialog.askopenfilename(
                parent=self, title="Chọn bản quét để đính kèm", filetypes=_SCAN_TYPES
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

        def work() -> tuple[Any, Any]:
            from desktop.store.scans import compact_scan

            result = compact_scan(source.read_bytes(), source.name)
            attachment = store.add_attachment(
                dossier_id, result.content, result.renamed(source.name), result.mime
            )
            return result, attachment

        self.scan_label.configure(text=f"Đang nén {source.name}…")
        self.import_button.configure(state="disabled")
        self.services.tasks.run(
            work,
            on_done=self._scan_imported,
            on_error=self._scan_failed,
            description="Nhập bản quét",
        )

    def _scan_imported(self, outcome: tuple[Any, Any]) -> None:
        result, _attachment = outcome
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
        self.reload()

    def _scan_failed(self, error: BaseException) -> None:
        self.import_button.configure(state="normal")
        log.error("scan import failed", exc_info=error)
        text = getattr(error, "message_vi", None) or str(error)
        self.scan_label.configure(text=f"Không nhập được: {text}", bootstyle="danger")


#: Printouts are plain PDF files (the viewer and the printer need them); personal data must
#: not pile up outside the encrypted store, so files older than this are deleted.
PRINTOUT_KEEP_S = 2 * 24 * 3600


def _remove_old_printouts(folder: Path) -> None:
    """Delete PDFs in ``folder`` older than :data:`PRINTOUT_KEEP_S`."""
    import time

    cutoff = time.time() - PRINTOUT_KEEP_S
    for old in folder.glob("*.pdf"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass  # in use by a viewer, or gone already: try again next time


def _press(event: tkinter.Event) -> str:
    """Press a focused button with Enter (ttk buttons only take Space by default)."""
    widget: Any = event.widget
    widget.invoke()
    return "break"


def _share(after: int, before: int) -> str:
    """Say how big the compacted file is next to the original ("còn 6% dung lượng")."""
    percent = 100 * after / before if before else 100
    if percent < 1:
        return "còn dưới 1% dung lượng"
    return f"còn {round(percent)}% dung lượng"


def _slug(text: str) -> str:
    """Return an ASCII file-name part for a document title ("Giấy khai sinh" → giay-khai-sinh)."""
    from desktop.forms.vietnamese import fold

    return "-".join(fold(text).split()) or "giay"


def _open_with_viewer(path: Path) -> Any:
    from desktop.forms.printing.system import open_with_system_viewer

    return open_with_system_viewer(path)


def _send_to_printer(path: Path, printer: str | None) -> Any:
    from desktop.forms.printing.system import send_to_default_printer

    return send_to_default_printer(path, printer)
