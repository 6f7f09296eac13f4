"""The first-run wizard an installer fills in on a new PC.

Five steps, all by keyboard (Enter = next, Escape = back, Tab between fields):

1. the role («Vai trò», :mod:`desktop.ui.first_run_steps`): a commune's PC, where clerks
   register civil status (the default), or provincial IT's console — Up/Down or 1/2;
2. the commune, found by typing part of its name among Lào Cai's 99 units (skipped for the
   province: its profile belongs to no commune);
3. the provincial server address and the code — a device enrolment code for a commune, an
   operator code (``motcua-server operator-code``) for the province; both optional: a commune
   works fully before enrolment and syncs later, the console's "Kết nối máy chủ" screen
   connects later;
4. the first account (username, full name, password twice): a clerk, or provincial IT;
5. a summary of what will be created; Enter creates the encrypted profile (``Store.create``
   with the role) on a worker thread. The session then enrols the PC in the background when a
   server and a code were given.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import tkinter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import ttkbootstrap as ttk

from desktop.store.profile import ROLE_COMMUNE, ROLE_PROVINCE
from desktop.ui.first_run_steps import ROLE_WORDS, STEP_TITLES, RoleChoice
from desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from desktop.forms.reference import Commune
    from desktop.store.store import Store

log = logging.getLogger(__name__)

MIN_PASSWORD = 6
_USERNAME = re.compile(r"^[a-z0-9._-]{2,32}$")


@dataclasses.dataclass
class FirstRunResult:
    """What the wizard produced.

    Attributes:
        store: the newly created, open store.
        commune_code: the chosen commune's code ("" for the province).
        commune_name: its name ("" for the province).
        username: the first clerk's (or provincial IT's) login.
        full_name: their full name.
        server_url: the server address ("" when skipped).
        enrolment_code: the one-time code ("" when skipped): a device's enrolment code for a
            commune, an operator code for the province.
        role: ``commune`` or ``province`` (``desktop.store.profile.ROLES``).
    """

    store: Store
    commune_code: str
    commune_name: str
    username: str
    full_name: str
    server_url: str = ""
    enrolment_code: str = ""
    role: str = ROLE_COMMUNE


class CreateStore(Protocol):
    """Creates the encrypted profile (``Store.create``'s keyword arguments)."""

    def __call__(
        self,
        profile_dir: Path,
        *,
        commune: str,
        username: str,
        password: str,
        full_name: str,
        role: str = ROLE_COMMUNE,
    ) -> Store:
        """Create the profile and return its open store."""
        ...


def default_create_store(
    profile_dir: Path,
    *,
    commune: str,
    username: str,
    password: str,
    full_name: str,
    role: str = ROLE_COMMUNE,
) -> Store:
    """Create the profile with the store layer (runs on a worker thread).

    ``role="province"`` makes provincial IT's console profile (``commune`` is then "").
    """
    from desktop.store.store import Store

    return Store.create(
        profile_dir,
        commune=commune,
        username=username,
        password=password,
        full_name=full_name,
        role=role,
    )


def check_account(username: str, full_name: str, password: str, confirm: str) -> dict[str, str]:
    """Check the first clerk's account; return field → Vietnamese message for each problem."""
    errors: dict[str, str] = {}
    if not _USERNAME.match(username):
        errors["username"] = (
            "Tên đăng nhập gồm 2–32 chữ thường không dấu, số, dấu chấm hoặc gạch (ví dụ: lan.nt)."
        )
    if len(full_name.split()) < 2:
        errors["full_name"] = "Hãy nhập đủ họ và tên của cán bộ."
    if len(password) < MIN_PASSWORD:
        errors["password"] = f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự."
    elif password != confirm:
        errors["confirm"] = "Hai lần nhập mật khẩu không giống nhau. Hãy nhập lại."
    return errors


def check_server(url: str) -> str:
    """Return a Vietnamese message when ``url`` is not a usable server address, else ""."""
    url = url.strip()
    if url and not re.match(r"^https?://[^\s/]+", url):
        return "Địa chỉ máy chủ phải có dạng https://ten-may-chu (hoặc để trống)."
    return ""


class FirstRunWizard(ttk.Frame):
    """The installer's wizard; calls ``on_done(result)`` once the profile exists.

    Args:
        master: the root window.
        profile_dir: where to create the profile.
        tasks: the task runner (profile creation derives keys: it takes a moment).
        on_done: called on the Tk thread with a ``FirstRunResult``.
        create_store: ``create_store(profile_dir, commune=, username=, password=, full_name=,
            role=)``.

    ``step`` is the index of the shown step in the chosen role's path (``steps``), ``page`` its
    name: "role", "commune" (communes only), "server", "account", "summary".
    """

    def __init__(
        self,
        master: tkinter.Misc,
        *,
        profile_dir: Path,
        tasks: TaskRunner,
        on_done: Callable[[FirstRunResult], object],
        create_store: CreateStore = default_create_store,
    ) -> None:
        """Build the steps and show the first (the role)."""
        super().__init__(master, padding=30)
        self.profile_dir = Path(profile_dir)
        self.tasks = tasks
        self.on_done = on_done
        self.create_store = create_store
        self.step = 0
        self.commune: Commune | None = None
        self._matches: list[Commune] = []
        self.creating = False

        ttk.Label(self, text="Cài đặt Một Cửa Xã trên máy này", font="-size 18 -weight bold").pack(
            anchor="w"
        )
        self.step_label = ttk.Label(self, text="", bootstyle="secondary")
        self.step_label.pack(anchor="w", pady=(2, 14))
        self.body = ttk.Frame(self)
        self.body.pack(fill="both", expand=True)
        self.message = ttk.Label(self, text="", bootstyle="danger", wraplength=700)
        self.message.pack(anchor="w", pady=(6, 0))
        self.progress = ttk.Progressbar(self, mode="indeterminate", length=300)
        nav = ttk.Frame(self)
        nav.pack(fill="x", pady=(12, 0))
        self.back_button = ttk.Button(
            nav, text="← Quay lại (Esc)", bootstyle="secondary", command=self.back
        )
        self.back_button.pack(side="left")
        self.next_button = ttk.Button(
            nav, text="Tiếp (Enter) →", bootstyle="primary", command=self.next
        )
        self.next_button.pack(side="right")

        self.role_choice = RoleChoice(self.body, on_change=self._role_changed, on_next=self.next)
        self.pages: dict[str, ttk.Frame] = {
            "role": self.role_choice,
            "commune": self._build_commune(),
            "server": self._build_server(),
            "account": self._build_account(),
            "summary": self._build_summary(),
        }
        self.bind_all("<Return>", self._on_return, add="+")
        self.bind_all("<KP_Enter>", self._on_return, add="+")
        self.bind_all("<Escape>", self._on_escape, add="+")
        self._role_changed(ROLE_COMMUNE)
        self._show_step(0)

    # -- pages -------------------------------------------------------------------------------

    def _build_commune(self) -> ttk.Frame:
        page = ttk.Frame(self.body)
        ttk.Label(
            page,
            text="Máy này dùng cho xã/phường nào? Gõ vài chữ trong tên xã (có dấu hoặc không):",
        ).pack(anchor="w")
        self.commune_var = tkinter.StringVar(self)
        self.commune_entry = ttk.Entry(
            page, textvariable=self.commune_var, width=40, font="-size 12"
        )
        self.commune_entry.pack(anchor="w", pady=6)
        self.commune_list = tkinter.Listbox(
            page, height=12, width=60, exportselection=False, font="-size 11"
        )
        self.commune_list.pack(anchor="w", fill="y")
        self.commune_var.trace_add("write", lambda *_: self._filter_communes())
        self.commune_entry.bind("<Down>", self._focus_list)
        self.commune_list.bind("<Double-1>", lambda _e: self.next())
        self.commune_list.bind("<<ListboxSelect>>", lambda _e: self._pick_selected())
        self.chosen_label = ttk.Label(page, text="", bootstyle="success")
        self.chosen_label.pack(anchor="w", pady=(6, 0))
        self._filter_communes()
        return page

    def _build_server(self) -> ttk.Frame:
        page = ttk.Frame(self.body)
        self.server_intro = ttk.Label(page, text="", justify="left")
        self.server_intro.pack(anchor="w")
        form = ttk.Frame(page)
        form.pack(anchor="w", pady=10)
        self.server_label = ttk.Label(form, text="")
        self.server_label.grid(row=0, column=0, sticky="w", padx=(0, 10), pady=4)
        self.server_var = tkinter.StringVar(self)
        self.server_entry = ttk.Entry(form, textvariable=self.server_var, width=44)
        self.server_entry.grid(row=0, column=1, sticky="w")
        self.code_label = ttk.Label(form, text="", justify="left")
        self.code_label.grid(row=1, column=0, sticky="w", padx=(0, 10), pady=4)
        self.code_var = tkinter.StringVar(self)
        self.code_entry = ttk.Entry(form, textvariable=self.code_var, width=24)
        self.code_entry.grid(row=1, column=1, sticky="nw", pady=4)
        return page

    def _build_account(self) -> ttk.Frame:
        page = ttk.Frame(self.body)
        self.account_intro = ttk.Label(page, text="")
        self.account_intro.pack(anchor="w")
        form = ttk.Frame(page)
        form.pack(anchor="w", pady=10)
        self.account_vars: dict[str, tkinter.StringVar] = {}
        self.account_entries: dict[str, ttk.Entry] = {}
        self.account_errors: dict[str, ttk.Label] = {}
        fields = (
            ("full_name", "Họ và tên", False),
            ("username", "Tên đăng nhập", False),
            ("password", "Mật khẩu", True),
            ("confirm", "Nhập lại mật khẩu", True),
        )
        for row, (name, label, secret) in enumerate(fields):
            ttk.Label(form, text=label).grid(
                row=2 * row, column=0, sticky="w", padx=(0, 10), pady=(6, 0)
            )
            var = tkinter.StringVar(self)
            entry = ttk.Entry(form, textvariable=var, width=36, show="•" if secret else "")
            entry.grid(row=2 * row, column=1, sticky="w", pady=(6, 0))
            error = ttk.Label(form, text="", bootstyle="danger")
            error.grid(row=2 * row + 1, column=1, sticky="w")
            self.account_vars[name], self.account_entries[name] = var, entry
            self.account_errors[name] = error
        self.account_hint = ttk.Label(page, text="", bootstyle="secondary", wraplength=700)
        self.account_hint.pack(anchor="w")
        return page

    def _build_summary(self) -> ttk.Frame:
        page = ttk.Frame(self.body)
        self.summary = ttk.Label(page, text="", justify="left", font="-size 11", wraplength=760)
        self.summary.pack(anchor="w")
        ttk.Label(
            page, text="Bấm Enter (hoặc «Tạo hồ sơ máy») để hoàn tất.", bootstyle="secondary"
        ).pack(anchor="w", pady=(12, 0))
        return page

    # -- navigation --------------------------------------------------------------------------

    @property
    def role(self) -> str:
        """The role chosen on the first step (``commune`` or ``province``)."""
        return self.role_choice.role

    @property
    def steps(self) -> tuple[str, ...]:
        """The chosen role's steps, by name."""
        return ROLE_WORDS[self.role].steps

    @property
    def page(self) -> str:
        """The name of the step shown now."""
        return self.steps[self.step]

    def _role_changed(self, role: str) -> None:
        """Say the chosen role's words on the later steps (and its step count)."""
        words = ROLE_WORDS[role]
        self.server_intro.configure(text=words.server_intro)
        self.server_label.configure(text=words.server_label)
        self.code_label.configure(text=words.code_label)
        self.account_intro.configure(text=words.account_intro)
        self.account_hint.configure(text=words.account_hint)
        self._show_step_label()

    def _show_step_label(self) -> None:
        title = STEP_TITLES[self.page]
        self.step_label.configure(text=f"Bước {self.step + 1}/{len(self.steps)}: {title}")

    def _show_step(self, step: int) -> None:
        for frame in self.pages.values():
            frame.pack_forget()
        self.step = step
        page = self.page
        self.pages[page].pack(fill="both", expand=True)
        self._show_step_label()
        self.message.configure(text="")
        self.back_button.configure(state="normal" if step else "disabled")
        last = page == "summary"
        self.next_button.configure(text="Tạo hồ sơ máy (Enter)" if last else "Tiếp (Enter) →")
        if page == "role":
            self.role_choice.focus_choice()
        else:
            focus = {
                "commune": self.commune_entry,
                "server": self.server_entry,
                "account": self.account_entries["full_name"],
            }
            focus.get(page, self.next_button).focus_set()
        if last:
            self.summary.configure(text=self._summary_text())

    def next(self) -> None:
        """Check the current step and go on (or create the profile on the last step)."""
        if self.creating:
            return
        page = self.page
        if page == "role":
            self._role_changed(self.role)
        elif page == "commune":
            if not self._pick_selected(default_first=True):
                self.message.configure(
                    text="Hãy chọn một xã trong danh sách (gõ tên rồi bấm Enter)."
                )
                return
        elif page == "server":
            problem = check_server(self.server_var.get())
            if problem:
                self.message.configure(text=problem)
                self.server_entry.focus_set()
                return
        elif page == "account":
            if not self._account_ok():
                return
        else:
            self._create()
            return
        self._show_step(self.step + 1)

    def _account_ok(self) -> bool:
        """Check the account fields; mark the wrong ones and focus the first."""
        errors = check_account(
            **{
                k: v.get().strip() if k in ("username", "full_name") else v.get()
                for k, v in self.account_vars.items()
            }
        )
        for name, label in self.account_errors.items():
            label.configure(text=errors.get(name, ""))
        if errors:
            self.account_entries[next(iter(errors))].focus_set()
            self.message.configure(text="Hãy sửa các ô báo đỏ.")
        return not errors

    def back(self) -> None:
        """Go back one step (nothing typed or chosen is lost)."""
        if self.step and not self.creating:
            self._show_step(self.step - 1)

    def _on_return(self, event: tkinter.Event[Any]) -> str | None:
        if not self.winfo_ismapped():
            return None
        if event.widget is self.back_button:
            self.back()
            return "break"
        self.next()
        return "break"

    def _on_escape(self, _event: object) -> str | None:
        if not self.winfo_ismapped():
            return None
        self.back()
        return "break"

    # -- commune search ------------------------------------------------------------------------

    def _filter_communes(self) -> None:
        from desktop.forms.reference import find_communes

        self._matches = find_communes(self.commune_var.get())
        self.commune_list.delete(0, "end")
        for commune in self._matches:
            self.commune_list.insert("end", f"{commune.name}  ({commune.code})")
        if self._matches:
            self.commune_list.selection_set(0)
            self.commune_list.activate(0)

    def _focus_list(self, _event: object) -> str:
        if self._matches:
            self.commune_list.focus_set()
            current = self.commune_list.curselection()
            index = current[0] if current else 0
            self.commune_list.selection_clear(0, "end")
            self.commune_list.selection_set(index)
            self.commune_list.activate(index)
        return "break"

    def _pick_selected(self, default_first: bool = False) -> bool:
        selection = self.commune_list.curselection()
        if not selection and default_first and len(self._matches) >= 1:
            selection = (0,)
        if not selection:
            return False
        self.commune = self._matches[selection[0]]
        self.chosen_label.configure(text=f"Đã chọn: {self.commune.name} ({self.commune.code})")
        return True

    # -- creation --------------------------------------------------------------------------------

    def _summary_text(self) -> str:
        words = ROLE_WORDS[self.role]
        server = self.server_var.get().strip()
        code = bool(self.code_var.get().strip())
        person = (
            f"{self.account_vars['full_name'].get().strip()} "
            f"(đăng nhập: {self.account_vars['username'].get().strip()})"
        )
        if self.role == ROLE_PROVINCE:
            later = "kết nối sau ở màn hình «Kết nối máy chủ»"
            if code and server:
                enrol = "có — máy kết nối với máy chủ tỉnh ngay sau khi tạo"
            else:
                enrol = f"có, nhưng chưa có địa chỉ máy chủ — {later}" if code else "chưa có"
            lines = [
                "Vai trò:  Máy của CNTT tỉnh — quản trị xung đột, thiết bị, thống kê",
                f"Máy chủ tỉnh:  {server or 'chưa có — ' + later}",
                f"Mã đăng ký CNTT tỉnh:  {enrol}",
            ]
        else:
            commune = f"{self.commune.name} ({self.commune.code})" if self.commune else "—"
            lines = [
                "Vai trò:  Máy của xã — cán bộ một cửa đăng ký hộ tịch",
                f"Xã/phường:  {commune}",
                f"Máy chủ tỉnh:  {server or 'chưa có — đồng bộ sau'}",
                f"Mã đăng ký máy:  {'có' if code else 'chưa có'}",
            ]
        lines += [
            f"{words.person}:  {person}",
            f"Thư mục dữ liệu:  {self.profile_dir}",
            "",
            words.creates,
        ]
        return "\n".join(lines)

    def _create(self) -> None:
        self.creating = True
        self.next_button.configure(state="disabled")
        self.back_button.configure(state="disabled")
        self.message.configure(text="Đang tạo hồ sơ máy và mã hoá dữ liệu…", bootstyle="info")
        self.progress.pack(anchor="w", pady=(6, 0), before=self.message)
        self.progress.start(40)
        username = self.account_vars["username"].get().strip()
        full_name = self.account_vars["full_name"].get().strip()
        password = self.account_vars["password"].get()
        role = self.role
        chosen = self.commune if role == ROLE_COMMUNE else None
        # The commune step cannot be left without a commune; the province has none.
        assert chosen is not None or role == ROLE_PROVINCE
        self.tasks.run(
            lambda: self.create_store(
                self.profile_dir,
                commune=chosen.code if chosen else "",
                username=username,
                password=password,
                full_name=full_name,
                role=role,
            ),
            on_done=lambda store: self._created(store, chosen, role),
            on_error=self._failed,
            description="Tạo hồ sơ máy",
        )

    def _created(self, store: Store, commune: Commune | None, role: str) -> None:
        self.creating = False
        self.progress.stop()
        result = FirstRunResult(
            store=store,
            commune_code=commune.code if commune else "",
            commune_name=commune.name if commune else "",
            username=self.account_vars["username"].get().strip(),
            full_name=self.account_vars["full_name"].get().strip(),
            server_url=self.server_var.get().strip(),
            enrolment_code=self.code_var.get().strip(),
            role=role,
        )
        self.on_done(result)

    def _failed(self, error: BaseException) -> None:
        log.error("profile creation failed", exc_info=error)
        self.creating = False
        self.progress.stop()
        self.progress.pack_forget()
        self.next_button.configure(state="normal")
        self.back_button.configure(state="normal")
        self.message.configure(
            text=f"Không tạo được hồ sơ máy: {error}. Kiểm tra thư mục dữ liệu còn chỗ trống và "
            "có quyền ghi, rồi bấm Enter để thử lại.",
            bootstyle="danger",
        )

    def destroy(self) -> None:
        """Remove the wizard's global key bindings, then the widgets."""
        for sequence in ("<Return>", "<KP_Enter>", "<Escape>"):
            self.unbind_all(sequence)
        super().destroy()
