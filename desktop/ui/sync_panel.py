"""The sync panel: where sync stands, its recent history and errors in plain Vietnamese.

The panel renders ``SyncStatus`` values (state as data) and the outbox counts; it never
talks to the network itself: "Đồng bộ ngay" calls ``services.sync.sync_now()``.
The history lists the attempts the sync object recorded (``history(limit)``); when it has
none, the status changes the panel saw since the window opened.
"""

from __future__ import annotations

import datetime as dt
import logging
import tkinter

import ttkbootstrap as ttk

from desktop.forms.dates import format_date_vn, format_datetime_vn
from desktop.sync.status import SyncState, SyncStatus
from desktop.ui.services import Services
from desktop.ui.widgets.sync_indicator import describe

log = logging.getLogger(__name__)

HISTORY_LIMIT = 50

_STATE_TEXT = {
    SyncState.NOT_ENROLLED: "Máy chưa đăng ký với máy chủ tỉnh. Mọi việc vẫn làm bình thường; "
    "hồ sơ sẽ được gửi khi máy được đăng ký (Cài đặt → địa chỉ máy chủ, mã đăng ký).",
    SyncState.OFFLINE: "Không kết nối được máy chủ tỉnh. Hồ sơ vẫn được lưu trên máy và sẽ "
    "tự gửi khi có mạng.",
    SyncState.SYNCING: "Đang gửi và nhận hồ sơ với máy chủ tỉnh…",
    SyncState.SYNCED: "Máy đã đồng bộ với máy chủ tỉnh.",
    SyncState.ERROR: "Lần đồng bộ gần nhất bị lỗi. Máy sẽ tự thử lại; nếu lỗi kéo dài, "
    "hãy báo bộ phận CNTT của tỉnh.",
    SyncState.REVOKED: "Máy này đã bị tỉnh thu hồi quyền đồng bộ. Hãy liên hệ bộ phận CNTT "
    "của tỉnh; hồ sơ trên máy vẫn còn nguyên.",
}


_RESULT_TEXT = {
    SyncState.SYNCED: "Thành công",
    SyncState.SYNCING: "Đang chạy",
    SyncState.OFFLINE: "Mất kết nối",
    SyncState.ERROR: "Lỗi",
    SyncState.REVOKED: "Lỗi",
    SyncState.NOT_ENROLLED: "Chưa đăng ký",
}


def explain(status: SyncStatus) -> list[str]:
    """Return the sentences that explain a status to a clerk, most important first."""
    lines = [_STATE_TEXT.get(status.state, "")]
    if status.last_sync is not None:
        last = status.last_sync
        lines.append(f"Lần đồng bộ thành công gần nhất: {last:%H:%M} ngày {format_date_vn(last)}.")
    if status.pending:
        lines.append(f"{status.pending} thay đổi đang chờ gửi lên tỉnh.")
    if status.conflicts:
        lines.append(
            f"{status.conflicts} thay đổi bị xung đột với dữ liệu trên tỉnh; bộ phận CNTT tỉnh "
            "sẽ xem xét và quyết định. Giá trị hiện tại vẫn được giữ."
        )
    if status.rejected:
        lines.append(
            f"{status.rejected} thay đổi bị máy chủ từ chối; hãy mở hồ sơ liên quan để kiểm tra "
            "hoặc báo CNTT tỉnh."
        )
    if status.clock_wrong and status.clock_offset_s is not None:
        minutes = round(abs(status.clock_offset_s) / 60)
        direction = "chậm" if status.clock_offset_s > 0 else "nhanh"
        lines.append(
            f"Đồng hồ máy {direction} khoảng {minutes} phút so với máy chủ tỉnh. Hãy chỉnh lại "
            "ngày giờ của máy (hoặc báo CNTT nếu máy hay bị sai giờ)."
        )
    if status.last_error:
        lines.append(f"Lỗi gần nhất: {status.last_error}")
    return [line for line in lines if line]


