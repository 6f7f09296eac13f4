"""The console's help screen: its keyboard shortcuts and what each screen is for."""

from __future__ import annotations

import tkinter

import ttkbootstrap as ttk

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
        table = ttk.Frame(self, padding=(0, 6))
        table.pack(anchor="w")
        self.rows: list[tuple[str, str]] = []
        for row, (_sequences, keys, label) in enumerate(CONSOLE_SHORTCUTS):
            ttk.Label(table, text=keys, width=10, font="-weight bold").grid(
                row=row, column=0, sticky="w", pady=2
            )
            ttk.Label(table, text=label).grid(row=row, column=1, sticky="w", pady=2)
            self.rows.append((keys, label))
        ttk.Separator(self).pack(fill="x", pady=10)
        ttk.Label(self, text="Các màn hình", font="-size 12 -weight bold").pack(anchor="w")
        screens = ttk.Frame(self, padding=(0, 6))
        screens.pack(anchor="w")
        for row, (name, text) in enumerate(SCREEN_HELP):
            ttk.Label(screens, text=name, width=20, font="-weight bold").grid(
                row=row, column=0, sticky="w", pady=2
            )
            ttk.Label(screens, text=text).grid(row=row, column=1, sticky="w", pady=2)
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
