"""The sign-in screen: each clerk unlocks the encrypted store with their own password.

Also the lock screen: after Ctrl+L or the idle timeout the same screen comes back with the
clerk's name filled in; the open forms wait behind it with their drafts saved.
"""

from __future__ import annotations

import logging
import tkinter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import ttkbootstrap as ttk

from desktop.ui.tasks import TaskHandle, TaskRunner

if TYPE_CHECKING:
    from desktop.store.store import Store

log = logging.getLogger(__name__)

WRONG_PASSWORD = (
    "Sai tên đăng nhập hoặc mật khẩu. Hãy gõ lại mật khẩu "
    "(kiểm tra phím Caps Lock và tắt bộ gõ tiếng Việt khi gõ mật khẩu)."
)


def profile_usernames(profile_dir: Path) -> list[str]:
    """Return the clerks who may sign in to the profile ([] when it cannot be read)."""
    # The key-slot file alone, not the whole store module: this runs before the first
    # window is drawn (cold-start budget).
    from desktop.store import profile
    from desktop.store.keyslots import KeySlots

    try:
        return list(KeySlots.load(profile.paths(Path(profile_dir))["keyslots"]).usernames())
    except Exception:  # a damaged key file: the clerk still types the name, unlocking says why
        log.exception("could not list the clerks of %s", profile_dir)
        return []


def commune_label(profile_dir: Path) -> str:
    """Return "Xã … (code)" for the profile's commune (the console's line for a provincial one)."""
    from desktop.forms.reference import commune_by_code
    from desktop.store.profile import ROLE_PROVINCE, load_config

    try:
        config = load_config(Path(profile_dir))
        if config.role == ROLE_PROVINCE:
            return "Quản trị của CNTT tỉnh"
        code = config.commune
        commune = commune_by_code(code)
        return f"{commune.name} ({code})" if commune else code
    except Exception:  # only the commune line of the sign-in card is missing then
        log.exception("could not read the commune of %s", profile_dir)
        return ""


def open_store(profile_dir: Path, username: str, password: str) -> Store:
    """Unlock the store with a clerk's password (worker thread; key derivation is slow)."""
    from desktop.store.store import Store

    return Store.open(profile_dir, username, password)


def is_wrong_password(error: BaseException) -> bool:
    """Return True when ``error`` means "wrong username or password"."""
    from desktop.store.errors import UnknownClerk, WrongPassword

    return isinstance(error, (WrongPassword, UnknownClerk))


