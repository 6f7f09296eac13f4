"""The settings screen: server address, sync interval, printer, date-in-words style, theme."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import subprocess
import sys
import tkinter
from typing import Any

import ttkbootstrap as ttk

from desktop.forms.vietnamese import date_in_words
from desktop.sync.status import SyncState
from desktop.ui.services import Services
from desktop.ui.settings import THEMES, ZERO_TENS_STYLES

log = logging.getLogger(__name__)

#: The date the preview writes in words: a day ≤ 10 and a year with a zero tens digit.
PREVIEW_DATE = dt.date(2005, 4, 5)


def list_printers() -> list[str]:
    """Return the system's printer names (CUPS ``lpstat`` or Windows), or [] when unknown.

    Called on a worker thread: ``lpstat`` may take a while on a PC with a stale network printer.
    """
    if sys.platform == "win32":
        try:
            import win32print  # type: ignore[import-not-found]

            flags = win32print.PRINTER_ENUM_LOCAL | win32print.PRINTER_ENUM_CONNECTIONS
            return [p[2] for p in win32print.EnumPrinters(flags)]
        except Exception:  # pywin32 is optional (not a dependency) and the spooler may fail
            return []
    if shutil.which("lpstat") is None:
        return []
    try:
        out = subprocess.run(
            ["lpstat", "-e"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def validate(values: dict[str, Any]) -> dict[str, str]:
    """Check what the clerk entered; return field → Vietnamese message for each problem."""
    errors: dict[str, str] = {}
    url = str(values.get("server_url", "")).strip()
    if url and not url.startswith(("http://", "https://")):
        errors["server_url"] = (
            "Địa chỉ máy chủ phải bắt đầu bằng http:// hoặc https:// (ví dụ https://dongbo.laocai.gov.vn)."
        )
    interval = values.get("sync_interval_min")
    if not isinstance(interval, int) or not 1 <= interval <= 1440:
        errors["sync_interval_min"] = "Chu kỳ đồng bộ là số phút từ 1 đến 1440."
    idle = values.get("idle_lock_minutes")
    if not isinstance(idle, int) or not 0 <= idle <= 1440:
        errors["idle_lock_minutes"] = "Số phút tự khoá là số từ 0 (không khoá) đến 1440."
    return errors


def _int_or_none(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


class _FormGrid:
    """The settings form's two-column grid: a label, a widget, a hint and an error per row."""

    def __init__(self, form: ttk.Frame, error_labels: dict[str, ttk.Label]) -> None:
        """Fill ``form`` from its first row; record each row's error label by name."""
        self.form = form
        self.error_labels = error_labels
        self.row = 0

    def heading(self, text: str, *, first: bool = False) -> None:
        """Add a section heading."""
        ttk.Label(self.form, text=text, font="-size 12 -weight bold").grid(
            row=self.row, column=0, columnspan=2, sticky="w", pady=(0 if first else 12, 0)
        )
        self.row += 1

    def add(self, label: str, widget: tkinter.Widget, name: str, hint: str = "") -> None:
        """Add a labelled widget with an optional hint and a (hidden) error line."""
        ttk.Label(self.form, text=label).grid(
            row=self.row, column=0, sticky="nw", pady=(8, 0), padx=(0, 12)
        )
        widget.grid(row=self.row, column=1, sticky="w", pady=(6, 0))
        self.row += 1
        if hint:
            ttk.Label(self.form, text=hint, bootstyle="secondary").grid(
                row=self.row, column=1, sticky="w"
            )
            self.row += 1
        error = ttk.Label(self.form, text="", bootstyle="danger")
        error.grid(row=self.row, column=1, sticky="w")
        error.grid_remove()  # takes no room until there is something to say
        self.error_labels[name] = error
        self.row += 1


