"""The "Tìm kiếm" screen: one box, results as you type, Enter opens the dossier.

The search is the store's (diacritic-insensitive full-text search over names, ID numbers and
dossier numbers: "giang a xa" finds "Giàng A Xà"). Each pause of ~150 ms in typing starts one
query on a worker thread; an answer to an older query than the last one asked is dropped, so
fast typing never shows stale results and the window never waits for the database.
"""

from __future__ import annotations

import functools
import logging
import tkinter
from typing import TYPE_CHECKING, Any

import ttkbootstrap as ttk

from desktop.ui.display import summary_cells
from desktop.ui.form_widgets import Debouncer
from desktop.ui.services import Services

if TYPE_CHECKING:
    from desktop.store.records import DossierSummary

log = logging.getLogger(__name__)

#: Most results shown for one query (the list is for finding, not browsing).
RESULT_LIMIT = 50
#: Quiet time in typing before a query starts.
DEBOUNCE_MS = 150
#: What the result columns show (``desktop.ui.display.SUMMARY_CELLS``).
CELLS = ("dossier_no", "name", "procedure", "received", "due", "status")


class SearchScreen(ttk.Frame):
    """Find dossiers by name, ID number or dossier number.

    Args:
        master: the shell's content frame.
        services: the shared services.
        **kwargs: ignored (``on_show`` reads ``text``).
    """

    def __init__(self, master: tkinter.Misc, services: Services, **kwargs: Any) -> None:
        """Build the search box and the result list."""
        super().__init__(master)
        self.services = services
        self.results: list[DossierSummary] = []
        self.query_text = ""
        self._asked = 0
        self._shown = 0
        self._open_when_shown = False
        self._debounce = Debouncer(self, DEBOUNCE_MS, self.run_query)

        ttk.Label(
            self,
            text="Gõ tên (có dấu hay không dấu đều được), số định danh hoặc số hồ sơ.",
            bootstyle="secondary",
        ).pack(anchor="w")
        self.entry = ttk.Entry(self, font="-size 13")
        self.entry.pack(fill="x", pady=(4, 8), ipady=3)
        self.entry.bind("<KeyRelease>", self._typed, add="+")
        self.entry.bind("<Return>", self._enter)
        self.entry.bind("<KP_Enter>", self._enter)
        self.entry.bind("<Down>", self._to_results)
        self.count_label = ttk.Label(self, text="", bootstyle="secondary")
        self.count_label.pack(anchor="w", pady=(0, 4))

        holder = ttk.Frame(self)
        holder.pack(fill="both", expand=True)
        columns = ("dossier_no", "name", "procedure", "received", "due", "status")
        self.tree = ttk.Treeview(holder, columns=columns, show="headings", selectmode="browse")
        for column, text, width in (
            ("dossier_no", "Số hồ sơ", 210),
            ("name", "Họ tên", 230),
            ("procedure", "Thủ tục", 190),
            ("received", "Tiếp nhận", 150),
            ("due", "Hẹn trả", 95),
            ("status", "Trạng thái", 110),
        ):
            self.tree.heading(column, text=text, anchor="w")
            self.tree.column(column, width=width, anchor="w", stretch=column == "name")
        scrollbar = ttk.Scrollbar(holder, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scrollbar.set)
        scrollbar.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="both", expand=True)
        self.tree.tag_configure("late", foreground="#c0392b")
        self.tree.bind("<Return>", self._enter)
        self.tree.bind("<Double-1>", lambda _e: self.open_selected())
        self.tree.bind("<Up>", self._back_to_entry, add="+")

    # -- querying ----------------------------------------------------------------------------

    def _typed(self, event: tkinter.Event) -> None:
        if event.keysym in ("Return", "KP_Enter", "Down", "Up", "Tab", "Escape"):
            return
        self._debounce.trigger()

    def search(self, text: str) -> None:
        """Put ``text`` in the box and search now (used by other screens and tests)."""
        self.entry.delete(0, "end")
        self.entry.insert(0, text)
        self.run_query()

    def run_query(self) -> None:
        """Start a query for the box's text on a worker thread."""
        self._debounce.cancel()
        text = " ".join(self.entry.get().split())
        self.query_text = text
        self._asked += 1
        number = self._asked
        if not text:
            self._show(number, text, [])
            return
        self.services.tasks.run(
            functools.partial(self.services.store.search, text, RESULT_LIMIT),
            on_done=lambda results: self._show(number, text, results),
            on_error=lambda error: self._failed(number, error),
            description="Tìm kiếm",
        )

    @property
    def idle(self) -> bool:
        """Return True when the shown results answer the last query asked."""
        return self._shown == self._asked and not self._debounce.pending

    def _show(self, number: int, text: str, results: list[DossierSummary]) -> None:
        if number < self._shown or number != self._asked:
            return  # an older query answered late: a newer one is on its way
        self._shown = number
        self.results = list(results)
        tree = self.tree
        tree.delete(*tree.get_children())
        for summary in self.results:
            tags = ("late",) if summary.late else ()
            tree.insert("", "end", iid=summary.id, values=summary_cells(summary, CELLS), tags=tags)
        children = tree.get_children()
        if children:
            tree.selection_set(children[0])
            tree.focus(children[0])
        if self._open_when_shown:
            self._open_when_shown = False
            if children:
                self.services.navigate("dossier_detail", dossier_id=children[0])
                return
        if not text:
            self.count_label.configure(text="")
        elif not self.results:
            self.count_label.configure(
                text=f"Không tìm thấy hồ sơ nào khớp với «{text}». Thử gõ ít chữ hơn, "
                "hoặc tìm theo số định danh."
            )
        elif len(self.results) >= RESULT_LIMIT:
            self.count_label.configure(
                text=f"{RESULT_LIMIT} hồ sơ đầu tiên — gõ thêm để thu hẹp kết quả."
            )
        else:
            self.count_label.configure(text=f"{len(self.results)} hồ sơ")

    def _failed(self, number: int, error: BaseException) -> None:
        if number != self._asked:
            return
        self._shown = number
        log.error("search failed", exc_info=error)
        self.count_label.configure(
            text=f"Không tìm được ({error}). Hãy thử lại; nếu vẫn lỗi, báo cán bộ CNTT."
        )

    # -- opening -----------------------------------------------------------------------------

    def open_selected(self) -> None:
        """Open the selected result (the first when none is selected)."""
        if self._debounce.pending:
            # Enter pressed before the pause: search first, open when the answer is there.
            self._open_when_shown = True
            self.run_query()
            return
        selected = self.tree.selection() or self.tree.get_children()
        if selected:
            self.services.navigate("dossier_detail", dossier_id=selected[0])

    def _enter(self, _event: tkinter.Event) -> str:
        self.open_selected()
        return "break"

    def _to_results(self, _event: tkinter.Event) -> str:
        children = self.tree.get_children()
        if children:
            self.tree.focus_set()
            current = self.tree.selection() or children[:1]
            self.tree.selection_set(current[0])
            self.tree.focus(current[0])
        return "break"

    def _back_to_entry(self, _event: tkinter.Event) -> str | None:
        children = self.tree.get_children()
        if children and self.tree.focus() == children[0]:
            self.entry.focus_set()
            return "break"
        return None

    # -- shell hooks -------------------------------------------------------------------------

    def on_show(self, text: str | None = None, **_: Any) -> None:
        """Focus the box with its text selected; search ``text`` when given."""
        if text is not None:
            self.search(text)
        elif self.query_text:
            self.run_query()  # results may have changed since the screen was last shown
        self.entry.focus_set()
        self.entry.select_range(0, "end")

    def on_hide(self) -> None:
        """Stop a pending query."""
        self._debounce.cancel()
