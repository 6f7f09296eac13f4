"""The dashboard: today's received dossiers, those due today or late, those waiting to be signed.

Each list is short by construction (one day, or open dossiers only, read by index) and shows
at most ``ROW_LIMIT`` rows, so the screen stays within its 100 ms budget on a store with a whole
commune's history. A row opens the dossier detail (double-click or Enter).
"""

from __future__ import annotations

import datetime as dt
import logging
import tkinter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import ttkbootstrap as ttk

from desktop.forms.dates import format_date_vn
from desktop.forms.lifecycle import CHO_KY, status_label
from desktop.ui.display import summary_cells
from desktop.ui.services import Services

if TYPE_CHECKING:
    from desktop.store.records import DossierSummary
    from desktop.store.store import Store

log = logging.getLogger(__name__)

ROW_LIMIT = 50

_WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")

#: The columns of each list: (column id, heading, width).
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("dossier_no", "Số hồ sơ", 235),
    ("procedure", "Thủ tục", 130),
    ("name", "Họ tên", 230),
    ("received", "Ngày nhận", 140),
    ("due", "Hẹn trả", 95),
    ("status", "Trạng thái", 100),
)
#: What each column shows (``desktop.ui.display.SUMMARY_CELLS``).
CELLS = ("dossier_no", "procedure_short", "name", "received", "due_moment", "status")


def today_heading(today: dt.date) -> str:
    """Return e.g. "Thứ Năm, 26/11/2026"."""
    return f"{_WEEKDAYS[today.weekday()]}, {format_date_vn(today)}"


def row_values(row: DossierSummary) -> tuple[str, ...]:
    """Return the table cells for a dossier summary."""
    return summary_cells(row, CELLS)


class DossierList(ttk.Frame):
    """A titled, capped table of dossiers whose rows open the dossier detail."""

    def __init__(
        self, master: tkinter.Misc, title: str, *, on_open: Callable[[str], object], height: int
    ) -> None:
        """Build an empty list."""
        super().__init__(master)
        self.title = title
        self._on_open = on_open
        self.heading = ttk.Label(self, text=title, font="-size 11 -weight bold")
        self.heading.pack(anchor="w")
        self.tree = ttk.Treeview(
            self, columns=[c for c, _, _ in COLUMNS], show="headings", height=height
        )
        for column, label, width in COLUMNS:
            self.tree.heading(column, text=label, anchor="w")
            self.tree.column(column, width=width, anchor="w", stretch=column == "name")
        self.tree.tag_configure("overdue", foreground="#b02a37")
        self.tree.pack(fill="both", expand=True, pady=(2, 10))
        self.empty = ttk.Label(self, text="Không có hồ sơ nào.", bootstyle="secondary")
        self.tree.bind("<Double-1>", self._open_selected)
        self.tree.bind("<Return>", self._open_selected)
        self.ids: list[str] = []

    def fill(
        self, rows: Sequence[DossierSummary], *, overdue_before: dt.date | None = None
    ) -> None:
        """Show ``rows`` (at most ``ROW_LIMIT``); mark rows due before ``overdue_before``."""
        self.tree.delete(*self.tree.get_children())
        self.ids = []
        for row in rows[:ROW_LIMIT]:
            dossier_id = row.id
            tags: tuple[str, ...] = ()
            due = row.due_at
            if overdue_before and due and due[:10] < overdue_before.isoformat():
                tags = ("overdue",)
            self.tree.insert("", "end", iid=dossier_id, values=row_values(row), tags=tags)
            self.ids.append(dossier_id)
        count = len(rows)
        shown = f"{count}" if count <= ROW_LIMIT else f"{ROW_LIMIT} đầu tiên; xem thêm ở Tìm kiếm"
        self.heading.configure(text=f"{self.title} ({shown})")
        if rows:
            self.empty.pack_forget()
        else:
            self.empty.pack(anchor="w", before=self.tree)

    def values(self) -> list[tuple[str, ...]]:
        """Return the rows' cell texts in order (tests and screen readers)."""
        return [tuple(self.tree.item(i, "values")) for i in self.tree.get_children()]

    def _open_selected(self, _event: object = None) -> None:
        selected = self.tree.focus() or next(iter(self.tree.selection()), "")
        if selected:
            self._on_open(selected)


