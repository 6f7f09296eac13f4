"""The console's "Hồ sơ nghi trùng" screen: two dossiers that look like one event, side by side.

The server raises a ``duplicate`` conflict when a dossier arrives whose duplicate key (the
child's name and birth date and the mother's ID number, for a birth) equals another's — often
the same birth registered in two communes. This screen lists those suspected duplicates (paged,
open or decided), and for the one selected shows both dossiers (A: the one whose arrival raised
it, B: the other) with where each came from, and the evidence: every compared field with both
values, the fields that made them suspected highlighted. Provincial IT then keeps both (two
different events: twins…) or marks one the duplicate of the other, with a required reason.
Nothing is ever deleted: the duplicate only gets ``duplicate_of`` set by a signed resolution that
reaches the communes' PCs at their next sync; both records and their history stay.

Every server call runs on the task runner; answers to stale requests are dropped.
"""

from __future__ import annotations

import logging
import tkinter
from typing import Any

import ttkbootstrap as ttk

from desktop.console.service import ConsoleError
from desktop.forms.procedures import procedure_title
from desktop.ui.console.conflict_text import moment_text
from desktop.ui.console.duplicate_view import (
    DECISION_LABELS,
    EvidenceTable,
    RecordCard,
    commune_text,
    decided_text,
    decision_of,
    load_duplicate,
)
from desktop.ui.console.table_fit import fit_columns
from desktop.ui.services import Services
from desktop.ui.widgets.tables import press_with_enter, right_buttons
from protocol.admin import (
    A_DUPLICATE_OF_B,
    B_DUPLICATE_OF_A,
    KEEP_BOTH,
    ConflictDetail,
    ConflictSummary,
    DuplicateDetail,
    Page,
)

log = logging.getLogger(__name__)

#: Suspected duplicates per page of the list.
PAGE_SIZE = 50
#: The status filter: (label, ``conflicts.list`` status).
STATUS_CHOICES = (("Đang mở", "open"), ("Đã quyết định", "resolved"))
MSG_NO_REASON = "Hãy ghi lý do quyết định trước khi chọn."
MSG_PICK = "Chọn một hồ sơ nghi trùng trong danh sách để xem hai hồ sơ cạnh nhau."

#: The list's columns: (id, heading, width).
LIST_COLUMNS = (
    ("title", "Người được đăng ký", 190),
    ("procedure", "Thủ tục", 100),
    ("commune_a", "Xã của hồ sơ A", 150),
    ("commune_b", "Xã của hồ sơ B", 150),
    ("created", "Phát hiện lúc", 140),
    ("resolved", "Quyết định lúc", 140),
)


