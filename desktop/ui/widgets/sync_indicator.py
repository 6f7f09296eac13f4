"""The sync indicator in the status bar: one widget that renders a ``SyncStatus``."""

from __future__ import annotations

import tkinter
from collections.abc import Callable

import ttkbootstrap as ttk

from desktop.sync.status import SyncState, SyncStatus


def describe(status: SyncStatus) -> tuple[str, str]:
    """Say in Vietnamese what a sync status means, and how urgent it is.

    The most pressing fact wins: a wrong clock, then conflicts and refusals, then errors,
    then what the engine is doing; pending changes are appended when there are any.

    Args:
        status: the status to render.

    Returns:
        ``(text, bootstyle)`` where bootstyle is "success", "info", "warning" or "danger".
    """
    parts: list[str] = []
    style = "success"
    if status.state is SyncState.REVOKED:
        return "Máy đã bị thu hồi — liên hệ CNTT tỉnh", "danger"
    if status.clock_wrong:
        parts.append("Đồng hồ máy sai")
        style = "danger"
    if status.conflicts:
        parts.append(f"{status.conflicts} xung đột")
        style = "danger"
    if status.rejected:
        parts.append(f"{status.rejected} bị từ chối")
        style = "danger"
    if status.state is SyncState.SYNCING:
        if status.progress is not None:
            parts.insert(0, f"Đang đồng bộ {round(status.progress * 100)}%")
        else:
            parts.insert(0, "Đang đồng bộ…")
        style = style if style == "danger" else "info"
    elif status.state is SyncState.OFFLINE:
        parts.insert(0, "Ngoại tuyến")
        style = style if style == "danger" else "warning"
    elif status.state is SyncState.ERROR:
        parts.insert(0, "Lỗi đồng bộ")
        style = "danger"
    elif status.state is SyncState.NOT_ENROLLED:
        parts.insert(0, "Chưa đăng ký với tỉnh")
        style = style if style == "danger" else "secondary"
    elif status.state is SyncState.SYNCED and status.last_sync is not None and not parts:
        parts.append(f"Đã đồng bộ lúc {status.last_sync:%H:%M}")
    elif status.state is SyncState.SYNCED and not parts:
        parts.append("Đã đồng bộ")
    if status.pending:
        parts.append(f"{status.pending} chờ gửi")
        if style == "success":
            style = "info"
    return " · ".join(parts), style


_DOTS = {"success": "●", "info": "●", "warning": "●", "danger": "●", "secondary": "○"}


class SyncIndicator(ttk.Frame):
    """Show a sync status as a coloured dot, a short text and a progress bar while syncing.

    Clicking it calls ``on_click`` (the shell opens the sync panel).
    """

    def __init__(
        self, master: tkinter.Misc, *, on_click: Callable[[], object] | None = None
    ) -> None:
        """Create the indicator showing "not enrolled" until ``show`` is called."""
        super().__init__(master)
        self._dot = ttk.Label(self, text="●")
        self._dot.pack(side="left", padx=(0, 4))
        self._label = ttk.Label(self, text="", cursor="hand2")
        self._label.pack(side="left")
        self._bar = ttk.Progressbar(self, length=80, mode="determinate", maximum=1.0)
        self.text = ""
        self.bootstyle = ""
        if on_click is not None:
            for widget in (self, self._dot, self._label):
                widget.bind("<Button-1>", lambda _e: on_click())
        self.show(SyncStatus())

    def show(self, status: SyncStatus) -> None:
        """Render ``status`` (call on the Tk thread only)."""
        text, style = describe(status)
        self.text, self.bootstyle = text, style
        self._dot.configure(text=_DOTS.get(style, "●"), bootstyle=style)
        self._label.configure(text=text, bootstyle=style if style == "danger" else "default")
        if status.state is SyncState.SYNCING:
            if not self._bar.winfo_ismapped():
                self._bar.pack(side="left", padx=(6, 0))
            if status.progress is None:
                self._bar.configure(mode="indeterminate")
                self._bar.start(60)
            else:
                self._bar.stop()
                self._bar.configure(mode="determinate", value=status.progress)
        else:
            self._bar.stop()
            self._bar.pack_forget()
