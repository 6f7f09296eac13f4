"""The first-run wizard's role step, and the words of the later steps that follow the role.

The wizard's first step asks what this PC is for: a commune's one-stop desk, where clerks
register civil status (the default), or provincial IT's console (conflicts, devices,
statistics). The choice decides the wizard's path — a provincial PC has no commune step — and
what the server, account and summary steps say (:data:`ROLE_WORDS`).
"""

from __future__ import annotations

import dataclasses
import tkinter
from collections.abc import Callable
from typing import Any

import ttkbootstrap as ttk

from desktop.store.profile import ROLE_COMMUNE, ROLE_PROVINCE

__all__ = ["ROLE_WORDS", "STEP_TITLES", "RoleChoice", "RoleWords"]

#: Step name → the title shown in "Bước n/N: …".
STEP_TITLES = {
    "role": "Vai trò",
    "commune": "Xã",
    "server": "Máy chủ tỉnh",
    "account": "Tài khoản",
    "summary": "Xác nhận",
}


@dataclasses.dataclass(frozen=True)
class RoleWords:
    """What the wizard shows for one role.

    Attributes:
        choice: the text of the role's big button on the first step.
        steps: the wizard's steps for this role, by name (see :data:`STEP_TITLES`).
        server_intro: the server step's explanation.
        server_label: the label of the server address field.
        code_label: the label of the code field.
        account_intro: the account step's first line.
        account_hint: the account step's note under the fields.
        person: who the account is for, in the summary ("Cán bộ", "Cán bộ CNTT").
        creates: the summary's sentence on what Enter will create.
    """

    choice: str
    steps: tuple[str, ...]
    server_intro: str
    server_label: str
    code_label: str
    account_intro: str
    account_hint: str
    person: str
    creates: str


ROLE_WORDS: dict[str, RoleWords] = {
    ROLE_COMMUNE: RoleWords(
        choice="1.  Máy của xã\n     Cán bộ một cửa đăng ký hộ tịch: khai sinh, khai tử, kết hôn…",
        steps=("role", "commune", "server", "account", "summary"),
        server_intro=(
            "Địa chỉ máy chủ đồng bộ của tỉnh và mã đăng ký máy do CNTT tỉnh cấp.\n"
            "Có thể để trống: máy vẫn làm việc đầy đủ khi chưa có mạng và sẽ đăng ký sau."
        ),
        server_label="Địa chỉ máy chủ",
        code_label="Mã đăng ký máy",
        account_intro="Tài khoản của cán bộ tư pháp - hộ tịch đầu tiên:",
        account_hint=(
            "Mật khẩu mở khoá dữ liệu đã mã hoá trên máy. Hãy ghi nhớ; CNTT tỉnh có thể khôi "
            "phục bằng khoá dự phòng."
        ),
        person="Cán bộ",
        creates=(
            "Sẽ tạo: hồ sơ máy của xã (dữ liệu hộ tịch mã hoá trên máy) và tài khoản cán bộ "
            "đầu tiên."
        ),
    ),
    ROLE_PROVINCE: RoleWords(
        choice="2.  Máy của CNTT tỉnh\n     Quản trị: xung đột, thiết bị, thống kê",
        steps=("role", "server", "account", "summary"),
        server_intro=(
            "Địa chỉ máy chủ tỉnh và mã đăng ký CNTT tỉnh (in ra bằng lệnh "
            "motcua-server operator-code trên máy chủ).\n"
            "Có thể để trống: màn hình «Kết nối máy chủ» của bảng quản trị kết nối sau."
        ),
        server_label="Địa chỉ máy chủ tỉnh",
        code_label="Mã đăng ký CNTT tỉnh\n(lệnh motcua-server operator-code)",
        account_intro="Tài khoản của cán bộ CNTT tỉnh dùng bảng quản trị:",
        account_hint=(
            "Mật khẩu mở khoá khoá quản trị đã mã hoá trên máy; các quyết định (giải quyết "
            "xung đột, thu hồi thiết bị) được ký bằng khoá này. Hãy ghi nhớ."
        ),
        person="Cán bộ CNTT",
        creates=(
            "Sẽ tạo: hồ sơ quản trị của CNTT tỉnh (không chứa hồ sơ hộ tịch), khoá riêng mã "
            "hoá bằng mật khẩu, và tài khoản cán bộ CNTT."
        ),
    ),
}