class SettingsScreen(ttk.Frame):
    """Edit the profile's settings; Lưu (or Ctrl+S) validates, saves and applies them.

    The server address is kept in the profile config (``store.config.server_url``), the other
    values in the settings file.
    """

    def __init__(self, master: tkinter.Misc, services: Services, **_kwargs: object) -> None:
        """Build the form from the current settings."""
        super().__init__(master)
        self.services = services
        self.vars: dict[str, tkinter.Variable] = {
            "server_url": tkinter.StringVar(self),
            "sync_interval_min": tkinter.StringVar(self),
            "printer": tkinter.StringVar(self),
            "date_words_mung": tkinter.BooleanVar(self),
            "date_words_zero_tens": tkinter.StringVar(self),
            "theme": tkinter.StringVar(self),
            "idle_lock_minutes": tkinter.StringVar(self),
            "signer_name": tkinter.StringVar(self),
            "signer_title": tkinter.StringVar(self),
        }
        self.error_labels: dict[str, ttk.Label] = {}
        # The buttons sit above the form so they stay visible on a 768-pixel-high screen.
        buttons = ttk.Frame(self)
        buttons.pack(anchor="e", fill="x", pady=(0, 4))
        self.save_button = ttk.Button(
            buttons, text="Lưu cài đặt (Ctrl+S)", bootstyle="primary", command=self.on_save
        )
        self.save_button.pack(side="right")
        ttk.Button(buttons, text="Hoàn tác", bootstyle="secondary", command=self.load).pack(
            side="right", padx=8
        )
        form = ttk.Frame(self)
        form.pack(fill="x", anchor="nw")
        form.columnconfigure(1, weight=1)
        grid = _FormGrid(form, self.error_labels)
        self._build_sync(grid)
        self._build_printing(grid)
        self._build_appearance(grid)

        self.load()
        self._printers_task = services.tasks.run(
            list_printers,
            on_done=self._show_printers,
            on_error=lambda _e: None,
            description="Tìm máy in",
        )

    def _build_sync(self, grid: _FormGrid) -> None:
        form = grid.form
        grid.heading("Đồng bộ", first=True)
        self.server_entry = ttk.Entry(form, textvariable=self.vars["server_url"], width=48)
        grid.add(
            "Địa chỉ máy chủ tỉnh",
            self.server_entry,
            "server_url",
            "Để trống nếu chưa có mạng: máy vẫn làm việc đầy đủ, đồng bộ sau.",
        )
        enrol_row = ttk.Frame(form)
        self.code_var = tkinter.StringVar(self)
        self.code_entry = ttk.Entry(enrol_row, textvariable=self.code_var, width=16)
        self.code_entry.pack(side="left")
        self.enrol_button = ttk.Button(
            enrol_row, text="Đăng ký máy", bootstyle="secondary", command=self.enrol
        )
        self.enrol_button.pack(side="left", padx=8)
        self.enrol_state = ttk.Label(enrol_row, text="", bootstyle="secondary")
        self.enrol_state.pack(side="left")
        grid.add(
            "Mã đăng ký máy",
            enrol_row,
            "enrolment",
            "Mã do CNTT tỉnh cấp, dùng một lần. Không bắt buộc để làm việc.",
        )
        self.interval_spin = ttk.Spinbox(
            form, from_=1, to=1440, textvariable=self.vars["sync_interval_min"], width=8
        )
        grid.add("Tự đồng bộ mỗi (phút)", self.interval_spin, "sync_interval_min")

    def _build_printing(self, grid: _FormGrid) -> None:
        form = grid.form
        grid.heading("In ấn")
        self.printer_box = ttk.Combobox(form, textvariable=self.vars["printer"], width=40)
        grid.add("Máy in", self.printer_box, "printer", "Để trống để dùng máy in mặc định.")
        self.signer_entry = ttk.Entry(form, textvariable=self.vars["signer_name"], width=32)
        grid.add("Người ký giấy", self.signer_entry, "signer_name", "Họ tên lãnh đạo UBND xã ký.")
        self.signer_title_entry = ttk.Entry(form, textvariable=self.vars["signer_title"], width=24)
        grid.add("Chức vụ người ký", self.signer_title_entry, "signer_title")
        style_frame = ttk.Frame(form)
        self.mung_check = ttk.Checkbutton(
            style_frame,
            text="Viết «mùng» cho ngày 1–10",
            variable=self.vars["date_words_mung"],
            command=self._update_preview,
        )
        self.mung_check.pack(anchor="w")
        zero = ttk.Frame(style_frame)
        zero.pack(anchor="w", pady=(4, 0))
        ttk.Label(zero, text="Hàng chục bằng không đọc là:").pack(side="left")
        self.zero_tens_buttons: dict[str, ttk.Radiobutton] = {}
        for value in ZERO_TENS_STYLES:
            button = ttk.Radiobutton(
                zero,
                text=f"«{value}»",
                value=value,
                variable=self.vars["date_words_zero_tens"],
                command=self._update_preview,
            )
            button.pack(side="left", padx=8)
            self.zero_tens_buttons[value] = button
        self.preview = ttk.Label(style_frame, text="", bootstyle="info")
        self.preview.pack(anchor="w", pady=(4, 0))
        grid.add("Ngày tháng bằng chữ", style_frame, "date_words")

    def _build_appearance(self, grid: _FormGrid) -> None:
        form = grid.form
        grid.heading("Giao diện và bảo mật")
        self.theme_box = ttk.Combobox(
            form, values=[label for _, label in THEMES], state="readonly", width=20
        )
        grid.add("Giao diện", self.theme_box, "theme")
        self.idle_spin = ttk.Spinbox(
            form, from_=0, to=1440, textvariable=self.vars["idle_lock_minutes"], width=8
        )
        grid.add(
            "Tự khoá máy sau (phút)", self.idle_spin, "idle_lock_minutes", "0 = không tự khoá."
        )

    def on_show(self, **_kwargs: object) -> None:
        """Show the saved values (drop unsaved edits from an earlier visit)."""
        self.load()
        self.server_entry.focus_set()

    def load(self) -> None:
        """Fill the form from the saved settings."""
        settings = self.services.settings
        self.vars["server_url"].set(self.services.store.config.server_url or "")
        self.vars["sync_interval_min"].set(str(settings.sync_interval_min))
        self.vars["printer"].set(settings.printer)
        self.vars["date_words_mung"].set(settings.date_words_mung)
        self.vars["date_words_zero_tens"].set(settings.date_words_zero_tens)
        self.vars["idle_lock_minutes"].set(str(int(settings.idle_lock_minutes)))
        self.vars["signer_name"].set(settings.signer_name)
        self.vars["signer_title"].set(settings.signer_title)
        labels = dict(THEMES)
        self.theme_box.set(labels.get(settings.theme, settings.theme))
        for name in self.error_labels:
            self._set_error(name, "")
        self._update_preview()
        self._show_enrolment()

    def values(self) -> dict[str, Any]:
        """Return what the form holds, as settings values."""
        by_label = {label: name for name, label in THEMES}
        return {
            "server_url": str(self.vars["server_url"].get()).strip(),
            "sync_interval_min": _int_or_none(str(self.vars["sync_interval_min"].get())),
            "printer": str(self.vars["printer"].get()).strip(),
            "date_words_mung": bool(self.vars["date_words_mung"].get()),
            "date_words_zero_tens": str(self.vars["date_words_zero_tens"].get()),
            "theme": by_label.get(self.theme_box.get(), self.services.settings.theme),
            "idle_lock_minutes": _int_or_none(str(self.vars["idle_lock_minutes"].get())),
            "signer_name": str(self.vars["signer_name"].get()).strip(),
            "signer_title": str(self.vars["signer_title"].get()).strip() or "Chủ tịch",
        }

    def on_save(self) -> None:
        """Validate, save and apply; on a problem say what to fix and change nothing."""
        values = self.values()
        errors = validate(values)
        for name in self.error_labels:
            self._set_error(name, errors.get(name, ""))
        if errors:
            self.services.toast("Chưa lưu: hãy sửa các ô báo đỏ.", "warning")
            return
        settings, store = self.services.settings, self.services.store
        server_url = values.pop("server_url") or None
        old_theme = settings.theme
        settings.update(values)
        try:
            settings.save()
            if server_url != store.config.server_url:
                store.update_config(server_url=server_url)
        except OSError as exc:
            log.exception("saving settings failed")
            self.services.toast(
                f"Không lưu được cài đặt ({exc}). Kiểm tra ổ đĩa rồi thử lại.", "danger"
            )
            return
        if settings.theme != old_theme:
            self._apply_theme(settings.theme)
        if self.services.sync is not None:
            try:
                self.services.sync.apply_settings(settings)
            except Exception:  # the settings are saved; sync follows them at its next start
                log.exception("sync could not apply the new settings")
        self.services.toast("Đã lưu cài đặt.")

    def enrol(self) -> None:
        """Enrol this PC with the provincial server using the code IT gave (background)."""
        url = str(self.vars["server_url"].get()).strip()
        code = self.code_var.get().strip()
        errors = validate({**self.values(), "server_url": url})
        problem = errors.get("server_url", "")
        if not url:
            problem = "Hãy nhập địa chỉ máy chủ tỉnh trước."
        elif not code:
            problem = "Hãy nhập mã đăng ký máy do CNTT tỉnh cấp."
        sync = self.services.sync
        if not problem and sync is None:
            problem = "Bản cài đặt này chưa có chức năng đồng bộ."
        self._set_error("enrolment", problem)
        if problem or sync is None:
            return
        self.enrol_button.configure(state="disabled")
        self.enrol_state.configure(text="Đang đăng ký…")
        self.services.tasks.run(
            sync.enrol,
            url,
            code,
            on_done=lambda _r: self._enrolled(url),
            on_error=self._enrol_failed,
            description="Đăng ký máy với tỉnh",
        )

    def _enrolled(self, url: str) -> None:
        if not self.winfo_exists():
            return
        self.enrol_button.configure(state="normal")
        self.code_var.set("")
        try:
            self.services.store.update_config(server_url=url)
        except OSError:
            log.exception("recording the server address failed")
        self._show_enrolment()
        self.services.toast("Đã đăng ký máy với máy chủ tỉnh.")

    def _enrol_failed(self, error: BaseException) -> None:
        if not self.winfo_exists():
            return
        self.enrol_button.configure(state="normal")
        self.enrol_state.configure(text="")
        self._set_error(
            "enrolment", f"Chưa đăng ký được: {error}. Kiểm tra mạng và mã rồi thử lại."
        )

    def _set_error(self, name: str, text: str) -> None:
        label = self.error_labels[name]
        label.configure(text=text)
        if text:
            label.grid()
        else:
            label.grid_remove()

    def _show_enrolment(self) -> None:
        enrolled = self.services.sync_status().state is not SyncState.NOT_ENROLLED
        self.enrol_state.configure(text="Máy đã đăng ký với tỉnh." if enrolled else "")

    def _apply_theme(self, theme: str) -> None:
        try:
            ttk.Style.get_instance().theme_use(theme)  # type: ignore[union-attr]
        except tkinter.TclError:  # a theme this ttkbootstrap does not know
            log.exception("theme %s could not be applied", theme)

    def _update_preview(self) -> None:
        zero_tens = str(self.vars["date_words_zero_tens"].get()) or "linh"
        try:
            text = date_in_words(
                PREVIEW_DATE, mung=bool(self.vars["date_words_mung"].get()), zero_tens=zero_tens
            )
        except ValueError:
            text = ""
        self.preview.configure(text=f"Ví dụ: {text}")

    def _show_printers(self, printers: list[str]) -> None:
        if self.winfo_exists():
            self.printer_box.configure(values=printers)

    def destroy(self) -> None:
        """Drop the printer lookup's callback before the widgets go."""
        self._printers_task.cancel()
        super().destroy()