class SignInScreen(ttk.Frame):
    """Ask for username and password; call ``on_success(result, username)`` once unlocked.

    Args:
        master: the root window.
        profile_dir: the profile to unlock.
        tasks: the task runner (unlocking derives a key on a worker thread).
        on_success: called on the Tk thread with what ``authenticate`` returned and the username.
        authenticate: ``authenticate(username, password)``; raises WrongPassword when wrong.
        locked_by: when the window was locked, the clerk who locked it (pre-filled).
        locked_reason: a sentence saying why the window is locked.
    """

    def __init__(
        self,
        master: tkinter.Misc,
        *,
        profile_dir: Path,
        tasks: TaskRunner,
        on_success: Callable[[Store | None, str], object],
        authenticate: Callable[[str, str], Store | None] | None = None,
        locked_by: str | None = None,
        locked_reason: str = "",
    ) -> None:
        """Build the form and focus the first empty field."""
        super().__init__(master)
        self.profile_dir = Path(profile_dir)
        self.tasks = tasks
        self.on_success = on_success
        self.authenticate = authenticate or (
            lambda username, password: open_store(self.profile_dir, username, password)
        )
        self.working = False
        self.attempts = 0
        self._profile_task: TaskHandle | None = None

        card = ttk.Frame(self, padding=40)
        card.place(relx=0.5, rely=0.42, anchor="center")
        ttk.Label(card, text="Một Cửa Xã", font="-size 22 -weight bold", bootstyle="primary").pack()
        ttk.Label(card, text="Đăng ký hộ tịch tại xã", bootstyle="secondary").pack()
        # Filled in from a worker once the window is up: naming the commune loads the
        # reference tables, which are not needed to draw the window (cold-start budget).
        self.commune_label = ttk.Label(card, text="", font="-size 12")
        self.commune_label.pack(pady=(6, 0))
        if locked_by:
            ttk.Label(
                card,
                text=locked_reason or "Máy đang khoá. Hồ sơ đang nhập dở vẫn được giữ.",
                font="-weight bold",
                wraplength=420,
                justify="center",
            ).pack(pady=(14, 0))
        form = ttk.Frame(card)
        form.pack(pady=(18, 0))
        ttk.Label(form, text="Tên đăng nhập").grid(
            row=0, column=0, sticky="w", pady=4, padx=(0, 10)
        )
        self.username_var = tkinter.StringVar(self)
        self.username_box = ttk.Combobox(
            form,
            textvariable=self.username_var,
            values=profile_usernames(self.profile_dir),
            width=26,
        )
        self.username_box.grid(row=0, column=1, sticky="w")
        ttk.Label(form, text="Mật khẩu").grid(row=1, column=0, sticky="w", pady=4, padx=(0, 10))
        self.password_var = tkinter.StringVar(self)
        self.password_entry = ttk.Entry(form, textvariable=self.password_var, show="•", width=28)
        self.password_entry.grid(row=1, column=1, sticky="w")
        self.message = ttk.Label(
            card, text="", bootstyle="danger", wraplength=420, justify="center"
        )
        self.message.pack(pady=(10, 0))
        self.progress = ttk.Progressbar(card, mode="indeterminate", length=200)
        self.button = ttk.Button(
            card, text="Đăng nhập (Enter)", bootstyle="primary", command=self.submit, width=24
        )
        self.button.pack(pady=(10, 0))
        for widget in (self.username_box, self.password_entry, self.button):
            widget.bind("<Return>", self._on_return)
            widget.bind("<KP_Enter>", self._on_return)
        self.profile_loaded = False
        usernames = list(self.username_box.cget("values") or ())
        if locked_by:
            self.username_var.set(locked_by)
        elif len(usernames) == 1:
            self.username_var.set(usernames[0])
        self.after_idle(self._initial_focus)
        self.after_idle(self._load_profile)

    def _initial_focus(self) -> None:
        if not self.winfo_exists():
            return
        if self.username_var.get():
            self.password_entry.focus_set()
        else:
            self.username_box.focus_set()

    def _load_profile(self) -> None:
        if self.winfo_exists():
            profile_dir = self.profile_dir
            self._profile_task = self.tasks.run(
                lambda: commune_label(profile_dir),
                on_done=self._show_profile,
                on_error=lambda _e: None,
                description="Đọc hồ sơ máy",
            )

    def _show_profile(self, commune: str) -> None:
        if not self.winfo_exists():
            return
        self.commune_label.configure(text=commune)
        self.profile_loaded = True

    def destroy(self) -> None:
        """Drop pending callbacks, then the widgets."""
        if self._profile_task is not None:
            self._profile_task.cancel()
        super().destroy()

    def _on_return(self, _event: object) -> str:
        self.submit()
        return "break"

    def submit(self) -> None:
        """Check the password on a worker thread; the form stays responsive meanwhile."""
        if self.working:
            return
        username = self.username_var.get().strip()
        password = self.password_var.get()
        if not username:
            self.message.configure(text="Hãy nhập tên đăng nhập.")
            self.username_box.focus_set()
            return
        if not password:
            self.message.configure(text="Hãy nhập mật khẩu.")
            self.password_entry.focus_set()
            return
        self.working = True
        self.message.configure(text="Đang mở khoá dữ liệu…", bootstyle="info")
        self.button.configure(state="disabled")
        self.progress.pack(pady=(6, 0), before=self.button)
        self.progress.start(40)
        self.tasks.run(
            self.authenticate,
            username,
            password,
            on_done=lambda result: self._succeeded(result, username),
            on_error=self._failed,
            description="Đăng nhập",
        )

    def _stop_busy(self) -> None:
        self.working = False
        self.progress.stop()
        self.progress.pack_forget()
        self.button.configure(state="normal")

    def _succeeded(self, result: Store | None, username: str) -> None:
        self._stop_busy()
        self.password_var.set("")
        self.message.configure(text="")
        self.on_success(result, username)

    def _failed(self, error: BaseException) -> None:
        self._stop_busy()
        self.attempts += 1
        self.password_var.set("")
        if is_wrong_password(error):
            text = WRONG_PASSWORD
        else:
            log.error("sign-in failed", exc_info=error)
            text = (
                f"Không mở được dữ liệu của máy: {error}. Hãy thử lại; nếu vẫn lỗi, báo CNTT tỉnh."
            )
        self.message.configure(text=text, bootstyle="danger")
        self.password_entry.focus_set()