class DuplicateReviewScreen(ttk.Frame):
    """List suspected duplicates; show one side by side with its evidence; decide.

    Args:
        master: the shell's content frame.
        services: the shared services (``services.console`` talks to the server).
        **kwargs: ignored (``on_show`` reads ``conflict_id``).
    """

    def __init__(self, master: tkinter.Misc, services: Services, **kwargs: Any) -> None:
        """Build the list, the two cards, the evidence table and the decision bar."""
        super().__init__(master)
        self.services = services
        self.items: list[ConflictSummary] = []
        self.total = 0
        self.offset = 0
        self.detail: DuplicateDetail | None = None
        self.decided: ConflictDetail | None = None
        self.sending = False
        self._list_asked = 0
        self._detail_asked = 0
        self._wanted: int | None = None  # a conflict to open once the list is there
        self._editing: int | None = None  # the open duplicate whose reason is being typed
        self._follow: int | None = None  # opened from elsewhere: list it with its peers
        self._build_list_bar()
        self._build_list()
        self._build_decision_bar()  # packed at the bottom first: it never gets cut off
        self._build_detail()
        self._show_empty_detail(MSG_PICK)
        self.bind("<Configure>", self._wrap, add="+")

    # -- building ------------------------------------------------------------------------------

    def _build_list_bar(self) -> None:
        bar = ttk.Frame(self)
        bar.pack(fill="x", pady=(0, 4))
        self.reload_button, self.next_button, self.prev_button = right_buttons(
            bar,
            (
                ("Tải lại (F5)", "secondary-outline", self.refresh),
                ("Sau ▶", "secondary-outline", self._next_page),
                ("◀ Trước", "secondary-outline", self._prev_page),
            ),
        )
        ttk.Label(bar, text="Hiển thị").pack(side="left")
        self.status_box = ttk.Combobox(
            bar, values=[label for label, _ in STATUS_CHOICES], state="readonly", width=14
        )
        self.status_box.current(0)
        self.status_box.pack(side="left", padx=(6, 12))
        self.status_box.bind("<<ComboboxSelected>>", lambda _e: self._status_changed())
        self.count_label = ttk.Label(bar, text="", bootstyle="secondary")
        self.count_label.pack(side="left")

    def _build_list(self) -> None:
        holder = ttk.Frame(self)
        holder.pack(fill="x")
        self.tree = ttk.Treeview(
            holder,
            columns=[c for c, _, _ in LIST_COLUMNS],
            show="headings",
            height=3,
            selectmode="browse",
        )
        for column, text, _width in LIST_COLUMNS:
            self.tree.heading(column, text=text, anchor="w")
        fit_columns(self.tree, [(c[0], c[2]) for c in LIST_COLUMNS])
        scrollbar = ttk.Scrollbar(holder, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scrollbar.set)
        scrollbar.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="x", expand=True)
        self.tree.bind("<<TreeviewSelect>>", lambda _e: self._selected())
        self.tree.bind("<Return>", lambda _e: self._selected(force=True))
        self._list_holder = holder
        self.error_label = ttk.Label(self, text="", bootstyle="danger", wraplength=900)

    def _build_detail(self) -> None:
        self.detail_frame = ttk.Frame(self)
        self.detail_frame.pack(fill="both", expand=True, pady=(4, 0))
        self.headline = ttk.Label(
            self.detail_frame, text="", font="-size 11 -weight bold", wraplength=900
        )
        self.headline.pack(anchor="w")
        cards = ttk.Frame(self.detail_frame)
        cards.pack(fill="x", pady=(2, 4))
        self.card_a, self.card_b = RecordCard(cards, "A"), RecordCard(cards, "B")
        # Two equal halves whatever their texts ask for.
        self.card_a.grid(row=0, column=0, sticky="nsew", padx=(0, 4))
        self.card_b.grid(row=0, column=1, sticky="nsew", padx=(4, 0))
        cards.columnconfigure((0, 1), weight=1, uniform="side")
        self.evidence = EvidenceTable(self.detail_frame)
        self.evidence.pack(fill="both", expand=True)

    def _build_decision_bar(self) -> None:
        bar = ttk.Frame(self)
        bar.pack(side="bottom", fill="x", pady=(6, 0))
        self.outcome = ttk.Label(bar, text="", wraplength=900, justify="left")
        self.outcome.pack(side="bottom", anchor="w", pady=(4, 0))
        reason_row = ttk.Frame(bar)
        reason_row.pack(fill="x")
        ttk.Label(reason_row, text="Lý do quyết định *").pack(side="left")
        self.reason_entry = ttk.Entry(reason_row)
        self.reason_entry.pack(side="left", fill="x", expand=True, padx=(8, 0))
        buttons = ttk.Frame(bar)
        buttons.pack(fill="x", pady=(4, 0))
        self.decision_buttons: dict[str, ttk.Button] = {}
        for decision, style in (
            (KEEP_BOTH, "success"),
            (A_DUPLICATE_OF_B, "warning"),
            (B_DUPLICATE_OF_A, "warning"),
        ):
            button = ttk.Button(
                buttons,
                text=DECISION_LABELS[decision],
                bootstyle=style,
                command=lambda d=decision: self.decide(d),
            )
            button.pack(side="left", padx=(0, 8))
            press_with_enter(button)
            self.decision_buttons[decision] = button

    def _wrap(self, event: tkinter.Event[Any]) -> None:
        """Wrap the long lines at the screen's width (the window may be 960 to 1920 wide)."""
        if event.widget is self:
            for label in (self.error_label, self.headline, self.outcome):
                label.configure(wraplength=max(event.width - 20, 300))

    # -- the list ------------------------------------------------------------------------------

    @property
    def status(self) -> str:
        """Return the list's status filter (``open`` or ``resolved``)."""
        return STATUS_CHOICES[max(self.status_box.current(), 0)][1]

    def set_status(self, status: str) -> None:
        """Show the list of ``status`` (``open`` or ``resolved``) in the filter."""
        codes = [code for _, code in STATUS_CHOICES]
        self.status_box.current(codes.index(status) if status in codes else 0)

    def reload_list(self, *, offset: int | None = None) -> None:
        """Load the page at ``offset`` (default: the current page) on a worker."""
        console = self.services.console
        if console is None:
            return
        self.offset = self.offset if offset is None else offset
        self._list_asked += 1
        number, status, start = self._list_asked, self.status, self.offset
        self.services.tasks.run(
            lambda: console.conflicts(
                kind="duplicate", status=status, offset=start, limit=PAGE_SIZE
            ),
            on_done=lambda page: self._show_page(number, page),
            on_error=lambda error: self._list_failed(number, error),
            description="Đang tải danh sách hồ sơ nghi trùng…",
        )

    def _show_page(self, number: int, page: Page) -> None:
        if number != self._list_asked:
            return  # a newer page was asked for
        self._say_error("")
        self.items, self.total = list(page["items"]), int(page["total"])
        keep = self._wanted or (self.detail["conflict"]["id"] if self.detail else None)
        self.tree.delete(*self.tree.get_children())
        for item in self.items:
            self.tree.insert("", "end", iid=str(item["id"]), values=self._row(item))
        first, last = self.offset + 1, self.offset + len(self.items)
        word = "đang mở" if self.status == "open" else "đã quyết định"
        self.count_label.configure(
            text=f"{first}–{last} trong {self.total} hồ sơ {word}"
            if self.items
            else f"Không có hồ sơ nghi trùng nào {word}."
        )
        self.prev_button.configure(state="normal" if self.offset > 0 else "disabled")
        self.next_button.configure(state="normal" if last < self.total else "disabled")
        self._wanted = None
        if keep is not None and self.tree.exists(str(keep)):
            self._select(str(keep))
        elif keep is None and self.items:
            self._select(str(self.items[0]["id"]))
        elif keep is None:
            self._show_empty_detail(MSG_PICK if self.items else "")

    @staticmethod
    def _row(item: ConflictSummary) -> tuple[str, ...]:
        return (
            item["title"] or item["dossier_no"] or "—",
            procedure_title(item["procedure"], short=True),
            commune_text(item["commune"]),
            commune_text(item["other_commune"]),
            moment_text(item["created_at"]),
            moment_text(item["resolved_at"]),
        )

    def _list_failed(self, number: int, error: BaseException) -> None:
        if number == self._list_asked:
            self._say_error(_message(error))

    def _say_error(self, text: str) -> None:
        """Show ``text`` under the list (nothing, and no empty line, when it is "")."""
        self.error_label.configure(text=text)
        if text:
            self.error_label.pack(anchor="w", after=self._list_holder)
        else:
            self.error_label.pack_forget()

    def _select(self, iid: str) -> None:
        self.tree.selection_set(iid)
        self.tree.focus(iid)
        self.tree.see(iid)

    def _selected(self, *, force: bool = False) -> None:
        selected = self.tree.selection()
        if not selected:
            return
        conflict_id = int(selected[0])
        if force or self.detail is None or self.detail["conflict"]["id"] != conflict_id:
            self.open(conflict_id)

    def _status_changed(self) -> None:
        self._show_empty_detail(MSG_PICK)
        self.reload_list(offset=0)

    def _next_page(self) -> None:
        if self.offset + len(self.items) < self.total:
            self.detail = None
            self.reload_list(offset=self.offset + PAGE_SIZE)

    def _prev_page(self) -> None:
        if self.offset > 0:
            self.detail = None
            self.reload_list(offset=max(self.offset - PAGE_SIZE, 0))

    # -- one duplicate -------------------------------------------------------------------------

    def open(self, conflict_id: int) -> None:
        """Load one suspected duplicate and show it side by side (on a worker)."""
        console = self.services.console
        if console is None:
            return
        self._detail_asked += 1
        number = self._detail_asked
        self.services.tasks.run(
            load_duplicate,
            console,
            conflict_id,
            on_done=lambda answer: self._show_detail(number, *answer),
            on_error=lambda error: self._detail_failed(number, error),
            description="Đang tải hồ sơ nghi trùng…",
        )

    def _show_detail(
        self, number: int, detail: DuplicateDetail, decided: ConflictDetail | None
    ) -> None:
        if number != self._detail_asked:
            return
        self.detail, self.decided = detail, decided
        conflict = detail["conflict"]
        self._say_error("")
        self.card_a.show(detail["a"], detail["a_info"], conflict["other_entity_id"])
        self.card_b.show(detail["b"], detail["b_info"], conflict["entity_id"])
        self.evidence.show(detail)
        procedure = procedure_title(conflict["procedure"], short=True)
        title = conflict["title"] or "—"
        matched = len(detail["matched"])
        self.headline.configure(
            text=f"{procedure}: {title} — trùng {matched} trường khoá · phát hiện "
            f"{moment_text(conflict['created_at'])}"
        )
        if conflict["status"] == "open":
            fresh = self._editing != conflict["id"]  # F5 on the same one keeps the typed reason
            self._editing = conflict["id"]
            self._set_editable(True, clear=fresh)
            if fresh:
                self.outcome.configure(text="", bootstyle="default")
        else:
            self._editing = None
            self._show_decided(detail, decided)
        if self._follow == conflict["id"]:
            self._follow = None
            if conflict["status"] != self.status:
                self.set_status("open" if conflict["status"] == "open" else "resolved")
                self._wanted = conflict["id"]
                self.reload_list(offset=0)

    def _show_decided(self, detail: DuplicateDetail, decided: ConflictDetail | None) -> None:
        self._set_editable(False)
        decision = decision_of(detail)
        when = moment_text(detail["conflict"]["resolved_at"])
        who = (decided["resolved_by"] if decided else None) or ""
        reason = (decided["resolution_reason"] if decided else None) or ""
        self.reason_entry.configure(state="normal")
        self.reason_entry.delete(0, "end")
        self.reason_entry.insert(0, reason)
        self.reason_entry.configure(state="disabled")
        text = f"Đã quyết định lúc {when}" + (f" ({who})" if who else "")
        said = decided_text(detail, decision, reason)
        self.outcome.configure(text=f"{text}: {said}", bootstyle="success")

    def _set_editable(self, editable: bool, *, clear: bool = True) -> None:
        state = "normal" if editable and not self.sending else "disabled"
        for button in self.decision_buttons.values():
            button.configure(state=state)
        self.reason_entry.configure(state="normal" if editable else "disabled")
        if editable and clear:
            self.reason_entry.delete(0, "end")

    def _show_empty_detail(self, text: str) -> None:
        self.detail = self.decided = None
        self._editing = None
        self.card_a.clear()
        self.card_b.clear()
        self.evidence.clear()
        self.headline.configure(text=text)
        self._set_editable(False)

    def _detail_failed(self, number: int, error: BaseException) -> None:
        if number == self._detail_asked:
            self._say_error(_message(error))

    # -- deciding ------------------------------------------------------------------------------

    def decide(self, decision: str) -> None:
        """Send ``decision`` on the shown duplicate with the typed reason (on a worker)."""
        console, detail = self.services.console, self.detail
        if console is None or detail is None or self.sending:
            return
        if detail["conflict"]["status"] != "open":
            return
        reason = " ".join(self.reason_entry.get().split())
        if not reason:
            self.outcome.configure(text=MSG_NO_REASON, bootstyle="danger")
            self.reason_entry.focus_set()
            return
        self.sending = True
        self._set_buttons("disabled")
        self.outcome.configure(text="Đang gửi quyết định lên máy chủ tỉnh…", bootstyle="secondary")
        conflict_id = detail["conflict"]["id"]
        self.services.tasks.run(
            console.decide_duplicate,
            conflict_id,
            decision,
            reason,
            on_done=lambda _r: self._decided(conflict_id, decision),
            on_error=self._decide_failed,
            description="Đang gửi quyết định về hồ sơ nghi trùng…",
        )

    def _set_buttons(self, state: str) -> None:
        for button in self.decision_buttons.values():
            button.configure(state=state)

    def _decided(self, conflict_id: int, decision: str) -> None:
        self.sending = False
        self.services.toast(f"Đã quyết định: {DECISION_LABELS[decision]}. Không hồ sơ nào bị xoá.")
        if self.detail is not None:
            said = decided_text(self.detail, decision)
            self.outcome.configure(text=f"Đã quyết định: {said}", bootstyle="success")
        self._wanted = conflict_id
        self.open(conflict_id)  # shows it decided, read-only
        self.reload_list()

    def _decide_failed(self, error: BaseException) -> None:
        self.sending = False
        self._set_buttons("normal")
        self.outcome.configure(text=_message(error), bootstyle="danger")
        if isinstance(error, ConsoleError) and error.code == "stale" and self.detail:
            self.open(self.detail["conflict"]["id"])

    # -- shell hooks ---------------------------------------------------------------------------

    def on_show(self, conflict_id: int | None = None, **_: Any) -> None:
        """Reload the list; open ``conflict_id`` when given (the inbox sends duplicates here)."""
        if conflict_id is not None:
            self._wanted = self._follow = int(conflict_id)
            self.open(int(conflict_id))
        self.reload_list()
        self.tree.focus_set()

    def refresh(self) -> None:
        """Reload the list and the shown duplicate from the server (F5)."""
        self.reload_list()
        if self.detail is not None:
            self.open(self.detail["conflict"]["id"])


def _message(error: BaseException) -> str:
    """Return what to tell provincial IT about a failed call (never a stack trace)."""
    if isinstance(error, ConsoleError):
        return error.clerk_message
    log.error("duplicate review call failed", exc_info=error)
    return "Có lỗi không lường trước khi làm việc với máy chủ tỉnh. Hãy thử lại; nếu vẫn lỗi, xem nhật ký."
