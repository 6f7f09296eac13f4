"""The help screen: keyboard shortcuts and where to get help."""

from __future__ import annotations

import tkinter
from collections.abc import Sequence

import ttkbootstrap as ttk

from desktop.ui.services import Services


def key_table(master: tkinter.Misc, rows: Sequence[tuple[str, str]]) -> ttk.Frame:
    """Return a packed two-column table: keys in bold, then what they do."""
    table = ttk.Frame(master, padding=(0, 6))
    table.pack(anchor="w")
    for row, (keys, label) in enumerate(rows):
        ttk.Label(table, text=keys, width=16, font="-weight bold").grid(
            row=row, column=0, sticky="w", pady=2
        )
        ttk.Label(table, text=label).grid(row=row, column=1, sticky="w", pady=2)
    return table


class HelpScreen(ttk.Frame):
    """List the keyboard shortcuts and short how-tos in Vietnamese."""

    def __init__(self, master: tkinter.Misc, services: Services, **_kwargs: object) -> None:
        """Build the shortcut table."""
        super().__init__(master)
        from desktop.ui.shell import SHORTCUTS

        ttk.Label(self, text="Phím tắt", font="-size 12 -weight bold").pack(anchor="w")
        self.rows: list[tuple[str, str]] = [(keys, label) for _seq, keys, label in SHORTCUTS]
        self.rows += [
            ("Tab / Shift+Tab", "Chuyển sang ô nhập kế tiếp / trước"),
            ("Enter", "Lưu hồ sơ khi đang ở ô nhập cuối"),
        ]
        key_table(self, self.rows)
        ttk.Separator(self).pack(fill="x", pady=10)
        ttk.Label(self, text="Cần giúp đỡ?", font="-size 12 -weight bold").pack(anchor="w")
        ttk.Label(
            self,
            justify="left",
            wraplength=760,
            text=(
                "• Mọi hồ sơ được lưu ngay trên máy này, kể cả khi mất mạng; khi có mạng, "
                "máy tự đồng bộ với tỉnh (hoặc bấm F5).\n"
                "• Biểu tượng ở góc dưới bên phải cho biết tình trạng đồng bộ. Nếu thấy "
                '"xung đột" hoặc "Đồng hồ máy sai", hãy báo bộ phận CNTT của tỉnh.\n'
                "• Khi rời máy, bấm Ctrl+L để khoá; hồ sơ đang nhập dở được giữ lại."
            ),
        ).pack(anchor="w")
