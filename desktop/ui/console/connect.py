"""The console's "Kết nối máy chủ" screen: enrol this provincial profile as an operator.

Provincial IT types the server address and the one-time operator code from ``motcua-server
operator-code``; enrolment runs on a worker (``desktop.console.enrolment.enrol_operator``: fresh
keys kept before sending, HMAC proof, pinned server keys) and, once done, the shell is handed an
:class:`desktop.console.client.AdminClient` and opens the conflict inbox. Shown instead of every
other console screen while the profile is not enrolled; afterwards it says which server it talks
to, and enrolling again (a new code after a revocation) keeps the same keys.
"""

from __future__ import annotations

import logging
import socket
import tkinter
from typing import TYPE_CHECKING, Any

import ttkbootstrap as ttk

from desktop.console.service import ConsoleError
from desktop.ui.first_run import check_server
from desktop.ui.services import Services

if TYPE_CHECKING:
    from desktop.console.client import AdminClient
    from desktop.store.store import Store

log = logging.getLogger(__name__)

MSG_NO_CODE = "Hãy nhập mã đăng ký CNTT tỉnh (lấy bằng lệnh motcua-server operator-code)."
MSG_NO_URL = "Hãy nhập địa chỉ máy chủ tỉnh, ví dụ https://hotich.laocai.gov.vn."


def connect_operator(store: Store, server_url: str, code: str, label: str) -> AdminClient:
    """Enrol the profile as an operator and return its client (runs on a worker thread)."""
    from desktop.console.client import AdminClient
    from desktop.console.enrolment import enrol_operator

    enrol_operator(store, server_url, code, label=label)
    return AdminClient.from_store(store)


class ConnectScreen(ttk.Frame):
    """Server address + operator code → an enrolled console (see the module docstring)."""

    def __init__(self, master: tkinter.Misc, services: Services, **_kwargs: Any) -> None:
        """Build the two fields, the button and the message line."""
        super().__init__(master)
        self.services = services
        self.working = False
        console = services.console
        current = console.server_url if console is not None else ""
        self.status_label = ttk.Label(
            self,
            text=(
                f"Máy này đang làm việc với máy chủ tỉnh {current}."
                if current
                else "Máy này chưa kết nối với máy chủ tỉnh. Các màn hình quản trị cần kết nối."
            ),
            wraplength=760,
            justify="left",
        )
        self.status_label.pack(anchor="w", pady=(0, 12))
        form = ttk.Frame(self)
        form.pack(anchor="w")
        ttk.Label(form, text="Địa chỉ máy chủ tỉnh").grid(row=0, column=0, sticky="w", pady=4)
        self.url_entry = ttk.Entry(form, width=48, font="-size 12")
        self.url_entry.grid(row=0, column=1, sticky="w", padx=8, pady=4)
        self.url_entry.insert(0, current or services.store.config.server_url or "")
        ttk.Label(form, text="Mã đăng ký CNTT tỉnh").grid(row=1, column=0, sticky="w", pady=4)
        self.code_entry = ttk.Entry(form, width=20, font="-size 14")
        self.code_entry.grid(row=1, column=1, sticky="w", padx=8, pady=4)
        ttk.Label(form, text="Tên máy (để tỉnh nhận ra)").grid(row=2, column=0, sticky="w", pady=4)
        self.label_entry = ttk.Entry(form, width=32)
        self.label_entry.grid(row=2, column=1, sticky="w", padx=8, pady=4)
        self.label_entry.insert(0, socket.gethostname()[:64])
        self.connect_button = ttk.Button(
            self, text="Kết nối (Enter)", bootstyle="primary", command=self.connect
        )
        self.connect_button.pack(anchor="w", pady=12)
        self.message = ttk.Label(self, text="", wraplength=760, justify="left")
        self.message.pack(anchor="w")
        for entry in (self.url_entry, self.code_entry, self.label_entry):
            entry.bind("<Return>", lambda _e: self.connect())
            entry.bind("<KP_Enter>", lambda _e: self.connect())

    def on_show(self, **_kwargs: Any) -> None:
        """Put the cursor where typing starts."""
        target = self.code_entry if self.url_entry.get().strip() else self.url_entry
        target.focus_set()

    def connect(self) -> None:
        """Check the fields, then enrol on a worker; the message line says how it went."""
        if self.working:
            return
        url, code = self.url_entry.get().strip(), self.code_entry.get().strip()
        problem = MSG_NO_URL if not url else check_server(url) or (MSG_NO_CODE if not code else "")
        if problem:
            self._say(problem, "danger")
            return
        self.working = True
        self.connect_button.configure(state="disabled")
        self._say("Đang kết nối với máy chủ tỉnh…", "secondary")
        self.services.tasks.run(
            connect_operator,
            self.services.store,
            url,
            code,
            self.label_entry.get().strip(),
            on_done=self._connected,
            on_error=self._failed,
            description="Kết nối máy chủ tỉnh",
        )

    def _connected(self, client: AdminClient) -> None:
        self.working = False
        self.connect_button.configure(state="normal")
        self.code_entry.delete(0, "end")
        self._say(f"Đã kết nối với {client.server_url}.", "success")
        # The shell owns the link: it hands it to every screen and opens the inbox.
        self.services.attach_console(client)

    def _failed(self, error: BaseException) -> None:
        self.working = False
        self.connect_button.configure(state="normal")
        if isinstance(error, ConsoleError):
            self._say(error.clerk_message, "danger")
        else:
            log.error("operator enrolment failed", exc_info=error)
            self._say(f"Không kết nối được: {error}", "danger")

    def _say(self, text: str, style: str) -> None:
        self.message.configure(text=text, bootstyle=style)