class SyncPanel(ttk.Frame):
    """Sync state, counts, "Đồng bộ ngay" with progress, and recent history."""

    def __init__(self, master: tkinter.Misc, services: Services, **_kwargs: object) -> None:
        """Build the panel and show the current status."""
        super().__init__(master)
        self.services = services
        self._seen: list[tuple[dt.datetime, str, str]] = []
        top = ttk.Frame(self)
        top.pack(fill="x")
        self.headline = ttk.Label(top, text="", font="-size 13 -weight bold")
        self.headline.pack(side="left")
        self.sync_button = ttk.Button(
            top, text="Đồng bộ ngay (F5)", bootstyle="primary", command=self.sync_now
        )
        self.sync_button.pack(side="right")
        self.progress = ttk.Progressbar(self, mode="determinate", maximum=1.0)
        self.explanation = ttk.Label(self, text="", justify="left", wraplength=820)
        self.explanation.pack(anchor="w", pady=(10, 6), fill="x")
        self.counts = ttk.Label(self, text="", bootstyle="secondary")
        self.counts.pack(anchor="w", pady=(0, 10))
        ttk.Label(self, text="Lịch sử đồng bộ", font="-size 11 -weight bold").pack(anchor="w")
        self.history = ttk.Treeview(
            self, columns=("at", "result", "message"), show="headings", height=10
        )
        for column, label, width in (
            ("at", "Thời gian", 150),
            ("result", "Kết quả", 110),
            ("message", "Chi tiết", 560),
        ):
            self.history.heading(column, text=label, anchor="w")
            self.history.column(column, width=width, anchor="w", stretch=column == "message")
        self.history.tag_configure("failed", foreground="#b02a37")
        self.history.pack(fill="both", expand=True, pady=(2, 0))
        self.status = services.sync_status()
        self._last_published = self.status
        self.render(self.status)

    # -- hooks ---------------------------------------------------------------------------------

    def on_show(self, **_kwargs: object) -> None:
        """Show the latest status and history."""
        self.render(self.services.sync_status())

    def on_sync_status(self, status: SyncStatus) -> None:
        """Record and show a status the engine published."""
        previous = self._last_published
        self._last_published = status
        if status.state is not previous.state or status.last_error != previous.last_error:
            result = _RESULT_TEXT.get(status.state, "")
            self._seen.append((dt.datetime.now(), result, describe(status)[0]))
            del self._seen[:-HISTORY_LIMIT]
        self.render(status)

    # -- actions -------------------------------------------------------------------------------

    def sync_now(self) -> None:
        """Ask the engine to sync now."""
        if self.services.start_sync():
            self.render(self.status.replace(state=SyncState.SYNCING, progress=None))

    # -- rendering -----------------------------------------------------------------------------

    def render(self, status: SyncStatus) -> None:
        """Show ``status``, the outbox counts and the history."""
        self.status = status
        text, style = describe(status)
        self.headline.configure(text=text, bootstyle=style)
        self.explanation.configure(text="\n".join(explain(status)))
        syncing = status.state is SyncState.SYNCING
        self.sync_button.configure(state="disabled" if syncing else "normal")
        if syncing:
            self.progress.pack(fill="x", pady=(8, 0), after=self.headline.master)
            if status.progress is None:
                self.progress.configure(mode="indeterminate")
                self.progress.start(50)
            else:
                self.progress.stop()
                self.progress.configure(mode="determinate", value=status.progress)
        else:
            self.progress.stop()
            self.progress.pack_forget()
        self.counts.configure(text=self._counts_text())
        self._fill_history()

    def _counts_text(self) -> str:
        try:
            counts = self.services.store.outbox_summary()
        except Exception:  # a store read failed: the panel still shows the sync state
            log.exception("outbox summary failed")
            return ""
        return (
            f"Hộp thư đi: {counts.pending} chờ gửi · {counts.rejected} bị từ chối · "
            f"{counts.conflicts} xung đột · {counts.total} thay đổi đã ghi"
        )

    def history_rows(self) -> list[tuple[str, str, str]]:
        """Return (time, result, detail) rows, newest first."""
        attempts = self.services.sync.history(HISTORY_LIMIT) if self.services.sync else []
        if attempts:
            return [
                (
                    format_datetime_vn(attempt.at),
                    "Thành công" if attempt.ok else "Lỗi",
                    attempt.message,
                )
                for attempt in attempts
            ]
        return [
            (format_datetime_vn(at), result, message) for at, result, message in self._seen[::-1]
        ]

    def _fill_history(self) -> None:
        self.history.delete(*self.history.get_children())
        for row in self.history_rows():
            tags = ("failed",) if row[1] == "Lỗi" else ()
            self.history.insert("", "end", values=row, tags=tags)
