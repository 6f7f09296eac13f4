"""The console's help screen: its keyboard shortcuts and what each screen is for."""

from __future__ import annotations

import tkinter

import ttkbootstrap as ttk

from desktop.ui.help_screen import key_table
from desktop.ui.services import Services

#: What each screen is for, in the order of the navigation.
SCREEN_HELP = (
    ("Xung đột", "Hai máy sửa cùng một hồ sơ khi mất mạng: chọn giá trị đúng cho từng trường."),
    ("Hồ sơ nghi trùng", "Cùng một sự kiện đăng ký hai lần: giữ cả hai, hoặc đánh dấu bản trùng."),
    ("Thiết bị", "Máy của các xã: lần đồng bộ cuối, lỗi; cấp mã đăng ký, thu hồi máy."),
    ("Tình trạng đồng bộ", "99 xã: xã nào quá một ngày chưa đồng bộ, có xung đột hay lỗi."),
    ("Thống kê", "Số hồ sơ theo xã, thủ tục, trạng thái, đúng hạn; xuất Excel."),
)


class ConsoleHelpScreen(ttk.Frame):
    """List the console's shortcuts and screens in Vietnamese."""

    def __init__(self, master: tkinter.Misc, services: Services, **_kwargs: object) -> None:
        """Build the shortcut table and the screen list."""
        super().__init__(master)
        from desktop.ui.console.shell import CONSOLE_SHORTCUTS

        ttk.Label(self, text="Phím tắt", font="-size 12 -weight bold").pack(anchor="w")
        self.rows = [(keys, label) for _sequences, keys, label in CONSOLE_SHORTCUTS]
        key_table(self, self.rows)
        ttk.Separator(self).pack(fill="x", pady=10)
        ttk.Label(self, text="Các màn hình", font="-size 12 -weight bold").pack(anchor="w")
        key_table(self, SCREEN_HELP)
        ttk.Label(
            self,
            wraplength=760,
            justify="left",
            text=(
                "Mọi quyết định (giải quyết xung đột, đánh dấu trùng, thu hồi máy) cần ghi lý do; "
                "máy chủ ký và gửi về mọi máy của xã ở lần đồng bộ kế tiếp. Không hồ sơ nào bị "
                "xoá: giá trị không được chọn vẫn còn trong lịch sử của hồ sơ."
            ),
        ).pack(anchor="w", pady=(10, 0))