_ROLES = (ROLE_COMMUNE, ROLE_PROVINCE)


class RoleChoice(ttk.Frame):
    """The role step: two big choices, picked with Up/Down or 1/2 (Enter goes on).

    Args:
        master: the wizard's body.
        on_change: called with the role when the choice changes.
        on_next: called on a double click (the wizard's Enter goes through its own binding).
    """

    def __init__(
        self,
        master: tkinter.Misc,
        *,
        on_change: Callable[[str], object],
        on_next: Callable[[], object],
    ) -> None:
        """Build the question and the two choices; the commune's is chosen."""
        super().__init__(master)
        self.on_change = on_change
        self.var = tkinter.StringVar(self, ROLE_COMMUNE)
        ttk.Label(self, text="Máy này dùng để làm gì?", font="-size 12 -weight bold").pack(
            anchor="w"
        )
        ttk.Label(
            self,
            text="Nhấn 1 hoặc 2 (hoặc mũi tên lên/xuống), rồi Enter.",
            bootstyle="secondary",
        ).pack(anchor="w", pady=(0, 10))
        self.buttons: dict[str, ttk.Radiobutton] = {}
        for role in _ROLES:
            button = ttk.Radiobutton(
                self,
                text=ROLE_WORDS[role].choice,
                value=role,
                variable=self.var,
                bootstyle="primary-outline-toolbutton",
                command=self._changed,
                width=66,  # characters: both choices the same width, whatever their text
            )
            button.configure(style=_big_style(button))
            button.pack(anchor="w", pady=(0, 10), ipady=4)
            for sequence, handler in (
                ("<Up>", lambda _e: self._step(-1)),
                ("<Down>", lambda _e: self._step(1)),
                ("<Key-1>", lambda _e: self.choose(ROLE_COMMUNE)),
                ("<Key-2>", lambda _e: self.choose(ROLE_PROVINCE)),
                ("<KP_1>", lambda _e: self.choose(ROLE_COMMUNE)),
                ("<KP_2>", lambda _e: self.choose(ROLE_PROVINCE)),
            ):
                button.bind(sequence, handler)
            button.bind("<Double-1>", lambda _e: on_next())
            self.buttons[role] = button
        ttk.Label(
            self,
            text=(
                "Máy của CNTT tỉnh không lưu hồ sơ hộ tịch: nó làm việc với máy chủ tỉnh "
                "(giải quyết xung đột, hồ sơ nghi trùng, thu hồi thiết bị, xem thống kê)."
            ),
            bootstyle="secondary",
            wraplength=760,
            justify="left",
        ).pack(anchor="w", pady=(4, 0))

    @property
    def role(self) -> str:
        """The chosen role (``commune`` or ``province``)."""
        return self.var.get()

    def choose(self, role: str) -> str:
        """Choose ``role`` and put the keyboard focus on its button."""
        self.var.set(role)
        self.focus_choice()
        self._changed()
        return "break"

    def focus_choice(self) -> None:
        """Put the keyboard focus on the chosen button."""
        self.buttons[self.role].focus_set()

    def _step(self, delta: int) -> str:
        index = (_ROLES.index(self.role) + delta) % len(_ROLES)
        return self.choose(_ROLES[index])

    def _changed(self) -> None:
        self.on_change(self.role)


def _big_style(button: ttk.Radiobutton) -> str:
    """Return a larger-text, padded variant of ``button``'s toolbutton style (made once)."""
    base = str(button.cget("style"))
    name = f"Role.{base}"
    style: Any = ttk.Style()
    # ttk looks options and state maps up the dotted parents: only font and padding differ.
    style.configure(name, font="-size 12", padding=(18, 10), anchor="w")
    return name