class DashboardScreen(ttk.Frame):
    """Today at a glance; refreshed every time it is shown and after each sync.

    Args:
        master: the shell's content area.
        services: the app services.
        today: a fixed "today" (tests); defaults to the real date at each refresh.
    """

    def __init__(
        self, master: tkinter.Misc, services: Services, *, today: dt.date | None = None
    ) -> None:
        """Build the three lists and the quick actions."""
        super().__init__(master)
        self.services = services
        self._fixed_today = today
        top = ttk.Frame(self)
        top.pack(fill="x", pady=(0, 8))
        self.date_label = ttk.Label(top, text="", font="-size 11")
        self.date_label.pack(side="left")
        ttk.Button(
            top,
            text="Hồ sơ mới (Ctrl+N)",
            bootstyle="primary",
            command=lambda: services.navigate("new_dossier"),
        ).pack(side="right")
        ttk.Button(
            top,
            text="Tìm kiếm (Ctrl+F)",
            bootstyle="secondary",
            command=lambda: services.navigate("search"),
        ).pack(side="right", padx=6)
        ttk.Button(top, text="Làm mới", bootstyle="link", command=self.refresh).pack(side="right")
        self.drafts_label = ttk.Label(self, text="", bootstyle="warning", cursor="hand2")
        self.drafts_label.bind("<Button-1>", lambda _e: services.navigate("new_dossier"))
        self.received = DossierList(self, "Tiếp nhận hôm nay", on_open=self.open_dossier, height=6)
        self.received.pack(fill="both", expand=True)
        self.due = DossierList(
            self, "Đến hạn trả hôm nay hoặc đã quá hạn", on_open=self.open_dossier, height=5
        )
        self.due.pack(fill="both", expand=True)
        self.waiting = DossierList(self, status_label(CHO_KY), on_open=self.open_dossier, height=4)
        self.waiting.pack(fill="both", expand=True)
        self.error_label = ttk.Label(self, text="", bootstyle="danger")

    @property
    def today(self) -> dt.date:
        """Return the day the dashboard shows."""
        return self._fixed_today or dt.date.today()

    def on_show(self, **_kwargs: object) -> None:
        """Refresh whenever the clerk comes back to the dashboard."""
        self.refresh()

    def on_sync_status(self, _status: object) -> None:
        """Refresh after a sync may have brought changes (only when visible)."""
        if self.winfo_ismapped():
            self.refresh()

    def refresh(self) -> None:
        """Reload the three lists from the store (short, indexed reads on the Tk thread)."""
        today = self.today
        self.date_label.configure(text=f"Hôm nay: {today_heading(today)}")
        store = self.services.store
        self.error_label.pack_forget()
        try:
            self.received.fill(store.dossiers_received_on(today))
            self.due.fill(store.dossiers_due_or_late(today), overdue_before=today)
            self.waiting.fill(store.dossiers_waiting_signature())
        except Exception as exc:
            log.exception("dashboard refresh failed")
            self.error_label.configure(
                text=f"Không đọc được danh sách hồ sơ ({exc}). Bấm «Làm mới» để thử lại."
            )
            self.error_label.pack(anchor="w", pady=(0, 6), before=self.received)
        self._show_drafts(store)

    def _show_drafts(self, store: Store) -> None:
        count = 0
        try:
            count = len(store.list_drafts())
        except Exception:  # a failed read must not hide the lists above
            log.exception("listing drafts failed")
        if count:
            self.drafts_label.configure(
                text=f"Có {count} hồ sơ đang nhập dở — bấm vào đây để tiếp tục."
            )
            self.drafts_label.pack(anchor="w", pady=(0, 6), before=self.received)
        else:
            self.drafts_label.pack_forget()

    def open_dossier(self, dossier_id: str) -> None:
        """Open a dossier's detail screen."""
        self.services.navigate("dossier_detail", dossier_id=dossier_id)
