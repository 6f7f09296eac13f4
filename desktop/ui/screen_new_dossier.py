"""The "Hồ sơ mới" screen: pick a procedure, fill the generated form, check duplicates, save.

The form itself is the generic :class:`~desktop.ui.form_renderer.FormRenderer`; this screen
adds what surrounds it:

- a procedure picker (keys 1-4 or Tab/Enter) and the list of unsaved drafts, so a form
  interrupted by a crash, a power cut or the idle lock is picked up where it stopped;
- drafts: the form's data is saved in the store one second after the clerk stops typing,
  and immediately when the window locks or the screen is left;
- saving: the store validates the dossier once, off the Tk thread (bad fields are marked on
  the form and the first gets the focus), then the store's likely duplicates are shown in a
  dialog and the clerk decides, then the validated dossier is registered; "Đã lưu" and the
  dossier's detail screen follow. If saving fails, the draft is kept and the message says
  what to do.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
import tkinter
import uuid
from typing import TYPE_CHECKING, Any

import ttkbootstrap as ttk

from desktop.forms.dates import format_datetime_vn
from desktop.forms.model import Procedure
from desktop.forms.procedures import all_procedures, get_procedure, procedure_title
from desktop.forms.validation_result import FieldError, ValidationError
from desktop.store.errors import DuplicateDossier
from desktop.ui.dialogs import (
    DUPLICATE_OPEN,
    DUPLICATE_SAVE,
    ConfirmDialog,
    DuplicateReviewDialog,
)
from desktop.ui.form_renderer import FormRenderer
from desktop.ui.services import Services

if TYPE_CHECKING:
    from desktop.store.dossiers import PreparedDossier
    from desktop.store.drafts import Draft
    from desktop.store.records import DossierRecord, DossierSummary

log = logging.getLogger(__name__)

#: Prefix of the draft keys this screen writes.
DRAFT_PREFIX = "new_dossier:"


class NewDossierScreen(ttk.Frame):
    """Register a new dossier of any declared procedure.

    Args:
        master: the shell's content frame.
        services: the shared services (store, tasks, settings, navigate, toast).
        **kwargs: ignored here; ``on_show`` reads them (``procedure``, ``draft_key``).
    """

    def __init__(self, master: tkinter.Misc, services: Services, **kwargs: Any) -> None:
        """Build the picker page; the form page is built when a procedure is chosen."""
        super().__init__(master)
        self.services = services
        self.form: FormRenderer | None = None
        #: One form per procedure, built on first use and reset for the next dossier.
        self.forms: dict[str, FormRenderer] = {}
        self.procedure: Procedure | None = None
        self.draft_key: str | None = None
        self.saving = False
        self.duplicate_dialog: DuplicateReviewDialog | None = None
        self.last_saved: DossierRecord | None = None
        self._drafts: dict[str, Draft] = {}
        # Draft writes come from worker threads (a second after typing stops) and from the Tk
        # thread (lock, close); the newest must win, so every write carries a number and a
        # write older than the last one stored is skipped.
        self._draft_numbers = itertools.count(1)
        self._draft_lock = threading.Lock()
        self._draft_written = 0
        self._build_picker()
        self._build_form_page()
        self.picker.pack(fill="both", expand=True)

    # -- picker page -------------------------------------------------------------------------

    def _build_picker(self) -> None:
        self.picker = ttk.Frame(self)
        ttk.Label(self.picker, text="Chọn thủ tục cần đăng ký", font="-size 12 -weight bold").pack(
            anchor="w"
        )
        ttk.Label(
            self.picker,
            text="Nhấn số 1-4, hoặc dùng Tab rồi Enter.",
            bootstyle="secondary",
        ).pack(anchor="w", pady=(0, 8))
        buttons = ttk.Frame(self.picker)
        buttons.pack(fill="x")
        buttons.columnconfigure((0, 1), weight=1, uniform="procedure")
        self.procedure_buttons: dict[str, ttk.Button] = {}
        for number, procedure in enumerate(all_procedures(), start=1):
            button = ttk.Button(
                buttons,
                text=f"{number}. {procedure.title}\n      → {procedure.result_document}",
                bootstyle="primary-outline",
                command=functools.partial(self.open_form, procedure.code),
            )
            row, column = divmod(number - 1, 2)
            button.grid(row=row, column=column, sticky="ew", padx=(0, 10), pady=(0, 8), ipady=6)
            button.bind("<Return>", functools.partial(_invoke, button))
            self.procedure_buttons[procedure.code] = button
        codes = list(self.procedure_buttons)
        for widget in self.procedure_buttons.values():
            for number, code in enumerate(codes, start=1):
                widget.bind(str(number), functools.partial(self._pick_key, code))

        ttk.Label(self.picker, text="Bản nháp chưa lưu", font="-size 12 -weight bold").pack(
            anchor="w", pady=(24, 4)
        )
        ttk.Label(
            self.picker,
            text=(
                "Hồ sơ đang nhập dở được tự động giữ lại (kể cả khi mất điện). "
                "Chọn một bản nháp rồi nhấn Enter để nhập tiếp; Delete để bỏ."
            ),
            bootstyle="secondary",
        ).pack(anchor="w", pady=(0, 6))
        columns = ("procedure", "name", "saved")
        self.drafts_tree = ttk.Treeview(self.picker, columns=columns, show="headings", height=8)
        for key, text, width in (
            ("procedure", "Thủ tục", 220),
            ("name", "Người được đăng ký", 280),
            ("saved", "Lưu lúc", 160),
        ):
            self.drafts_tree.heading(key, text=text, anchor="w")
            self.drafts_tree.column(key, width=width, anchor="w")
        self.drafts_tree.pack(fill="x")
        self.drafts_tree.bind("<Return>", lambda _e: self.resume_selected_draft())
        self.drafts_tree.bind("<Double-1>", lambda _e: self.resume_selected_draft())
        self.drafts_tree.bind("<Delete>", lambda _e: self.discard_selected_draft())
        for number, code in enumerate(self.procedure_buttons, start=1):
            self.drafts_tree.bind(str(number), functools.partial(self._pick_key, code))
        self.no_drafts = ttk.Label(
            self.picker, text="Không có bản nháp nào.", bootstyle="secondary"
        )

    def _pick_key(self, code: str, _event: object = None) -> None:
        self.open_form(code)

    def refresh_drafts(self) -> None:
        """Reload the list of unsaved drafts (most recent first)."""
        tree = self.drafts_tree
        tree.delete(*tree.get_children())
        self._drafts.clear()
        try:
            drafts = self.services.store.list_drafts()
        except Exception:
            log.exception("listing drafts failed")
            drafts = []
        for draft in drafts:
            if not str(draft.key).startswith(DRAFT_PREFIX):
                continue
            self._drafts[draft.key] = draft
            name = _draft_name(draft.procedure, draft.data)
            tree.insert(
                "",
                "end",
                iid=draft.key,
                values=(
                    procedure_title(draft.procedure),
                    name,
                    format_datetime_vn(draft.updated_at),
                ),
            )
        if self._drafts:
            self.no_drafts.pack_forget()
            first = tree.get_children()[0]
            tree.selection_set(first)
            tree.focus(first)
        else:
            self.no_drafts.pack(anchor="w", pady=4)

    def resume_selected_draft(self) -> None:
        """Open the selected draft in its form."""
        selected = self.drafts_tree.selection()
        if selected:
            self.resume_draft(selected[0])

    def resume_draft(self, key: str) -> None:
        """Open a saved draft: its procedure's form, filled with what was typed."""
        draft = self._drafts.get(key)
        if draft is None:
            return
        self.open_form(draft.procedure, draft_key=key, data=draft.data)
        self.services.toast(
            f"Đã mở lại bản nháp lưu lúc {format_datetime_vn(draft.updated_at)}.", "info"
        )

    def discard_selected_draft(self) -> None:
        """Delete the selected draft after the clerk confirms."""
        selected = self.drafts_tree.selection()
        if not selected:
            return
        key = selected[0]

        def decided(ok: bool) -> None:
            if ok:
                self._delete_draft(key, wait=True)
                self.refresh_drafts()
                self.drafts_tree.focus_set()

        ConfirmDialog(
            self,
            "Bỏ bản nháp",
            "Xoá bản nháp này? Những gì đã nhập trong đó sẽ mất.",
            ok_text="Xoá bản nháp",
            danger=True,
            on_result=decided,
        )

    # -- form page ---------------------------------------------------------------------------

    def _build_form_page(self) -> None:
        self.form_page = ttk.Frame(self)
        header = ttk.Frame(self.form_page)
        header.pack(fill="x", pady=(0, 6))
        self.form_title = ttk.Label(header, text="", font="-size 13 -weight bold")
        self.form_title.pack(side="left")
        self.save_button = ttk.Button(
            header, text="Lưu hồ sơ (Ctrl+S)", bootstyle="success", command=self.save
        )
        self.save_button.pack(side="right")
        self.discard_button = ttk.Button(
            header, text="Bỏ bản nháp", bootstyle="danger-outline", command=self.discard_form
        )
        self.discard_button.pack(side="right", padx=(0, 8))
        self.back_button = ttk.Button(
            header, text="Đổi thủ tục", bootstyle="secondary-outline", command=self.close_form
        )
        self.back_button.pack(side="right", padx=(0, 8))
        for button in (self.save_button, self.discard_button, self.back_button):
            button.configure(takefocus=False)
        self.status = ttk.Label(self.form_page, text="", bootstyle="secondary")
        self.status.pack(fill="x", pady=(0, 4))
        self.form_holder = ttk.Frame(self.form_page)
        self.form_holder.pack(fill="both", expand=True)

    def open_form(
        self,
        procedure_code: str,
        *,
        draft_key: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> FormRenderer:
        """Show the generated form of a procedure (filled from a draft when given)."""
        self._drop_form()
        procedure = get_procedure(procedure_code)
        self.procedure = procedure
        self.draft_key = draft_key or f"{DRAFT_PREFIX}{uuid.uuid4().hex}"
        self.form = self.form_for(procedure.code)
        settings = self.services.settings
        self.form.set_date_words_style(
            mung=settings.date_words_mung, zero_tens=settings.date_words_zero_tens
        )
        self.form.reset(data)
        self.form.pack(fill="both", expand=True)
        self.form_title.configure(text=f"{procedure.title} — {procedure.result_document}")
        self.status.configure(
            text="Các mục có dấu * là bắt buộc. Enter: sang ô tiếp theo; "
            "Enter ở ô cuối hoặc Ctrl+S: lưu.",
            bootstyle="secondary",
        )
        self.picker.pack_forget()
        self.form_page.pack(fill="both", expand=True)
        self.after_idle(self.form.focus_first)
        return self.form

    def form_for(self, procedure_code: str) -> FormRenderer:
        """Return this screen's form of a procedure, building it the first time."""
        form = self.forms.get(procedure_code)
        if form is None:
            form = FormRenderer(
                self.form_holder,
                get_procedure(procedure_code),
                on_save=self.save,
                on_draft=self._save_draft,
            )
            self.forms[procedure_code] = form
        return form

    def _prebuild(self) -> None:
        # The birth form is the one opened most; build it while the clerk reads the picker
        # so that pressing 1 shows it at once.
        if self.winfo_exists() and "khai_sinh" not in self.forms:
            self.form_for("khai_sinh")

    def _drop_form(self) -> None:
        if self.form is not None:
            self.save_draft_now()
            self.form.pack_forget()
            self.form.reset()
        self.form = None
        self.procedure = None
        self.draft_key = None
        self.saving = False

    def close_form(self) -> None:
        """Go back to the picker; the form's data stays in its draft."""
        self._drop_form()
        self.form_page.pack_forget()
        self.picker.pack(fill="both", expand=True)
        self.refresh_drafts()
        first = next(iter(self.procedure_buttons.values()))
        first.focus_set()

    def discard_form(self) -> None:
        """Delete this form's draft after the clerk confirms, and start over."""
        key = self.draft_key

        def decided(ok: bool) -> None:
            if not ok:
                return
            if self.form is not None:
                self.form.mark_clean()
            if key:
                self._delete_draft(key, wait=True)
            self.close_form()

        ConfirmDialog(
            self,
            "Bỏ bản nháp",
            "Bỏ hồ sơ đang nhập? Những gì đã nhập sẽ mất.",
            ok_text="Bỏ hồ sơ",
            danger=True,
            on_result=decided,
        )

    # -- drafts ------------------------------------------------------------------------------

    def _write_draft(
        self, number: int, key: str, procedure: str | None, data: dict[str, str] | None
    ) -> None:
        """Store (or, with ``procedure`` None, delete) a draft unless a newer write happened."""
        with self._draft_lock:
            if number < self._draft_written:
                return
            if procedure is None or data is None:
                self.services.store.delete_draft(key)
            else:
                self.services.store.save_draft(key, procedure, data)
            self._draft_written = number

    def _save_draft(self, data: dict[str, str]) -> None:
        if self.procedure is None or self.draft_key is None or not data:
            return
        self.services.tasks.run(
            self._write_draft,
            next(self._draft_numbers),
            self.draft_key,
            self.procedure.code,
            data,
            on_error=self._draft_failed,
            description="Lưu bản nháp",
        )

    def _delete_draft(self, key: str, *, wait: bool = False) -> None:
        number = next(self._draft_numbers)
        if wait:
            self._write_draft(number, key, None, None)
        else:
            self.services.tasks.run(
                self._write_draft, number, key, None, None, description="Xoá bản nháp"
            )

    def _draft_failed(self, error: BaseException) -> None:
        log.error("draft not saved", exc_info=error)
        self.status.configure(
            text="Chưa lưu được bản nháp: đừng đóng chương trình; hãy lưu hồ sơ khi nhập xong.",
            bootstyle="warning",
        )

    def save_draft_now(self) -> None:
        """Save the form's draft synchronously (before the window locks or closes)."""
        form = self.form
        if form is None or self.procedure is None or self.draft_key is None:
            return
        form.cancel_draft()
        if not form.dirty:
            return
        data = form.get_data()
        if data:
            try:
                self._write_draft(
                    next(self._draft_numbers), self.draft_key, self.procedure.code, data
                )
            except Exception:
                log.exception("draft not saved before lock")

    # -- shell hooks -------------------------------------------------------------------------

    def on_show(self, procedure: str | None = None, draft_key: str | None = None, **_: Any) -> None:
        """Show the picker (or the open form); open a procedure or draft when asked."""
        if draft_key:
            self.refresh_drafts()
            self.resume_draft(draft_key)
            return
        if procedure:
            self.open_form(procedure)
            return
        if self.form is not None:
            self.after_idle(self.form.focus_first)
            return
        self.refresh_drafts()
        target = self.drafts_tree if self._drafts else next(iter(self.procedure_buttons.values()))
        self.after_idle(target.focus_set)
        self.after(300, self._prebuild)

    def on_hide(self) -> None:
        """Hand over a pending draft when the clerk goes to another screen."""
        if self.form is not None:
            self.form.flush_draft()

    def before_lock(self) -> None:
        """Save the draft now: the window is locking or closing."""
        self.save_draft_now()

    def on_save(self) -> None:
        """Ctrl+S from the shell."""
        self.save()

    # -- saving ------------------------------------------------------------------------------

    def save(self) -> None:
        """Validate (once, in the store), check for duplicates, then register the dossier.

        All of it runs off the Tk thread; a dossier the rules refuse comes back as a
        ``ValidationError`` whose field errors are marked on the form.
        """
        form, procedure = self.form, self.procedure
        if form is None or procedure is None:
            self.services.toast("Hãy chọn thủ tục và nhập hồ sơ trước khi lưu.", "info")
            return
        if self.saving:
            return
        data = form.get_data()
        self.saving = True
        self.save_button.configure(state="disabled")
        self.status.configure(text="Đang kiểm tra hồ sơ trùng…", bootstyle="secondary")
        form.flush_draft()
        store = self.services.store

        def prepare_and_check(
            code: str, values: dict[str, str]
        ) -> tuple[PreparedDossier, list[DossierSummary]]:
            prepared = store.prepare_dossier(code, values)
            return prepared, store.find_duplicates(prepared)

        self.services.tasks.run(
            prepare_and_check,
            procedure.code,
            data,
            on_done=lambda result: self._duplicates_checked(*result),
            on_error=self._save_failed,
            description="Kiểm tra hồ sơ trùng",
        )

    def _duplicates_checked(
        self, prepared: PreparedDossier, duplicates: list[DossierSummary]
    ) -> None:
        if self.form is None:
            return
        if duplicates:
            self._review_duplicates(prepared, duplicates)
        else:
            self._register_dossier(prepared, allow_duplicate=False)

    def _review_duplicates(
        self, prepared: PreparedDossier, duplicates: list[DossierSummary]
    ) -> None:
        self.status.configure(text="Có thể trùng với hồ sơ đã có: hãy xem và quyết định.")

        def decided(result: Any) -> None:
            self.duplicate_dialog = None
            if result == DUPLICATE_SAVE:
                self._register_dossier(prepared, allow_duplicate=True)
                return
            self._done_saving()
            if isinstance(result, tuple) and result[0] == DUPLICATE_OPEN:
                self.services.navigate("dossier_detail", dossier_id=result[1])
                return
            self.status.configure(text="Chưa lưu. Sửa hồ sơ rồi lưu lại.", bootstyle="secondary")
            if self.form is not None:
                self.form.focus_first()

        self.duplicate_dialog = DuplicateReviewDialog(self, duplicates, on_result=decided)

    def _register_dossier(self, prepared: PreparedDossier, *, allow_duplicate: bool) -> None:
        self.status.configure(text="Đang lưu hồ sơ…", bootstyle="secondary")
        register = functools.partial(
            self.services.store.register_prepared, prepared, allow_duplicate=allow_duplicate
        )
        self.services.tasks.run(
            register,
            on_done=self._saved,
            on_error=functools.partial(self._save_failed, prepared=prepared),
            description="Lưu hồ sơ",
        )

    def _done_saving(self) -> None:
        self.saving = False
        try:
            self.save_button.configure(state="normal")
        except tkinter.TclError:
            pass

    def _saved(self, record: DossierRecord) -> None:
        self._done_saving()
        self.last_saved = record
        key = self.draft_key
        if self.form is not None:
            self.form.mark_clean()
        if key:
            self._delete_draft(key)
        self._drop_form()
        self.form_page.pack_forget()
        self.picker.pack(fill="both", expand=True)
        self.services.toast(f"Đã lưu hồ sơ {record.dossier_no}".strip() + ".", "success")
        self.services.navigate("dossier_detail", dossier_id=record.id)

    def _save_failed(
        self, error: BaseException, *, prepared: PreparedDossier | None = None
    ) -> None:
        self._done_saving()
        if isinstance(error, ValidationError) and self.form is not None:
            self._show_invalid(self.form.show_save_errors(error.errors))
            return
        if isinstance(error, DuplicateDossier) and self.form is not None and prepared is not None:
            # Another save (a sync, say) registered a likely duplicate meanwhile: ask again.
            self.saving = True
            self._review_duplicates(prepared, list(error.duplicates))
            return
        log.error("saving the dossier failed", exc_info=error)
        if self.form is not None:
            self.form.dirty = True
        self.save_draft_now()
        self.status.configure(
            text=(
                f"Chưa lưu được hồ sơ ({error}). Những gì bạn đã nhập vẫn được giữ trong bản "
                "nháp. Hãy thử lưu lại; nếu vẫn lỗi, báo cán bộ CNTT."
            ),
            bootstyle="danger",
        )
        self.services.toast("Chưa lưu được hồ sơ. Bản nháp vẫn được giữ.", "danger")

    def _show_invalid(self, errors: list[FieldError]) -> None:
        """Say that the dossier was not saved and what the first problem is."""
        first = errors[0].message if errors else ""
        more = f" (và {len(errors) - 1} mục khác)" if len(errors) > 1 else ""
        self.status.configure(text=f"Chưa lưu: {first}{more}", bootstyle="danger")


def _invoke(button: ttk.Button, _event: object = None) -> None:
    """Press a button from the keyboard (ttk buttons only take Space by default)."""
    button.invoke()


def _draft_name(procedure_code: str, data: dict[str, Any]) -> str:
    """Name a draft by its main person, else by who asked for it (drafts are often partial)."""
    try:
        procedure = get_procedure(procedure_code)
        names = [procedure.full_name_of(p, data) for p in procedure.main_persons]
        names = [n for n in names if n]
        if names:
            return " – ".join(names)
        applicant = procedure.applicant(data).get("name", "")
    except Exception:  # a draft of an older declaration must still be listed
        return ""
    return f"(người yêu cầu: {applicant})" if applicant else "(chưa có tên)"
