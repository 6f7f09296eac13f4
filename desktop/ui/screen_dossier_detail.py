"""The "Chi tiết hồ sơ" screen: everything about one dossier, its next steps and its papers.

- a header with the person's name, the dossier number, procedure, status, dates, book entry;
- buttons for the status transitions the lifecycle allows (huỷ and trả lại ask for a reason);
- print buttons (:mod:`desktop.ui.detail_printing`): the receipt slip and the procedure's
  certificate or extract;
- tabs: all fields by section (as on the paper), the status timeline and the audit trail
  (:mod:`desktop.ui.detail_history`), attachments (:mod:`desktop.ui.detail_scans`).

Loading reads a handful of rows by primary key; it runs on a worker thread anyway so a busy
disk never freezes the window.
"""

from __future__ import annotations

import functools
import logging
import tkinter
from typing import TYPE_CHECKING, Any, NamedTuple

import ttkbootstrap as ttk

from desktop.forms.dates import format_date_vn, format_datetime_vn
from desktop.forms.fields import FieldKind
from desktop.forms.lifecycle import (
    ACTION_LABELS,
    HUY,
    STATUSES,
    TRA_LAI,
    allowed_transitions,
    status_label,
)
from desktop.forms.model import Procedure
from desktop.forms.procedures import get_procedure
from desktop.forms.records import record_data
from desktop.ui.detail_history import AuditTab, TimelineTab
from desktop.ui.detail_printing import PrintPanel
from desktop.ui.detail_scans import ScansPanel
from desktop.ui.dialogs import ReasonDialog
from desktop.ui.display import STATUS_STYLES, book_entry
from desktop.ui.form_options import commune_options, province_options
from desktop.ui.scroll_area import ScrollArea
from desktop.ui.services import Services
from desktop.ui.widgets.tables import press_with_enter

if TYPE_CHECKING:
    from desktop.store.attachments import Attachment
    from desktop.store.audit import AuditEntry
    from desktop.store.records import DossierRecord, StatusChange

log = logging.getLogger(__name__)

#: Transitions that need a reason and a confirmation.
_NEEDS_REASON = frozenset({HUY, TRA_LAI})
#: The message of the reason dialog of each of them.
_REASON_MESSAGES = {
    HUY: "Hồ sơ sẽ bị huỷ và không thể sửa tiếp. Ghi rõ lý do huỷ.",
    TRA_LAI: "Hồ sơ sẽ được trả lại cho người nộp. Ghi rõ lý do để người dân bổ sung.",
}


class Loaded(NamedTuple):
    """What the screen reads about one dossier."""

    record: DossierRecord
    history: list[StatusChange]
    audit: list[AuditEntry]
    attachments: list[Attachment]


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
        printing: the print buttons and the papers printed.
        timeline: the status timeline tab.
        scans: the attachments tab.
        audit: the audit trail tab.
    """

    def __init__(self, master: tkinter.Misc, services: Services, **kwargs: Any) -> None:
        """Build the empty layout; ``on_show(dossier_id=...)`` fills it."""
        super().__init__(master)
        self.services = services
        self.dossier_id: str | None = None
        self.record: DossierRecord | None = None
        self.procedure: Procedure | None = None
        self.loading = False
        self.transition_buttons: dict[str, ttk.Button] = {}
        #: The value label of each field shown (rebuilt only when the procedure changes).
        self.value_labels: dict[str, ttk.Label] = {}
        self._fields_of: str | None = None
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
        self.printing = PrintPanel(actions, self.services, say=self.say)
        self.printing.pack(side="right")
        self.message = ttk.Label(self, text="", bootstyle="secondary", wraplength=1000)
        self.message.pack(anchor="w", pady=(0, 6))

        self.tabs = ttk.Notebook(self)
        self.tabs.pack(fill="both", expand=True)
        self.tabs.enable_traversal()  # Ctrl+Tab moves between the tabs
        self.fields_area = ScrollArea(self.tabs)
        self.tabs.add(self.fields_area, text="Thông tin hồ sơ")
        self.timeline = TimelineTab(self.tabs)
        self.tabs.add(self.timeline, text="Tiến trình")
        self.scans = ScansPanel(self.tabs, self.services, on_attached=self.reload)
        self.tabs.add(self.scans, text="Tệp đính kèm")
        self.audit = AuditTab(self.tabs)
        self.tabs.add(self.audit, text="Nhật ký")

    def say(self, text: str, bootstyle: str) -> None:
        """Show a message under the action buttons."""
        self.message.configure(text=text, bootstyle=bootstyle)

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

        def load() -> Loaded:
            return Loaded(
                store.get_dossier(dossier_id),
                list(store.status_history(dossier_id)),
                list(store.audit_trail(dossier_id)),
                list(store.attachments(dossier_id)),
            )

        self.services.tasks.run(
            load, on_done=self._loaded, on_error=self._load_failed, description="Mở hồ sơ"
        )

    def _loaded(self, loaded: Loaded) -> None:
        if str(loaded.record.id) != self.dossier_id:
            return  # another dossier was opened meanwhile
        self.loading = False
        self.record = loaded.record
        self.procedure = get_procedure(loaded.record.procedure)
        self._render(loaded, self.procedure)

    def _load_failed(self, error: BaseException) -> None:
        self.loading = False
        log.error("loading dossier %s failed", self.dossier_id, exc_info=error)
        self.name_label.configure(text="Không mở được hồ sơ")
        self.say(f"Không đọc được hồ sơ này ({error}). Hãy thử lại từ màn hình Tìm kiếm.", "danger")

    # -- rendering ---------------------------------------------------------------------------

    def _render(self, loaded: Loaded, procedure: Procedure) -> None:
        record = loaded.record
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
        self.printing.show(record, procedure)
        self._render_transitions(status)
        self._render_fields(procedure, record_data(flat))
        self.timeline.show(loaded.history)
        self.scans.show(record.id, loaded.attachments)
        self.audit.show(loaded.audit)

    def _render_transitions(self, status: str) -> None:
        for button in self.transition_buttons.values():
            button.destroy()
        self.transition_buttons.clear()
        allowed = allowed_transitions(status)
        for target in STATUSES:  # forward steps first, as the lifecycle lists them
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
            press_with_enter(button)
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

    # -- status transitions ------------------------------------------------------------------

    def request_transition(self, target: str) -> None:
        """Move the dossier to ``target``; huỷ and trả lại first ask for a reason."""
        if target in _NEEDS_REASON:
            ReasonDialog(
                self,
                title=ACTION_LABELS[target],
                message=_REASON_MESSAGES[target],
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
        self.say(f"Không chuyển được trạng thái: {error}. Hãy tải lại hồ sơ rồi thử lại.", "danger")
        self.reload()
